//! Why the rules refuse something: fields that are invalid (422), or conditions of the
//! current state that block an action (409, [`Blockers`]).

use std::fmt;

use crate::blocker::Blockers;

/// One field at fault: a JSON pointer into the request, a stable code, an explanation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub pointer: String,
    pub code: &'static str,
    pub detail: String,
}

impl FieldError {
    pub fn new(pointer: impl Into<String>, code: &'static str, detail: impl Into<String>) -> Self {
        FieldError {
            pointer: pointer.into(),
            code,
            detail: detail.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.pointer, self.detail)
    }
}

/// A refusal of the rules: invalid fields, or unmet conditions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Invalid(Vec<FieldError>),
    Blocked(Blockers),
}

impl From<Blockers> for Refusal {
    fn from(b: Blockers) -> Self {
        Refusal::Blocked(b)
    }
}

impl From<FieldError> for Refusal {
    fn from(e: FieldError) -> Self {
        Refusal::Invalid(vec![e])
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Invalid(errs) => {
                let parts: Vec<String> = errs.iter().map(ToString::to_string).collect();
                f.write_str(&parts.join("; "))
            }
            Refusal::Blocked(b) => b.fmt(f),
        }
    }
}

impl std::error::Error for Refusal {}
