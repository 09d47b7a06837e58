//! Figures: expected values come from the dataset the test builds (and the lists), never
//! from the statistics' own SQL; the data dictionary covers every figure.

use fabriques_api::auth::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::both_engines;
use crate::helpers::TestApp;
use crate::year::running_fabrique;

#[test]
fn the_committed_data_dictionary_matches_the_code() {
    let committed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/data-dictionary.md"
    ))
    .expect("docs/data-dictionary.md is committed");
    assert!(
        committed == fabriques_api::dictionary::markdown(),
        "docs/data-dictionary.md is stale: run `cargo run -p fabriques-api -- dictionary --output docs/data-dictionary.md`"
    );
}

/// Every figure the spec declares has a definition, and every definition names a figure.
#[test]
fn every_figure_has_a_definition() {
    let spec: Value = serde_json::from_str(&fabriques_api::edge::openapi::spec_json()).unwrap();
    let schemas = &spec["components"]["schemas"];
    let mut figures = Vec::new();
    for key in schemas["Overview"]["properties"]
        .as_object()
        .unwrap()
        .keys()
    {
        if key == "funding" {
            for sub in schemas["FundingFigures"]["properties"]
                .as_object()
                .unwrap()
                .keys()
            {
                figures.push(format!("overview.funding.{sub}"));
            }
        } else {
            figures.push(format!("overview.{key}"));
        }
    }
    for key in schemas["BreakdownGroup"]["properties"]
        .as_object()
        .unwrap()
        .keys()
    {
        if key != "key" && key != "label" {
            figures.push(format!("breakdown.{key}"));
        }
    }
    let mut defined: Vec<String> = fabriques_api::dictionary::FIGURES
        .iter()
        .map(|d| d.name.to_owned())
        .collect();
    figures.sort();
    defined.sort();
    assert_eq!(figures, defined);
}

/// Every column of every export has a definition, and every definition names a column.
#[test]
fn every_export_column_has_a_definition() {
    let mut columns: Vec<String> = fabriques_api::edge::routes::exports::datasets()
        .into_iter()
        .flat_map(|(dataset, cols)| {
            cols.into_iter()
                .map(move |c| format!("exports.{}.{c}", dataset.as_str()))
        })
        .collect();
    let mut defined: Vec<String> = fabriques_api::dictionary::COLUMNS
        .iter()
        .map(|d| d.name.to_owned())
        .collect();
    columns.sort();
    defined.sort();
    assert_eq!(columns, defined);
}

fn n(v: &Value) -> i64 {
    v.as_i64().unwrap_or(0)
}

async fn the_overview_counts_what_the_dataset_holds(app: TestApp) {
    // A running Fabrique with 3 active territories; one withdraws.
    let run = running_fabrique(&app, 3).await;
    let f = run.fabrique.clone();
    let p = |s: &str| format!("/api/v1/participations/{s}");
    let withdrawn = app
        .post(
            &format!("{}/transitions", p(&run.participations[2])),
            json!({"action": "withdraw", "reason": "élections"}),
        )
        .await;
    assert_eq!(withdrawn.status, 200, "{}", withdrawn.body);
    // Seminars: intersite 1 held, intersite 2 cancelled, local 1 planned.
    let today = chrono::Utc::now().date_naive().to_string();
    let s1 = app
        .post(
            &format!("/api/v1/fabriques/{f}/seminars"),
            json!({"number": 1, "scheduled_on": today}),
        )
        .await
        .id();
    let r = app
        .post(
            &format!("/api/v1/seminars/{s1}/transitions"),
            json!({"action": "hold", "attendance": 20}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let s2 = app
        .post(
            &format!("/api/v1/fabriques/{f}/seminars"),
            json!({"number": 2, "scheduled_on": today}),
        )
        .await
        .id();
    app.post(
        &format!("/api/v1/seminars/{s2}/transitions"),
        json!({"action": "cancel", "reason": "grève"}),
    )
    .await;
    let r = app
        .post(
            &format!("{}/seminars", p(&run.participations[0])),
            json!({"number": 1, "scheduled_on": today}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    // A roadmap adopted with 2 actions.
    let rm = format!("{}/roadmap", p(&run.participations[0]));
    app.raw(
        Method::PUT,
        &rm,
        Some(&app.admin),
        Some(json!({"kind": "roadmap", "title": "Feuille de route"})),
    )
    .await;
    for title in ["Action 1", "Action 2"] {
        app.post(&format!("{rm}/actions"), json!({"title": title}))
            .await;
    }
    app.post(&format!("{rm}/transitions"), json!({"action": "submit"}))
        .await;
    let r = app
        .post(
            &format!("{rm}/transitions"),
            json!({"action": "adopt", "adoption_date": today, "adoption_reference": "D-1"}),
        )
        .await;
    assert_eq!(r.body["status"], "adopted", "{}", r.body);
    // Funding: ANCT 120,000 €, a co-funder 50,000 €.
    let cdc = app.org("Banque des Territoires", "funder").await;
    app.raw(
        Method::PUT,
        &format!("/api/v1/fabriques/{f}/partners/{cdc}"),
        Some(&app.admin),
        Some(json!({"roles": ["co_funder"]})),
    )
    .await;
    let anct = app.get(&format!("/api/v1/fabriques/{f}")).await.body["partners"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["kind"] == "anct")
        .unwrap()["organization_id"]
        .as_str()
        .unwrap()
        .to_owned();
    for (org, kind, cents) in [(&cdc, "co_funding", 5_000_000), (&anct, "anct", 12_000_000)] {
        let r = app
            .post(
                &format!("/api/v1/fabriques/{f}/funding-lines"),
                json!({"organization_id": org, "kind": kind, "amount_cents": cents}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    // A draft with an application-free life, and a cancelled one.
    app.post(
        "/api/v1/fabriques",
        json!({"title": "Brouillon", "theme": "Eau"}),
    )
    .await;
    let c = app
        .post(
            "/api/v1/fabriques",
            json!({"title": "Annulée", "theme": "Eau"}),
        )
        .await
        .id();
    app.post(
        &format!("/api/v1/fabriques/{c}/transitions"),
        json!({"action": "cancel", "reason": "test"}),
    )
    .await;

    // What the dataset holds, as the analyst sees it.
    let analyst = app.token(Role::Analyst, None, None);
    let o = app
        .raw(Method::GET, "/api/v1/stats/overview", Some(&analyst), None)
        .await;
    assert_eq!(o.status, 200, "{}", o.body);
    let o = o.body;
    assert_eq!(
        o["fabriques_by_status"],
        json!({"running": 1, "draft": 1, "cancelled": 1})
    );
    assert_eq!(n(&o["fabriques"]), 3);
    // Two territories stay (one completed by its adoption, one active); the withdrawn one is
    // not accompanied.
    assert_eq!(n(&o["territories_accompanied"]), 2);
    assert_eq!(
        o["participations_by_status"],
        json!({"active": 1, "completed": 1, "withdrawn": 1})
    );
    assert_eq!(n(&o["participations"]), 3);
    assert_eq!(
        o["seminars"],
        json!({"intersite": {"planned": 0, "held": 1, "cancelled": 1}, "local": {"planned": 1, "held": 0, "cancelled": 0}})
    );
    assert_eq!(n(&o["roadmaps_adopted"]), 1);
    assert_eq!(n(&o["roadmap_actions"]), 2);
    assert_eq!(n(&o["funding"]["total_cents"]), 17_000_000);
    assert_eq!(
        o["funding"]["by_kind_cents"],
        json!({"anct": 12_000_000, "co_funding": 5_000_000})
    );
    assert_eq!(o["funding"]["by_organization"][0]["organization_id"], anct);

    // The lists agree (counted here from their pages).
    let parts = app.get("/api/v1/participations?limit=200").await;
    assert_eq!(
        parts.body["items"].as_array().unwrap().len() as i64,
        n(&o["participations"])
    );

    // The public: no drafts, no funding.
    let public = app
        .raw(Method::GET, "/api/v1/stats/overview", None, None)
        .await;
    assert_eq!(public.status, 200);
    assert_eq!(
        public.body["fabriques_by_status"],
        json!({"running": 1, "cancelled": 1})
    );
    assert!(public.body.get("funding").is_none(), "{}", public.body);
    let partner = app.token(Role::Partner, Some(&run.co_animator), None);
    let r = app
        .raw(Method::GET, "/api/v1/stats/overview", Some(&partner), None)
        .await;
    assert!(r.body.get("funding").is_none());

    // Filters: the same as the lists.
    let r = app
        .raw(
            Method::GET,
            "/api/v1/stats/overview?theme=eau",
            Some(&analyst),
            None,
        )
        .await;
    assert_eq!(
        r.body["fabriques_by_status"],
        json!({"draft": 1, "cancelled": 1})
    );
    assert_eq!(n(&r.body["participations"]), 0);
    let r = app
        .raw(
            Method::GET,
            "/api/v1/stats/overview?status=running",
            Some(&analyst),
            None,
        )
        .await;
    assert_eq!(n(&r.body["fabriques"]), 1);
    assert_eq!(n(&r.body["territories_accompanied"]), 2);
    // Region: the territories of the running Fabrique are in regions 76 and 11 (the first
    // two SIRENs); a region none of them is in selects nothing.
    let r = app
        .raw(
            Method::GET,
            "/api/v1/stats/overview?region=76",
            Some(&analyst),
            None,
        )
        .await;
    assert_eq!(n(&r.body["fabriques"]), 1, "{}", r.body);
    let r = app
        .raw(
            Method::GET,
            "/api/v1/stats/overview?region=94",
            Some(&analyst),
            None,
        )
        .await;
    assert_eq!(n(&r.body["fabriques"]), 0);
    assert_eq!(n(&r.body["seminars"]["intersite"]["held"]), 0);
    let year = chrono::Utc::now().date_naive().format("%Y").to_string();
    let r = app
        .raw(
            Method::GET,
            &format!("/api/v1/stats/overview?year_from=2000&year_to={year}&status=running"),
            Some(&analyst),
            None,
        )
        .await;
    assert_eq!(n(&r.body["fabriques"]), 1, "{}", r.body);
    app.raw(Method::GET, "/api/v1/stats/overview?year=1900", None, None)
        .await
        .assert_problem(400, "invalid_query");
    app.raw(
        Method::GET,
        "/api/v1/stats/overview?status=nope",
        None,
        None,
    )
    .await
    .assert_problem(400, "invalid_query");

    let d = app
        .raw(Method::GET, "/api/v1/stats/dictionary", None, None)
        .await;
    assert_eq!(
        d.body["figures"].as_array().unwrap().len(),
        fabriques_api::dictionary::FIGURES.len()
    );
}

both_engines!(
    the_overview_counts_what_the_dataset_holds,
    breakdowns_group_the_same_figures,
);

fn group<'a>(r: &'a Value, key: Option<&str>) -> &'a Value {
    r["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["key"].as_str() == key)
        .unwrap_or_else(|| panic!("no group {key:?} in {r}"))
}

async fn breakdowns_group_the_same_figures(app: TestApp) {
    // Running: 2 territories (CA du Gard Rhodanien, region 76; CA Melun Val de Seine, 11),
    // one local seminar held by the first; a draft without a start date.
    let run = running_fabrique(&app, 2).await;
    let today = chrono::Utc::now().date_naive().to_string();
    let s = app
        .post(
            &format!("/api/v1/participations/{}/seminars", run.participations[0]),
            json!({"number": 1, "scheduled_on": today}),
        )
        .await
        .id();
    let r = app
        .post(
            &format!("/api/v1/seminars/{s}/transitions"),
            json!({"action": "hold", "attendance": 12}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    app.post(
        "/api/v1/fabriques",
        json!({"title": "Brouillon", "theme": "Eau"}),
    )
    .await;
    let analyst = app.token(Role::Analyst, None, None);
    let get = |q: &str| {
        let (app, analyst, q) = (&app, analyst.clone(), q.to_owned());
        async move {
            let r = app
                .raw(
                    Method::GET,
                    &format!("/api/v1/stats/breakdown?{q}"),
                    Some(&analyst),
                    None,
                )
                .await;
            assert_eq!(r.status, 200, "{q}: {}", r.body);
            r.body
        }
    };

    let r = get("by=region").await;
    assert_eq!(r["groups"].as_array().unwrap().len(), 2, "{r}");
    for (code, name, held) in [("76", "Occitanie", 1), ("11", "Île-de-France", 0)] {
        let g = group(&r, Some(code));
        assert_eq!(g["label"], name);
        assert_eq!(n(&g["fabriques"]), 1);
        assert_eq!(n(&g["participations"]), 1);
        assert_eq!(n(&g["territories_accompanied"]), 1);
        assert_eq!(n(&g["seminars_held"]), held);
    }
    let r = get("by=territory_kind").await;
    let g = group(&r, Some("communaute_d_agglomeration"));
    assert_eq!(n(&g["fabriques"]), 1, "one Fabrique, counted once");
    assert_eq!(n(&g["participations"]), 2);

    let r = get("by=status").await;
    assert_eq!(n(&group(&r, Some("running"))["participations"]), 2);
    assert_eq!(n(&group(&r, Some("running"))["seminars_held"]), 1);
    assert_eq!(n(&group(&r, Some("draft"))["fabriques"]), 1);
    assert_eq!(n(&group(&r, Some("draft"))["participations"]), 0);

    // By year: the start year as the list reports it; no start date is the null key, last.
    let running = app
        .get(&format!("/api/v1/fabriques/{}", run.fabrique))
        .await;
    let start = running.body["actual_start"]
        .as_str()
        .or(running.body["planned_start"].as_str())
        .unwrap();
    let r = get("by=year").await;
    assert_eq!(n(&group(&r, Some(&start[..4]))["fabriques"]), 1);
    let groups = r["groups"].as_array().unwrap();
    assert!(groups.last().unwrap()["key"].is_null(), "{r}");
    assert_eq!(n(&groups.last().unwrap()["fabriques"]), 1);

    // Filters apply; a theme group.
    let r = get("by=theme&status=draft").await;
    assert_eq!(r["groups"].as_array().unwrap().len(), 1);
    assert_eq!(n(&group(&r, Some("Eau"))["fabriques"]), 1);

    // Refusals.
    app.raw(Method::GET, "/api/v1/stats/breakdown?by=region", None, None)
        .await
        .assert_problem(401, "unauthorized");
    let partner = app.token(Role::Partner, Some(&run.co_animator), None);
    app.raw(
        Method::GET,
        "/api/v1/stats/breakdown?by=region",
        Some(&partner),
        None,
    )
    .await
    .assert_problem(403, "forbidden");
    app.raw(
        Method::GET,
        "/api/v1/stats/breakdown?by=planet",
        Some(&analyst),
        None,
    )
    .await
    .assert_problem(400, "invalid_query");
}

fn cache_status(r: &crate::helpers::Resp) -> Option<String> {
    r.headers
        .get("cache-status")
        .map(|v| v.to_str().unwrap().to_owned())
}

async fn figures_are_cached_until_a_write(app: TestApp) {
    let analyst = app.token(Role::Analyst, None, None);
    let overview = |token: Option<String>| {
        let app = &app;
        async move {
            app.raw(
                Method::GET,
                "/api/v1/stats/overview",
                token.as_deref(),
                None,
            )
            .await
        }
    };
    let first = overview(None).await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(cache_status(&first).as_deref(), Some("fabriques; fwd=miss"));
    let again = overview(None).await;
    assert_eq!(cache_status(&again).as_deref(), Some("fabriques; hit"));
    assert_eq!(again.body, first.body);
    // Another audience is another entry: the analyst sees drafts and funding.
    let mine = overview(Some(analyst.clone())).await;
    assert_eq!(cache_status(&mine).as_deref(), Some("fabriques; fwd=miss"));
    assert!(mine.body.get("funding").is_some(), "{}", mine.body);
    assert_eq!(
        cache_status(&overview(Some(analyst.clone())).await).as_deref(),
        Some("fabriques; hit")
    );
    let breakdown = "/api/v1/stats/breakdown?by=status";
    let b1 = app.raw(Method::GET, breakdown, Some(&analyst), None).await;
    assert_eq!(b1.status, 200, "{}", b1.body);
    assert_eq!(cache_status(&b1).as_deref(), Some("fabriques; fwd=miss"));
    let b2 = app.raw(Method::GET, breakdown, Some(&analyst), None).await;
    assert_eq!(cache_status(&b2).as_deref(), Some("fabriques; hit"));
    // The entry is the selection, not the query's text: the same selection written another
    // way (values reordered, repeated, parameters swapped) is the same entry; another one not.
    let written = |q: &str| {
        let (app, analyst) = (&app, analyst.clone());
        let path = format!("/api/v1/stats/breakdown?{q}");
        async move { app.raw(Method::GET, &path, Some(&analyst), None).await }
    };
    let s1 = written("by=status&status=draft,running").await;
    assert_eq!(s1.status, 200, "{}", s1.body);
    assert_eq!(cache_status(&s1).as_deref(), Some("fabriques; fwd=miss"));
    for q in [
        "status=running,draft&by=status",
        "status=running&status=draft&status=running&by=status",
    ] {
        let again = written(q).await;
        assert_eq!(
            cache_status(&again).as_deref(),
            Some("fabriques; hit"),
            "{q}"
        );
        assert_eq!(again.body, s1.body, "{q}");
    }
    let other = written("by=region&status=draft,running").await;
    assert_eq!(cache_status(&other).as_deref(), Some("fabriques; fwd=miss"));
    let other = written("by=status&status=draft").await;
    assert_eq!(cache_status(&other).as_deref(), Some("fabriques; fwd=miss"));
    // A write through the API invalidates every entry.
    let created = app
        .post(
            "/api/v1/fabriques",
            json!({"title": "Cache", "theme": "Eau", "planned_start": "2027-03-01"}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let after = overview(Some(analyst.clone())).await;
    assert_eq!(
        cache_status(&after).as_deref(),
        Some("fabriques; fwd=stale")
    );
    assert_eq!(
        after.body["fabriques"].as_i64().unwrap(),
        mine.body["fabriques"].as_i64().unwrap() + 1,
        "{}",
        after.body
    );
    let b3 = app.raw(Method::GET, breakdown, Some(&analyst), None).await;
    assert_eq!(cache_status(&b3).as_deref(), Some("fabriques; fwd=stale"));
    assert_eq!(
        group(&b3.body, Some("draft"))["fabriques"],
        json!(1),
        "{}",
        b3.body
    );
    // Errors are not cached.
    let bad = app
        .raw(
            Method::GET,
            "/api/v1/stats/overview?status=nope",
            None,
            None,
        )
        .await;
    bad.assert_problem(400, "invalid_query");
    assert_eq!(cache_status(&bad), None);
}

async fn figures_are_computed_every_time_without_the_cache(app: TestApp) {
    for _ in 0..2 {
        let r = app
            .raw(Method::GET, "/api/v1/stats/overview", None, None)
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(cache_status(&r), None);
    }
}

both_engines!(figures_are_cached_until_a_write);

fn no_cache() -> fabriques_api::config::ServiceOptions {
    fabriques_api::config::ServiceOptions {
        stats_cache_seconds: 0,
        ..crate::helpers::test_options()
    }
}

both_engines!(with super::no_cache(); figures_are_computed_every_time_without_the_cache);

/// The pre-aggregated figures (`fabrique_figures`, `participation_figures`, kept by every
/// write) equal the figures computed from the tables themselves, for every audience, filter
/// and breakdown, after a synthetic dataset and writes of every kind through the API.
async fn pre_aggregated_figures_equal_the_live_ones(app: TestApp) {
    use domain::query::{BreakdownBy, FabriqueFilter, YearRange};
    use domain::{Access, Caller, FabriqueStatus};
    use store::stats;

    // A synthetic dataset, then writes through the API on one of its running Fabriques: a
    // withdrawal, seminars held and cancelled, a new theme, a territory moved to another
    // region.
    fabriques_api::loaders::synthetic::seed(&app.db, 40, 11)
        .await
        .unwrap();
    // A running Fabrique with three active participations.
    let running = app.get("/api/v1/fabriques?status=running&limit=50").await;
    let mut chosen = None;
    for fab in running.body["items"].as_array().unwrap() {
        let id = fab["id"].as_str().unwrap();
        let parts = app
            .get(&format!(
                "/api/v1/fabriques/{id}/participations?status=active"
            ))
            .await
            .body["items"]
            .clone();
        if parts.as_array().unwrap().len() >= 3 {
            chosen = Some((fab.clone(), parts));
            break;
        }
    }
    let (fab, parts) = chosen.expect("a running Fabrique with three active territories");
    let f = fab["id"].as_str().unwrap().to_owned();
    let org: uuid::Uuid = fab["partners"][0]["organization_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let parts = parts.as_array().unwrap();
    let pid = |i: usize| parts[i]["id"].as_str().unwrap().to_owned();
    // A local seminar held on one, another cancelled on the next (the first free number).
    let today = chrono::Utc::now().date_naive().to_string();
    for (i, action) in [
        json!({"action": "hold", "attendance": 12}),
        json!({"action": "cancel", "reason": "grève"}),
    ]
    .into_iter()
    .enumerate()
    {
        let mut planned = None;
        for number in 1..=4 {
            let s = app
                .post(
                    &format!("/api/v1/participations/{}/seminars", pid(i + 1)),
                    json!({"number": number, "scheduled_on": today}),
                )
                .await;
            if s.status == 201 {
                planned = Some(s.id());
                break;
            }
            assert_eq!(s.status, 409, "{}", s.body);
        }
        let s = planned.expect("a free local seminar number");
        let t = app
            .post(&format!("/api/v1/seminars/{s}/transitions"), action)
            .await;
        assert_eq!(t.status, 200, "{}", t.body);
    }
    let r = app
        .post(
            &format!("/api/v1/participations/{}/transitions", pid(0)),
            json!({"action": "withdraw", "reason": "élections"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // A new theme: the Fabrique's accompanied territories move to another theme's group.
    let r = app
        .raw(
            Method::PATCH,
            &format!("/api/v1/fabriques/{f}"),
            Some(&app.admin.clone()),
            Some(json!({"theme": "Un thème que nul autre n'a"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let territory: uuid::Uuid = parts[1]["territory_id"].as_str().unwrap().parse().unwrap();

    let caller = |role, organization, territory| Caller {
        subject: "figures-test".into(),
        role,
        organization,
        territory,
        client: None,
        scopes: domain::TokenScopes::ALL,
    };
    let audiences = [
        (
            "analyst",
            Access::new(caller(Role::Analyst, None, None), Default::default()),
        ),
        ("public", Access::public()),
        (
            "partner",
            store::access::load(&app.db, caller(Role::Partner, Some(org), None))
                .await
                .unwrap(),
        ),
        (
            "territory",
            Access::new(
                caller(Role::Territory, None, Some(territory)),
                Default::default(),
            ),
        ),
    ];
    // Both paths are exercised: the tiers read the pre-aggregated rows, a territory does not.
    assert!(store::access::figures_tier(&audiences[0].1).is_some());
    assert!(store::access::figures_tier(&audiences[1].1).is_some());
    assert!(store::access::figures_tier(&audiences[3].1).is_none());
    let filters = [
        FabriqueFilter::default(),
        FabriqueFilter {
            statuses: vec![FabriqueStatus::Running, FabriqueStatus::Completed],
            ..Default::default()
        },
        FabriqueFilter {
            years: vec![YearRange {
                from: 2019,
                to: 2023,
            }],
            ..Default::default()
        },
        FabriqueFilter {
            regions: vec!["84".into()],
            ..Default::default()
        },
        FabriqueFilter {
            ids: vec![f.parse().unwrap()],
            ..Default::default()
        },
    ];
    // Compared after the writes on the Fabrique, then again after its territory moved (each
    // refresh on its own: a later one would repair what an earlier one missed).
    compare_all(&app.db, &audiences, &filters, "after the writes").await;
    let territory: uuid::Uuid = parts[1]["territory_id"].as_str().unwrap().parse().unwrap();
    let moved = app
        .raw(
            Method::PATCH,
            &format!("/api/v1/territories/{territory}"),
            Some(&app.admin.clone()),
            Some(json!({"region": "84", "department": "69"})),
        )
        .await;
    assert_eq!(moved.status, 200, "{}", moved.body);
    compare_all(&app.db, &audiences, &filters, "after the move").await;
    // The key rows (every Fabrique by status, year, theme, programme) follow a Fabrique's
    // keys: a draft with a theme and a year of its own, cancelled (its status row moves, the
    // draft row it left may go); a draft deleted (its key rows lose it, one of its own goes).
    let lone = app
        .post(
            "/api/v1/fabriques",
            json!({"title": "Seule", "theme": "Un thème à elle", "planned_start": "2031-01-05"}),
        )
        .await;
    assert_eq!(lone.status, 201, "{}", lone.body);
    let lone = lone.id();
    let r = app
        .post(
            &format!("/api/v1/fabriques/{lone}/transitions"),
            json!({"action": "cancel", "reason": "doublon"}),
        )
        .await;
    assert_eq!(r.body["status"], "cancelled", "{}", r.body);
    let gone = app
        .post(
            "/api/v1/fabriques",
            json!({"title": "Éphémère", "theme": "Un thème éphémère", "planned_start": "2032-02-01"}),
        )
        .await;
    assert_eq!(gone.status, 201, "{}", gone.body);
    compare_all(&app.db, &audiences, &filters, "after the new drafts").await;
    let r = app
        .raw(
            Method::DELETE,
            &format!("/api/v1/fabriques/{}", gone.id()),
            Some(&app.admin.clone()),
            None,
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    let keys = stats::breakdown(&app.db, &audiences[0].1, &filters[0], BreakdownBy::Theme)
        .await
        .unwrap();
    assert!(
        keys.groups
            .iter()
            .all(|g| g.key.as_deref() != Some("Un thème éphémère")),
        "{keys:?}"
    );
    compare_all(&app.db, &audiences, &filters, "after the deletion").await;
    // The figures are not trivially empty.
    let all = stats::overview(&app.db, &audiences[0].1, &filters[0])
        .await
        .unwrap();
    assert!(all.fabriques == 41 && all.roadmap_actions > 0 && all.territories_accompanied > 0);
    let region = stats::breakdown(&app.db, &audiences[0].1, &filters[0], BreakdownBy::Region)
        .await
        .unwrap();
    assert!(
        region
            .groups
            .iter()
            .any(|g| g.key.as_deref() == Some("84") && g.seminars_held > 0)
    );
}

/// Compares the pre-aggregated figures with the live ones for every audience, filter and key.
async fn compare_all(
    db: &sea_orm::DatabaseConnection,
    audiences: &[(&str, domain::Access)],
    filters: &[domain::query::FabriqueFilter],
    when: &str,
) {
    use domain::query::BreakdownBy;
    use store::stats;
    let mut compared = 0;
    for (who, access) in audiences {
        for filter in filters {
            let fast = stats::overview(db, access, filter).await.unwrap();
            let live = stats::live_overview(db, access, filter).await.unwrap();
            assert_eq!(
                serde_json::to_value(&fast).unwrap(),
                serde_json::to_value(&live).unwrap(),
                "overview, {who}, {filter:?}, {when}"
            );
            for by in BreakdownBy::ALL {
                let fast = stats::breakdown(db, access, filter, *by).await.unwrap();
                let live = stats::live_breakdown(db, access, filter, *by)
                    .await
                    .unwrap();
                assert_eq!(
                    serde_json::to_value(&fast).unwrap(),
                    serde_json::to_value(&live).unwrap(),
                    "breakdown by {by:?}, {who}, {filter:?}, {when}"
                );
                compared += 1;
            }
        }
    }
    assert_eq!(
        compared,
        audiences.len() * filters.len() * BreakdownBy::ALL.len()
    );
}

both_engines!(pre_aggregated_figures_equal_the_live_ones);

/// Requests for figures being computed wait for that one computation: eight at once after a
/// write compute once, and all get the same answer.
async fn concurrent_requests_compute_the_figures_once(app: TestApp) {
    use fabriques_api::edge::figures_cache::FiguresCache;
    use std::sync::atomic::{AtomicUsize, Ordering};

    let cache = FiguresCache::new(30);
    let computed = AtomicUsize::new(0);
    let ask = || {
        cache.json(&app.db, "overview|test".to_owned(), || async {
            computed.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            Ok(json!({"n": computed.load(Ordering::SeqCst)}))
        })
    };
    let answers = futures_util::future::join_all((0..8).map(|_| ask())).await;
    assert_eq!(
        computed.load(Ordering::SeqCst),
        1,
        "eight waiting requests, one computation"
    );
    let bodies: Vec<_> = answers
        .into_iter()
        .map(|a| a.unwrap().into_body())
        .collect();
    for b in bodies {
        let bytes = actix_web::body::to_bytes(b).await.unwrap();
        assert_eq!(&bytes[..], br#"{"n":1}"#);
    }
    // A write that changes no figure (a new organization) keeps the entry.
    app.org("Agence d'urbanisme", "other").await;
    assert!(ask().await.is_ok());
    assert_eq!(
        computed.load(Ordering::SeqCst),
        1,
        "a new organization counts nothing"
    );
    // A write that does: the next requests compute again, once.
    let created = app
        .post(
            "/api/v1/fabriques",
            json!({"title": "Cache", "theme": "Eau", "planned_start": "2027-03-01"}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let again = futures_util::future::join_all((0..4).map(|_| ask())).await;
    assert!(again.iter().all(|a| a.is_ok()));
    assert_eq!(computed.load(Ordering::SeqCst), 2);
}

both_engines!(concurrent_requests_compute_the_figures_once);

/// The figures' version moves only with writes that can change a figure: a lesson, a
/// testimony, a new organization or a Fabrique's title or description keep the cached
/// figures (and they equal figures computed afresh); a new theme or a transition void them.
async fn only_writes_that_change_a_figure_void_the_cache(app: TestApp) {
    let analyst = app.token(Role::Analyst, None, None);
    let (f, _) = app.ready_fabrique(2, 6).await;
    let opened = app
        .transition(&format!("/api/v1/fabriques/{f}"), "open_recruitment")
        .await;
    assert_eq!(opened.status, 200, "{}", opened.body);
    let paths = [
        "/api/v1/stats/overview",
        "/api/v1/stats/breakdown?by=theme",
        // The same figures under another key: read once, at the end, it computes afresh.
        "/api/v1/stats/breakdown?by=theme&year_from=2000",
    ];
    let read = |i: usize| {
        let (app, analyst, path) = (&app, analyst.clone(), paths[i]);
        async move {
            let r = app.raw(Method::GET, path, Some(&analyst), None).await;
            assert_eq!(r.status, 200, "{}", r.body);
            (cache_status(&r).unwrap(), r.body)
        }
    };
    read(0).await;
    read(1).await;
    let neutral: Vec<(Method, String, Value)> = vec![
        (
            Method::POST,
            format!("/api/v1/fabriques/{f}/lessons"),
            json!({"title": "Le foncier se prépare tôt", "kind": "lesson"}),
        ),
        (
            Method::POST,
            format!("/api/v1/fabriques/{f}/testimonies"),
            json!({"speaker": "Élue"}),
        ),
        (
            Method::POST,
            "/api/v1/organizations".to_owned(),
            json!({"name": "Agence d'urbanisme", "kind": "other"}),
        ),
        (
            Method::PATCH,
            format!("/api/v1/fabriques/{f}"),
            json!({"description": "Un autre texte", "title": "Versions, encore"}),
        ),
    ];
    for (method, path, body) in neutral {
        let w = app
            .raw(method.clone(), &path, Some(&app.admin), Some(body))
            .await;
        assert!(
            w.status.is_success(),
            "{method} {path}: {} {}",
            w.status,
            w.body
        );
        for (i, read_path) in paths.iter().enumerate().take(2) {
            let (status, _) = read(i).await;
            assert_eq!(
                status, "fabriques; hit",
                "{read_path} after {method} {path}"
            );
        }
    }
    // What the cache kept through those writes is what a computation gives now.
    let (status, fresh) = read(2).await;
    assert_eq!(status, "fabriques; fwd=miss");
    assert_eq!(fresh, read(1).await.1);
    // A new theme moves the Fabrique to another group of the breakdown by theme.
    let w = app
        .raw(
            Method::PATCH,
            &format!("/api/v1/fabriques/{f}"),
            Some(&app.admin),
            Some(json!({"theme": "Forêt"})),
        )
        .await;
    assert_eq!(w.status, 200, "{}", w.body);
    let (status, body) = read(1).await;
    assert_eq!(status, "fabriques; fwd=stale");
    assert_eq!(group(&body, Some("Forêt"))["fabriques"], json!(1), "{body}");
    assert!(
        body["groups"]
            .as_array()
            .unwrap()
            .iter()
            .all(|g| g["key"] != "Industrie"),
        "{body}"
    );
    assert_eq!(read(0).await.0, "fabriques; fwd=stale");
    // A transition (status) too.
    let w = app
        .raw(
            Method::POST,
            &format!("/api/v1/fabriques/{f}/transitions"),
            Some(&app.admin),
            Some(json!({"action": "cancel", "reason": "Plus de budget"})),
        )
        .await;
    assert_eq!(w.status, 200, "{}", w.body);
    assert_eq!(read(0).await.0, "fabriques; fwd=stale");
}

both_engines!(only_writes_that_change_a_figure_void_the_cache);

/// Two instances on one database: a write that changes a figure, through either, voids the
/// cached figures of both (the version is a row of the database, not a value in a process).
async fn a_write_through_either_instance_voids_both_caches(app: TestApp) {
    let second = app.second_instance().await;
    let analyst = app.token(Role::Analyst, None, None);
    let overview = |base: String| {
        let (client, token) = (app.client.clone(), analyst.clone());
        async move {
            let r = client
                .get(format!("{base}/api/v1/stats/overview"))
                .bearer_auth(token)
                .send()
                .await
                .expect("request");
            assert_eq!(r.status(), 200);
            let status = r.headers()["cache-status"].to_str().unwrap().to_owned();
            let body: Value = r.json().await.unwrap();
            (status, body["fabriques"].as_i64().unwrap())
        }
    };
    let bases = [app.base.clone(), second.clone()];
    for base in &bases {
        overview(base.clone()).await;
        assert_eq!(overview(base.clone()).await.0, "fabriques; hit");
    }
    for (round, through) in bases.iter().enumerate() {
        let created = app
            .client
            .post(format!("{through}/api/v1/fabriques"))
            .bearer_auth(&app.admin)
            .json(&json!({"title": format!("Instance {round}"), "planned_start": "2027-03-01"}))
            .send()
            .await
            .expect("request");
        assert_eq!(created.status(), 201);
        for base in &bases {
            let (status, fabriques) = overview(base.clone()).await;
            assert_eq!(
                status, "fabriques; fwd=stale",
                "{base} after a write through {through}"
            );
            assert_eq!(fabriques, round as i64 + 1);
        }
    }
}

both_engines!(a_write_through_either_instance_voids_both_caches);

/// Writes on different Fabriques that count the same territory recompute its pre-aggregated
/// row one after the other: six participations of one territory accepted at once are all
/// counted, and once all are withdrawn at once the territory is no longer accompanied.
async fn concurrent_writes_on_one_territory_count_it_once_each(app: TestApp) {
    use domain::query::FabriqueFilter;
    use domain::{Access, Caller};
    use futures_util::future::join_all;
    use sea_orm::{ConnectionTrait, Statement};

    let territory = app.epci(crate::helpers::SIRENS[0]).await;
    let mut parts = Vec::new();
    for _ in 0..6 {
        let (f, _) = app.ready_fabrique(4, 8).await;
        let r = app
            .transition(&format!("/api/v1/fabriques/{f}"), "open_recruitment")
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let r = app.apply(&f, &territory).await;
        assert_eq!(r.status, 201, "{}", r.body);
        parts.push(r.id());
    }
    let analyst = Access::new(
        Caller {
            subject: "figures-test".into(),
            role: Role::Analyst,
            organization: None,
            territory: None,
            client: None,
            scopes: domain::TokenScopes::ALL,
        },
        Default::default(),
    );
    let accompanied = || async {
        let row = app
            .db
            .query_one_raw(Statement::from_string(
                app.db.get_database_backend(),
                "SELECT COALESCE(SUM(accompanied), 0) AS n FROM territory_figures",
            ))
            .await
            .unwrap()
            .unwrap();
        let n: i64 = row.try_get("", "n").unwrap();
        let fast = store::stats::overview(&app.db, &analyst, &FabriqueFilter::default())
            .await
            .unwrap();
        let live = store::stats::live_overview(&app.db, &analyst, &FabriqueFilter::default())
            .await
            .unwrap();
        assert_eq!(fast.territories_accompanied, live.territories_accompanied);
        (n, fast.territories_accompanied)
    };
    assert_eq!(accompanied().await, (0, 0));
    for (action, body, expected) in [
        ("accept", json!({"action": "accept"}), (6, 1)),
        (
            "withdraw",
            json!({"action": "withdraw", "reason": "élections"}),
            (0, 0),
        ),
    ] {
        let paths: Vec<String> = parts
            .iter()
            .map(|p| format!("/api/v1/participations/{p}/transitions"))
            .collect();
        let answers = join_all(paths.iter().map(|p| app.post(p, body.clone()))).await;
        for r in answers {
            assert_eq!(r.status, 200, "{action}: {}", r.body);
        }
        assert_eq!(accompanied().await, expected, "after {action}");
    }
}

both_engines!(concurrent_writes_on_one_territory_count_it_once_each);
