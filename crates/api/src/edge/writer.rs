//! SQLite's one writer, on a thread of its own.
//!
//! SQLite lets one transaction write at a time ([`super::write_gate`] queues them), so the
//! time a write transaction holds the lock bounds how many writes per second the instance
//! makes, whatever the cores. Each statement of a transaction is a round trip to the
//! connection's thread, after which the request's task waits to be polled again; on a worker
//! that also serves the readers' tasks (serialising list pages) that wait is most of the
//! transaction: at 10,000 Fabriques a PATCH held the lock about 1 ms alone and 2 ms under the
//! read load, and the bench's mixed load (a fifth of writes) queued most of its 32 connections
//! behind writes. Here the transactions run on a thread that does nothing else (a
//! single-threaded runtime), so the statements of a write follow each other as soon as SQLite
//! answers; the request's task only waits for the outcome. The same code runs either way
//! ([`super::context::Write`]); only where it runs differs.
//!
//! PostgreSQL has no such thread: its writers run in parallel, in their requests' tasks.

use futures_util::future::LocalBoxFuture;
use sea_orm::{DatabaseBackend, DatabaseConnection};
use tokio::sync::{mpsc, oneshot};
use tracing::Instrument;

use super::error::ApiError;
use super::statements::{self, Tally};

/// A job for the writer thread: builds its future there (it need not be `Send`).
type Job = Box<dyn FnOnce() -> LocalBoxFuture<'static, ()> + Send>;

/// Where the write transactions of an instance run; shared by every worker.
#[derive(Clone)]
pub struct Writer(Option<mpsc::UnboundedSender<Job>>);

impl Writer {
    /// A thread on SQLite; the requests' own tasks on PostgreSQL.
    pub fn for_database(db: &DatabaseConnection) -> std::io::Result<Self> {
        match db.get_database_backend() {
            DatabaseBackend::Sqlite => Self::thread(),
            _ => Ok(Self::inline()),
        }
    }

    /// In the request's task (an app built without a writer, or PostgreSQL).
    pub fn inline() -> Self {
        Self(None)
    }

    fn thread() -> std::io::Result<Self> {
        let (tx, mut rx) = mpsc::unbounded_channel::<Job>();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        std::thread::Builder::new()
            .name("fabriques-writer".into())
            .spawn(move || {
                let local = tokio::task::LocalSet::new();
                // Each job in a task of its own: they take their turns at the write gate, and a
                // job that panics loses its own answer only.
                local.spawn_local(async move {
                    while let Some(job) = rx.recv().await {
                        tokio::task::spawn_local(job());
                    }
                });
                // Until every sender is gone (the server stopped) and the last job ended.
                runtime.block_on(local);
            })?;
        Ok(Self(Some(tx)))
    }

    /// Runs the future `make` builds, on the writer thread if there is one, and returns its
    /// output; the statements it runs count in the request's [`Tally`].
    pub async fn run<T, M>(&self, make: M) -> Result<T, ApiError>
    where
        T: Send + 'static,
        M: FnOnce() -> LocalBoxFuture<'static, T> + Send + 'static,
    {
        let Some(jobs) = &self.0 else {
            return Ok(make().await);
        };
        let (answer, outcome) = oneshot::channel::<(T, Tally)>();
        let span = tracing::Span::current();
        let job: Job = Box::new(move || {
            Box::pin(
                async move {
                    let out = statements::counted(make()).await;
                    // The request may have gone (its client hung up): the write stands.
                    let _ = answer.send(out);
                }
                .instrument(span),
            )
        });
        jobs.send(job)
            .map_err(|_| ApiError::Internal(anyhow::anyhow!("the writer thread has stopped")))?;
        let (out, tally) = outcome.await.map_err(|_| {
            ApiError::Internal(anyhow::anyhow!("the write ended without an answer"))
        })?;
        statements::add(tally);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_job_runs_on_the_writer_thread_and_its_answer_comes_back() {
        let w = Writer::thread().unwrap();
        let here = std::thread::current().id();
        let (name, there) = w
            .run(|| {
                Box::pin(async {
                    let t = std::thread::current();
                    (t.name().map(str::to_owned), t.id())
                })
            })
            .await
            .unwrap();
        assert_eq!(name.as_deref(), Some("fabriques-writer"));
        assert_ne!(there, here);
    }

    #[tokio::test]
    async fn a_job_that_panics_is_an_internal_error_and_the_next_one_runs() {
        let w = Writer::thread().unwrap();
        let lost = w
            .run(|| -> LocalBoxFuture<'static, u8> { Box::pin(async { panic!("boom") }) })
            .await;
        assert!(matches!(lost, Err(ApiError::Internal(_))), "{lost:?}");
        assert_eq!(w.run(|| Box::pin(async { 7 })).await.unwrap(), 7);
    }

    #[tokio::test]
    async fn inline_runs_in_the_callers_task() {
        let here = std::thread::current().id();
        let there = Writer::inline()
            .run(|| Box::pin(async { std::thread::current().id() }))
            .await
            .unwrap();
        assert_eq!(there, here);
    }
}
