//! How many SQL statements each request runs, counted by the database connection itself
//! (sea-orm's metric callback) within the request's task. The request log line says it
//! (`statements`, `db_ms`); with `--server-timing` (`FABRIQUES_SERVER_TIMING=true`) the answer
//! does too, as `Server-Timing: db;dur=<ms>;desc="<n> statements"`, which the tests and
//! `bench/run` read. Statements run after the handler returned (a streamed export's batches)
//! and by background jobs are not counted; `BEGIN`/`COMMIT` of a write are not either. With
//! `RUST_LOG=fabriques::sql=trace` each statement of a request is logged with its values.

use std::cell::Cell;
use std::future::Future;
use std::time::Duration;

use sea_orm::DatabaseConnection;

tokio::task_local! {
    static TALLY: Cell<Tally>;
}

/// The statements of one request so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub statements: u32,
    pub elapsed: Duration,
}

impl Tally {
    /// The `Server-Timing` value.
    pub fn server_timing(self) -> String {
        format!(
            "db;dur={:.3};desc=\"{} statements\"",
            self.elapsed.as_secs_f64() * 1000.0,
            self.statements
        )
    }
}

/// Counts the statements of every request on this connection (and its clones made after).
pub fn install(db: &mut DatabaseConnection) {
    db.set_metric_callback(|info| {
        // Outside a request (jobs, start-up) there is nothing to count into.
        let _ = TALLY.try_with(|t| {
            // Each statement of a request with its values, for `bench/run` to replay them
            // (off unless `RUST_LOG` asks for `fabriques::sql=trace`).
            tracing::trace!(
                target: "fabriques::sql",
                elapsed_us = info.elapsed.as_micros() as u64,
                "{}",
                info.statement
            );
            let mut tally = t.get();
            tally.statements += 1;
            tally.elapsed += info.elapsed;
            t.set(tally);
        });
    });
}

/// Adds statements counted elsewhere (the writer thread's, [`super::writer`]) to this
/// request's tally; nothing outside a request.
pub fn add(other: Tally) {
    let _ = TALLY.try_with(|t| {
        let mut tally = t.get();
        tally.statements += other.statements;
        tally.elapsed += other.elapsed;
        t.set(tally);
    });
}

/// Runs `f`, counting the statements it runs.
pub async fn counted<F: Future>(f: F) -> (F::Output, Tally) {
    TALLY
        .scope(Cell::new(Tally::default()), async {
            let out = f.await;
            (out, TALLY.with(Cell::get))
        })
        .await
}
