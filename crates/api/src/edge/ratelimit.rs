//! Rate limits per client, with actix-extensible-rate-limit (fixed one-minute windows).
//!
//! Policy: a request is counted against its caller: a machine client (its own limit, or the
//! server's default), a person's token (its subject), or, without a valid token, its IP
//! address (a lower limit). One caller exhausting its quota does not touch another's. Over
//! the quota the answer is 429 problem+json with `Retry-After`; every answer carries the
//! IETF draft headers `RateLimit-Policy: "fabriques";q=<quota>;w=60` and
//! `RateLimit: "fabriques";r=<remaining>;t=<seconds to reset>`. Health probes and `/metrics` are
//! exempt.
//! Counters live in each instance's memory: behind a load balancer with N instances a
//! client may get up to N times its quota.

use std::time::Duration;

use actix_extensible_rate_limit::HeaderCompatibleOutput;
use actix_extensible_rate_limit::backend::{SimpleInput, SimpleOutput};
use actix_web::dev::ServiceRequest;
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use actix_web::{HttpResponse, ResponseError, web};
use futures_util::future::LocalBoxFuture;

use super::error::ApiError;
use crate::config::ServiceOptions;

pub const RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");
pub const RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");
const WINDOW: Duration = Duration::from_secs(60);
const EXEMPT: u64 = u64::MAX;

/// Who a request counts against, for its rate limit and for the exports it may run at once:
/// a machine client, a person's token (role and subject), or, without a valid token, the
/// peer's IP address.
pub fn caller_key(
    client: Option<uuid::Uuid>,
    token: Option<(&str, &str)>,
    peer: Option<std::net::SocketAddr>,
) -> String {
    match (client, token) {
        (Some(cid), _) => format!("client:{cid}"),
        (None, Some((role, subject))) => format!("token:{role}:{subject}"),
        (None, None) => format!(
            "ip:{}",
            peer.map_or_else(|| "unknown".to_owned(), |a| a.ip().to_string())
        ),
    }
}

/// Who the request counts against, and their quota per minute.
pub fn input(
    req: &ServiceRequest,
) -> LocalBoxFuture<'static, Result<SimpleInput, actix_web::Error>> {
    let options = req.app_data::<web::Data<ServiceOptions>>().cloned();
    // Probes and the metrics scrape (which checks its own token) are not API traffic.
    let exempt = req.path().starts_with("/health/") || req.path() == "/metrics";
    let http = req.request().clone();
    let peer = req.peer_addr();
    Box::pin(async move {
        let options = options.ok_or_else(|| {
            ApiError::Internal(anyhow::anyhow!("ServiceOptions missing from app data"))
        })?;
        // An invalid token counts as none here; the handler refuses it.
        let claims = if exempt {
            None
        } else {
            crate::auth::token::verified(&http).ok().flatten()
        };
        let (key, max_requests) = match (exempt, claims) {
            (true, _) => ("exempt".to_owned(), EXEMPT),
            (false, Some(c)) => {
                let key = caller_key(c.cid, Some((c.role.as_str(), &c.sub)), peer);
                let own = match c.cid {
                    Some(cid) => crate::auth::token::client_row(&http, cid)
                        .await?
                        .and_then(|m| m.rate_limit_per_minute)
                        .and_then(|n| u64::try_from(n).ok()),
                    None => None,
                };
                (key, own.unwrap_or(options.rate_limit_per_minute))
            }
            (false, None) => (
                caller_key(None, None, peer),
                options.anonymous_rate_limit_per_minute,
            ),
        };
        Ok(SimpleInput {
            interval: WINDOW,
            max_requests,
            key,
        })
    })
}

fn set_headers(headers: &mut HeaderMap, out: &SimpleOutput) {
    let policy = format!("\"fabriques\";q={};w={}", out.limit, WINDOW.as_secs());
    let state = format!(
        "\"fabriques\";r={};t={}",
        out.remaining,
        out.seconds_until_reset()
    );
    if let (Ok(p), Ok(s)) = (
        HeaderValue::from_str(&policy),
        HeaderValue::from_str(&state),
    ) {
        headers.insert(RATELIMIT_POLICY, p);
        headers.insert(RATELIMIT, s);
    }
}

/// Adds the headers to an allowed answer.
pub fn allowed(headers: &mut HeaderMap, out: Option<&SimpleOutput>, _rolled_back: bool) {
    if let Some(out) = out.filter(|o| o.limit != EXEMPT) {
        set_headers(headers, out);
    }
}

/// The 429 answer.
pub fn denied(out: &SimpleOutput) -> HttpResponse {
    crate::telemetry::rate_limit_refused();
    let mut res = ApiError::TooManyRequests {
        retry_after: out.seconds_until_reset().max(1),
    }
    .error_response();
    set_headers(res.headers_mut(), out);
    res
}

/// Documents 429 on every operation (unless it documents its own, naming more causes).
pub fn document(api: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::RefOr;
    use utoipa::openapi::header::HeaderBuilder;
    let mut problems = super::problems::problem_responses(&[429]);
    if let Some(RefOr::T(r)) = problems.get_mut("429") {
        for (name, description) in [
            ("Retry-After", "Seconds until the quota resets"),
            (
                "RateLimit",
                "`\"fabriques\";r=<remaining>;t=<seconds to reset>` (IETF draft)",
            ),
            (
                "RateLimit-Policy",
                "`\"fabriques\";q=<requests>;w=60` (IETF draft)",
            ),
        ] {
            r.headers.insert(
                name.into(),
                RefOr::T(HeaderBuilder::new().description(Some(description)).build()),
            );
        }
    }
    for op in super::openapi::operations(api.paths.paths.values_mut()) {
        if op
            .operation_id
            .as_deref()
            .is_some_and(|id| id == "get_liveness" || id == "get_readiness")
        {
            continue;
        }
        for (status, response) in &problems {
            op.responses
                .responses
                .entry(status.clone())
                .or_insert_with(|| response.clone());
        }
    }
}
