//! One unmet condition or field at fault, as every answer shows it: in a refused action's
//! `blockers`, a validation error's `errors`, a lifecycle's possible transitions and a
//! Fabrique's progress.

use domain::{Blocker, Blockers, FieldError};
use serde::Serialize;
use utoipa::ToSchema;

/// One field at fault, or one unmet condition of a refused action.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct FieldProblem {
    /// JSON pointer (RFC 6901) to the field at fault, in the body or the query.
    #[schema(example = "/title")]
    pub pointer: String,
    /// Stable snake_case code.
    #[schema(example = "required")]
    pub code: String,
    /// Human explanation.
    pub detail: String,
}

impl FieldProblem {
    pub fn new(
        pointer: impl Into<String>,
        code: impl Into<String>,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            pointer: pointer.into(),
            code: code.into(),
            detail: detail.into(),
        }
    }
}

impl From<&Blocker> for FieldProblem {
    fn from(b: &Blocker) -> Self {
        FieldProblem::new(b.pointer(), b.code(), b.to_string())
    }
}

impl From<FieldError> for FieldProblem {
    fn from(e: FieldError) -> Self {
        FieldProblem::new(e.pointer, e.code, e.detail)
    }
}

/// Every blocker, as problems.
pub fn of_blockers(b: &[Blocker]) -> Vec<FieldProblem> {
    b.iter().map(FieldProblem::from).collect()
}

pub fn of(b: &Blockers) -> Vec<FieldProblem> {
    of_blockers(&b.0)
}
