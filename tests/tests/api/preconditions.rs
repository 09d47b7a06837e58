//! No lost updates: ETags, If-None-Match and If-Match.

use reqwest::Method;
use serde_json::json;

use crate::both_engines;
use crate::helpers::TestApp;

both_engines!(
    reads_carry_a_strong_etag_and_answer_304_when_unchanged,
    a_stale_if_match_is_refused_with_412_and_writes_nothing,
    of_two_writers_with_the_same_etag_exactly_one_wins,
);

async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    header: (&str, &str),
    body: Option<serde_json::Value>,
) -> reqwest::Response {
    let mut rb = app
        .client
        .request(method, format!("{}{path}", app.base))
        .bearer_auth(&app.admin)
        .header(header.0, header.1);
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    rb.send().await.expect("request")
}

async fn reads_carry_a_strong_etag_and_answer_304_when_unchanged(app: TestApp) {
    let org = app.org("AMF", "elected_officials_association").await;
    let path = format!("/api/v1/organizations/{org}");
    let first = app.get(&path).await;
    let etag = first
        .headers
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .expect("an ETag")
        .to_owned();
    assert!(
        etag.starts_with('"') && !etag.starts_with("W/"),
        "strong: {etag}"
    );
    let again = send(&app, Method::GET, &path, ("If-None-Match", &etag), None).await;
    assert_eq!(again.status(), 304);
    assert_eq!(again.headers()["etag"], etag.as_str());
    assert!(again.bytes().await.unwrap().is_empty());
    app.raw(
        Method::PATCH,
        &path,
        Some(&app.admin),
        Some(json!({"acronym": "AMF-FR"})),
    )
    .await;
    let changed = send(&app, Method::GET, &path, ("If-None-Match", &etag), None).await;
    assert_eq!(changed.status(), 200);
    assert_ne!(changed.headers()["etag"], etag.as_str());

    // A name copied from another resource is part of the representation: renaming the
    // territory changes the participation's ETag.
    let (f, _) = app.ready_fabrique(1, 8).await;
    app.transition(&format!("/api/v1/fabriques/{f}"), "open_recruitment")
        .await;
    // (A PETR: territories of the official geography keep their official name.)
    let t = app
        .territory("PETR du Pays de Lorient", "petr", "200034692")
        .await;
    let p = app.apply(&f, &t).await.id();
    let before = app
        .get(&format!("/api/v1/participations/{p}"))
        .await
        .headers["etag"]
        .clone();
    app.raw(
        Method::PATCH,
        &format!("/api/v1/territories/{t}"),
        Some(&app.admin),
        Some(json!({"name": "PETR Pays de Lorient"})),
    )
    .await;
    let after = app
        .get(&format!("/api/v1/participations/{p}"))
        .await
        .headers["etag"]
        .clone();
    assert_ne!(before, after);
}

async fn a_stale_if_match_is_refused_with_412_and_writes_nothing(app: TestApp) {
    let org = app.org("AdCF", "elected_officials_association").await;
    let path = format!("/api/v1/organizations/{org}");
    let etag = app.get(&path).await.headers["etag"]
        .to_str()
        .unwrap()
        .to_owned();
    let ok = send(
        &app,
        Method::PATCH,
        &path,
        ("If-Match", &etag),
        Some(json!({"name": "Intercommunalités de France"})),
    )
    .await;
    assert_eq!(ok.status(), 200);
    let stale = send(
        &app,
        Method::PATCH,
        &path,
        ("If-Match", &etag),
        Some(json!({"name": "Écrasé"})),
    )
    .await;
    assert_eq!(stale.status(), 412);
    assert_eq!(stale.headers()["content-type"], "application/problem+json");
    let body: serde_json::Value = stale.json().await.unwrap();
    assert_eq!(body["code"], "precondition_failed");
    assert_eq!(
        app.get(&path).await.body["name"],
        "Intercommunalités de France"
    );
    let stale_delete = send(&app, Method::DELETE, &path, ("If-Match", &etag), None).await;
    assert_eq!(stale_delete.status(), 412);
    assert_eq!(
        send(
            &app,
            Method::PATCH,
            &path,
            ("If-Match", "*"),
            Some(json!({"acronym": "IdF"}))
        )
        .await
        .status(),
        200
    );
    assert_eq!(
        send(
            &app,
            Method::PATCH,
            &path,
            ("If-Match", " "),
            Some(json!({"acronym": "X"}))
        )
        .await
        .status(),
        400
    );

    // Transitions too.
    let (f, _) = app.ready_fabrique(1, 8).await;
    let fpath = format!("/api/v1/fabriques/{f}");
    let tag = app.get(&fpath).await.headers["etag"]
        .to_str()
        .unwrap()
        .to_owned();
    app.raw(
        Method::PATCH,
        &fpath,
        Some(&app.admin),
        Some(json!({"description": "Changed by someone else"})),
    )
    .await;
    let r = send(
        &app,
        Method::POST,
        &format!("{fpath}/transitions"),
        ("If-Match", &tag),
        Some(json!({"action": "open_recruitment"})),
    )
    .await;
    assert_eq!(r.status(), 412);
    assert_eq!(app.get(&fpath).await.body["status"], "draft");
    let fresh = app.get(&fpath).await.headers["etag"]
        .to_str()
        .unwrap()
        .to_owned();
    let r = send(
        &app,
        Method::POST,
        &format!("{fpath}/transitions"),
        ("If-Match", &fresh),
        Some(json!({"action": "open_recruitment"})),
    )
    .await;
    assert_eq!(r.status(), 200);
}

async fn of_two_writers_with_the_same_etag_exactly_one_wins(app: TestApp) {
    let org = app.org("Cerema", "public_operator").await;
    let path = format!("/api/v1/organizations/{org}");
    for round in 0..5 {
        let etag = app.get(&path).await.headers["etag"]
            .to_str()
            .unwrap()
            .to_owned();
        let (a, b) = tokio::join!(
            send(
                &app,
                Method::PATCH,
                &path,
                ("If-Match", &etag),
                Some(json!({"acronym": format!("A{round}")}))
            ),
            send(
                &app,
                Method::PATCH,
                &path,
                ("If-Match", &etag),
                Some(json!({"acronym": format!("B{round}")}))
            ),
        );
        let mut statuses = [a.status().as_u16(), b.status().as_u16()];
        statuses.sort();
        assert_eq!(statuses, [200, 412], "round {round}");
    }
}
