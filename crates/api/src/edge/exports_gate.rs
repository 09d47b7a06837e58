//! How many CSV exports run at once: a bounded kind of work, so that a crowd of downloads
//! cannot push every other request's latency from milliseconds to seconds.
//!
//! Policy: an export holds a permit from its start to its last byte (or the client going
//! away). Each caller (a token's subject, or for the public its IP address) holds at most
//! `FABRIQUES_EXPORTS_PER_CALLER` permits (2 by default): one more is 429 `too_many_exports`.
//! The instance runs at most `FABRIQUES_EXPORTS_CONCURRENCY` exports (4 by default): one more
//! is 503 `exports_busy`. Both carry `Retry-After` and are refused before any row is read.
//! Limits are per instance.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::error::ApiError;

/// Seconds a refused export is told to wait.
const RETRY_AFTER: u64 = 2;

/// Shared by every worker of an instance.
#[derive(Clone)]
pub struct ExportsGate {
    overall: Arc<Semaphore>,
    per_caller: usize,
    running: Arc<Mutex<HashMap<String, usize>>>,
}

/// The right to stream one export; dropped when the stream ends.
pub struct ExportPermit {
    _overall: OwnedSemaphorePermit,
    caller: String,
    running: Arc<Mutex<HashMap<String, usize>>>,
}

impl Drop for ExportPermit {
    fn drop(&mut self) {
        let Ok(mut running) = self.running.lock() else {
            return;
        };
        if let Some(n) = running.get_mut(&self.caller) {
            *n -= 1;
            if *n == 0 {
                running.remove(&self.caller);
            }
        }
    }
}

impl ExportsGate {
    pub fn new(overall: usize, per_caller: usize) -> Self {
        ExportsGate {
            overall: Arc::new(Semaphore::new(overall.max(1))),
            per_caller: per_caller.max(1),
            running: Arc::default(),
        }
    }

    /// A permit for `caller`'s export, or the refusal to send.
    pub fn admit(&self, caller: String) -> Result<ExportPermit, ApiError> {
        let mut running = self
            .running
            .lock()
            .map_err(|_| ApiError::Internal(anyhow::anyhow!("the exports gate is poisoned")))?;
        let mine = running.get(&caller).copied().unwrap_or(0);
        if mine >= self.per_caller {
            return Err(ApiError::Busy {
                code: "too_many_exports",
                detail: format!(
                    "you already have {mine} export(s) running, the most one caller may run at once; retry when one has finished"
                ),
                overall: false,
                retry_after: RETRY_AFTER,
            });
        }
        let overall =
            Arc::clone(&self.overall)
                .try_acquire_owned()
                .map_err(|_| ApiError::Busy {
                    code: "exports_busy",
                    detail:
                        "the server is running as many exports as it may at once; retry shortly"
                            .into(),
                    overall: true,
                    retry_after: RETRY_AFTER,
                })?;
        running.insert(caller.clone(), mine + 1);
        Ok(ExportPermit {
            _overall: overall,
            caller,
            running: Arc::clone(&self.running),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_caller_and_the_instance_are_bounded_and_permits_come_back() {
        let gate = ExportsGate::new(3, 2);
        let a1 = gate.admit("a".into()).unwrap();
        let _a2 = gate.admit("a".into()).unwrap();
        let refused = gate.admit("a".into()).err().unwrap();
        assert!(matches!(
            refused,
            ApiError::Busy {
                code: "too_many_exports",
                ..
            }
        ));
        let _b1 = gate.admit("b".into()).unwrap();
        let full = gate.admit("c".into()).err().unwrap();
        assert!(matches!(
            full,
            ApiError::Busy {
                code: "exports_busy",
                ..
            }
        ));
        drop(a1);
        let _c1 = gate.admit("c".into()).unwrap();
        assert!(
            gate.admit("a".into()).is_err(),
            "the instance is full again"
        );
    }
}
