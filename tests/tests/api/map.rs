//! The map: GeoJSON parsed back with a GeoJSON library.

use reqwest::Method;
use serde_json::json;

use crate::both_engines;
use crate::helpers::TestApp;
use crate::year::running_fabrique;

async fn the_map_is_geojson_and_counts_what_it_cannot_place(app: TestApp) {
    let run = running_fabrique(&app, 2).await;
    // The first territory gets coordinates, the second has none.
    let r = app
        .raw(
            Method::PATCH,
            &format!("/api/v1/territories/{}", run.territories[0]),
            Some(&app.admin),
            Some(json!({"latitude": 44.162, "longitude": 4.62})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // A draft elsewhere: never on the public map.
    app.post("/api/v1/fabriques", json!({"title": "Brouillon"}))
        .await;

    let res = app
        .client
        .get(format!("{}/api/v1/map/territories", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/geo+json");
    let text = res.text().await.unwrap();
    let geo: geojson::GeoJson = text.parse().expect("valid GeoJSON");
    let geojson::GeoJson::FeatureCollection(fc) = geo else {
        panic!("not a FeatureCollection: {text}")
    };
    assert_eq!(fc.features.len(), 1, "{text}");
    let feature = &fc.features[0];
    match &feature.geometry.as_ref().unwrap().value {
        geojson::Value::Point(p) => assert_eq!(p, &vec![4.62, 44.162], "[longitude, latitude]"),
        other => panic!("not a point: {other:?}"),
    }
    let props = feature.properties.as_ref().unwrap();
    assert_eq!(props["territory_id"], run.territories[0]);
    assert_eq!(props["kind"], "communaute_d_agglomeration");
    assert_eq!(props["code"], "200034692");
    assert_eq!(props["fabriques"][0]["id"], run.fabrique);
    assert_eq!(props["fabriques"][0]["status"], "running");
    let foreign = fc.foreign_members.as_ref().unwrap();
    assert_eq!(foreign["territories"], 2);
    assert_eq!(foreign["without_coordinates"], 1);
    assert_eq!(
        foreign["without_coordinates_ids"],
        json!([run.territories[1]])
    );

    // Filters: another Fabrique, a theme, a year.
    let other = app
        .post("/api/v1/fabriques", json!({"title": "Autre"}))
        .await
        .id();
    let r = app
        .get(&format!("/api/v1/map/territories?fabrique={other}"))
        .await;
    assert_eq!(r.body["territories"], 0, "{}", r.body);
    assert_eq!(r.body["features"], json!([]));
    let r = app
        .get(&format!(
            "/api/v1/map/territories?fabrique={}",
            run.fabrique
        ))
        .await;
    assert_eq!(r.body["territories"], 2);
    let r = app.get("/api/v1/map/territories?theme=introuvable").await;
    assert_eq!(r.body["territories"], 0);
    let r = app.get("/api/v1/map/territories?year=2001").await;
    assert_eq!(r.body["territories"], 0);
    app.get("/api/v1/map/territories?fabrique=nope")
        .await
        .assert_problem(400, "invalid_query");

    // A selection is bounded: a value given twice counts once, more than 100 are refused.
    let twice = format!("fabrique={0}&fabrique={0},{0}", run.fabrique);
    let r = app.get(&format!("/api/v1/map/territories?{twice}")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["territories"], 2, "{}", r.body);
    let many = |n: usize| {
        (0..n)
            .map(|_| run.fabrique.to_string())
            .collect::<Vec<_>>()
            .join(",")
    };
    let r = app
        .get(&format!("/api/v1/map/territories?fabrique={}", many(100)))
        .await;
    assert_eq!(r.body["territories"], 2, "{}", r.body);
    let r = app
        .get(&format!("/api/v1/map/territories?fabrique={}", many(101)))
        .await;
    r.assert_problem(400, "invalid_query");
    assert!(
        r.body["detail"].as_str().unwrap().contains("at most 100"),
        "{}",
        r.body
    );
    let status = (0..101)
        .map(|_| "running")
        .collect::<Vec<_>>()
        .join("&status=");
    app.get(&format!("/api/v1/fabriques?status={status}"))
        .await
        .assert_problem(400, "invalid_query");
}

both_engines!(the_map_is_geojson_and_counts_what_it_cannot_place);
