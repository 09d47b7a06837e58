//! `GET /metrics`: the Prometheus text format (see [`crate::telemetry`]). Not public unless
//! configured: without `FABRIQUES_METRICS_TOKEN` nor `FABRIQUES_METRICS_PUBLIC` the path does
//! not exist (404); with a token, a scraper sends it as `Authorization: Bearer <token>`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use sea_orm::DatabaseConnection;
use sha2::{Digest, Sha256};

use crate::config::ServiceOptions;
use crate::edge::error::{ApiError, ApiResult};
use crate::telemetry::Telemetry;

/// Whether `/metrics` is served at all.
pub fn enabled(options: &ServiceOptions) -> bool {
    options.metrics_public || options.metrics_token.is_some()
}

/// The scraper's token matches (compared as digests, so the time taken says nothing of it).
fn authorized(req: &HttpRequest, options: &ServiceOptions) -> bool {
    if options.metrics_public {
        return true;
    }
    let Some(expected) = &options.metrics_token else {
        return false;
    };
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    Sha256::digest(given.as_bytes()) == Sha256::digest(expected.as_bytes())
}

pub async fn metrics(
    req: HttpRequest,
    options: web::Data<ServiceOptions>,
    telemetry: web::Data<Telemetry>,
    db: web::Data<DatabaseConnection>,
) -> ApiResult<HttpResponse> {
    if !authorized(&req, &options) {
        return Err(ApiError::Unauthorized(
            "the metrics token is required (Authorization: Bearer <FABRIQUES_METRICS_TOKEN>)"
                .into(),
        ));
    }
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(telemetry.render(&db).await))
}

/// Requests with a method the API never serves are counted, and answered 405, as `OTHER`:
/// each method would otherwise be a new series of the request metrics, as many as a client
/// cares to invent.
pub async fn bounded_method(
    mut req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    use actix_web::http::Method;
    if req.method() != Method::OPTIONS && !super::browsers::SERVED_METHODS.contains(req.method()) {
        req.head_mut().method = Method::from_bytes(b"OTHER").unwrap_or(Method::TRACE);
    }
    next.call(req).await
}
