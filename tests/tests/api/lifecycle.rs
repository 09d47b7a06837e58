use fabriques_api::auth::Role;
use reqwest::Method;
use serde_json::json;

use crate::both_engines;
use crate::helpers::{SIRENS, TestApp};

both_engines!(
    a_fabrique_goes_from_draft_to_running_with_four_territories,
    opening_recruitment_lists_every_missing_condition,
    applying_twice_or_while_not_recruiting_is_refused,
    accepting_past_the_maximum_is_refused,
    bounds_below_the_accepted_territories_are_refused,
    launch_is_refused_while_an_application_is_undecided,
    two_concurrent_launches_let_exactly_one_win,
    cancelling_withdraws_active_participations_and_needs_a_reason,
    public_reads_hide_drafts_and_personal_data,
    a_territory_token_applies_and_withdraws_only_for_itself,
    partners_read_back_whole_on_every_read_path,
);

async fn territories(app: &TestApp, n: usize) -> Vec<String> {
    let mut out = Vec::new();
    for siren in SIRENS.iter().take(n) {
        out.push(app.epci(siren).await);
    }
    out
}

async fn a_fabrique_goes_from_draft_to_running_with_four_territories(app: TestApp) {
    let (f, _) = app.ready_fabrique(4, 8).await;
    let path = format!("/api/v1/fabriques/{f}");
    let r = app.transition(&path, "open_recruitment").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["status"], "recruiting");

    let ts = territories(&app, 4).await;
    let mut parts = Vec::new();
    for t in &ts {
        let r = app.apply(&f, t).await;
        assert_eq!(r.status, 201, "{}", r.body);
        assert_eq!(r.body["status"], "applied");
        assert!(r.headers.get("location").is_some());
        parts.push(r.id());
    }
    for p in &parts {
        let r = app
            .transition(&format!("/api/v1/participations/{p}"), "accept")
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["status"], "accepted");
    }
    // No contractor yet: launch refused with exactly that blocker.
    let r = app.transition(&path, "launch").await;
    r.assert_problem(409, "transition_refused");
    assert_eq!(r.codes("blockers"), ["contractor_missing"]);

    let contractor = app.org("Ramboll", "contractor").await;
    let r = app
        .raw(
            Method::PUT,
            &format!("{path}/partners/{contractor}"),
            Some(&app.admin),
            Some(json!({"roles": ["contractor"]})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);

    let t = app.get(&format!("{path}/transitions")).await;
    let launch = t.body["transitions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["action"] == "launch")
        .unwrap()
        .clone();
    assert_eq!(launch["allowed"], true, "{}", t.body);

    let r = app.transition(&path, "launch").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["status"], "running");
    let start = r.body["actual_start"].as_str().unwrap().to_owned();
    let end = r.body["end_date"].as_str().unwrap().to_owned();
    assert_eq!(
        &end[..4],
        (start[..4].parse::<i32>().unwrap() + 1).to_string()
    );
    assert_eq!(end[4..], start[4..]);

    let list = app
        .get(&format!("{path}/participations?status=active"))
        .await;
    assert_eq!(
        list.body["items"].as_array().unwrap().len(),
        4,
        "{}",
        list.body
    );

    let h = app.get(&format!("{path}/history?limit=200")).await;
    let actions: Vec<&str> = h.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(
        actions.contains(&"fabrique.created") && actions.contains(&"fabrique.launch"),
        "{actions:?}"
    );
    assert_eq!(
        actions
            .iter()
            .filter(|a| **a == "participation.active")
            .count(),
        4
    );
    assert!(h.body["items"][0]["request_id"].is_string());
}

async fn opening_recruitment_lists_every_missing_condition(app: TestApp) {
    let r = app
        .post("/api/v1/fabriques", json!({"title": "Littoral"}))
        .await;
    let f = r.id();
    let r = app
        .transition(&format!("/api/v1/fabriques/{f}"), "open_recruitment")
        .await;
    r.assert_problem(409, "transition_refused");
    assert_eq!(
        r.codes("blockers"),
        [
            "theme_missing",
            "planned_start_missing",
            "anct_pilot_missing"
        ]
    );
    let r = app
        .transition(&format!("/api/v1/fabriques/{f}"), "complete")
        .await;
    assert!(
        r.codes("blockers").contains(&"invalid_status".to_owned()),
        "{}",
        r.body
    );
    assert!(
        r.codes("blockers").contains(&"no_lesson".to_owned()),
        "{}",
        r.body
    );
}

async fn applying_twice_or_while_not_recruiting_is_refused(app: TestApp) {
    let (f, _) = app.ready_fabrique(1, 8).await;
    let t = territories(&app, 1).await.remove(0);
    let r = app.apply(&f, &t).await;
    r.assert_problem(409, "transition_refused");
    assert_eq!(r.codes("blockers"), ["fabrique_not_recruiting"]);
    app.transition(&format!("/api/v1/fabriques/{f}"), "open_recruitment")
        .await;
    assert_eq!(app.apply(&f, &t).await.status, 201);
    let r = app.apply(&f, &t).await;
    r.assert_problem(409, "transition_refused");
    assert_eq!(r.codes("blockers"), ["already_applied"]);
    let r = app
        .post(
            &format!("/api/v1/fabriques/{f}/participations"),
            json!({"territory_id": uuid::Uuid::now_v7()}),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["pointer"], "/territory_id");
}

async fn accepting_past_the_maximum_is_refused(app: TestApp) {
    let (f, _) = app.ready_fabrique(1, 2).await;
    app.transition(&format!("/api/v1/fabriques/{f}"), "open_recruitment")
        .await;
    let mut parts = Vec::new();
    for t in territories(&app, 3).await {
        parts.push(app.apply(&f, &t).await.id());
    }
    for p in &parts[..2] {
        assert_eq!(
            app.transition(&format!("/api/v1/participations/{p}"), "accept")
                .await
                .status,
            200
        );
    }
    let r = app
        .transition(&format!("/api/v1/participations/{}", parts[2]), "accept")
        .await;
    r.assert_problem(409, "transition_refused");
    assert_eq!(r.codes("blockers"), ["maximum_reached"]);
    let r = app
        .transition(&format!("/api/v1/participations/{}", parts[2]), "reject")
        .await;
    assert_eq!(r.body["status"], "rejected");
}

/// The accepted participations are counted only when an edit moves the bounds: moved below
/// them, refused; restated as they are, or any other edit, allowed.
async fn bounds_below_the_accepted_territories_are_refused(app: TestApp) {
    let (f, _) = app.ready_fabrique(1, 4).await;
    let path = format!("/api/v1/fabriques/{f}");
    app.transition(&path, "open_recruitment").await;
    for t in territories(&app, 3).await {
        let p = app.apply(&f, &t).await.id();
        let r = app
            .transition(&format!("/api/v1/participations/{p}"), "accept")
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let patch = |body| app.raw(Method::PATCH, &path, Some(&app.admin), Some(body));
    let r = patch(json!({"max_territories": 2})).await;
    r.assert_problem(409, "transition_refused");
    assert_eq!(r.codes("blockers"), ["below_accepted"]);
    let r = patch(json!({"min_territories": 1, "max_territories": 4, "description": "x"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["max_territories"], 4);
    let r = patch(json!({"max_territories": 3})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["max_territories"], 3);
}

async fn launch_is_refused_while_an_application_is_undecided(app: TestApp) {
    let (f, _) = app.ready_fabrique(1, 8).await;
    let path = format!("/api/v1/fabriques/{f}");
    app.transition(&path, "open_recruitment").await;
    let contractor = app.org("Prestataire", "contractor").await;
    app.raw(
        Method::PUT,
        &format!("{path}/partners/{contractor}"),
        Some(&app.admin),
        Some(json!({"roles": ["contractor"]})),
    )
    .await;
    let ts = territories(&app, 2).await;
    let p = app.apply(&f, &ts[0]).await.id();
    app.apply(&f, &ts[1]).await;
    app.transition(&format!("/api/v1/participations/{p}"), "accept")
        .await;
    let r = app.transition(&path, "launch").await;
    r.assert_problem(409, "transition_refused");
    assert_eq!(r.codes("blockers"), ["undecided_applications"]);
}

async fn two_concurrent_launches_let_exactly_one_win(app: TestApp) {
    let (f, _) = app.ready_fabrique(1, 8).await;
    let path = format!("/api/v1/fabriques/{f}");
    app.transition(&path, "open_recruitment").await;
    let contractor = app.org("Prestataire", "contractor").await;
    app.raw(
        Method::PUT,
        &format!("{path}/partners/{contractor}"),
        Some(&app.admin),
        Some(json!({"roles": ["contractor"]})),
    )
    .await;
    let t = territories(&app, 1).await.remove(0);
    let p = app.apply(&f, &t).await.id();
    app.transition(&format!("/api/v1/participations/{p}"), "accept")
        .await;
    let (a, b) = tokio::join!(
        app.transition(&path, "launch"),
        app.transition(&path, "launch")
    );
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 409], "{} / {}", a.body, b.body);
    let h = app.get(&format!("{path}/history?limit=200")).await;
    let launches = h.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "fabrique.launch")
        .count();
    assert_eq!(launches, 1);
}

async fn cancelling_withdraws_active_participations_and_needs_a_reason(app: TestApp) {
    let (f, _) = app.ready_fabrique(1, 8).await;
    let path = format!("/api/v1/fabriques/{f}");
    app.transition(&path, "open_recruitment").await;
    let t = territories(&app, 1).await.remove(0);
    let p = app.apply(&f, &t).await.id();
    let r = app.transition(&path, "cancel").await;
    r.assert_problem(409, "transition_refused");
    assert_eq!(r.codes("blockers"), ["reason_required"]);
    let r = app
        .post(
            &format!("{path}/transitions"),
            json!({"action": "cancel", "reason": "budget"}),
        )
        .await;
    assert_eq!(r.body["status"], "cancelled", "{}", r.body);
    let part = app.get(&format!("/api/v1/participations/{p}")).await;
    assert_eq!(part.body["status"], "withdrawn");
    assert_eq!(part.body["status_reason"], "budget");
    let r = app
        .raw(
            Method::PATCH,
            &path,
            Some(&app.admin),
            Some(json!({"title": "x"})),
        )
        .await;
    r.assert_refused("fabrique_closed");
    let r = app.raw(Method::DELETE, &path, Some(&app.admin), None).await;
    r.assert_refused("not_a_draft");
}

async fn public_reads_hide_drafts_and_personal_data(app: TestApp) {
    let (open, _) = app.ready_fabrique(1, 8).await;
    app.transition(&format!("/api/v1/fabriques/{open}"), "open_recruitment")
        .await;
    let draft = app
        .post("/api/v1/fabriques", json!({"title": "Brouillon"}))
        .await
        .id();
    let list = app.raw(Method::GET, "/api/v1/fabriques", None, None).await;
    assert_eq!(list.status, 200);
    let ids: Vec<&str> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["id"].as_str())
        .collect();
    assert_eq!(ids, [open.as_str()]);
    app.raw(
        Method::GET,
        &format!("/api/v1/fabriques/{draft}"),
        None,
        None,
    )
    .await
    .assert_problem(404, "not_found");
    assert_eq!(
        app.raw(
            Method::GET,
            &format!("/api/v1/fabriques/{open}"),
            None,
            None
        )
        .await
        .status,
        200
    );
    // Staff see drafts.
    assert_eq!(
        app.get(&format!("/api/v1/fabriques/{draft}")).await.status,
        200
    );

    let t = territories(&app, 1).await.remove(0);
    let p = app.apply(&open, &t).await.id();
    // The public lists the accompanied participations only: an application is not one.
    let r = app
        .raw(
            Method::GET,
            &format!("/api/v1/fabriques/{open}/participations"),
            None,
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["items"], json!([]), "{}", r.body);
    app.raw(
        Method::GET,
        &format!("/api/v1/participations/{p}"),
        None,
        None,
    )
    .await
    .assert_problem(404, "not_found");
    // An analyst or an unrelated partner sees the participation without personal data.
    let amf = app.org("AMF", "elected_officials_association").await;
    for token in [
        app.token(Role::Analyst, None, None),
        app.token(Role::Partner, Some(&amf), None),
    ] {
        let r = app
            .raw(
                Method::GET,
                &format!("/api/v1/participations/{p}"),
                Some(&token),
                None,
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(
            r.body.get("sponsor_name").is_none() && r.body.get("motivation").is_none(),
            "{}",
            r.body
        );
        let h = app
            .raw(
                Method::GET,
                &format!("/api/v1/fabriques/{open}/history"),
                Some(&token),
                None,
            )
            .await;
        assert!(!h.body.to_string().contains("Jeanne Martin"), "{}", h.body);
    }
    // Once co-animator, the partner sees them.
    app.raw(
        Method::PUT,
        &format!("/api/v1/fabriques/{open}/partners/{amf}"),
        Some(&app.admin),
        Some(json!({"roles": ["co_animator"]})),
    )
    .await;
    let token = app.token(Role::Partner, Some(&amf), None);
    let r = app
        .raw(
            Method::GET,
            &format!("/api/v1/participations/{p}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(r.body["sponsor_name"], "Jeanne Martin", "{}", r.body);
    // ANCT sees them.
    assert_eq!(
        app.get(&format!("/api/v1/participations/{p}")).await.body["sponsor_name"],
        "Jeanne Martin"
    );
}

async fn a_territory_token_applies_and_withdraws_only_for_itself(app: TestApp) {
    let (f, _) = app.ready_fabrique(1, 8).await;
    app.transition(&format!("/api/v1/fabriques/{f}"), "open_recruitment")
        .await;
    let ts = territories(&app, 2).await;
    let mine = app.token(Role::Territory, None, Some(&ts[0]));
    let body = |t: &str| json!({"territory_id": t, "sponsor_name": "Élu", "motivation": "m"});
    let r = app
        .raw(
            Method::POST,
            &format!("/api/v1/fabriques/{f}/participations"),
            Some(&mine),
            Some(body(&ts[1])),
        )
        .await;
    r.assert_problem(403, "forbidden");
    let r = app
        .raw(
            Method::POST,
            &format!("/api/v1/fabriques/{f}/participations"),
            Some(&mine),
            Some(body(&ts[0])),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let p = r.id();
    let other = app.apply(&f, &ts[1]).await.id();
    // It sees its own participation, with its personal data, and not the other's.
    let list = app
        .raw(
            Method::GET,
            &format!("/api/v1/fabriques/{f}/participations"),
            Some(&mine),
            None,
        )
        .await;
    assert_eq!(
        list.body["items"].as_array().unwrap().len(),
        1,
        "{}",
        list.body
    );
    assert_eq!(list.body["items"][0]["sponsor_name"], "Élu");
    app.raw(
        Method::GET,
        &format!("/api/v1/participations/{other}"),
        Some(&mine),
        None,
    )
    .await
    .assert_problem(404, "not_found");
    // It cannot accept itself.
    let r = app
        .raw(
            Method::POST,
            &format!("/api/v1/participations/{p}/transitions"),
            Some(&mine),
            Some(json!({"action": "accept"})),
        )
        .await;
    r.assert_problem(403, "forbidden");
    let r = app
        .raw(
            Method::POST,
            &format!("/api/v1/participations/{p}/transitions"),
            Some(&mine),
            Some(json!({"action": "withdraw", "reason": "élections"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["status"], "withdrawn");
}

/// A Fabrique and its list page carry its partners in the same statement as the row (a JSON
/// aggregate built by the database): the same partners, roles, names and order as the
/// partners' own endpoint, whatever characters the names hold and however many roles.
async fn partners_read_back_whole_on_every_read_path(app: TestApp) {
    let (f, _anct) = app.ready_fabrique(4, 8).await;
    let tricky = app
        .org(
            "Cerema \"Méditerranée\" \\ Côte d'Azur 🌊",
            "public_operator",
        )
        .await;
    let plain = app.org("Banque des Territoires", "funder").await;
    for (org, roles) in [
        (&tricky, json!(["co_funder", "co_animator"])),
        (&plain, json!(["co_funder"])),
    ] {
        let r = app
            .raw(
                Method::PUT,
                &format!("/api/v1/fabriques/{f}/partners/{org}"),
                Some(&app.admin),
                Some(json!({ "roles": roles })),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    // One without partners beside it, on the same page.
    let bare = app
        .post(
            "/api/v1/fabriques",
            json!({"title": "Sans partenaires", "min_territories": 4, "max_territories": 8}),
        )
        .await;
    assert_eq!(bare.status, 201, "{}", bare.body);
    assert_eq!(bare.body["partners"], json!([]), "{}", bare.body);

    let own = app.get(&format!("/api/v1/fabriques/{f}/partners")).await;
    assert_eq!(own.status, 200, "{}", own.body);
    let expected = own.body["items"].clone();
    assert_eq!(expected.as_array().unwrap().len(), 3, "{expected}");
    let with_two = expected
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["organization_id"] == json!(tricky))
        .unwrap_or_else(|| panic!("{expected}"));
    assert_eq!(
        with_two["name"],
        json!("Cerema \"Méditerranée\" \\ Côte d'Azur 🌊")
    );
    assert_eq!(with_two["roles"].as_array().unwrap().len(), 2, "{with_two}");

    let one = app.get(&format!("/api/v1/fabriques/{f}")).await;
    assert_eq!(one.status, 200, "{}", one.body);
    assert_eq!(one.body["partners"], expected);
    let page = app.get("/api/v1/fabriques?limit=50").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let items = page.body["items"].as_array().unwrap();
    let item = |id: &str| {
        items
            .iter()
            .find(|i| i["id"] == json!(id))
            .unwrap_or_else(|| panic!("{id} not in {}", page.body))
    };
    assert_eq!(item(&f)["partners"], expected);
    assert_eq!(item(&bare.id())["partners"], json!([]));
}
