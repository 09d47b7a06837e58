//! Faults of the database itself, as opposed to what a request asked of it.
//!
//! A database that cannot be reached, refuses writes, has no room left or gave up on a
//! statement is no bug of ours and no mistake of the caller: the request may succeed later.
//! [`of`] tells these apart from other database errors on both engines, by the error's kind
//! (a connection or pool failure) or its code (SQLite's result code, PostgreSQL's SQLSTATE).
//! The edge answers them as "unavailable, retry later".

use std::fmt;

use sea_orm::sqlx;
use sea_orm::{
    ConnAcquireErr, ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr, RuntimeErr,
    Statement,
};

use crate::error::{StoreError, StoreResult};

/// What is wrong with the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbFault {
    /// It cannot be reached: connecting fails, no pooled connection came in time, or the
    /// connection was lost.
    Unreachable,
    /// It refuses writes (SQLite `SQLITE_READONLY`, PostgreSQL 25006 on a read-only
    /// database or a standby).
    ReadOnly,
    /// It has no room or resources left (SQLite `SQLITE_FULL`, PostgreSQL class 53).
    Full,
    /// It gave up on a statement: PostgreSQL's `statement_timeout` (57014), SQLite's busy
    /// timeout (`SQLITE_BUSY`, `SQLITE_LOCKED`).
    TimedOut,
    /// It rolled the transaction back to settle a conflict with another one: PostgreSQL's
    /// deadlock detector (40P01) or a serialization failure (40001). Nothing was written; the
    /// same request may succeed at once.
    Conflict,
}

impl DbFault {
    pub fn as_str(self) -> &'static str {
        match self {
            DbFault::Unreachable => "unreachable",
            DbFault::ReadOnly => "read_only",
            DbFault::Full => "full",
            DbFault::TimedOut => "timed_out",
            DbFault::Conflict => "conflict",
        }
    }
}

impl fmt::Display for DbFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DbFault::Unreachable => "the database cannot be reached",
            DbFault::ReadOnly => "the database refuses writes (read-only)",
            DbFault::Full => "the database has no room or resources left",
            DbFault::TimedOut => "the database did not complete the statement in time",
            DbFault::Conflict => {
                "the database rolled the transaction back to settle a conflict with a concurrent one (nothing was written)"
            }
        })
    }
}

/// The fault `e` reports, if it is one of the database rather than of the request.
pub fn of(e: &DbErr) -> Option<DbFault> {
    match e {
        DbErr::ConnectionAcquire(ConnAcquireErr::Timeout | ConnAcquireErr::ConnectionClosed) => {
            Some(DbFault::Unreachable)
        }
        // A failure to connect, whatever the server said (refused, not accepting
        // connections, shutting down, authentication): the database cannot be reached.
        DbErr::Conn(RuntimeErr::SqlxError(e)) => Some(of_sqlx(e).unwrap_or(DbFault::Unreachable)),
        DbErr::Conn(_) => Some(DbFault::Unreachable),
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => {
            of_sqlx(e)
        }
        _ => None,
    }
}

fn of_sqlx(e: &sqlx::Error) -> Option<DbFault> {
    match e {
        sqlx::Error::Database(d) => {
            let code = d.code()?;
            if d.try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                .is_some()
            {
                of_sqlstate(&code)
            } else if d.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                code.parse::<i32>().ok().and_then(of_sqlite_code)
            } else {
                None
            }
        }
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => Some(DbFault::Unreachable),
        _ => None,
    }
}

/// PostgreSQL's SQLSTATE (<https://www.postgresql.org/docs/current/errcodes-appendix.html>).
pub fn of_sqlstate(code: &str) -> Option<DbFault> {
    match code {
        // read_only_sql_transaction
        "25006" => Some(DbFault::ReadOnly),
        // query_canceled: statement_timeout (or a cancel request)
        "57014" => Some(DbFault::TimedOut),
        // serialization_failure, deadlock_detected
        "40001" | "40P01" => Some(DbFault::Conflict),
        // admin_shutdown, crash_shutdown, cannot_connect_now, database_dropped
        "57P01" | "57P02" | "57P03" | "57P04" => Some(DbFault::Unreachable),
        // insufficient resources: disk_full, out_of_memory, too_many_connections...
        c if c.starts_with("53") => Some(DbFault::Full),
        // connection exception
        c if c.starts_with("08") => Some(DbFault::Unreachable),
        _ => None,
    }
}

/// SQLite's (extended) result code (<https://www.sqlite.org/rescode.html>).
pub fn of_sqlite_code(code: i32) -> Option<DbFault> {
    match code & 0xff {
        // SQLITE_BUSY, SQLITE_LOCKED: the busy timeout ran out
        5 | 6 => Some(DbFault::TimedOut),
        // SQLITE_READONLY
        8 => Some(DbFault::ReadOnly),
        // SQLITE_IOERR, SQLITE_CANTOPEN
        10 | 14 => Some(DbFault::Unreachable),
        // SQLITE_FULL
        13 => Some(DbFault::Full),
        _ => None,
    }
}

/// Whether the database answers and takes writes: a write that changes nothing, in a
/// transaction rolled back (refused by a read-only database: SQLite's `query_only` or a file
/// it could open only for reading, PostgreSQL's read-only transactions or a standby); on
/// SQLite, also whether the file may still grow (`max_page_count` reached with no free page).
/// A fault is [`StoreError::Unavailable`].
pub async fn probe(db: &DatabaseConnection) -> StoreResult<()> {
    let txn = crate::begin_write(db).await?;
    let written = txn
        .execute_unprepared("DELETE FROM idempotency_keys WHERE 1 = 0")
        .await;
    let rolled_back = txn.rollback().await;
    written?;
    rolled_back?;
    if db.get_database_backend() == DatabaseBackend::Sqlite {
        let row = db
            .query_one_raw(Statement::from_string(
                DatabaseBackend::Sqlite,
                "SELECT (SELECT page_count FROM pragma_page_count()) AS pages, \
                 (SELECT max_page_count FROM pragma_max_page_count()) AS max_pages, \
                 (SELECT freelist_count FROM pragma_freelist_count()) AS free_pages",
            ))
            .await?
            .ok_or_else(|| StoreError::Other(anyhow::anyhow!("the page counts returned no row")))?;
        let pages: i64 = row.try_get("", "pages")?;
        let max_pages: i64 = row.try_get("", "max_pages")?;
        let free_pages: i64 = row.try_get("", "free_pages")?;
        if free_pages == 0 && pages >= max_pages {
            return Err(StoreError::Unavailable {
                fault: DbFault::Full,
                source: DbErr::Custom(format!(
                    "{pages} pages used of max_page_count {max_pages}, none free"
                )),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlstates() {
        assert_eq!(of_sqlstate("25006"), Some(DbFault::ReadOnly));
        assert_eq!(of_sqlstate("53100"), Some(DbFault::Full));
        assert_eq!(of_sqlstate("53300"), Some(DbFault::Full));
        assert_eq!(of_sqlstate("57014"), Some(DbFault::TimedOut));
        assert_eq!(of_sqlstate("57P01"), Some(DbFault::Unreachable));
        assert_eq!(of_sqlstate("08006"), Some(DbFault::Unreachable));
        assert_eq!(of_sqlstate("23505"), None);
        assert_eq!(of_sqlstate("40001"), Some(DbFault::Conflict));
        assert_eq!(of_sqlstate("40P01"), Some(DbFault::Conflict));
        // integrity_constraint_violation: the request's own doing
        assert_eq!(of_sqlstate("23000"), None);
    }

    #[test]
    fn sqlite_codes() {
        assert_eq!(of_sqlite_code(8), Some(DbFault::ReadOnly));
        // SQLITE_READONLY_DBMOVED
        assert_eq!(of_sqlite_code(8 | (4 << 8)), Some(DbFault::ReadOnly));
        assert_eq!(of_sqlite_code(13), Some(DbFault::Full));
        assert_eq!(of_sqlite_code(5), Some(DbFault::TimedOut));
        // SQLITE_CONSTRAINT_UNIQUE
        assert_eq!(of_sqlite_code(2067), None);
    }

    #[test]
    fn pool_and_connection_failures() {
        assert_eq!(
            of(&DbErr::ConnectionAcquire(ConnAcquireErr::Timeout)),
            Some(DbFault::Unreachable)
        );
        assert_eq!(
            of(&DbErr::Conn(RuntimeErr::Internal("refused".into()))),
            Some(DbFault::Unreachable)
        );
        assert_eq!(of(&DbErr::RecordNotFound("x".into())), None);
    }
}
