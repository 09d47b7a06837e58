//! The server accepts what the OpenAPI document admits and refuses (4xx) what it does not:
//! each scenario is a disagreement schemathesis found (`.ci/run`, `--checks all`), fixed in
//! the server or in the document, with the rules the document cannot state left to the
//! descriptions (and to `.ci/schemathesis_hooks.py`).

use serde_json::json;

use crate::both_engines;
use crate::helpers::TestApp;

both_engines!(integral_floats_are_integers,);

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
