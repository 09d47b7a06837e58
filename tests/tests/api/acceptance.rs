//! The server accepts what the OpenAPI document admits and refuses (4xx) what it does not:
//! each scenario is a disagreement schemathesis found (`.ci/run`, `--checks all`), fixed in
//! the server or in the document, with the rules the document cannot state left to the
//! descriptions (and to `.ci/schemathesis_hooks.py`).

use reqwest::Method;
use serde_json::{Value, json};

use crate::both_engines;
use crate::conformance::{admits_value, document};
use crate::helpers::TestApp;

both_engines!(
    integral_floats_are_integers,
    text_filters_are_held_to_their_length,
    empty_list_items_are_refused,
    if_match_lists_are_read_tag_by_tag,
    the_token_is_checked_before_the_headers,
);

/// JSON Schema's `integer` admits `2.0` and `1e1`; so does the server, in bodies and in
/// query strings. A fractional value is still refused.
async fn integral_floats_are_integers(app: TestApp) {
    let r = app
        .post(
            "/api/v1/fabriques",
            json!({"title": "Sites industriels", "min_territories": 2.0, "max_territories": 1e1}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["min_territories"], 2);
    assert_eq!(r.body["max_territories"], 10);

    let r = app
        .post(
            "/api/v1/fabriques",
            json!({"title": "Sites industriels", "min_territories": 2.5}),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["pointer"], "/min_territories");
    assert_eq!(r.body["errors"][0]["code"], "invalid_type");

    for ok in [
        "/api/v1/fabriques?limit=1.0",
        "/api/v1/fabriques?limit=2e0&year=2027.0",
        "/api/v1/exports/fabriques.csv?year_from=2026.0&year_to=2.1e3",
        "/api/v1/reference/regions?limit=5.0",
    ] {
        let r = app.get(ok).await;
        assert_eq!(r.status, 200, "{ok}: {}", r.body);
    }
    let r = app.get("/api/v1/fabriques?limit=1.5").await;
    r.assert_problem(400, "invalid_query");
    assert_eq!(r.body["errors"][0]["pointer"], "/limit");
    app.get("/api/v1/fabriques?limit=1e400")
        .await
        .assert_problem(400, "invalid_query");
    app.get("/api/v1/fabriques?limit=NaN")
        .await
        .assert_problem(400, "invalid_query");
}

async fn send(app: &TestApp, method: Method, path: &str, headers: &[(&str, &str)]) -> u16 {
    let mut rb = app
        .client
        .request(method, format!("{}{}", app.base, path))
        .header("content-type", "application/json")
        .body("{}");
    for (k, v) in headers {
        rb = rb.header(*k, *v);
    }
    rb.send().await.unwrap().status().as_u16()
}

/// An entity tag is opaque: `"a,b"` is one tag. A list is read tag by tag (RFC 9110 §8.8.3),
/// as the document's pattern says, not split on commas.
async fn if_match_lists_are_read_tag_by_tag(app: TestApp) {
    let id = app.org("Cerema", "public_operator").await;
    let path = format!("/api/v1/organizations/{id}");
    let r = app.get(&path).await;
    let etag = r.headers["etag"].to_str().unwrap().to_owned();
    let token = format!("Bearer {}", app.admin);
    let auth = ("Authorization", token.as_str());

    let listed = format!("W/\",w0%<R\",\t\"a,b\" , {etag}");
    assert_eq!(
        send(&app, Method::PATCH, &path, &[auth, ("If-Match", &listed)]).await,
        200,
        "the current ETag after tags holding commas"
    );
    let etag = app.get(&path).await.headers["etag"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        send(&app, Method::PATCH, &path, &[auth, ("If-Match", "\"a,b\"")]).await,
        412,
        "one well-formed tag that is not current"
    );
    for malformed in ["0", "\"a", "\"a\" \"b\"", "\"a\",", "\"a b\""] {
        let r = app
            .client
            .patch(format!("{}{path}", app.base))
            .header("Authorization", token.as_str())
            .header("If-Match", malformed)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{malformed:?}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["code"], "invalid_precondition", "{malformed:?}");
    }
    // The pattern the document declares agrees.
    let schema = json!({"type": "string", "pattern": fabriques_api::edge::etag::IF_MATCH_PATTERN});
    assert!(admits_value("If-Match", &schema, &json!(listed)));
    assert!(admits_value("If-Match", &schema, &json!(etag)));
    assert!(!admits_value("If-Match", &schema, &json!("0")));
}

/// Without a valid token the answer is 401, whatever `If-Match` or `Idempotency-Key` holds.
async fn the_token_is_checked_before_the_headers(app: TestApp) {
    let id = app.org("Cerema", "public_operator").await;
    let path = format!("/api/v1/organizations/{id}");
    assert_eq!(
        send(&app, Method::PATCH, &path, &[("If-Match", "0")]).await,
        401
    );
    assert_eq!(
        send(&app, Method::DELETE, &path, &[("If-Match", "0")]).await,
        401
    );
    assert_eq!(
        send(
            &app,
            Method::POST,
            "/api/v1/organizations",
            &[("Idempotency-Key", "a b")]
        )
        .await,
        401
    );
    // With a token, the malformed headers are refused for what they are.
    let token = format!("Bearer {}", app.admin);
    let auth = ("Authorization", token.as_str());
    assert_eq!(
        send(&app, Method::PATCH, &path, &[auth, ("If-Match", "0")]).await,
        400
    );
    assert_eq!(
        send(
            &app,
            Method::POST,
            "/api/v1/organizations",
            &[auth, ("Idempotency-Key", "a b")]
        )
        .await,
        400
    );
    // The document says which keys are admitted.
    let doc = document();
    let key = doc["paths"]["/api/v1/organizations"]["post"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "Idempotency-Key")
        .unwrap();
    let schema = &key["schema"];
    assert!(admits_value("Idempotency-Key", schema, &json!("retry-42")));
    assert!(!admits_value("Idempotency-Key", schema, &json!("a b")));
    assert!(!admits_value("Idempotency-Key", schema, &json!("clé")));
}

/// A text filter's `maxLength` is checked by the server (400 naming the parameter), on every
/// list, export, figure and map that takes one.
async fn text_filters_are_held_to_their_length(app: TestApp) {
    let long = |n: usize| "a".repeat(n);
    for (path, name, max) in [
        ("/api/v1/fabriques", "theme", 300),
        ("/api/v1/fabriques", "q", 300),
        ("/api/v1/exports/fabriques.csv", "theme", 300),
        ("/api/v1/stats/overview", "theme", 300),
        ("/api/v1/map/territories", "theme", 300),
        ("/api/v1/organizations", "q", 200),
        ("/api/v1/territories", "q", 200),
        ("/api/v1/reference/communes", "q", 200),
    ] {
        let ok = app.get(&format!("{path}?{name}={}", long(max))).await;
        assert_eq!(ok.status, 200, "{path} {name}: {}", ok.body);
        let r = app.get(&format!("{path}?{name}={}", long(max + 1))).await;
        r.assert_problem(400, "invalid_query");
        assert_eq!(r.body["errors"][0]["pointer"], format!("/{name}"), "{path}");
        // Characters, not bytes, as JSON Schema counts them.
        let accents = app.get(&format!("{path}?{name}={}", "é".repeat(max))).await;
        assert_eq!(accents.status, 200, "{path} {name}: {}", accents.body);
    }
}

/// A list parameter's items are what the document's item schema admits: an empty item
/// (`department=`, `running,`) is refused, not ignored.
async fn empty_list_items_are_refused(app: TestApp) {
    for bad in [
        "/api/v1/reference/communes?department=&department=",
        "/api/v1/fabriques?status=running,",
        "/api/v1/fabriques?status=",
        "/api/v1/territories?region=53&region=",
    ] {
        app.get(bad).await.assert_problem(400, "invalid_query");
    }
    for ok in [
        "/api/v1/reference/communes?department=56&department=2A",
        "/api/v1/fabriques?status=running,completed",
        "/api/v1/fabriques?status=running&status=draft",
    ] {
        let r = app.get(ok).await;
        assert_eq!(r.status, 200, "{ok}: {}", r.body);
    }
}
