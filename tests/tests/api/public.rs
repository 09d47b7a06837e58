//! The seminars' agenda across Fabriques, and what the public site reads without a token:
//! seminars, adopted roadmaps, the accepted territories of a Fabrique, single territories.

use fabriques_api::auth::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::both_engines;
use crate::helpers::TestApp;
use crate::year::running_fabrique;

both_engines!(
    the_agenda_lists_seminars_across_fabriques_by_date_kind_status_and_territory,
    the_public_site_reads_the_year_without_a_token,
);

fn ids(body: &Value) -> Vec<String> {
    body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items: {body}"))
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn anonymous(app: &TestApp, path: &str) -> Value {
    let r = app.raw(Method::GET, path, None, None).await;
    assert_eq!(r.status, 200, "{path}: {}", r.body);
    r.body
}

async fn plan(app: &TestApp, path: String, number: u32, day: &str) -> String {
    let r = app
        .post(&path, json!({"number": number, "scheduled_on": day}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.id()
}

async fn the_agenda_lists_seminars_across_fabriques_by_date_kind_status_and_territory(
    app: TestApp,
) {
    let run = running_fabrique(&app, 2).await;
    let f = run.fabrique.clone();
    let inter_march = plan(
        &app,
        format!("/api/v1/fabriques/{f}/seminars"),
        1,
        "2026-03-15",
    )
    .await;
    let inter_june = plan(
        &app,
        format!("/api/v1/fabriques/{f}/seminars"),
        2,
        "2026-06-10",
    )
    .await;
    let local_april = plan(
        &app,
        format!("/api/v1/participations/{}/seminars", run.participations[0]),
        1,
        "2026-04-02",
    )
    .await;
    let other_local = plan(
        &app,
        format!("/api/v1/participations/{}/seminars", run.participations[1]),
        1,
        "2026-05-20",
    )
    .await;
    // A draft's seminar: on ANCT's agenda only.
    let (draft, _) = app.ready_fabrique(1, 8).await;
    let drafted = plan(
        &app,
        format!("/api/v1/fabriques/{draft}/seminars"),
        1,
        "2026-04-01",
    )
    .await;
    let r = app
        .post(
            &format!("/api/v1/seminars/{inter_march}/transitions"),
            json!({"action": "hold", "attendance": 31, "summary": "Lancement"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);

    let a = "/api/v1/seminars";
    let get = |path: String| {
        let app = &app;
        async move {
            let r = app.get(&path).await;
            assert_eq!(r.status, 200, "{path}: {}", r.body);
            ids(&r.body)
        }
    };
    assert_eq!(
        get(format!("{a}?sort=scheduled_on&fabrique={f}")).await,
        [
            inter_march.as_str(),
            local_april.as_str(),
            other_local.as_str(),
            inter_june.as_str()
        ]
    );
    assert_eq!(
        get(format!("{a}?sort=-scheduled_on&limit=200")).await,
        [
            inter_june.as_str(),
            other_local.as_str(),
            local_april.as_str(),
            drafted.as_str(),
            inter_march.as_str()
        ]
    );
    assert_eq!(
        get(format!(
            "{a}?from=2026-04-01&to=2026-05-31&sort=scheduled_on"
        ))
        .await,
        [drafted.as_str(), local_april.as_str(), other_local.as_str()],
        "both ends are inclusive"
    );
    assert_eq!(
        get(format!("{a}?kind=intersite&status=held")).await,
        [inter_march.as_str()]
    );
    assert_eq!(
        get(format!("{a}?territory={}", run.territories[0])).await,
        [local_april.as_str()]
    );
    // Paging by date: the pages together are the whole agenda, in order.
    let mut seen = Vec::new();
    let mut path = format!("{a}?sort=scheduled_on&limit=2");
    loop {
        let r = app.get(&path).await;
        assert_eq!(r.status, 200, "{}", r.body);
        seen.extend(ids(&r.body));
        match r.body["next_cursor"].as_str() {
            Some(c) => path = format!("{a}?sort=scheduled_on&limit=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(
        seen,
        [
            inter_march.as_str(),
            drafted.as_str(),
            local_april.as_str(),
            other_local.as_str(),
            inter_june.as_str()
        ]
    );

    // The public: no draft, no summary; a partner sees the summary.
    let public = anonymous(&app, &format!("{a}?sort=scheduled_on")).await;
    assert_eq!(
        ids(&public),
        [
            inter_march.as_str(),
            local_april.as_str(),
            other_local.as_str(),
            inter_june.as_str()
        ]
    );
    assert!(public["items"][0].get("summary").is_none(), "{public}");
    assert_eq!(public["items"][0]["attendance"], 31);
    let contractor = app.token(Role::Partner, Some(&run.contractor), None);
    let r = app
        .raw(
            Method::GET,
            &format!("{a}?kind=intersite&status=held"),
            Some(&contractor),
            None,
        )
        .await;
    assert_eq!(r.body["items"][0]["summary"], "Lancement", "{}", r.body);

    for bad in [
        "from=2027-02-30",
        "sort=number",
        "kind=plenary",
        "territory=nope",
    ] {
        app.get(&format!("{a}?{bad}"))
            .await
            .assert_problem(400, "invalid_query");
    }
    // A range the wrong way round holds no day.
    assert!(
        get(format!("{a}?from=2026-06-01&to=2026-05-01"))
            .await
            .is_empty()
    );
}

async fn the_public_site_reads_the_year_without_a_token(app: TestApp) {
    let run = running_fabrique(&app, 2).await;
    let f = run.fabrique.clone();
    let p = run.participations[0].clone();
    let (s_id, _) = (
        plan(
            &app,
            format!("/api/v1/participations/{p}/seminars"),
            1,
            "2026-03-01",
        )
        .await,
        (),
    );
    // A roadmap adopted for the first territory, a draft one for the second.
    let r = app
        .raw(Method::PUT, &format!("/api/v1/participations/{p}/roadmap"), Some(&app.admin), Some(json!({"kind": "roadmap", "title": "Feuille de route 2030", "summary": "Trois axes"})))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = app
        .post(
            &format!("/api/v1/participations/{p}/roadmap/actions"),
            json!({"title": "Requalifier la zone d'activité"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    for action in [
        json!({"action": "submit"}),
        json!({"action": "adopt", "adoption_date": "2026-11-30", "adoption_reference": "Délibération 2027-12"}),
    ] {
        let r = app
            .post(
                &format!("/api/v1/participations/{p}/roadmap/transitions"),
                action,
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let other = run.participations[1].clone();
    let r = app
        .raw(
            Method::PUT,
            &format!("/api/v1/participations/{other}/roadmap"),
            Some(&app.admin),
            Some(json!({"kind": "roadmap", "title": "Brouillon"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);

    // Seminars.
    let seminars = anonymous(&app, &format!("/api/v1/fabriques/{f}/seminars")).await;
    assert_eq!(ids(&seminars), [s_id.as_str()]);
    anonymous(&app, &format!("/api/v1/participations/{p}/seminars")).await;
    let one = anonymous(&app, &format!("/api/v1/seminars/{s_id}")).await;
    assert_eq!(one["scheduled_on"], "2026-03-01");
    // The adopted roadmap, title and summary; the draft one is not known.
    let roadmap = anonymous(&app, &format!("/api/v1/participations/{p}/roadmap")).await;
    assert_eq!(
        (roadmap["title"].as_str(), roadmap["summary"].as_str()),
        (Some("Feuille de route 2030"), Some("Trois axes"))
    );
    app.raw(
        Method::GET,
        &format!("/api/v1/participations/{other}/roadmap"),
        None,
        None,
    )
    .await
    .assert_problem(404, "not_found");
    // The accepted territories, without personal data.
    let parts = anonymous(&app, &format!("/api/v1/fabriques/{f}/participations")).await;
    let mut seen: Vec<String> = parts["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["territory_id"].as_str().unwrap().to_owned())
        .collect();
    seen.sort();
    let mut expected = run.territories.clone();
    expected.sort();
    assert_eq!(seen, expected);
    for item in parts["items"].as_array().unwrap() {
        assert!(
            item.get("sponsor_name").is_none_or(Value::is_null)
                && item.get("motivation").is_none_or(Value::is_null),
            "{item}"
        );
    }
    anonymous(&app, &format!("/api/v1/participations/{p}")).await;
    // Single territories, and the list.
    let t = anonymous(&app, &format!("/api/v1/territories/{}", run.territories[0])).await;
    assert_eq!(t["id"], run.territories[0].as_str());
    let all = anonymous(&app, "/api/v1/territories?limit=200").await;
    assert_eq!(ids(&all).len(), 2);
    // A draft Fabrique's seminars stay unknown; a bad token is still a 401.
    let (draft, _) = app.ready_fabrique(1, 8).await;
    app.raw(
        Method::GET,
        &format!("/api/v1/fabriques/{draft}/seminars"),
        None,
        None,
    )
    .await
    .assert_problem(404, "not_found");
    let r = app
        .client
        .get(format!("{}/api/v1/seminars", app.base))
        .bearer_auth("not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}
