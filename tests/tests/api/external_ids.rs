//! A partner's own ids for our resources.

use fabriques_api::auth::Role;
use reqwest::Method;
use serde_json::json;

use crate::both_engines;
use crate::helpers::TestApp;

both_engines!(a_partner_attaches_its_ids_and_looks_resources_up_by_them);

async fn put(app: &TestApp, token: &str, path: &str, id: &str) -> crate::helpers::Resp {
    app.raw(
        Method::PUT,
        path,
        Some(token),
        Some(json!({"entity_id": id})),
    )
    .await
}

async fn a_partner_attaches_its_ids_and_looks_resources_up_by_them(app: TestApp) {
    let (f, _) = app.ready_fabrique(1, 8).await;
    app.transition(&format!("/api/v1/fabriques/{f}"), "open_recruitment")
        .await;
    let draft = app
        .post("/api/v1/fabriques", json!({"title": "Brouillon"}))
        .await
        .id();
    let amf = app.org("AMF", "elected_officials_association").await;
    let adcf = app.org("AdCF", "elected_officials_association").await;
    let (a, b) = (
        app.token(Role::Partner, Some(&amf), None),
        app.token(Role::Partner, Some(&adcf), None),
    );

    let r = put(&app, &a, "/api/v1/external-ids/fabrique/AMF-42", &f).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["href"], format!("/api/v1/fabriques/{f}"));
    assert_eq!(
        put(&app, &a, "/api/v1/external-ids/fabrique/AMF-42", &f)
            .await
            .status,
        200,
        "idempotent"
    );
    let found = app
        .raw(
            Method::GET,
            "/api/v1/external-ids/fabrique/AMF-42",
            Some(&a),
            None,
        )
        .await;
    assert_eq!(found.body["entity_id"], f.as_str());
    // Unique per organization, in both directions; another organization has its own namespace.
    let other = app
        .post("/api/v1/fabriques", json!({"title": "Autre"}))
        .await
        .id();
    put(&app, &a, "/api/v1/external-ids/fabrique/AMF-42", &other)
        .await
        .assert_problem(409, "external_id_taken");
    put(&app, &a, "/api/v1/external-ids/fabrique/AMF-43", &f)
        .await
        .assert_problem(409, "entity_already_mapped");
    app.raw(
        Method::GET,
        "/api/v1/external-ids/fabrique/AMF-42",
        Some(&b),
        None,
    )
    .await
    .assert_problem(404, "not_found");
    assert_eq!(
        put(&app, &b, "/api/v1/external-ids/fabrique/AMF-42", &f)
            .await
            .status,
        201
    );
    // Only what the partner may see; a bad type is a 400.
    let r = put(&app, &a, "/api/v1/external-ids/fabrique/AMF-99", &draft).await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["code"], "unknown_entity");
    put(&app, &a, "/api/v1/external-ids/wizard/X", &f)
        .await
        .assert_problem(400, "invalid_path_parameter");
    let list = app
        .raw(
            Method::GET,
            "/api/v1/external-ids?entity_type=fabrique",
            Some(&a),
            None,
        )
        .await;
    assert_eq!(
        list.body["items"].as_array().unwrap().len(),
        1,
        "{}",
        list.body
    );
    assert_eq!(
        app.raw(
            Method::DELETE,
            "/api/v1/external-ids/fabrique/AMF-42",
            Some(&a),
            None
        )
        .await
        .status,
        204
    );
    app.raw(
        Method::GET,
        "/api/v1/external-ids/fabrique/AMF-42",
        Some(&a),
        None,
    )
    .await
    .assert_problem(404, "not_found");
    // ANCT has no organization namespace of its own.
    app.raw(Method::GET, "/api/v1/external-ids", Some(&app.admin), None)
        .await
        .assert_problem(403, "forbidden");
}
