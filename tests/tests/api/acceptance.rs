//! The server accepts what the OpenAPI document admits and refuses (4xx) what it does not:
//! each scenario is a disagreement schemathesis found (`.ci/run`, `--checks all`), fixed in
//! the server or in the document, with the rules the document cannot state left to the
//! descriptions (and to `.ci/schemathesis_hooks.py`).

use serde_json::json;

use crate::both_engines;
use crate::helpers::TestApp;

both_engines!(
    integral_floats_are_integers,
    text_filters_are_held_to_their_length,
    empty_list_items_are_refused,
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
