//! The error responses operations declare, as reusable sets (`responses(..., WriteProblems)`).
//!
//! Each set lists exactly the statuses an operation of that shape can return; a handler adds
//! a described 409 tuple of its own where a conflict is possible.

use std::collections::BTreeMap;

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::{ContentBuilder, Ref, RefOr};

use super::error::PROBLEM_JSON;

fn description(status: u16) -> &'static str {
    match status {
        400 => "The request cannot be read: bad path or query value, or malformed JSON",
        401 => "No token, or an invalid one",
        403 => "The token's role lacks the permission named in `detail`",
        404 => "No such resource, or one the caller may not see",
        413 => "The body is over 1 MiB",
        415 => "The body is not application/json",
        422 => "Invalid fields, each named by a JSON pointer in `errors`",
        409 => "A conflict: the request cannot run in the current state (see `code`)",
        429 => "Too many requests: the caller's quota for this minute is spent (see Retry-After)",
        412 => "If-Match names an ETag that is no longer current: read the resource again",
        500 => "Our fault: the cause is logged; quote the request id when reporting it",
        503 => {
            "The database is unavailable (unreachable, read-only, full, timed out): retry after `Retry-After` seconds"
        }
        _ => "Error",
    }
}

/// 304, for a read whose `If-None-Match` names the current ETag.
pub fn not_modified() -> Response {
    ResponseBuilder::new()
        .description("Not modified: the ETag in If-None-Match is current")
        .header(
            "ETag",
            HeaderBuilder::new()
                .schema(Some(
                    utoipa::openapi::ObjectBuilder::new()
                        .schema_type(utoipa::openapi::Type::String)
                        .build(),
                ))
                .build(),
        )
        .build()
}

pub fn problem_responses(statuses: &[u16]) -> BTreeMap<String, RefOr<Response>> {
    statuses
        .iter()
        .map(|&status| {
            if status == 304 {
                return ("304".to_owned(), not_modified().into());
            }
            let mut response = ResponseBuilder::new()
                .description(description(status))
                .content(
                    PROBLEM_JSON,
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("Problem")))
                        .build(),
                );
            if status == 401 {
                response = response.header(
                    "WWW-Authenticate",
                    HeaderBuilder::new()
                        .description(Some(
                            "`Bearer realm=\"fabriques\", error=\"invalid_token\", …`",
                        ))
                        .build(),
                );
            }
            (status.to_string(), response.build().into())
        })
        .collect()
}

macro_rules! problem_set {
    ($(#[$doc:meta])* $name:ident = [$($status:literal),*]) => {
        $(#[$doc])*
        pub struct $name;

        impl utoipa::IntoResponses for $name {
            fn responses() -> BTreeMap<String, RefOr<Response>> {
                problem_responses(&[$($status),*])
            }
        }
    };
}

problem_set!(
    /// A public list (a token is optional but checked when sent).
    PublicListProblems = [400, 401]
);
problem_set!(
    /// A list that needs a token.
    ListProblems = [400, 401, 403]
);
problem_set!(
    /// A read by id that any caller who may see the resource can make.
    LookupProblems = [400, 401, 404]
);
problem_set!(
    /// A read by id (or a delete, with its own 409) that needs a permission.
    ReadProblems = [400, 401, 403, 404]
);
problem_set!(
    /// A read by id with an ETag, that any caller who may see the resource can make.
    CachedLookupProblems = [304, 400, 401, 404]
);
problem_set!(
    /// A read by id with an ETag that needs a permission.
    CachedReadProblems = [304, 400, 401, 403, 404]
);
problem_set!(
    /// A creation with a JSON body.
    CreateProblems = [400, 401, 403, 413, 415, 422]
);
problem_set!(
    /// A change with a JSON body to a resource found by id.
    WriteProblems = [400, 401, 403, 404, 413, 415, 422]
);
problem_set!(
    /// A change with a JSON body that honours `If-Match`.
    ConditionalWriteProblems = [400, 401, 403, 404, 412, 413, 415, 422]
);
problem_set!(
    /// A deletion (or a body-less change) that honours `If-Match`.
    ConditionalDeleteProblems = [400, 401, 403, 404, 412]
);

/// Every `code` a problem document may carry: its status and what it means. The OpenAPI
/// document enumerates them on `Problem.code`, `docs/problems.md` lists them, and building a
/// problem with a code missing here fails the tests.
pub const CODES: &[(&str, u16, &str)] = &[
    (
        "bad_request",
        400,
        "The request cannot be read (a malformed request line or header).",
    ),
    (
        "invalid_query",
        400,
        "A query parameter is unknown or has a bad value; `errors` names it.",
    ),
    (
        "invalid_path_parameter",
        400,
        "A path segment is not a valid id or code.",
    ),
    ("malformed_json", 400, "The body is not valid JSON."),
    (
        "unreadable_body",
        400,
        "The body could not be read to its end.",
    ),
    (
        "invalid_precondition",
        400,
        "`If-Match` is neither `*` nor a list of ETags.",
    ),
    (
        "invalid_idempotency_key",
        400,
        "`Idempotency-Key` is not 1 to 255 printable characters.",
    ),
    (
        "invalid_request",
        400,
        "OAuth: the token request is malformed (RFC 6749 §5.2).",
    ),
    (
        "unsupported_grant_type",
        400,
        "OAuth: only `client_credentials` is supported.",
    ),
    ("invalid_scope", 400, "OAuth: this server has no scopes."),
    (
        "invalid_client",
        401,
        "OAuth: unknown or revoked client, or wrong secret.",
    ),
    (
        "unauthorized",
        401,
        "No token, or one that does not verify (see `WWW-Authenticate`).",
    ),
    (
        "forbidden",
        403,
        "The token's role lacks the permission named in `detail`, or it does not reach this resource.",
    ),
    (
        "insufficient_scope",
        403,
        "A machine client's token lacks the OAuth scope the operation needs: `read` for GET and HEAD, `write` for the other methods (`WWW-Authenticate` names it).",
    ),
    (
        "not_found",
        404,
        "No such resource, or one the caller may not know exists.",
    ),
    (
        "method_not_allowed",
        405,
        "The path exists with other methods (see `Allow`).",
    ),
    (
        "transition_refused",
        409,
        "The rules refuse the action (a transition, an edit, a deletion...) in the current state: every unmet condition is in `blockers`.",
    ),
    (
        "concurrent_change",
        409,
        "The resource changed while the request ran: read it again.",
    ),
    (
        "already_exists",
        409,
        "A resource with the same unique key exists.",
    ),
    (
        "still_referenced",
        409,
        "Another resource refers to this one.",
    ),
    (
        "duplicate_code",
        409,
        "A territory with this official code exists (`errors` names `/code`).",
    ),
    (
        "duplicate_name",
        409,
        "A programme with this name exists (`errors` names `/name`).",
    ),
    (
        "already_applied",
        409,
        "This territory has already applied to this Fabrique.",
    ),
    (
        "seminar_number_taken",
        409,
        "A seminar with this number exists.",
    ),
    (
        "external_id_taken",
        409,
        "This id of your organization already names another resource.",
    ),
    (
        "entity_already_mapped",
        409,
        "This resource already has another id of your organization.",
    ),
    (
        "idempotency_request_in_flight",
        409,
        "A request with this `Idempotency-Key` is still running (a record left by a version before the key was kept in the write's transaction), or two requests with one key raced: retry.",
    ),
    (
        "not_replayable",
        409,
        "A request with this `Idempotency-Key` already ran, and its answer carried a secret, which is never kept: it is neither replayed nor run again. `detail` says what to do instead (rotate the secret again, for instance).",
    ),
    (
        "precondition_failed",
        412,
        "`If-Match` names an ETag that is no longer current.",
    ),
    ("payload_too_large", 413, "The body is over 1 MiB."),
    (
        "unsupported_media_type",
        415,
        "The body is not `application/json`.",
    ),
    (
        "validation_failed",
        422,
        "Fields are invalid: each is named by a JSON pointer in `errors`.",
    ),
    (
        "idempotency_key_reused",
        422,
        "This `Idempotency-Key` was used with another request.",
    ),
    (
        "machine_client_required",
        422,
        "Webhooks belong to machine clients: use a token from `POST /oauth/token`.",
    ),
    (
        "rate_limited",
        429,
        "The caller's quota for this minute is spent (see `Retry-After`).",
    ),
    (
        "too_many_exports",
        429,
        "This caller already runs as many CSV exports as it may at once (2 by default): retry when one has finished (see `Retry-After`).",
    ),
    (
        "internal_error",
        500,
        "Our fault: the cause is logged; quote the request id.",
    ),
    (
        "database_unavailable",
        503,
        "The database cannot be reached, refuses writes (read-only), is full, gave up on a statement (timeout), or rolled the transaction back to settle a conflict with a concurrent one (a deadlock or a serialization failure; nothing was written, `Retry-After: 1`): retry after `Retry-After` seconds. `/health/ready` answers it too.",
    ),
    (
        "exports_busy",
        503,
        "The instance already runs as many CSV exports as it may at once (4 by default): retry after `Retry-After` seconds.",
    ),
];

/// Whether `code` is in the catalogue.
pub fn is_catalogued(code: &str) -> bool {
    CODES.iter().any(|(c, _, _)| *c == code)
}

/// The catalogue of problem codes and blocker codes (`docs/problems.md`).
pub fn markdown() -> String {
    let mut out = String::from(
        "# Problem codes\n\nGenerated by `fabriques problems --output docs/problems.md`; a test fails when this file and the code differ.\n\nEvery error is `application/problem+json` (RFC 9457) with `type` = `urn:fabriques:problem:<code>`. Clients branch on `code`; `title` and `detail` are for people and may be reworded.\n\n| code | status | meaning |\n|---|---|---|\n",
    );
    for (code, status, meaning) in CODES {
        out.push_str(&format!("| `{code}` | {status} | {meaning} |\n"));
    }
    out.push_str("\n## Blockers\n\nA refused action (`transition_refused`, 409) lists every unmet condition in `blockers`, each with a `pointer` to what it is about, a stable `code` and a `detail`:\n\n| code | pointer | example |\n|---|---|---|\n");
    for b in domain::Blocker::examples() {
        let pointer = match b.pointer() {
            "" => "the resource itself".to_owned(),
            p => format!("`{p}`"),
        };
        out.push_str(&format!("| `{}` | {pointer} | {} |\n", b.code(), b));
    }
    out
}
