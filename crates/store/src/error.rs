//! The store's one error type.
//!
//! Policy: the store says *what* went wrong in the terms of the domain (a resource is
//! missing, a permission does not reach it, a rule refuses, a field is invalid, a unique key
//! is taken, the row changed meanwhile, the database is unavailable, the database failed); the HTTP edge alone turns each
//! kind into a status. Unique-constraint violations are told apart by the constraint's name
//! ([`crate::constraints`]), so that no write pre-checks with a racing query. A database
//! string that names no known value is [`StoreError::Corrupt`]: logged, never defaulted.

use domain::{Blockers, Denied, FieldError, Refusal};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No such resource, or one the caller may not know exists.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The caller's permission does not reach this resource.
    #[error("permission refused: {0}")]
    Denied(Denied),
    /// The rules refuse the action in the current state; every unmet condition is listed.
    #[error("refused: {0}")]
    Refused(Blockers),
    /// Fields of the input are invalid against what is stored (an unknown reference, a rule
    /// across fields).
    #[error("invalid: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    /// A unique key is taken, or the row changed between its read and its conditional write.
    #[error("{detail}")]
    Conflict {
        code: &'static str,
        detail: String,
        /// The field the conflict is about, when there is one.
        field: Option<FieldError>,
    },
    /// The request is well-formed but cannot be processed as it is (not a field's fault).
    #[error("{detail}")]
    Unprocessable { code: &'static str, detail: String },
    /// `If-Match` names a version that is no longer current.
    #[error("the resource changed since the version given")]
    Stale,
    /// A stored value names nothing the code knows: the data or the code is wrong.
    #[error("corrupt data: {table}.{column} holds {value:?}")]
    Corrupt {
        table: &'static str,
        column: &'static str,
        value: String,
    },
    /// The database itself is at fault (unreachable, read-only, full, timed out): the request
    /// may succeed later ([`crate::fault`]).
    #[error("{fault}: {source}")]
    Unavailable {
        fault: crate::fault::DbFault,
        source: sea_orm::DbErr,
    },
    #[error(transparent)]
    Db(sea_orm::DbErr),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

pub type StoreResult<T> = Result<T, StoreError>;

impl StoreError {
    pub fn invalid(pointer: &str, code: &'static str, detail: impl Into<String>) -> Self {
        StoreError::Invalid(vec![FieldError::new(pointer, code, detail)])
    }

    pub fn concurrent(what: &str) -> Self {
        StoreError::Conflict {
            code: "concurrent_change",
            detail: format!("the {what} changed meanwhile; read it again"),
            field: None,
        }
    }
}

impl From<Denied> for StoreError {
    fn from(d: Denied) -> Self {
        StoreError::Denied(d)
    }
}

impl From<Blockers> for StoreError {
    fn from(b: Blockers) -> Self {
        StoreError::Refused(b)
    }
}

impl From<Refusal> for StoreError {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::Invalid(e) => StoreError::Invalid(e),
            Refusal::Blocked(b) => StoreError::Refused(b),
        }
    }
}

impl From<sea_orm::DbErr> for StoreError {
    fn from(e: sea_orm::DbErr) -> Self {
        crate::constraints::classify(e)
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError::Other(e.into())
    }
}
