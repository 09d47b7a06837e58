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

both_engines!(every_operation_that_declares_a_precondition_honours_it);

/// A body the operation accepts (the precondition is checked on a well-formed request).
fn body_for(method: &str, template: &str) -> Option<serde_json::Value> {
    match (method, template.rsplit('/').next().unwrap_or_default()) {
        ("patch", _) => Some(json!({})),
        ("put", "{organization_id}") => Some(json!({"roles": ["co_funder"]})),
        ("put", "roadmap") => Some(json!({"kind": "roadmap", "title": "Feuille de route"})),
        ("post", "transitions") if template.contains("roadmap") => {
            Some(json!({"action": "submit"}))
        }
        ("post", "transitions") if template.starts_with("/api/v1/seminars") => {
            Some(json!({"action": "cancel", "reason": "test"}))
        }
        ("post", "transitions") if template.starts_with("/api/v1/participations") => {
            Some(json!({"action": "withdraw", "reason": "test"}))
        }
        ("post", "transitions") => Some(json!({"action": "cancel", "reason": "test"})),
        ("post", "corrections") => Some(json!({"reason": "test"})),
        _ => None,
    }
}

/// Walks the spec: every operation declaring `If-Match` refuses a stale one with 412, and
/// every read declaring `If-None-Match` answers 304 to its own ETag. A handler that declared
/// a precondition it does not honour (or the reverse, below) fails here.
async fn every_operation_that_declares_a_precondition_honours_it(app: TestApp) {
    let w = crate::world::world(&app).await;
    let spec = fabriques_api::edge::openapi::document();
    let declares = |op: &serde_json::Value, name: &str| {
        op["parameters"]
            .as_array()
            .is_some_and(|ps| ps.iter().any(|p| p["name"] == name && p["in"] == "header"))
    };
    let (mut conditional_writes, mut conditional_reads) = (0, 0);
    for (template, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if !declares(op, "If-Match") && !declares(op, "If-None-Match") {
                continue;
            }
            let path = w.fill(template);
            let token = if template.starts_with("/api/v1/webhooks") {
                &w.machine
            } else {
                &w.admin
            };
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            if declares(op, "If-Match") {
                let mut rb = app
                    .client
                    .request(m.clone(), format!("{}{path}", app.base))
                    .bearer_auth(token)
                    .header("If-Match", "\"0123456789abcdef0123456789abcdef\"");
                if let Some(b) = body_for(method, template) {
                    rb = rb.json(&b);
                }
                let r = rb.send().await.unwrap();
                let status = r.status().as_u16();
                let text = r.text().await.unwrap_or_default();
                assert_eq!(status, 412, "{method} {path} with a stale If-Match: {text}");
                conditional_writes += 1;
            }
            if declares(op, "If-None-Match") {
                // The background webhook worker may change a subscription between the two
                // reads (its failure count): a 200 then must carry a different ETag, and
                // the pair is tried again. A 200 with the same ETag fails at once.
                let mut honoured = false;
                for _ in 0..5 {
                    let r = app.raw(m.clone(), &path, Some(token), None).await;
                    assert_eq!(r.status, 200, "{method} {path}: {}", r.body);
                    let tag = r
                        .headers
                        .get("etag")
                        .unwrap_or_else(|| panic!("{path}: no ETag"))
                        .clone();
                    let again = app
                        .client
                        .request(m.clone(), format!("{}{path}", app.base))
                        .bearer_auth(token)
                        .header("If-None-Match", tag.clone())
                        .send()
                        .await
                        .unwrap();
                    if again.status().as_u16() == 304 {
                        honoured = true;
                        break;
                    }
                    assert_eq!(again.status().as_u16(), 200, "{method} {path}");
                    assert_ne!(
                        again.headers().get("etag"),
                        Some(&tag),
                        "{method} {path} answered 200 to its own unchanged ETag"
                    );
                }
                assert!(
                    honoured,
                    "{method} {path} never answered 304 to its own ETag"
                );
                conditional_reads += 1;
            }
        }
    }
    assert!(
        conditional_writes >= 30,
        "{conditional_writes} conditional writes"
    );
    assert!(
        conditional_reads >= 15,
        "{conditional_reads} conditional reads"
    );
}

#[test]
fn every_write_to_a_resource_with_an_etag_declares_if_match() {
    let spec = fabriques_api::edge::openapi::document();
    for (template, item) in spec["paths"].as_object().unwrap() {
        let etag = item["get"]["responses"]["200"]["headers"]
            .get("ETag")
            .is_some();
        for method in ["patch", "delete"] {
            let Some(op) = item.get(method) else { continue };
            let declared = op["parameters"]
                .as_array()
                .is_some_and(|ps| ps.iter().any(|p| p["name"] == "If-Match"));
            assert!(
                !etag || declared,
                "{method} {template}: its GET has an ETag, so it must honour If-Match"
            );
        }
    }
}
