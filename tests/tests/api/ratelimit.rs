//! Rate limits per caller: 429 problem+json with Retry-After and the IETF RateLimit headers;
//! one caller exhausting its quota leaves the others untouched.

use reqwest::Method;
use serde_json::json;

use crate::both_engines;
use crate::helpers::{Resp, TestApp};
use fabriques_api::auth::Role;
use fabriques_api::config::ServiceOptions;

pub fn options() -> ServiceOptions {
    ServiceOptions {
        rate_limit_per_minute: 5,
        anonymous_rate_limit_per_minute: 3,
        ..ServiceOptions::default()
    }
}

/// `r` of `RateLimit: "fabriques";r=<remaining>;t=<seconds>`.
fn remaining(r: &Resp) -> u64 {
    let v = r.headers.get("ratelimit").expect("RateLimit header");
    let v = v.to_str().unwrap();
    let r_part = v.split(';').find(|p| p.starts_with("r=")).expect(v);
    r_part[2..].parse().unwrap()
}

fn policy(r: &Resp) -> String {
    r.headers
        .get("ratelimit-policy")
        .expect("RateLimit-Policy header")
        .to_str()
        .unwrap()
        .to_owned()
}

fn assert_limited(r: &Resp) {
    r.assert_problem(429, "rate_limited");
    let retry: u64 = r
        .headers
        .get("retry-after")
        .expect("Retry-After")
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert_eq!(remaining(r), 0);
}

async fn each_caller_has_its_own_quota(app: TestApp) {
    // A machine client with its own quota of 2 (one admin request and one anonymous one).
    let (id, secret) = app
        .client(json!({"name": "Banque des Territoires", "role": "analyst", "rate_limit_per_minute": 2}))
        .await;
    let machine = app.client_token(&id, &secret).await;
    for expected in [1, 0] {
        let r = app
            .raw(Method::GET, "/api/v1/programmes", Some(&machine), None)
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(remaining(&r), expected);
        assert_eq!(policy(&r), "\"fabriques\";q=2;w=60");
    }
    assert_limited(
        &app.raw(Method::GET, "/api/v1/programmes", Some(&machine), None)
            .await,
    );

    // A person's token: the server's default quota of 5.
    let alice = app.token(Role::Analyst, None, None);
    for expected in (0..5).rev() {
        let r = app
            .raw(Method::GET, "/api/v1/programmes", Some(&alice), None)
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(remaining(&r), expected);
        assert_eq!(policy(&r), "\"fabriques\";q=5;w=60");
    }
    let limited = app
        .raw(Method::GET, "/api/v1/programmes", Some(&alice), None)
        .await;
    assert_limited(&limited);
    assert!(limited.body["request_id"].is_string(), "{}", limited.body);
    // Writes are refused too, and nothing is written.
    assert_limited(
        &app.raw(
            Method::POST,
            "/api/v1/fabriques",
            Some(&alice),
            Some(json!({"title": "x"})),
        )
        .await,
    );

    // Another caller is not slowed down.
    let bob = app.token(Role::AnctStaff, None, None);
    let r = app
        .raw(Method::GET, "/api/v1/programmes", Some(&bob), None)
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(remaining(&r), 4);

    // Without a token: per address, 3 a minute; the token request above used one.
    for _ in 0..2 {
        let r = app.raw(Method::GET, "/api/v1/programmes", None, None).await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    assert_limited(&app.raw(Method::GET, "/api/v1/programmes", None, None).await);
    // Health probes are never limited.
    for _ in 0..10 {
        let r = app.raw(Method::GET, "/health/live", None, None).await;
        assert_eq!(r.status, 200);
        assert!(r.headers.get("ratelimit").is_none());
    }
}

both_engines!(with super::options(); each_caller_has_its_own_quota);
