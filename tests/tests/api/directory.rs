use reqwest::Method;
use serde_json::json;

use crate::both_engines;
use crate::helpers::{COMMUNES, SIRENS, TestApp};

both_engines!(
    territories_take_the_code_of_their_kind_once,
    lists_page_with_a_cursor_and_filter,
    referenced_organizations_and_territories_cannot_be_deleted,
    lists_filter_on_updated_since_for_synchronisation,
);

async fn territories_take_the_code_of_their_kind_once(app: TestApp) {
    for (name, code) in COMMUNES {
        let r = app
            .post(
                "/api/v1/territories",
                json!({"name": name, "kind": "commune", "code": code}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let r = app.get("/api/v1/territories?department=973").await;
    assert_eq!(r.body["items"][0]["name"], "Awala-Yalimapo", "{}", r.body);
    let r = app
        .get("/api/v1/territories?department=2A&kind=commune")
        .await;
    assert_eq!(r.body["items"][0]["code"], "2A004");
    let r = app
        .post(
            "/api/v1/territories",
            json!({"kind": "commune", "code": "56121"}),
        )
        .await;
    r.assert_problem(409, "duplicate_code");
    // A department and a region may share digits: different schemes.
    assert_eq!(
        app.post(
            "/api/v1/territories",
            json!({"name": "Vaucluse", "kind": "departement", "code": "84"})
        )
        .await
        .status,
        201
    );
    assert_eq!(
        app.post(
            "/api/v1/territories",
            json!({"name": "Auvergne-Rhône-Alpes", "kind": "region", "code": "84"})
        )
        .await
        .status,
        201
    );
    let id = app
        .territory("Brest Métropole", "metropole", "242900314")
        .await;
    let r = app
        .raw(
            Method::PATCH,
            &format!("/api/v1/territories/{id}"),
            Some(&app.admin),
            Some(json!({"population": 213403, "latitude": 48.39, "longitude": -4.49})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["population"], 213403);
    assert_eq!(r.body["latitude"], 48.39);
    let r = app
        .raw(
            Method::PATCH,
            &format!("/api/v1/territories/{id}"),
            Some(&app.admin),
            Some(json!({"latitude": 91.0})),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    let r = app.get("/api/v1/territories?q=BREST").await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 1);
}

async fn lists_page_with_a_cursor_and_filter(app: TestApp) {
    for (i, siren) in SIRENS.iter().enumerate() {
        // PETR: outside the official geography, so any name (sorting is what is tested).
        app.territory(&format!("Agglo {}", 8 - i), "petr", siren)
            .await;
    }
    let mut seen = Vec::new();
    let mut path = "/api/v1/territories?limit=3&sort=name&count=true".to_owned();
    let mut pages = 0;
    loop {
        let r = app.get(&path).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["total"], 8);
        pages += 1;
        seen.extend(
            r.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["name"].as_str().unwrap().to_owned()),
        );
        match r.body["next_cursor"].as_str() {
            Some(c) => {
                let link = r
                    .headers
                    .get("link")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned();
                assert!(link.contains("rel=\"next\"") && link.contains(c), "{link}");
                path = format!("/api/v1/territories?limit=3&sort=name&count=true&cursor={c}");
            }
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted);
    assert_eq!(seen.len(), 8);
    let r = app.get("/api/v1/territories?sort=-name&limit=1").await;
    assert_eq!(r.body["items"][0]["name"], "Agglo 8");

    let (f, anct) = app.ready_fabrique(4, 8).await;
    app.post("/api/v1/fabriques", json!({"title": "Autre"}))
        .await;
    let r = app
        .get(&format!("/api/v1/fabriques?organization={anct}"))
        .await;
    let ids: Vec<&str> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["id"].as_str())
        .collect();
    assert_eq!(ids, [f.as_str()]);
    let r = app
        .get("/api/v1/fabriques?status=draft,recruiting&year=2027")
        .await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 1, "{}", r.body);
    let r = app
        .get("/api/v1/fabriques?status=draft&status=running")
        .await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 2, "{}", r.body);
}

async fn referenced_organizations_and_territories_cannot_be_deleted(app: TestApp) {
    let (f, anct) = app.ready_fabrique(1, 8).await;
    app.raw(
        Method::DELETE,
        &format!("/api/v1/organizations/{anct}"),
        Some(&app.admin),
        None,
    )
    .await
    .assert_refused("still_referenced");
    app.transition(&format!("/api/v1/fabriques/{f}"), "open_recruitment")
        .await;
    let t = app.territory("Lorient", "commune", "56121").await;
    app.apply(&f, &t).await;
    app.raw(
        Method::DELETE,
        &format!("/api/v1/territories/{t}"),
        Some(&app.admin),
        None,
    )
    .await
    .assert_refused("still_referenced");
    let lonely = app.org("Seule", "other").await;
    assert_eq!(
        app.raw(
            Method::DELETE,
            &format!("/api/v1/organizations/{lonely}"),
            Some(&app.admin),
            None
        )
        .await
        .status,
        204
    );
    app.get(&format!("/api/v1/organizations/{lonely}"))
        .await
        .assert_problem(404, "not_found");
}

async fn lists_filter_on_updated_since_for_synchronisation(app: TestApp) {
    let old = app.org("Ancienne", "other").await;
    let fresh_org = app.org("Récente", "other").await;
    let stamp = app
        .get(&format!("/api/v1/organizations/{fresh_org}"))
        .await
        .body["updated_at"]
        .as_str()
        .unwrap()
        .to_owned();
    let _ = old;
    let since = url::form_urlencoded::byte_serialize(stamp.as_bytes()).collect::<String>();
    let r = app
        .get(&format!("/api/v1/organizations?updated_since={since}"))
        .await;
    let names: Vec<&str> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|o| o["name"].as_str())
        .collect();
    assert_eq!(
        names,
        ["Récente"],
        "inclusive of the instant, nothing older: {}",
        r.body
    );
    app.raw(
        Method::PATCH,
        &format!("/api/v1/organizations/{old}"),
        Some(&app.admin),
        Some(json!({"acronym": "ANC"})),
    )
    .await;
    let r = app
        .get(&format!("/api/v1/organizations?updated_since={since}"))
        .await;
    assert_eq!(
        r.body["items"].as_array().unwrap().len(),
        2,
        "an update brings it back: {}",
        r.body
    );
    app.get("/api/v1/organizations?updated_since=yesterday")
        .await
        .assert_problem(400, "invalid_query");
    let r = app
        .get(&format!("/api/v1/fabriques?updated_since={since}"))
        .await;
    assert_eq!(r.status, 200);
}
