//! SQLite's write-ahead log kept short (SQLite only; PostgreSQL manages its own).
//!
//! Every commit appends its pages to the WAL file, and SQLite's automatic checkpoint (after a
//! commit, once the WAL holds 1,000 pages) copies them back into the database without waiting
//! for anyone. It can copy them, but it cannot *restart* the log while a reader still reads an
//! older snapshot, and under a steady load some reader always does: the WAL then grows for as
//! long as the load lasts (160 MB in one 8 s run of the bench's mixed load at 10,000
//! Fabriques), and every read gets slower with it, since each page a reader needs is looked up
//! in the log's index first, one hash table per 4,096 pages (by hand: a list page of 50 at 32
//! connections, 1,369 req/s before `wal_checkpoint(TRUNCATE)`, 2,213 after).
//!
//! So once a second this job asks for a passive checkpoint (it never waits) and, when the log
//! holds [`RESTART_FRAMES`] pages or more, takes the writers' turn ([`WriteGate`]) and truncates
//! the log (`wal_checkpoint(TRUNCATE)`): SQLite copies what is left, waits for the readers of
//! older snapshots to finish (a few milliseconds; new readers read the database file), and
//! empties the file. It runs on a connection of its own whose busy timeout is
//! [`BUSY_TIMEOUT`]: behind a long read (an export streaming for seconds) it gives up at once and
//! tries again a second later, so the writers it holds back wait that long at most.

use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sea_orm::sqlx::{self, Connection};
use sea_orm::{DatabaseBackend, DatabaseConnection};

use crate::edge::write_gate::WriteGate;

/// How often the job looks at the log.
pub const EVERY: Duration = Duration::from_secs(1);

/// The size of log (in pages of 4 KiB) from which the job truncates it: SQLite's own automatic
/// checkpoint threshold, about 4 MiB.
pub const RESTART_FRAMES: i64 = 1000;

/// How long a truncation waits for readers before it gives up until the next round.
pub const BUSY_TIMEOUT: Duration = Duration::from_millis(20);

/// What one round found and did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Round {
    /// The log was shorter than [`RESTART_FRAMES`] pages (its pages copied back as far as the
    /// readers allow).
    Short { frames: i64 },
    /// The log was emptied.
    Truncated { frames: i64 },
    /// A reader held an older snapshot for longer than [`BUSY_TIMEOUT`]: tried again next round.
    Busy { frames: i64 },
}

/// Starts the job on SQLite (nothing on PostgreSQL).
pub fn spawn(db: &DatabaseConnection, gate: WriteGate) {
    if db.get_database_backend() != DatabaseBackend::Sqlite {
        return;
    }
    let options = own_options(db);
    tokio::spawn(async move {
        let mut conn: Option<SqliteConnection> = None;
        loop {
            tokio::time::sleep(EVERY).await;
            if conn.is_none() {
                match SqliteConnection::connect_with(&options).await {
                    Ok(c) => conn = Some(c),
                    Err(e) => {
                        tracing::warn!(error = %e, "the WAL checkpoint could not connect");
                        continue;
                    }
                }
            }
            let Some(c) = conn.as_mut() else { continue };
            match round(c, &gate, RESTART_FRAMES).await {
                Ok(Round::Busy { frames }) => {
                    tracing::debug!(frames, "the WAL could not be truncated: a reader is busy")
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "the WAL checkpoint failed");
                    conn = None;
                }
            }
        }
    });
}

/// The pool's connection settings with the job's short busy timeout.
pub fn own_options(db: &DatabaseConnection) -> SqliteConnectOptions {
    (*db.get_sqlite_connection_pool().connect_options())
        .clone()
        .busy_timeout(BUSY_TIMEOUT)
}

/// One round: a passive checkpoint, then a truncation when the log holds `restart_frames`
/// pages or more.
pub async fn round(
    conn: &mut SqliteConnection,
    gate: &WriteGate,
    restart_frames: i64,
) -> Result<Round, sqlx::Error> {
    let (_, frames, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
        .fetch_one(&mut *conn)
        .await?;
    if frames < restart_frames {
        return Ok(Round::Short { frames });
    }
    // The writers' turn: no write of this instance is under way, and none starts until the log
    // is empty (or the readers made it give up).
    let _turn = gate.turn().await;
    let (busy, _, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
        .fetch_one(&mut *conn)
        .await?;
    Ok(if busy == 0 {
        Round::Truncated { frames }
    } else {
        Round::Busy { frames }
    })
}
