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
