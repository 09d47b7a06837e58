//! The HTTP edge: everything that knows actix-web. Requests are parsed here into the
//! domain's typed inputs (a malformed one is a 400 or 422 here, never in the store), handed to
//! the store with the caller's access, and the store's answers and errors turned into HTTP
//! answers by one error type ([`error::ApiError`]).

pub mod browsers;
pub mod context;
pub mod contract;
pub mod error;
pub mod etag;
pub mod exports_gate;
pub mod extract;
pub mod figures_cache;
pub mod guard;
pub mod idempotency;
pub mod metrics;
pub mod middleware;
pub mod openapi;
pub mod pagination;
pub mod params;
pub mod problems;
pub mod ratelimit;
pub mod routes;
pub mod statements;
pub mod write_gate;
pub mod writer;

/// 201 with the new resource and its `Location`.
pub fn created<T: serde::Serialize>(location: String, body: &T) -> actix_web::HttpResponse {
    actix_web::HttpResponse::Created()
        .insert_header((actix_web::http::header::LOCATION, location))
        .json(body)
}
