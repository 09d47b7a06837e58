//! The programme year, end to end: seminars, working groups, roadmaps, lessons, completion.

use fabriques_api::auth::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::both_engines;
use crate::helpers::{SIRENS, TestApp};

both_engines!(
    a_whole_year_runs_from_draft_to_completed,
    cancelling_a_running_fabrique_cascades,
    bad_programme_year_input_gets_a_4xx_problem,
    only_published_testimonies_are_public,
);

/// A running Fabrique with `n` active territories, a contractor and a co-animator.
pub struct Running {
    pub fabrique: String,
    pub participations: Vec<String>,
    pub territories: Vec<String>,
    pub contractor: String,
    pub co_animator: String,
}

pub async fn running_fabrique(app: &TestApp, n: usize) -> Running {
    let (f, _) = app.ready_fabrique(1, 8).await;
    let path = format!("/api/v1/fabriques/{f}");
    let contractor = app.org("Bureau d'études", "contractor").await;
    let co_animator = app
        .org(
            "Intercommunalités de France",
            "elected_officials_association",
        )
        .await;
    for (org, role) in [(&contractor, "contractor"), (&co_animator, "co_animator")] {
        let r = app
            .raw(
                Method::PUT,
                &format!("{path}/partners/{org}"),
                Some(&app.admin),
                Some(json!({"roles": [role]})),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    assert_eq!(app.transition(&path, "open_recruitment").await.status, 200);
    let mut territories = Vec::new();
    let mut participations = Vec::new();
    for siren in SIRENS.iter().take(n) {
        let t = app.epci(siren).await;
        let p = app.apply(&f, &t).await.id();
        assert_eq!(
            app.transition(&format!("/api/v1/participations/{p}"), "accept")
                .await
                .status,
            200
        );
        territories.push(t);
        participations.push(p);
    }
    let r = app.transition(&path, "launch").await;
    assert_eq!(r.status, 200, "{}", r.body);
    Running {
        fabrique: f,
        participations,
        territories,
        contractor,
        co_animator,
    }
}

fn today() -> String {
    chrono::Utc::now().date_naive().to_string()
}

async fn as_token(
    app: &TestApp,
    token: &str,
    method: Method,
    path: &str,
    body: Value,
) -> crate::helpers::Resp {
    app.raw(method, path, Some(token), Some(body)).await
}

async fn completion_blockers(app: &TestApp, f: &str) -> Vec<String> {
    let r = app
        .transition(&format!("/api/v1/fabriques/{f}"), "complete")
        .await;
    r.assert_problem(409, "transition_refused");
    r.codes("blockers")
}

async fn a_whole_year_runs_from_draft_to_completed(app: TestApp) {
    let run = running_fabrique(&app, 5).await;
    let f = run.fabrique.clone();
    let contractor = app.token(Role::Partner, Some(&run.contractor), None);
    assert_eq!(
        completion_blockers(&app, &f).await,
        ["participations_not_completed", "no_lesson"]
    );

    // One territory withdraws.
    let gone = run.participations[4].clone();
    let r = app
        .post(
            &format!("/api/v1/participations/{gone}/transitions"),
            json!({"action": "withdraw", "reason": "changement d'exécutif"}),
        )
        .await;
    assert_eq!(r.body["status"], "withdrawn", "{}", r.body);
    let staying = &run.participations[..4];

    // The contractor plans four intersite seminars (at ANCT, Paris by default) and four local ones per territory.
    let mut seminars = Vec::new();
    for n in 1..=4 {
        let r = as_token(
            &app,
            &contractor,
            Method::POST,
            &format!("/api/v1/fabriques/{f}/seminars"),
            json!({"number": n, "scheduled_on": today()}),
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.body);
        assert_eq!(r.body["place"], "ANCT, Paris");
        seminars.push(r.id());
    }
    let fifth = as_token(
        &app,
        &contractor,
        Method::POST,
        &format!("/api/v1/fabriques/{f}/seminars"),
        json!({"number": 4, "scheduled_on": today()}),
    )
    .await;
    fifth.assert_problem(409, "transition_refused");
    assert_eq!(fifth.codes("blockers"), ["seminar_limit_reached"]);
    for p in staying {
        for n in 1..=4 {
            let r = as_token(
                &app,
                &contractor,
                Method::POST,
                &format!("/api/v1/participations/{p}/seminars"),
                json!({"number": n, "scheduled_on": today(), "mode": "hybrid"}),
            )
            .await;
            assert_eq!(r.status, 201, "{}", r.body);
            seminars.push(r.id());
        }
    }
    let r = as_token(
        &app,
        &contractor,
        Method::POST,
        &format!("/api/v1/participations/{}/seminars", staying[0]),
        json!({"number": 1, "scheduled_on": today()}),
    )
    .await;
    assert_eq!(r.codes("blockers"), ["seminar_limit_reached"]);
    let r = app
        .post(
            &format!("/api/v1/participations/{gone}/seminars"),
            json!({"number": 1, "scheduled_on": today()}),
        )
        .await;
    assert_eq!(r.codes("blockers"), ["participation_not_active"]);
    assert_eq!(
        completion_blockers(&app, &f).await,
        [
            "participations_not_completed",
            "seminars_still_planned",
            "no_lesson"
        ]
    );

    // Each territory builds its working group (with its own token).
    for (p, t) in staying.iter().zip(&run.territories) {
        let token = app.token(Role::Territory, None, Some(t));
        let r = as_token(&app, &token, Method::POST, &format!("/api/v1/participations/{p}/working-group-members"), json!({"name": "Camille Durand", "organization": "Office de tourisme", "category": "association"})).await;
        assert_eq!(r.status, 201, "{}", r.body);
    }

    // All seminars are held.
    for s in &seminars {
        let r = as_token(&app, &contractor, Method::POST, &format!("/api/v1/seminars/{s}/transitions"), json!({"action": "hold", "attendance": 18, "attending_organization_ids": [run.co_animator], "summary": "Atelier"})).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["status"], "held");
    }
    assert_eq!(
        completion_blockers(&app, &f).await,
        ["participations_not_completed", "no_lesson"]
    );

    // Each territory drafts and submits its roadmap; the contractor records its adoption.
    for (p, t) in staying.iter().zip(&run.territories) {
        let token = app.token(Role::Territory, None, Some(t));
        let r = as_token(
            &app,
            &token,
            Method::PUT,
            &format!("/api/v1/participations/{p}/roadmap"),
            json!({"kind": "roadmap", "title": "Feuille de route 2030"}),
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.body);
        let r = as_token(
            &app,
            &token,
            Method::POST,
            &format!("/api/v1/participations/{p}/roadmap/actions"),
            json!({"title": "Requalifier la zone d'activité", "estimated_cost_cents": 250_000_000}),
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.body);
        let r = as_token(
            &app,
            &token,
            Method::POST,
            &format!("/api/v1/participations/{p}/roadmap/transitions"),
            json!({"action": "submit"}),
        )
        .await;
        assert_eq!(r.body["status"], "submitted", "{}", r.body);
        let r = as_token(&app, &token, Method::POST, &format!("/api/v1/participations/{p}/roadmap/transitions"), json!({"action": "adopt", "adoption_date": today(), "adoption_reference": "Délibération 2027-12"})).await;
        r.assert_problem(403, "forbidden");
        let r = as_token(&app, &contractor, Method::POST, &format!("/api/v1/participations/{p}/roadmap/transitions"), json!({"action": "adopt", "adoption_date": today(), "adoption_reference": "Délibération 2027-12"})).await;
        assert_eq!(r.body["status"], "adopted", "{}", r.body);
        assert_eq!(r.body["total_estimated_cost_cents"], 250_000_000);
        assert_eq!(
            app.get(&format!("/api/v1/participations/{p}")).await.body["status"],
            "completed"
        );
    }
    assert_eq!(completion_blockers(&app, &f).await, ["no_lesson"]);

    let progress = app.get(&format!("/api/v1/fabriques/{f}/progress")).await;
    assert_eq!(
        progress.body["intersite_seminars"]["held"], 4,
        "{}",
        progress.body
    );
    let rows = progress.body["territories"].as_array().unwrap();
    assert_eq!(rows.len(), 5);
    for row in rows.iter().filter(|r| r["status"] == "completed") {
        assert_eq!(row["local_seminars"]["held"], 4, "{row}");
        assert_eq!(row["roadmap_status"], "adopted");
        assert_eq!(row["working_group_size"], 1);
    }
    assert_eq!(
        rows.iter().filter(|r| r["status"] == "completed").count(),
        4
    );
    assert_eq!(progress.body["completion_blockers"][0]["code"], "no_lesson");

    let r = app.post(&format!("/api/v1/fabriques/{f}/lessons"), json!({"title": "Le foncier se prépare tôt", "kind": "programme_proposal", "target_body": "DGALN", "seminar_ids": [seminars[0]], "participation_ids": [staying[0]]})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["seminar_ids"][0], seminars[0].as_str());

    let r = app
        .transition(&format!("/api/v1/fabriques/{f}"), "complete")
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["status"], "completed");
    // Launched today, completed today: the year ended today, not twelve months from now.
    assert_eq!(r.body["end_date"], today(), "{}", r.body);
    // Lessons come after the year: still recorded once completed (within 12 months).
    let r = app
        .post(
            &format!("/api/v1/fabriques/{f}/lessons"),
            json!({"title": "Ce que l'année a appris", "kind": "lesson"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);

    let h = app
        .get(&format!("/api/v1/fabriques/{f}/history?limit=200"))
        .await;
    let mut actions: Vec<String> = h.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str().map(str::to_owned))
        .collect();
    let mut next = h.body["next_cursor"].as_str().map(str::to_owned);
    while let Some(c) = next {
        let page = app
            .get(&format!(
                "/api/v1/fabriques/{f}/history?limit=200&cursor={c}"
            ))
            .await;
        actions.extend(
            page.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|e| e["action"].as_str().map(str::to_owned)),
        );
        next = page.body["next_cursor"].as_str().map(str::to_owned);
    }
    let count = |a: &str| actions.iter().filter(|x| *x == a).count();
    // Those without personal-data access read the history without the working group's names.
    let analyst = app.token(Role::Analyst, None, None);
    let h = app
        .raw(
            Method::GET,
            &format!("/api/v1/fabriques/{f}/history?limit=200"),
            Some(&analyst),
            None,
        )
        .await;
    assert_eq!(h.status, 200);
    assert!(
        !h.body.to_string().contains("Camille Durand"),
        "personal data in the analyst's history"
    );
    let h = app
        .get(&format!("/api/v1/fabriques/{f}/history?limit=200"))
        .await;
    assert!(
        h.body.to_string().contains("Camille Durand"),
        "ANCT sees the working group in the history"
    );
    assert_eq!(count("seminar.planned"), 20);
    assert_eq!(count("seminar.held"), 20);
    assert_eq!(count("roadmap.adopt"), 4);
    assert_eq!(count("participation.completed"), 4);
    assert_eq!(count("working_group_member.created"), 4);
    assert_eq!(count("lesson.created"), 2);
    assert_eq!(count("fabrique.complete"), 1);
}

async fn cancelling_a_running_fabrique_cascades(app: TestApp) {
    let run = running_fabrique(&app, 2).await;
    let f = run.fabrique.clone();
    let intersite = app
        .post(
            &format!("/api/v1/fabriques/{f}/seminars"),
            json!({"number": 1, "scheduled_on": "2030-01-15"}),
        )
        .await
        .id();
    let local = app
        .post(
            &format!("/api/v1/participations/{}/seminars", run.participations[0]),
            json!({"number": 1, "scheduled_on": today()}),
        )
        .await
        .id();
    let held = app
        .post(
            &format!("/api/v1/participations/{}/seminars", run.participations[1]),
            json!({"number": 1, "scheduled_on": today()}),
        )
        .await
        .id();
    app.post(
        &format!("/api/v1/seminars/{held}/transitions"),
        json!({"action": "hold", "attendance": 10}),
    )
    .await;

    let r = app
        .post(
            &format!("/api/v1/fabriques/{f}/transitions"),
            json!({"action": "cancel", "reason": "crise budgétaire"}),
        )
        .await;
    assert_eq!(r.body["status"], "cancelled", "{}", r.body);
    for s in [&intersite, &local] {
        let r = app.get(&format!("/api/v1/seminars/{s}")).await;
        assert_eq!(r.body["status"], "cancelled", "{}", r.body);
        assert!(
            r.body["status_reason"]
                .as_str()
                .unwrap()
                .contains("crise budgétaire")
        );
    }
    assert_eq!(
        app.get(&format!("/api/v1/seminars/{held}")).await.body["status"],
        "held"
    );
    for p in &run.participations {
        assert_eq!(
            app.get(&format!("/api/v1/participations/{p}")).await.body["status"],
            "withdrawn"
        );
    }
    let h = app
        .get(&format!("/api/v1/fabriques/{f}/history?limit=200"))
        .await;
    let items = h.body["items"].as_array().unwrap();
    assert_eq!(
        items
            .iter()
            .filter(|e| e["action"] == "seminar.cancelled")
            .count(),
        2
    );
    assert_eq!(
        items
            .iter()
            .filter(|e| e["action"] == "participation.withdrawn")
            .count(),
        2
    );
    // Once cancelled, nothing more is planned or funded there.
    let r = app
        .post(
            &format!("/api/v1/fabriques/{f}/seminars"),
            json!({"number": 2, "scheduled_on": today()}),
        )
        .await;
    assert_eq!(r.codes("blockers"), ["fabrique_closed"]);
}

async fn bad_programme_year_input_gets_a_4xx_problem(app: TestApp) {
    let run = running_fabrique(&app, 1).await;
    let f = run.fabrique.clone();
    let p = run.participations[0].clone();

    // Seminars.
    app.post(
        &format!("/api/v1/fabriques/{f}/seminars"),
        json!({"number": 5, "scheduled_on": today()}),
    )
    .await
    .assert_problem(422, "validation_failed");
    let s = app
        .post(
            &format!("/api/v1/fabriques/{f}/seminars"),
            json!({"number": 1, "scheduled_on": "2099-01-01"}),
        )
        .await
        .id();
    let r = app
        .post(
            &format!("/api/v1/fabriques/{f}/seminars"),
            json!({"number": 1, "scheduled_on": today()}),
        )
        .await;
    assert_eq!(r.codes("blockers"), ["seminar_number_taken"]);
    let r = app
        .post(
            &format!("/api/v1/seminars/{s}/transitions"),
            json!({"action": "hold"}),
        )
        .await;
    r.assert_problem(409, "transition_refused");
    assert_eq!(
        r.codes("blockers"),
        ["date_in_future", "attendance_required"]
    );
    let r = app
        .post(
            &format!("/api/v1/seminars/{s}/transitions"),
            json!({"action": "hold", "attendance": -3}),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    let r = app
        .post(
            &format!("/api/v1/seminars/{s}/transitions"),
            json!({"action": "cancel", "reason": "grève"}),
        )
        .await;
    assert_eq!(r.body["status"], "cancelled");
    let r = app
        .raw(
            Method::PATCH,
            &format!("/api/v1/seminars/{s}"),
            Some(&app.admin),
            Some(json!({"scheduled_on": today()})),
        )
        .await;
    r.assert_problem(409, "transition_refused");
    assert_eq!(r.codes("blockers"), ["invalid_status"]);
    app.post(
        &format!("/api/v1/seminars/{s}/transitions"),
        json!({"action": "fly"}),
    )
    .await
    .assert_problem(422, "validation_failed");

    // Funding.
    let r = app
        .post(
            &format!("/api/v1/fabriques/{f}/funding-lines"),
            json!({"organization_id": run.contractor, "kind": "co_funding", "amount_cents": -500}),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["pointer"], "/amount_cents");
    let r = app
        .post(
            &format!("/api/v1/fabriques/{f}/funding-lines"),
            json!({"organization_id": run.contractor, "kind": "co_funding", "amount_cents": 500}),
        )
        .await;
    r.assert_refused("not_a_co_funder");
    let cdc = app.org("Banque des Territoires", "funder").await;
    app.raw(
        Method::PUT,
        &format!("/api/v1/fabriques/{f}/partners/{cdc}"),
        Some(&app.admin),
        Some(json!({"roles": ["co_funder"]})),
    )
    .await;
    assert_eq!(
        app.post(
            &format!("/api/v1/fabriques/{f}/funding-lines"),
            json!({"organization_id": cdc, "kind": "co_funding", "amount_cents": 5_000_000})
        )
        .await
        .status,
        201
    );
    let anct = app.get(&format!("/api/v1/fabriques/{f}")).await.body["partners"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["kind"] == "anct")
        .unwrap()["organization_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        app.post(
            &format!("/api/v1/fabriques/{f}/funding-lines"),
            json!({"organization_id": anct, "kind": "anct", "amount_cents": 12_000_000})
        )
        .await
        .status,
        201
    );
    app.post(
        &format!("/api/v1/fabriques/{f}/funding-lines"),
        json!({"organization_id": cdc, "kind": "anct", "amount_cents": 1}),
    )
    .await
    .assert_refused("not_anct");
    let totals = app
        .get(&format!("/api/v1/fabriques/{f}/funding-summary"))
        .await;
    assert_eq!(totals.body["total_cents"], 17_000_000, "{}", totals.body);
    assert_eq!(totals.body["co_funding_cents"], 5_000_000);
    assert_eq!(
        totals.body["by_organization"][0]["amount_cents"],
        12_000_000
    );

    // Roadmaps.
    let rm = format!("/api/v1/participations/{p}/roadmap");
    app.get(&rm).await.assert_problem(404, "not_found");
    app.raw(
        Method::PUT,
        &rm,
        Some(&app.admin),
        Some(json!({"kind": "action_programme", "title": "Programme d'action"})),
    )
    .await;
    let r = app
        .post(&format!("{rm}/transitions"), json!({"action": "submit"}))
        .await;
    assert_eq!(r.codes("blockers"), ["no_roadmap_actions"]);
    app.post(
        &format!("{rm}/actions"),
        json!({"title": "Action", "estimated_cost_cents": -1}),
    )
    .await
    .assert_problem(422, "validation_failed");
    let action = app
        .post(
            &format!("{rm}/actions"),
            json!({"title": "Action", "horizon": "2030"}),
        )
        .await
        .id();
    app.post(&format!("{rm}/transitions"), json!({"action": "submit"}))
        .await;
    let r = app
        .post(&format!("{rm}/transitions"), json!({"action": "adopt"}))
        .await;
    assert_eq!(
        r.codes("blockers"),
        ["adoption_date_required", "adoption_reference_required"]
    );
    let r = app
        .post(
            &format!("{rm}/transitions"),
            json!({"action": "adopt", "adoption_date": "2099-01-01", "adoption_reference": "x"}),
        )
        .await;
    assert_eq!(r.codes("blockers"), ["date_in_future"]);
    let adopt = json!({"action": "adopt", "adoption_date": today(), "adoption_reference": "Délibération n° 12"});
    assert_eq!(
        app.post(&format!("{rm}/transitions"), adopt.clone())
            .await
            .status,
        200
    );
    let twice = app.post(&format!("{rm}/transitions"), adopt).await;
    twice.assert_problem(409, "transition_refused");
    assert!(
        twice
            .codes("blockers")
            .contains(&"invalid_status".to_owned()),
        "{}",
        twice.body
    );
    let r = app
        .raw(
            Method::PATCH,
            &format!("/api/v1/roadmap-actions/{action}"),
            Some(&app.admin),
            Some(json!({"title": "Autre"})),
        )
        .await;
    r.assert_problem(409, "transition_refused");
    let r = app
        .raw(
            Method::PATCH,
            &format!("/api/v1/roadmap-actions/{action}"),
            Some(&app.admin),
            Some(json!({"status": "in_progress"})),
        )
        .await;
    assert_eq!(
        r.body["status"], "in_progress",
        "follow-up of an adopted roadmap: {}",
        r.body
    );

    // Working groups, testimonies, lessons, programmes.
    let r = app
        .post(
            &format!("/api/v1/participations/{p}/working-group-members"),
            json!({"name": "X", "category": "wizard"}),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    let r = app
        .post(
            &format!("/api/v1/participations/{p}/working-group-members"),
            json!({"name": "X", "category": "resident"}),
        )
        .await;
    r.assert_refused("participation_closed");
    let r = app
        .post(
            &format!("/api/v1/fabriques/{f}/testimonies"),
            json!({"speaker": "Élue", "media_url": "not a url"}),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["pointer"], "/media_url");
    let r = app
        .post(
            &format!("/api/v1/fabriques/{f}/lessons"),
            json!({"title": "x", "kind": "lesson", "seminar_ids": [uuid::Uuid::now_v7()]}),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    let draft = app
        .post("/api/v1/fabriques", json!({"title": "Brouillon"}))
        .await
        .id();
    app.post(
        &format!("/api/v1/fabriques/{draft}/lessons"),
        json!({"title": "x", "kind": "lesson"}),
    )
    .await
    .assert_refused("fabrique_not_open");
    let r = app
        .post(
            "/api/v1/fabriques",
            json!({"title": "x", "programme_id": uuid::Uuid::now_v7()}),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["code"], "unknown_programme");
    let staff = app.token(Role::AnctStaff, None, None);
    app.raw(
        Method::POST,
        "/api/v1/programmes",
        Some(&staff),
        Some(json!({"name": "Villages d'avenir"})),
    )
    .await
    .assert_problem(403, "forbidden");
    app.post("/api/v1/programmes", json!({"name": "Agenda rural"}))
        .await
        .assert_problem(409, "duplicate_name");
    let programmes = app.raw(Method::GET, "/api/v1/programmes", None, None).await;
    assert_eq!(
        programmes.body["items"].as_array().unwrap().len(),
        5,
        "seeded by the migration: {}",
        programmes.body
    );
}

async fn only_published_testimonies_are_public(app: TestApp) {
    let run = running_fabrique(&app, 1).await;
    let f = run.fabrique.clone();
    let contractor = app.token(Role::Partner, Some(&run.contractor), None);
    let draft = as_token(&app, &contractor, Method::POST, &format!("/api/v1/fabriques/{f}/testimonies"), json!({"speaker": "Élue", "territory_id": run.territories[0], "quote": "Un espace pour anticiper"})).await;
    assert_eq!(draft.status, 201, "{}", draft.body);
    let hidden = draft.id();
    let shown = app
        .post(
            &format!("/api/v1/fabriques/{f}/testimonies"),
            json!({"speaker": "Maire", "published": true}),
        )
        .await
        .id();
    let outsider_org = app.org("Autre", "other").await;
    let outsider = app.token(Role::Partner, Some(&outsider_org), None);
    let analyst = app.token(Role::Analyst, None, None);
    for token in [None, Some(outsider.as_str()), Some(analyst.as_str())] {
        let list = app
            .raw(
                Method::GET,
                &format!("/api/v1/fabriques/{f}/testimonies"),
                token,
                None,
            )
            .await;
        let ids: Vec<&str> = list.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|t| t["id"].as_str())
            .collect();
        assert_eq!(ids, [shown.as_str()], "{token:?}");
        app.raw(
            Method::GET,
            &format!("/api/v1/testimonies/{hidden}"),
            token,
            None,
        )
        .await
        .assert_problem(404, "not_found");
    }
    let list = app
        .raw(
            Method::GET,
            &format!("/api/v1/fabriques/{f}/testimonies"),
            Some(&contractor),
            None,
        )
        .await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 2);
    let r = as_token(
        &app,
        &contractor,
        Method::PATCH,
        &format!("/api/v1/testimonies/{hidden}"),
        json!({"published": true}),
    )
    .await;
    assert_eq!(r.body["published"], true, "{}", r.body);
    assert_eq!(
        app.raw(
            Method::GET,
            &format!("/api/v1/testimonies/{hidden}"),
            None,
            None
        )
        .await
        .status,
        200
    );
    let r = app
        .post(
            &format!("/api/v1/fabriques/{f}/testimonies"),
            json!({"speaker": "X", "territory_id": uuid::Uuid::now_v7()}),
        )
        .await;
    assert_eq!(
        r.body["errors"][0]["code"], "not_a_participant",
        "{}",
        r.body
    );
}
