use base64::Engine;
use fabriques_api::auth::Role;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use reqwest::Method;
use serde_json::{Value, json};

use crate::both_engines;
use crate::helpers::{AUDIENCE, ISSUER, SECRET, TestApp};

both_engines!(
    bad_tokens_are_refused_with_401_and_www_authenticate,
    wrong_roles_get_403_naming_the_permission
);

fn claims(overrides: Value) -> Value {
    let now = chrono::Utc::now().timestamp();
    let mut c = json!({"sub": "someone", "role": "admin", "iss": ISSUER, "aud": AUDIENCE, "exp": now + 600, "nbf": now, "iat": now});
    for (k, v) in overrides.as_object().unwrap() {
        if v.is_null() {
            c.as_object_mut().unwrap().remove(k);
        } else {
            c[k] = v.clone();
        }
    }
    c
}

fn sign(c: &Value, secret: &str) -> String {
    encode(
        &Header::new(Algorithm::HS256),
        c,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

fn b64(v: &Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
}

async fn bad_tokens_are_refused_with_401_and_www_authenticate(app: TestApp) {
    let now = chrono::Utc::now().timestamp();
    let good = sign(&claims(json!({})), SECRET);
    let r = app
        .raw(Method::GET, "/api/v1/organizations", Some(&good), None)
        .await;
    assert_eq!(r.status, 200, "the reference token must pass: {}", r.body);

    let (h, p, _) = {
        let mut parts = good.split('.');
        (
            parts.next().unwrap().to_owned(),
            parts.next().unwrap().to_owned(),
            parts.next().unwrap().to_owned(),
        )
    };
    let tampered_payload = b64(&claims(json!({"role": "admin", "sub": "mallory"})));
    let mut crit_header = Header::new(Algorithm::HS256);
    crit_header.crit = Some(vec!["exp".into()]);
    let mut empty_crit = Header::new(Algorithm::HS256);
    empty_crit.crit = Some(vec![]);
    let mut jku = Header::new(Algorithm::HS256);
    jku.jku = Some("https://evil.example/jwks.json".into());
    let mut x5u = Header::new(Algorithm::HS256);
    x5u.x5u = Some("https://evil.example/cert.pem".into());
    let with = |header: &Header| {
        encode(
            header,
            &claims(json!({})),
            &EncodingKey::from_secret(SECRET.as_bytes()),
        )
        .unwrap()
    };
    let cases: Vec<(&str, Option<String>)> = vec![
        ("no token", None),
        (
            "expired",
            Some(sign(&claims(json!({"exp": now - 60})), SECRET)),
        ),
        (
            "wrong aud",
            Some(sign(&claims(json!({"aud": "someone-else"})), SECRET)),
        ),
        (
            "missing aud",
            Some(sign(&claims(json!({"aud": null})), SECRET)),
        ),
        (
            "wrong iss",
            Some(sign(&claims(json!({"iss": "evil"})), SECRET)),
        ),
        (
            "missing sub",
            Some(sign(&claims(json!({"sub": null})), SECRET)),
        ),
        (
            "future nbf",
            Some(sign(&claims(json!({"nbf": now + 3600})), SECRET)),
        ),
        (
            "future iat",
            Some(sign(&claims(json!({"iat": now + 3600})), SECRET)),
        ),
        (
            "another key",
            Some(sign(
                &claims(json!({})),
                "another-secret-that-is-also-32-bytes-long!",
            )),
        ),
        (
            "alg none",
            Some(format!(
                "{}.{}.",
                b64(&json!({"alg": "none", "typ": "JWT"})),
                p
            )),
        ),
        (
            "tampered signature",
            Some(format!("{h}.{p}.AAAA{}", "A".repeat(39))),
        ),
        (
            "tampered payload",
            Some(format!(
                "{h}.{tampered_payload}.{}",
                good.rsplit('.').next().unwrap()
            )),
        ),
        (
            "unknown crit",
            Some(
                encode(
                    &crit_header,
                    &claims(json!({})),
                    &EncodingKey::from_secret(SECRET.as_bytes()),
                )
                .unwrap(),
            ),
        ),
        ("empty crit", Some(with(&empty_crit))),
        ("jku header", Some(with(&jku))),
        ("x5u header", Some(with(&x5u))),
        (
            "partner without org",
            Some(sign(&claims(json!({"role": "partner"})), SECRET)),
        ),
        ("garbage", Some("not-a-jwt".into())),
        ("huge", Some("a".repeat(10_000))),
    ];
    for (what, token) in cases {
        let r = app
            .raw(Method::GET, "/api/v1/organizations", token.as_deref(), None)
            .await;
        assert_eq!(r.status, 401, "{what}: {}", r.body);
        r.assert_problem(401, "unauthorized");
        let www = r
            .headers
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        assert!(www.starts_with("Bearer"), "{what}: {www}");
    }
    // A Basic scheme is refused too.
    let r = app
        .client
        .get(format!("{}/api/v1/organizations", app.base))
        .header("Authorization", "Basic Zm9vOmJhcg==")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

async fn wrong_roles_get_403_naming_the_permission(app: TestApp) {
    let analyst = app.token(Role::Analyst, None, None);
    let r = app
        .raw(
            Method::POST,
            "/api/v1/fabriques",
            Some(&analyst),
            Some(json!({"title": "x"})),
        )
        .await;
    r.assert_problem(403, "forbidden");
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap()
            .contains("fabriques:write"),
        "{}",
        r.body
    );
    let org = app.org("AMF", "elected_officials_association").await;
    let partner = app.token(Role::Partner, Some(&org), None);
    let r = app
        .raw(
            Method::POST,
            "/api/v1/territories",
            Some(&partner),
            Some(json!({"name": "x", "kind": "commune", "code": "56121"})),
        )
        .await;
    r.assert_problem(403, "forbidden");
    let r = app
        .raw(
            Method::DELETE,
            &format!("/api/v1/organizations/{org}"),
            Some(&partner),
            None,
        )
        .await;
    r.assert_problem(403, "forbidden");
    // The analyst reads drafts; the partner does not even see them.
    let draft = app
        .post("/api/v1/fabriques", json!({"title": "Brouillon"}))
        .await
        .id();
    assert_eq!(
        app.raw(
            Method::GET,
            &format!("/api/v1/fabriques/{draft}"),
            Some(&analyst),
            None
        )
        .await
        .status,
        200
    );
    app.raw(
        Method::GET,
        &format!("/api/v1/fabriques/{draft}"),
        Some(&partner),
        None,
    )
    .await
    .assert_problem(404, "not_found");
}
