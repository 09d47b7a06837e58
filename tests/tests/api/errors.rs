use reqwest::Method;
use serde_json::json;

use crate::both_engines;
use crate::helpers::TestApp;

both_engines!(
    bad_input_gets_a_problem_json_4xx,
    unknown_routes_and_methods_get_404_and_405,
    duplicate_keys_and_unsafe_links_are_refused,
);

/// A body naming a key twice is refused (400), not read as its last value; links the API
/// serves to the public must be https.
async fn duplicate_keys_and_unsafe_links_are_refused(app: TestApp) {
    let r = app
        .client
        .post(format!("{}/api/v1/organizations", app.base))
        .bearer_auth(&app.admin)
        .header("content-type", "application/json")
        .body(r#"{"name": "AMF", "kind": "funder", "name": "Someone else"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["code"], "malformed_json");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("`name` appears twice"),
        "{body}"
    );
    let listed = app.get("/api/v1/organizations").await;
    assert_eq!(
        listed.body["items"].as_array().unwrap().len(),
        0,
        "nothing was written"
    );
    // A NUL in the path (it used to reach PostgreSQL, and a 500) is a 400.
    for path in [
        "/api/v1/reference/communes/75%0056",
        "/api/v1/reference/epci/%00",
        "/api/v1/exports/fabriques%00.csv",
    ] {
        let r = app.raw(Method::GET, path, None, None).await;
        r.assert_problem(400, "invalid_path_parameter");
    }

    let run = crate::year::running_fabrique(&app, 1).await;
    for link in [
        "javascript:alert(document.cookie)",
        "data:text/html,<script>alert(1)</script>",
        "http://www.amf.asso.fr",
        "https://user:secret@www.amf.asso.fr/",
    ] {
        let r = app
            .raw(
                Method::POST,
                "/api/v1/organizations",
                Some(&app.admin),
                Some(json!({"name": "AMF", "kind": "funder", "website": link})),
            )
            .await;
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.body["errors"][0]["pointer"], "/website", "{link}");
        let r = app
            .raw(
                Method::POST,
                &format!("/api/v1/fabriques/{}/testimonies", run.fabrique),
                Some(&app.admin),
                Some(json!({"speaker": "Élue", "media_url": link})),
            )
            .await;
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.body["errors"][0]["pointer"], "/media_url", "{link}");
    }
    let r = app
        .raw(
            Method::POST,
            "/api/v1/organizations",
            Some(&app.admin),
            Some(json!({"name": "AMF", "kind": "funder", "website": "https://www.amf.asso.fr"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
}

async fn bad_input_gets_a_problem_json_4xx(app: TestApp) {
    let url = format!("{}/api/v1/fabriques", app.base);
    let send = |body: Vec<u8>, ct: &'static str| {
        app.client
            .post(&url)
            .bearer_auth(&app.admin)
            .header("content-type", ct)
            .body(body)
            .send()
    };
    let r = send(b"{\"title\": ".to_vec(), "application/json")
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        body["code"],
        "invalid_query".replace("invalid_query", "malformed_json")
    );

    let r = app
        .post("/api/v1/fabriques", json!({"title": "x", "colour": "blue"}))
        .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["pointer"], "/colour");
    assert_eq!(r.body["errors"][0]["code"], "unknown_field");

    let r = app
        .post(
            "/api/v1/fabriques",
            json!({"title": "", "min_territories": 0, "max_territories": 500}),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    let pointers: Vec<&str> = r.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["pointer"].as_str())
        .collect();
    assert_eq!(pointers, ["/max_territories", "/min_territories", "/title"]);

    let r = app
        .post(
            "/api/v1/fabriques",
            json!({"title": "x", "min_territories": 6, "max_territories": 5}),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["code"], "territory_bounds_invalid");

    let r = send(vec![b' '; 1024 * 1024 + 10], "application/json")
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    assert_eq!(r.headers()["content-type"], "application/problem+json");

    let r = send(b"title=x".to_vec(), "application/x-www-form-urlencoded")
        .await
        .unwrap();
    assert_eq!(r.status(), 415);

    app.get("/api/v1/fabriques/not-a-uuid")
        .await
        .assert_problem(400, "invalid_path_parameter");
    app.get("/api/v1/fabriques?limit=0")
        .await
        .assert_problem(400, "invalid_query");
    app.get("/api/v1/fabriques?stauts=running")
        .await
        .assert_problem(400, "invalid_query");
    app.get("/api/v1/fabriques?status=sleeping")
        .await
        .assert_problem(400, "invalid_query");
    app.get("/api/v1/fabriques?cursor=garbage")
        .await
        .assert_problem(400, "invalid_query");
    app.get("/api/v1/fabriques?sort=colour")
        .await
        .assert_problem(400, "invalid_query");

    let r = app
        .post(
            "/api/v1/territories",
            json!({"name": "Nowhere", "kind": "commune", "code": "20001"}),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["pointer"], "/code");
    assert_eq!(r.body["errors"][0]["code"], "invalid_insee_code");
    let r = app
        .post(
            "/api/v1/territories",
            json!({"name": "Brest", "kind": "metropole", "code": "242900315"}),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["code"], "invalid_siren_checksum");
    let r = app
        .post(
            "/api/v1/territories",
            json!({"name": "Lorient", "kind": "commune"}),
        )
        .await;
    assert_eq!(r.body["errors"][0]["code"], "required", "{}", r.body);

    // The request id is echoed, and written in the problem.
    let r = app
        .client
        .get(format!("{}/api/v1/nowhere", app.base))
        .header("x-request-id", "trace-123")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], "trace-123");
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["request_id"], "trace-123");
}

async fn unknown_routes_and_methods_get_404_and_405(app: TestApp) {
    app.get("/api/v1/nowhere")
        .await
        .assert_problem(404, "not_found");
    let r = app
        .raw(Method::DELETE, "/api/v1/fabriques", Some(&app.admin), None)
        .await;
    r.assert_problem(405, "method_not_allowed");
    let allow = r
        .headers
        .get("allow")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
    let r = app
        .raw(
            Method::PUT,
            &format!("/api/v1/fabriques/{}", uuid::Uuid::now_v7()),
            Some(&app.admin),
            None,
        )
        .await;
    r.assert_problem(405, "method_not_allowed");
}
