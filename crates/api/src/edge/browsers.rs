//! What browsers need of the API: CORS, `HEAD`, and the security headers.
//!
//! Policy:
//! - **CORS** (actix-cors). An anonymous read (`GET`/`HEAD` without `Authorization`) is open
//!   data and may be fetched from any origin. Everything else (a token, a write) only from the
//!   origins listed in `FABRIQUES_CORS_ORIGINS`; a preflight from another origin is refused.
//!   No credentials mode: the API reads bearer tokens, never cookies. Preflights are cached by
//!   the browser for [`PREFLIGHT_MAX_AGE`] seconds.
//! - **`HEAD`** is answered wherever `GET` is: the request is routed as a `GET` and the HTTP
//!   layer sends the headers without the body.
//! - **Headers** on every answer: `X-Content-Type-Options: nosniff`, `Referrer-Policy:
//!   no-referrer`, frame protection (`X-Frame-Options: DENY`, CSP `frame-ancestors 'none'`), a
//!   CSP that lets the API's answers load nothing and Swagger UI load only its own files, and
//!   `Cache-Control: no-store` on every answer to a request with `Authorization` (it may hold
//!   personal or non-public data) unless the handler chose a policy itself.

use actix_cors::Cors;
use actix_web::body::MessageBody;
use actix_web::dev::{RequestHead, ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{self, HeaderName, HeaderValue};

/// The methods the API serves (`OPTIONS` aside): what CORS allows a listed origin, and what
/// the request metrics label by name.
pub const SERVED_METHODS: [Method; 6] = [
    Method::GET,
    Method::HEAD,
    Method::POST,
    Method::PUT,
    Method::PATCH,
    Method::DELETE,
];

/// Seconds a browser may keep a preflight's answer (Chromium caps it at 7,200).
pub const PREFLIGHT_MAX_AGE: usize = 7_200;

/// Request headers a listed origin may send.
const ALLOWED_HEADERS: [&str; 8] = [
    "authorization",
    "content-type",
    "if-match",
    "if-none-match",
    "idempotency-key",
    "x-request-id",
    "traceparent",
    "tracestate",
];

/// Answer headers a page may read.
const EXPOSED_HEADERS: [&str; 12] = [
    "etag",
    "location",
    "link",
    "retry-after",
    "ratelimit",
    "ratelimit-policy",
    "x-request-id",
    "server-timing",
    "content-disposition",
    "cache-status",
    "www-authenticate",
    "allow",
];

/// An origin as browsers send it: `scheme://host[:port]`, nothing after.
pub fn parse_origin(raw: &str) -> Result<String, String> {
    let raw = raw.trim();
    let url = url::Url::parse(raw).map_err(|e| format!("`{raw}` is not an origin: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(format!("`{raw}` is not an http(s) origin"));
    }
    let origin = url.origin().ascii_serialization();
    if raw.trim_end_matches('/') != origin {
        return Err(format!(
            "`{raw}` is not an origin (scheme://host[:port], no path): did you mean `{origin}`?"
        ));
    }
    Ok(origin)
}

/// Whether a request (or the request a preflight announces) is an anonymous read.
fn is_anonymous_read(head: &RequestHead) -> bool {
    let headers = head.headers();
    if head.method == Method::OPTIONS {
        let method = headers
            .get(header::ACCESS_CONTROL_REQUEST_METHOD)
            .and_then(|m| m.to_str().ok());
        let with_token = headers
            .get_all(header::ACCESS_CONTROL_REQUEST_HEADERS)
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|h| h.trim().eq_ignore_ascii_case("authorization"));
        matches!(method, Some("GET" | "HEAD")) && !with_token
    } else {
        matches!(head.method, Method::GET | Method::HEAD)
            && !headers.contains_key(header::AUTHORIZATION)
    }
}

fn is_preflight(req: &ServiceRequest) -> bool {
    req.method() == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
}

/// Whether the request's `Origin` is one of the configured ones.
fn is_listed(req: &ServiceRequest) -> bool {
    let options = req.app_data::<actix_web::web::Data<crate::config::ServiceOptions>>();
    match (req.headers().get(header::ORIGIN), options) {
        (Some(origin), Some(o)) => o
            .cors_origins
            .iter()
            .any(|listed| listed.as_bytes() == origin.as_bytes()),
        _ => false,
    }
}

/// The CORS middleware for these listed origins.
pub fn cors(origins: &[String]) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods(SERVED_METHODS)
        .allowed_headers(ALLOWED_HEADERS.map(HeaderName::from_static))
        .expose_headers(EXPOSED_HEADERS.map(HeaderName::from_static))
        .max_age(PREFLIGHT_MAX_AGE)
        .allowed_origin_fn(|_, head| is_anonymous_read(head));
    for origin in origins {
        cors = cors.allowed_origin(origin);
    }
    cors
}

/// Routes a `HEAD` as the `GET` of the same URL; the HTTP layer leaves the body out.
pub async fn head_as_get(
    mut req: ServiceRequest,
    next: actix_web::middleware::Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if req.method() == Method::HEAD {
        req.head_mut().method = Method::GET;
    }
    next.call(req).await
}

const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'";
/// Swagger UI: its own scripts, styles and images (and the inline styles it sets), the
/// document from this server, nothing else.
const SWAGGER_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// Stamps the security headers on every answer.
pub async fn security_headers(
    req: ServiceRequest,
    next: actix_web::middleware::Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let authenticated = req.headers().contains_key(header::AUTHORIZATION);
    let swagger = req.path().starts_with("/swagger-ui");
    let open_preflight = is_preflight(&req) && !is_listed(&req);
    let mut res = next.call(req).await?;
    let headers = res.headers_mut();
    // A preflight from an origin that is not listed was accepted for an anonymous read: it is
    // told so, and a browser caching it learns nothing wider (no token, no write).
    if open_preflight && headers.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN) {
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, HEAD"),
        );
        let open: Vec<&str> = ALLOWED_HEADERS
            .into_iter()
            .filter(|h| *h != "authorization")
            .collect();
        if let Ok(v) = HeaderValue::from_str(&open.join(", ")) {
            headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, v);
        }
    }
    let set = |headers: &mut header::HeaderMap, name: HeaderName, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, header::REFERRER_POLICY, "no-referrer");
    set(headers, header::X_FRAME_OPTIONS, "DENY");
    set(
        headers,
        header::CONTENT_SECURITY_POLICY,
        if swagger { SWAGGER_CSP } else { API_CSP },
    );
    if authenticated && !headers.contains_key(header::CACHE_CONTROL) {
        set(headers, header::CACHE_CONTROL, "no-store");
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::parse_origin;

    #[test]
    fn origins_are_scheme_host_and_port_only() {
        assert_eq!(
            parse_origin("http://localhost:5173").as_deref(),
            Ok("http://localhost:5173")
        );
        assert_eq!(
            parse_origin("https://app.example.fr/").as_deref(),
            Ok("https://app.example.fr")
        );
        assert!(
            parse_origin("https://app.example.fr:443")
                .is_err_and(|e| e.contains("did you mean `https://app.example.fr`"))
        );
        for bad in [
            "app.example.fr",
            "https://app.example.fr/path",
            "ftp://app.example.fr",
            "*",
            "",
        ] {
            assert!(parse_origin(bad).is_err(), "{bad}");
        }
    }
}
