//! What browsers need: CORS (anonymous reads from any origin, the rest from the listed
//! origins only), `HEAD` wherever `GET` works, and the security headers on every answer.
//! The same, proven in a real browser, is `.ci/browsers`.

use reqwest::Method;
use reqwest::header::HeaderMap;

use crate::both_engines;
use crate::helpers::TestApp;
use fabriques_api::config::ServiceOptions;

const LISTED: &str = "http://localhost:5173";
const OTHER: &str = "http://elsewhere.example";

fn options() -> ServiceOptions {
    ServiceOptions {
        cors_origins: vec![LISTED.into()],
        ..crate::helpers::test_options()
    }
}

both_engines!(with super::options();
    anonymous_reads_are_open_to_every_origin_the_rest_to_the_listed_ones,
    head_answers_wherever_get_does,
    every_answer_carries_the_security_headers,
);

async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut rb = app.client.request(method, format!("{}{path}", app.base));
    if let Some(t) = token {
        rb = rb.bearer_auth(t);
    }
    for (k, v) in headers {
        rb = rb.header(*k, *v);
    }
    rb.send().await.expect("request")
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

async fn anonymous_reads_are_open_to_every_origin_the_rest_to_the_listed_ones(app: TestApp) {
    let admin = app.admin.clone();
    let list = "/api/v1/fabriques";
    // An anonymous read from anywhere: readable by the page.
    for origin in [LISTED, OTHER] {
        let r = send(&app, Method::GET, list, None, &[("Origin", origin)]).await;
        assert_eq!(r.status(), 200);
        assert_eq!(
            header(r.headers(), "access-control-allow-origin"),
            Some(origin)
        );
        assert_eq!(
            header(r.headers(), "access-control-allow-credentials"),
            None
        );
        let exposed = header(r.headers(), "access-control-expose-headers").unwrap_or_default();
        for h in ["etag", "link", "x-request-id", "ratelimit"] {
            assert!(exposed.contains(h), "{h} is not exposed: {exposed}");
        }
    }
    // With a token: only the listed origin may read the answer.
    let r = send(&app, Method::GET, list, Some(&admin), &[("Origin", LISTED)]).await;
    assert_eq!(
        header(r.headers(), "access-control-allow-origin"),
        Some(LISTED)
    );
    let r = send(&app, Method::GET, list, Some(&admin), &[("Origin", OTHER)]).await;
    assert_eq!(header(r.headers(), "access-control-allow-origin"), None);

    // Preflights: the listed origin may send a token and write, cached for two hours.
    let preflight = |origin: &'static str, method: &'static str, headers: &'static str| {
        let app = &app;
        async move {
            let mut h = vec![
                ("Origin", origin),
                ("Access-Control-Request-Method", method),
            ];
            if !headers.is_empty() {
                h.push(("Access-Control-Request-Headers", headers));
            }
            send(app, Method::OPTIONS, "/api/v1/fabriques/x", None, &h).await
        }
    };
    let r = preflight(LISTED, "PATCH", "authorization, content-type, if-match").await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        header(r.headers(), "access-control-allow-origin"),
        Some(LISTED)
    );
    assert_eq!(header(r.headers(), "access-control-max-age"), Some("7200"));
    let methods = header(r.headers(), "access-control-allow-methods").unwrap_or_default();
    assert!(methods.contains("PATCH"), "{methods}");
    let allowed = header(r.headers(), "access-control-allow-headers").unwrap_or_default();
    assert!(
        allowed.contains("authorization") && allowed.contains("if-match"),
        "{allowed}"
    );
    // Another origin: a read without a token, and nothing wider even in what it may cache.
    let r = preflight(OTHER, "GET", "if-none-match").await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        header(r.headers(), "access-control-allow-origin"),
        Some(OTHER)
    );
    assert_eq!(
        header(r.headers(), "access-control-allow-methods"),
        Some("GET, HEAD")
    );
    let allowed = header(r.headers(), "access-control-allow-headers").unwrap_or_default();
    assert!(!allowed.contains("authorization"), "{allowed}");
    for (method, headers) in [
        ("GET", "authorization"),
        ("POST", "content-type"),
        ("DELETE", ""),
    ] {
        let r = preflight(OTHER, method, headers).await;
        assert_eq!(r.status(), 400, "{method} {headers}");
        assert_eq!(header(r.headers(), "access-control-allow-origin"), None);
        assert!(
            header(r.headers(), "content-type")
                .is_some_and(|c| c.starts_with("application/problem+json")),
            "{method}: {:?}",
            r.headers()
        );
    }
}

/// Every `GET` of the spec, asked with `HEAD`: the same status and headers, no body.
async fn head_answers_wherever_get_does(app: TestApp) {
    let w = crate::world::world(&app).await;
    let spec = fabriques_api::edge::openapi::document();
    let mut checked = 0;
    for (template, item) in spec["paths"].as_object().unwrap() {
        if item.get("get").is_none() {
            continue;
        }
        let path = w.fill(&template.replace("{dataset}", "fabriques"));
        let token = if template.starts_with("/api/v1/webhooks") {
            &w.machine
        } else {
            &w.admin
        };
        let get = send(&app, Method::GET, &path, Some(token), &[]).await;
        let head = send(&app, Method::HEAD, &path, Some(token), &[]).await;
        assert_eq!(head.status(), get.status(), "HEAD {path}");
        for name in ["content-type", "etag", "link"] {
            assert_eq!(
                header(head.headers(), name),
                header(get.headers(), name),
                "HEAD {path}: {name}"
            );
        }
        assert!(
            head.bytes().await.unwrap().is_empty(),
            "HEAD {path} has a body"
        );
        checked += 1;
    }
    assert!(checked > 40, "only {checked} GETs");
    // A route without GET says so, HEAD among what it allows where GET is.
    let r = send(&app, Method::PUT, "/api/v1/fabriques", Some(&w.admin), &[]).await;
    assert_eq!(r.status(), 405);
    let allow = header(r.headers(), "allow").unwrap_or_default();
    assert!(allow.contains("GET") && allow.contains("HEAD"), "{allow}");
}

async fn every_answer_carries_the_security_headers(app: TestApp) {
    let admin = app.admin.clone();
    for (path, token, cache) in [
        ("/api/v1/fabriques", None, None),
        ("/api/v1/fabriques", Some(admin.as_str()), Some("no-store")),
        ("/api/v1/organizations", None, None),
        ("/api/v1/nope", Some(admin.as_str()), Some("no-store")),
        ("/health/live", None, None),
        ("/.well-known/jwks.json", None, Some("public, max-age=300")),
    ] {
        let r = send(&app, Method::GET, path, token, &[]).await;
        let h = r.headers();
        assert_eq!(
            header(h, "x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(header(h, "x-frame-options"), Some("DENY"), "{path}");
        assert_eq!(header(h, "referrer-policy"), Some("no-referrer"), "{path}");
        assert_eq!(
            header(h, "content-security-policy"),
            Some("default-src 'none'; frame-ancestors 'none'"),
            "{path}"
        );
        assert_eq!(
            header(h, "cache-control"),
            cache,
            "{path} (token: {})",
            token.is_some()
        );
    }
    let r = send(&app, Method::GET, "/swagger-ui/", None, &[]).await;
    assert_eq!(r.status(), 200);
    let csp = header(r.headers(), "content-security-policy").unwrap_or_default();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert_eq!(header(r.headers(), "x-frame-options"), Some("DENY"));
}
