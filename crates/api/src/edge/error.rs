//! The one error type of the API.
//!
//! Policy: every handler, extractor and middleware returns [`ApiError`]; its `ResponseError`
//! impl alone decides the HTTP status and writes the RFC 9457 problem+json body. Client
//! mistakes carry a stable `code` and, where a field is at fault, a JSON pointer. Server faults
//! (`Internal`) are logged with their cause and answered with an opaque 500. Faults of the
//! database itself (unreachable, read-only, full, timed out: [`store::fault`]) are no bug:
//! they are logged as warnings and answered 503 with `Retry-After`.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

pub const PROBLEM_JSON: &str = "application/problem+json";

pub use store::FieldProblem;

/// An RFC 9457 problem details document (`application/problem+json`).
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A stable URI per kind of error (`urn:fabriques:problem:<code>`).
    #[serde(rename = "type")]
    #[schema(example = "urn:fabriques:problem:validation_failed")]
    pub type_: String,
    #[schema(example = "The request body is invalid")]
    pub title: String,
    #[schema(example = 422)]
    pub status: u16,
    pub detail: String,
    /// The request path this problem occurred on (always set on an HTTP answer).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String)]
    pub instance: Option<String>,
    /// Stable snake_case code of the kind of error.
    #[schema(example = "validation_failed")]
    pub code: String,
    /// The fields at fault (validation errors).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldProblem>,
    /// Every unmet condition of a refused action (`transition_refused`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub blockers: Vec<FieldProblem>,
    /// The request id (also in the `x-request-id` header), to quote when reporting a problem
    /// (always set on an HTTP answer).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String)]
    pub request_id: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request cannot be read (malformed JSON, bad query or path value).
    #[error("{detail}")]
    BadRequest {
        code: &'static str,
        detail: String,
        errors: Vec<FieldProblem>,
    },
    /// 401: no credentials, or invalid ones. Carries `WWW-Authenticate: Bearer`.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: valid credentials without the named permission.
    #[error("missing permission {0}")]
    Forbidden(String),
    /// 403: a machine client's token without the scope the operation needs (RFC 6750 §3.1).
    #[error("missing scope {0}")]
    InsufficientScope(domain::TokenScope),
    /// 404: no such resource, or the caller may not know it exists.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// 405: the path exists but not with this method.
    #[error("method not allowed")]
    MethodNotAllowed(Vec<String>),
    /// 409: the request conflicts with the current state (a unique key taken, the row
    /// changed meanwhile); `errors` names the field when there is one.
    #[error("{detail}")]
    Conflict {
        code: &'static str,
        detail: String,
        errors: Vec<FieldProblem>,
    },
    /// 409: the rules refuse the action (a transition, an edit, a deletion...) in the current
    /// state; lists every unmet condition in `blockers`. One shape whatever refused it.
    #[error("refused: {0}")]
    Refused(domain::Blockers),
    /// 412: `If-Match` names a representation that is no longer current.
    #[error("precondition failed")]
    PreconditionFailed,
    /// 413: the body is over the limit.
    #[error("request body too large")]
    PayloadTooLarge,
    /// 415: the body is not `application/json`.
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// 422: the request is well-formed but cannot be processed as it is (not a field's fault).
    #[error("{detail}")]
    Unprocessable { code: &'static str, detail: String },
    /// 422: the body is well-formed but some fields are invalid; lists every one.
    #[error("validation failed")]
    Validation(Vec<FieldProblem>),
    /// 400 or 401 from `POST /oauth/token`, shaped as RFC 6749 §5.2 asks (`error`,
    /// `error_description`, `application/json`) and carrying the problem fields as well.
    #[error("{description}")]
    OAuth {
        /// `invalid_request`, `invalid_client`, `unsupported_grant_type`, `invalid_scope`...
        error: &'static str,
        description: String,
    },
    /// 429: the client's quota for the current window is spent.
    #[error("rate limit exceeded")]
    TooManyRequests {
        /// Seconds until the window resets.
        retry_after: u64,
    },
    /// 429 (this caller) or 503 (the whole instance, `overall`): a bounded kind of work
    /// (exports) is at its limit; retry after `retry_after` seconds.
    #[error("{detail}")]
    Busy {
        code: &'static str,
        detail: String,
        overall: bool,
        retry_after: u64,
    },
    /// 503: the database is unreachable, read-only, full, or timed out; retry later. The
    /// cause is logged, never sent. Carries `Retry-After`.
    #[error("{fault}")]
    Unavailable {
        fault: store::DbFault,
        /// The database's own message, for the log.
        cause: String,
    },
    /// 500: our fault. The cause is logged, never sent.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        ApiError::BadRequest {
            code,
            detail: detail.into(),
            errors: Vec::new(),
        }
    }

    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        ApiError::Conflict {
            code,
            detail: detail.into(),
            errors: Vec::new(),
        }
    }

    pub fn invalid(pointer: &str, code: &str, detail: impl Into<String>) -> Self {
        ApiError::Validation(vec![FieldProblem::new(pointer, code, detail)])
    }

    fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest { code, .. }
            | ApiError::Conflict { code, .. }
            | ApiError::Unprocessable { code, .. }
            | ApiError::Busy { code, .. } => code,
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::InsufficientScope(_) => "insufficient_scope",
            ApiError::NotFound(_) => "not_found",
            ApiError::MethodNotAllowed(_) => "method_not_allowed",
            ApiError::Refused(_) => "transition_refused",
            ApiError::PreconditionFailed => "precondition_failed",
            ApiError::PayloadTooLarge => "payload_too_large",
            ApiError::UnsupportedMediaType => "unsupported_media_type",
            ApiError::Validation(_) => "validation_failed",
            ApiError::OAuth { error, .. } => error,
            ApiError::TooManyRequests { .. } => "rate_limited",
            ApiError::Unavailable { .. } => "database_unavailable",
            ApiError::Internal(_) => "internal_error",
        }
    }

    fn title(&self) -> &'static str {
        match self {
            ApiError::BadRequest { .. } => "The request cannot be read",
            ApiError::Unauthorized(_) => "Authentication required",
            ApiError::Forbidden(_) | ApiError::InsufficientScope(_) => "Permission denied",
            ApiError::NotFound(_) => "Not found",
            ApiError::MethodNotAllowed(_) => "Method not allowed",
            ApiError::Conflict { .. } => "Conflict with the current state",
            ApiError::Refused(_) => "Refused by the rules",
            ApiError::PreconditionFailed => "Precondition failed",
            ApiError::PayloadTooLarge => "Request body too large",
            ApiError::UnsupportedMediaType => "Unsupported media type",
            ApiError::Validation(_) => "The request body is invalid",
            ApiError::Unprocessable { .. } => "The request cannot be processed",
            ApiError::OAuth { .. } => "Token request refused",
            ApiError::TooManyRequests { .. } => "Too many requests",
            ApiError::Busy { overall: false, .. } => "Too many requests",
            ApiError::Unavailable { .. } | ApiError::Busy { .. } => "Service unavailable",
            ApiError::Internal(_) => "Internal server error",
        }
    }

    fn detail(&self) -> String {
        match self {
            ApiError::Forbidden(p) => {
                format!("this operation needs the permission `{p}`, which your role does not grant")
            }
            ApiError::InsufficientScope(s) => format!(
                "this operation needs the scope `{s}`, which this token was not issued with: ask `POST /oauth/token` for it (scope={s}), if the client may have it"
            ),
            ApiError::MethodNotAllowed(allow) => format!("this path accepts {}", allow.join(", ")),
            ApiError::PreconditionFailed => {
                "the resource changed since the ETag in If-Match was read; read it again and retry"
                    .into()
            }
            ApiError::PayloadTooLarge => format!(
                "the body is over the limit of {} bytes",
                crate::edge::extract::MAX_BODY_BYTES
            ),
            ApiError::UnsupportedMediaType => "send the body as application/json".into(),
            ApiError::Validation(errs) => format!("{} field(s) are invalid", errs.len()),
            ApiError::Refused(b) => format!("{} condition(s) are unmet: {b}", b.0.len()),
            ApiError::TooManyRequests { retry_after } => format!(
                "this client's request quota is spent; retry in {retry_after} s (see the RateLimit headers)"
            ),
            ApiError::Unavailable { fault, .. } => {
                format!("{fault}; retry in {} s", retry_after(*fault))
            }
            ApiError::Internal(_) => {
                "an unexpected error occurred; quote the request id when reporting it".into()
            }
            other => other.to_string(),
        }
    }

    /// The problem document, with `instance` and `request_id` filled in by the middleware.
    pub fn problem(&self) -> Problem {
        let code = self.code();
        debug_assert!(
            super::problems::is_catalogued(code),
            "the problem code `{code}` is not in edge::problems::CODES"
        );
        Problem {
            type_: format!("urn:fabriques:problem:{code}"),
            title: self.title().into(),
            status: self.status_code().as_u16(),
            detail: self.detail(),
            instance: None,
            code: code.into(),
            errors: match self {
                ApiError::Validation(e)
                | ApiError::BadRequest { errors: e, .. }
                | ApiError::Conflict { errors: e, .. } => e.clone(),
                _ => Vec::new(),
            },
            blockers: match self {
                ApiError::Refused(b) => store::problem::of(b),
                _ => Vec::new(),
            },
            request_id: None,
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) | ApiError::InsufficientScope(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict { .. } | ApiError::Refused(_) => StatusCode::CONFLICT,
            ApiError::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Validation(_) | ApiError::Unprocessable { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ApiError::OAuth { error, .. } if *error == "invalid_client" => StatusCode::UNAUTHORIZED,
            ApiError::OAuth { .. } => StatusCode::BAD_REQUEST,
            ApiError::TooManyRequests { .. } | ApiError::Busy { overall: false, .. } => {
                StatusCode::TOO_MANY_REQUESTS
            }
            ApiError::Unavailable { .. } | ApiError::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            ApiError::Internal(cause) => tracing::error!(error = ?cause, "internal error"),
            ApiError::Unavailable { fault, cause } => {
                tracing::warn!(fault = fault.as_str(), error = %cause, "database unavailable");
            }
            _ => {}
        }
        let mut res = HttpResponse::build(self.status_code());
        if let ApiError::OAuth { error, description } = self {
            // RFC 6749 §5.2: application/json with `error` and `error_description`; the
            // problem fields ride along for clients that read those.
            let mut body = serde_json::to_value(self.problem()).unwrap_or_default();
            body["error"] = (*error).into();
            body["error_description"] = description.as_str().into();
            res.insert_header((header::CONTENT_TYPE, "application/json"));
            res.insert_header((header::CACHE_CONTROL, "no-store"));
            if *error == "invalid_client" {
                res.insert_header((
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"fabriques\", charset=\"UTF-8\""),
                ));
            }
            return res.body(serde_json::to_vec(&body).unwrap_or_default());
        }
        res.insert_header((header::CONTENT_TYPE, PROBLEM_JSON));
        match self {
            ApiError::TooManyRequests { retry_after } | ApiError::Busy { retry_after, .. } => {
                res.insert_header((header::RETRY_AFTER, retry_after.to_string()));
            }
            ApiError::Unavailable { fault, .. } => {
                res.insert_header((header::RETRY_AFTER, retry_after(*fault).to_string()));
            }
            _ => {}
        }
        match self {
            ApiError::InsufficientScope(s) => {
                let v = format!(
                    "Bearer realm=\"fabriques\", error=\"insufficient_scope\", scope=\"{s}\""
                );
                if let Ok(v) = HeaderValue::from_str(&v) {
                    res.insert_header((header::WWW_AUTHENTICATE, v));
                }
            }
            ApiError::Unauthorized(detail) => {
                let v = format!(
                    "Bearer realm=\"fabriques\", error=\"invalid_token\", error_description=\"{}\"",
                    detail.replace('"', "'")
                );
                res.insert_header((
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_str(&v)
                        .unwrap_or(HeaderValue::from_static("Bearer realm=\"fabriques\"")),
                ));
            }
            ApiError::MethodNotAllowed(allow) => {
                if let Ok(v) = HeaderValue::from_str(&allow.join(", ")) {
                    res.insert_header((header::ALLOW, v));
                }
            }
            _ => {}
        }
        // The body is completed (instance, request id) by `problem_middleware`.
        res.body(serde_json::to_vec(&self.problem()).unwrap_or_default())
    }
}

impl From<store::StoreError> for ApiError {
    fn from(e: store::StoreError) -> Self {
        use store::StoreError as S;
        match e {
            S::NotFound(what) => ApiError::NotFound(what),
            S::Denied(d) => d.into(),
            S::Refused(b) => ApiError::Refused(b),
            S::Invalid(errors) => {
                ApiError::Validation(errors.into_iter().map(FieldProblem::from).collect())
            }
            S::Conflict {
                code,
                detail,
                field,
            } => ApiError::Conflict {
                code,
                detail,
                errors: field.into_iter().map(FieldProblem::from).collect(),
            },
            S::Unprocessable { code, detail } => ApiError::Unprocessable { code, detail },
            S::Stale => ApiError::PreconditionFailed,
            S::Unavailable { fault, source } => ApiError::Unavailable {
                fault,
                cause: source.to_string(),
            },
            e @ (S::Corrupt { .. } | S::Db(_) | S::Other(_)) => ApiError::Internal(e.into()),
        }
    }
}

impl From<domain::Denied> for ApiError {
    fn from(d: domain::Denied) -> Self {
        ApiError::Forbidden(d.to_string())
    }
}

impl From<domain::Refusal> for ApiError {
    fn from(r: domain::Refusal) -> Self {
        store::StoreError::from(r).into()
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(e: sea_orm::DbErr) -> Self {
        store::StoreError::from(e).into()
    }
}

/// Field errors of a typed input, as the 422 they are.
pub fn invalid(errors: Vec<domain::FieldError>) -> ApiError {
    ApiError::Validation(errors.into_iter().map(FieldProblem::from).collect())
}

impl From<validator::ValidationErrors> for ApiError {
    fn from(errs: validator::ValidationErrors) -> Self {
        let mut out = Vec::new();
        collect_validation(&errs, String::new(), &mut out);
        out.sort_by(|a, b| a.pointer.cmp(&b.pointer));
        ApiError::Validation(out)
    }
}

fn collect_validation(
    errs: &validator::ValidationErrors,
    prefix: String,
    out: &mut Vec<FieldProblem>,
) {
    use validator::ValidationErrorsKind as K;
    for (field, kind) in errs.errors() {
        let pointer = format!("{prefix}/{field}");
        match kind {
            K::Field(list) => {
                for e in list {
                    let detail = e
                        .message
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_else(|| describe(e));
                    out.push(FieldProblem::new(
                        pointer.clone(),
                        e.code.to_string(),
                        detail,
                    ));
                }
            }
            K::Struct(inner) => collect_validation(inner, pointer, out),
            K::List(items) => {
                for (i, inner) in items {
                    collect_validation(inner, format!("{pointer}/{i}"), out);
                }
            }
        }
    }
}

fn describe(e: &validator::ValidationError) -> String {
    let p = |k: &str| e.params.get(k).map(ToString::to_string);
    match e.code.as_ref() {
        "length" => match (p("min"), p("max")) {
            (Some(min), Some(max)) => format!("length must be between {min} and {max}"),
            (Some(min), None) => format!("length must be at least {min}"),
            (None, Some(max)) => format!("length must be at most {max}"),
            _ => "invalid length".into(),
        },
        "range" => match (p("min"), p("max")) {
            (Some(min), Some(max)) => format!("must be between {min} and {max}"),
            _ => "out of range".into(),
        },
        "url" => "must be an absolute URL".into(),
        other => format!("invalid ({other})"),
    }
}

/// Seconds a client should wait before retrying after this fault of the database: a
/// transaction rolled back by a conflict may succeed at once; a lost connection or a timed-out
/// statement may be over soon; a read-only or full database waits for an operator.
pub fn retry_after(fault: store::DbFault) -> u64 {
    match fault {
        store::DbFault::Conflict => 1,
        store::DbFault::Unreachable | store::DbFault::TimedOut => 5,
        store::DbFault::ReadOnly | store::DbFault::Full => 30,
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
