//! Corrections by ANCT: a held seminar, a started Fabrique's dates; each with a reason,
//! journalled as a correction.

use fabriques_api::auth::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::both_engines;
use crate::helpers::TestApp;
use crate::year::running_fabrique;

both_engines!(anct_corrects_a_held_seminar_and_a_fabriques_dates_with_a_reason);

async fn correction(app: &TestApp, token: &str, path: &str, body: Value) -> crate::helpers::Resp {
    app.raw(Method::POST, path, Some(token), Some(body)).await
}

async fn anct_corrects_a_held_seminar_and_a_fabriques_dates_with_a_reason(app: TestApp) {
    let run = running_fabrique(&app, 1).await;
    let f = run.fabrique.clone();
    let plan = |n: u32| {
        let app = &app;
        let f = f.clone();
        async move {
            let r = app
                .post(
                    &format!("/api/v1/fabriques/{f}/seminars"),
                    json!({"number": n, "scheduled_on": "2026-11-02"}),
                )
                .await;
            assert_eq!(r.status, 201, "{}", r.body);
            r.id()
        }
    };
    let held = plan(1).await;
    let planned = plan(2).await;
    let r = app
        .post(
            &format!("/api/v1/seminars/{held}/transitions"),
            json!({"action": "hold", "attendance": 18}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);

    let path = format!("/api/v1/seminars/{held}/corrections");
    let staff = app.token(Role::AnctStaff, None, None);
    let r = correction(&app, &staff, &path, json!({"attendance": 31, "scheduled_on": "2026-11-03", "reason": "Feuille d'émargement recomptée"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        (
            r.body["attendance"].as_i64(),
            r.body["scheduled_on"].as_str(),
            r.body["status"].as_str()
        ),
        (Some(31), Some("2026-11-03"), Some("held"))
    );
    // The history and the feed say it is a correction, and why.
    let h = app
        .get(&format!("/api/v1/fabriques/{f}/history?limit=200"))
        .await;
    let e = h.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "seminar.corrected")
        .cloned()
        .unwrap_or_else(|| panic!("{}", h.body));
    assert_eq!(e["reason"], "Feuille d'émargement recomptée");
    assert_eq!(e["state"]["attendance"], 31);
    // (On PostgreSQL the feed waits for every older transaction of the cluster: poll.)
    let mut feed = Value::Null;
    for _ in 0..100 {
        feed = app.get("/api/v1/events?types=seminar&limit=200").await.body;
        if feed["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "seminar.corrected")
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let items = feed["items"].as_array().unwrap();
    assert!(
        items.iter().any(|e| e["action"] == "seminar.corrected"
            && e["reason"] == "Feuille d'émargement recomptée"),
        "{feed}"
    );
    assert!(
        items
            .iter()
            .filter(|e| e["action"] != "seminar.corrected")
            .all(|e| e["reason"].is_null())
    );

    // Refusals: who, what, when, without a reason.
    let contractor = app.token(Role::Partner, Some(&run.contractor), None);
    correction(
        &app,
        &contractor,
        &path,
        json!({"attendance": 5, "reason": "non"}),
    )
    .await
    .assert_problem(403, "forbidden");
    correction(
        &app,
        &app.token(Role::Analyst, None, None),
        &path,
        json!({"attendance": 5, "reason": "non"}),
    )
    .await
    .assert_problem(403, "forbidden");
    let r = correction(
        &app,
        &app.admin,
        &format!("/api/v1/seminars/{planned}/corrections"),
        json!({"attendance": 5, "reason": "x"}),
    )
    .await;
    r.assert_problem(409, "transition_refused");
    assert_eq!(r.codes("blockers"), ["seminar_not_held"]);
    for (body, pointer) in [
        (json!({"attendance": 5, "reason": " "}), "/reason"),
        (json!({"attendance": 5}), "/reason"),
        (
            json!({"scheduled_on": "2099-01-01", "reason": "x"}),
            "/scheduled_on",
        ),
        (json!({"reason": "rien"}), ""),
    ] {
        let r = correction(&app, &app.admin, &path, body.clone()).await;
        r.assert_problem(422, "validation_failed");
        assert_eq!(
            r.body["errors"][0]["pointer"], pointer,
            "{body}: {}",
            r.body
        );
    }

    // The Fabrique's actual start and end.
    let fpath = format!("/api/v1/fabriques/{f}/corrections");
    let r = correction(
        &app,
        &staff,
        &fpath,
        json!({"actual_start": "2026-11-01", "reason": "Lancement tenu le 1er novembre"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["actual_start"], "2026-11-01");
    let r = correction(
        &app,
        &staff,
        &fpath,
        json!({"end_date": "2026-10-01", "reason": "x"}),
    )
    .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["code"], "end_before_start");
    let h = app
        .get(&format!("/api/v1/fabriques/{f}/history?limit=200"))
        .await;
    assert!(
        h.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "fabrique.corrected"
                && e["reason"] == "Lancement tenu le 1er novembre"),
        "{}",
        h.body
    );
    let (recruiting, _) = app.ready_fabrique(1, 8).await;
    let r = correction(
        &app,
        &app.admin,
        &format!("/api/v1/fabriques/{recruiting}/corrections"),
        json!({"actual_start": "2026-11-01", "reason": "x"}),
    )
    .await;
    r.assert_problem(409, "transition_refused");
    assert_eq!(r.codes("blockers"), ["fabrique_not_started"]);
}
