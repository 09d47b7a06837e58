//! `/metrics`: Prometheus text, only for who holds the metrics token; requests counted by
//! route template (unknown paths and methods under one label each), the pool, the webhook
//! queue and the rate limiter's refusals.

use reqwest::Method;

use crate::both_engines;
use crate::helpers::TestApp;
use fabriques_api::config::ServiceOptions;

const TOKEN: &str = "scrape-secret-for-the-tests";

fn options() -> ServiceOptions {
    ServiceOptions {
        metrics_token: Some(TOKEN.into()),
        anonymous_rate_limit_per_minute: 3,
        ..crate::helpers::test_options()
    }
}

both_engines!(with super::options(); metrics_are_for_the_token_holder_and_bounded);
both_engines!(no_metrics_unless_configured);

async fn scrape(app: &TestApp, token: Option<&str>) -> (u16, String) {
    let mut rb = app.client.get(format!("{}/metrics", app.base));
    if let Some(t) = token {
        rb = rb.bearer_auth(t);
    }
    let r = rb.send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// The value of the series named exactly `series` (name and labels), if present.
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

async fn metrics_are_for_the_token_holder_and_bounded(app: TestApp) {
    for token in [None, Some("wrong")] {
        let (status, body) = scrape(&app, token).await;
        assert_eq!(status, 401, "{body}");
        assert!(body.contains("\"code\":\"unauthorized\""), "{body}");
    }
    let f = uuid::Uuid::now_v7();
    let admin = app.admin.clone();
    for path in [
        format!("/api/v1/fabriques/{f}"),
        "/api/v1/no/such/path".into(),
    ] {
        let r = app.raw(Method::GET, &path, Some(&admin), None).await;
        assert_eq!(r.status, 404);
    }
    let brew = app
        .client
        .request(
            Method::from_bytes(b"BREW").unwrap(),
            format!("{}/api/v1/fabriques", app.base),
        )
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(brew.status(), 405);
    let (_, before) = scrape(&app, Some(TOKEN)).await;
    let refusals = value(&before, "fabriques_rate_limit_refusals_total").unwrap();
    // Anonymous callers get 3 requests a minute here.
    let mut refused = false;
    for _ in 0..5 {
        let r = app.raw(Method::GET, "/api/v1/fabriques", None, None).await;
        refused |= r.status == 429;
    }
    assert!(refused, "the anonymous quota was not enforced");

    let (status, text) = scrape(&app, Some(TOKEN)).await;
    assert_eq!(status, 200);
    for series in [
        r#"fabriques_http_requests_total{endpoint="/api/v1/fabriques/{id}",method="GET",status="404"}"#,
        r#"fabriques_http_requests_total{endpoint="UNKNOWN",method="GET",status="404"}"#,
        r#"fabriques_http_requests_total{endpoint="/api/v1/fabriques",method="OTHER",status="405"}"#,
        r#"fabriques_http_requests_total{endpoint="/api/v1/fabriques",method="GET",status="429"}"#,
        r#"fabriques_http_requests_duration_seconds_count{endpoint="/api/v1/fabriques/{id}",method="GET",status="404"}"#,
    ] {
        assert!(
            value(&text, series).is_some_and(|v| v >= 1.0),
            "no {series} in\n{text}"
        );
    }
    assert!(
        !text.contains("BREW") && !text.contains("/no/such/path"),
        "{text}"
    );
    assert!(value(&text, "fabriques_rate_limit_refusals_total").unwrap() > refusals);
    assert!(value(&text, "fabriques_db_pool_connections").is_some_and(|v| v >= 1.0));
    assert_eq!(
        value(&text, "fabriques_webhook_deliveries_pending"),
        Some(0.0)
    );
    assert!(
        value(
            &text,
            r#"fabriques_webhook_attempts_total{outcome="delivered"}"#
        )
        .is_some()
    );
}

async fn no_metrics_unless_configured(app: TestApp) {
    let (status, _) = scrape(&app, Some(TOKEN)).await;
    assert_eq!(status, 404);
}
