//! One write transaction at a time on SQLite, queued in the process.
//!
//! SQLite has one writer: a second `BEGIN IMMEDIATE` waits in SQLite's busy handler, which
//! sleeps between retries (up to 100 ms a sleep), so under concurrent writes a write that could
//! have started a millisecond later starts tens of milliseconds later. The writes of the API
//! queue here instead, first come first served, each woken as soon as the previous one commits
//! or rolls back; readers never wait for it (WAL). PostgreSQL has no gate: its writers run in
//! parallel. (Background jobs and single-statement writes still meet SQLite's busy timeout; they
//! are rare.)

use std::sync::Arc;

use sea_orm::{DatabaseBackend, DatabaseConnection};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Shared by every worker of an instance.
#[derive(Clone)]
pub struct WriteGate(Option<Arc<Semaphore>>);

/// The right to run a write transaction, held until it ends.
pub struct Turn(#[allow(dead_code)] Option<OwnedSemaphorePermit>);

impl WriteGate {
    pub fn for_database(db: &DatabaseConnection) -> Self {
        match db.get_database_backend() {
            DatabaseBackend::Sqlite => Self(Some(Arc::new(Semaphore::new(1)))),
            _ => Self(None),
        }
    }

    /// No gate (an app built without one).
    pub fn none() -> Self {
        Self(None)
    }

    /// Waits for this request's turn to write (at once on PostgreSQL).
    pub async fn turn(&self) -> Turn {
        match &self.0 {
            // The semaphore is never closed.
            Some(s) => Turn(s.clone().acquire_owned().await.ok()),
            None => Turn(None),
        }
    }
}
