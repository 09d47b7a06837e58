//! One access policy: each read path shows the rows and fields the caller may see, and the
//! same caller sees the same thing whatever path it reads through.

use fabriques_api::auth::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::both_engines;
use crate::helpers::{SIRENS, TestApp};
use crate::year::running_fabrique;

both_engines!(
    another_territorys_withdrawn_participation_and_its_seminars_are_not_found,
    progress_shows_a_territory_only_the_participations_it_may_see,
    funding_is_seen_by_anct_analysts_and_the_fabriques_partners_only,
    public_exports_and_filters_show_what_the_public_catalogue_shows,
);

both_engines!(with crate::webhooks::options();
    external_ids_are_seen_by_their_organization_and_anct_only,
);

fn today() -> String {
    chrono::Utc::now().date_naive().to_string()
}

async fn status(app: &TestApp, token: Option<&str>, path: &str) -> u16 {
    app.raw(Method::GET, path, token, None)
        .await
        .status
        .as_u16()
}

async fn withdraw(app: &TestApp, p: &str) {
    let r = app
        .post(
            &format!("/api/v1/participations/{p}/transitions"),
            json!({"action": "withdraw", "reason": "test"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

async fn another_territorys_withdrawn_participation_and_its_seminars_are_not_found(app: TestApp) {
    let run = running_fabrique(&app, 2).await;
    let (p1, p2) = (&run.participations[0], &run.participations[1]);
    let seminar = app
        .post(
            &format!("/api/v1/participations/{p2}/seminars"),
            json!({"number": 1, "scheduled_on": today()}),
        )
        .await;
    assert_eq!(seminar.status, 201, "{}", seminar.body);
    let seminar = seminar.id();
    let t1 = app.token(Role::Territory, None, Some(&run.territories[0]));

    // While P2 is active it is public: T1 sees it (as the public does) and its seminar.
    let r = app
        .raw(
            Method::GET,
            &format!("/api/v1/participations/{p2}"),
            Some(&t1),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.get("sponsor_name").is_none());
    assert_eq!(
        status(&app, Some(&t1), &format!("/api/v1/seminars/{seminar}")).await,
        200
    );

    // Withdrawn, it is no longer public: the participation and what hangs off it are gone
    // for T1, by every path.
    withdraw(&app, p2).await;
    for path in [
        format!("/api/v1/participations/{p2}"),
        format!("/api/v1/participations/{p2}/seminars"),
        format!("/api/v1/seminars/{seminar}"),
    ] {
        assert_eq!(status(&app, Some(&t1), &path).await, 404, "{path}");
    }
    let listed = app
        .raw(
            Method::GET,
            &format!("/api/v1/fabriques/{}/seminars", run.fabrique),
            Some(&t1),
            None,
        )
        .await;
    assert!(
        !listed.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["id"] == seminar.as_str()),
        "{}",
        listed.body
    );
    // Its own participation stays readable to T1, personal data included.
    let own = app
        .raw(
            Method::GET,
            &format!("/api/v1/participations/{p1}"),
            Some(&t1),
            None,
        )
        .await;
    assert_eq!(own.status, 200);
    assert_eq!(
        status(
            &app,
            Some(&t1),
            &format!("/api/v1/participations/{p1}/seminars")
        )
        .await,
        200
    );
}

async fn progress_shows_a_territory_only_the_participations_it_may_see(app: TestApp) {
    let (f, _) = app.ready_fabrique(1, 8).await;
    app.transition(&format!("/api/v1/fabriques/{f}"), "open_recruitment")
        .await;
    let mut parts = Vec::new();
    let mut territories = Vec::new();
    for siren in SIRENS.iter().take(3) {
        let t = app.epci(siren).await;
        parts.push(app.apply(&f, &t).await.id());
        territories.push(t);
    }
    app.transition(&format!("/api/v1/participations/{}", parts[0]), "accept")
        .await;
    app.transition(&format!("/api/v1/participations/{}", parts[1]), "reject")
        .await;
    // T3's application stays undecided. T3 sees its own and the accepted one; not the
    // rejected one.
    let t3 = app.token(Role::Territory, None, Some(&territories[2]));
    let progress = app
        .raw(
            Method::GET,
            &format!("/api/v1/fabriques/{f}/progress"),
            Some(&t3),
            None,
        )
        .await;
    assert_eq!(progress.status, 200, "{}", progress.body);
    let mut seen: Vec<String> = progress.body["territories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["participation_id"].as_str().unwrap().to_owned())
        .collect();
    seen.sort();
    let mut expected = vec![parts[0].clone(), parts[2].clone()];
    expected.sort();
    assert_eq!(seen, expected);
    // The lists say the same.
    let list = app
        .raw(
            Method::GET,
            &format!("/api/v1/fabriques/{f}/participations"),
            Some(&t3),
            None,
        )
        .await;
    let mut listed: Vec<String> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_owned())
        .collect();
    listed.sort();
    assert_eq!(listed, expected);
    // ANCT sees all three.
    let all = app.get(&format!("/api/v1/fabriques/{f}/progress")).await;
    assert_eq!(all.body["territories"].as_array().unwrap().len(), 3);
}

async fn funding_is_seen_by_anct_analysts_and_the_fabriques_partners_only(app: TestApp) {
    let run = running_fabrique(&app, 2).await;
    let f = &run.fabrique;
    let funder = app.org("Caisse des dépôts", "funder").await;
    let r = app
        .raw(
            Method::PUT,
            &format!("/api/v1/fabriques/{f}/partners/{funder}"),
            Some(&app.admin),
            Some(json!({"roles": ["co_funder"]})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let line = app
        .post(
            &format!("/api/v1/fabriques/{f}/funding-lines"),
            json!({"organization_id": funder, "kind": "co_funding", "amount_cents": 5000000}),
        )
        .await;
    assert_eq!(line.status, 201, "{}", line.body);
    let line = line.id();
    let outsider = app.org("Organisation tierce", "public_operator").await;
    let lines = format!("/api/v1/fabriques/{f}/funding-lines");
    let summary = format!("/api/v1/fabriques/{f}/funding-summary");
    let one = format!("/api/v1/funding-lines/{line}");
    let cases: Vec<(&str, String, [u16; 3])> = vec![
        (
            "analyst",
            app.token(Role::Analyst, None, None),
            [200, 200, 200],
        ),
        (
            "co-funder",
            app.token(Role::Partner, Some(&funder), None),
            [200, 200, 200],
        ),
        (
            "co-animator",
            app.token(Role::Partner, Some(&run.co_animator), None),
            [200, 200, 200],
        ),
        (
            "outsider",
            app.token(Role::Partner, Some(&outsider), None),
            [403, 403, 404],
        ),
        (
            "territory",
            app.token(Role::Territory, None, Some(&run.territories[0])),
            [403, 403, 404],
        ),
    ];
    for (who, token, expected) in cases {
        let got = [
            status(&app, Some(&token), &lines).await,
            status(&app, Some(&token), &summary).await,
            status(&app, Some(&token), &one).await,
        ];
        assert_eq!(got, expected, "{who}");
    }
    // The figures across Fabriques need funding everywhere: not for a partner.
    let partner = app.token(Role::Partner, Some(&funder), None);
    let overview = app
        .raw(Method::GET, "/api/v1/stats/overview", Some(&partner), None)
        .await;
    assert!(overview.body.get("funding").is_none());
    let analyst = app.token(Role::Analyst, None, None);
    let overview = app
        .raw(Method::GET, "/api/v1/stats/overview", Some(&analyst), None)
        .await;
    assert_eq!(overview.body["funding"]["total_cents"], 5000000);
}

/// Every event of the feed the token reads now (PostgreSQL serves them behind a horizon:
/// poll until two reads in a row bring nothing new).
async fn feed(app: &TestApp, token: &str) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    let mut cursor: Option<String> = None;
    let mut empty = 0;
    while empty < 10 {
        let path = match &cursor {
            Some(c) => format!("/api/v1/events?limit=200&after={c}"),
            None => "/api/v1/events?limit=200".to_owned(),
        };
        let r = app.raw(Method::GET, &path, Some(token), None).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let items = r.body["items"].as_array().unwrap().clone();
        if items.is_empty() {
            empty += 1;
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        } else {
            empty = 0;
            out.extend(items);
        }
        cursor = r.body["next_cursor"].as_str().map(str::to_owned).or(cursor);
    }
    out
}

async fn external_ids_are_seen_by_their_organization_and_anct_only(app: TestApp) {
    let (f, _) = app.ready_fabrique(1, 8).await;
    app.transition(&format!("/api/v1/fabriques/{f}"), "open_recruitment")
        .await;
    let amf = app.org("AMF", "elected_officials_association").await;
    let cerema = app.org("Cerema", "public_operator").await;
    // Cerema's system subscribes to webhooks before AMF attaches its id.
    let (client, secret) = app
        .client(json!({"name": "Cerema SIG", "role": "partner", "organization_id": cerema}))
        .await;
    let cerema_client = app.client_token(&client, &secret).await;
    let hook = app
        .raw(
            Method::POST,
            "/api/v1/webhooks",
            Some(&cerema_client),
            Some(json!({"url": "http://127.0.0.1:9/hook"})),
        )
        .await;
    assert_eq!(hook.status, 201, "{}", hook.body);
    let hook = hook.body["webhook"]["id"].as_str().unwrap().to_owned();
    let amf_token = app.token(Role::Partner, Some(&amf), None);
    let r = app
        .raw(
            Method::PUT,
            "/api/v1/external-ids/fabrique/AMF-2027-1",
            Some(&amf_token),
            Some(json!({"entity_id": f})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);

    let mentions = |events: &[Value]| {
        events
            .iter()
            .filter(|e| e["entity_type"] == "external_id")
            .count()
    };
    // PostgreSQL serves an event once every older transaction of the cluster has ended (other
    // tests run theirs): wait until ANCT's feed has it; then it is past the horizon for all.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let mut everything = feed(&app, &app.admin).await;
    while mentions(&everything) == 0 && std::time::Instant::now() < deadline {
        everything = feed(&app, &app.admin).await;
    }
    assert_eq!(mentions(&everything), 1, "ANCT sees it");
    let attached = everything
        .iter()
        .find(|e| e["entity_type"] == "external_id")
        .unwrap()["id"]
        .clone();
    assert_eq!(
        mentions(&feed(&app, &amf_token).await),
        1,
        "its organization sees it"
    );
    let cerema_token = app.token(Role::Partner, Some(&cerema), None);
    assert_eq!(
        mentions(&feed(&app, &cerema_token).await),
        0,
        "another partner"
    );
    let analyst = app.token(Role::Analyst, None, None);
    assert_eq!(mentions(&feed(&app, &analyst).await), 0, "an analyst");

    // Webhooks carry the feed with their client's rights: Cerema's is not told either.
    for _ in 0..20 {
        fabriques_api::jobs::webhooks::tick(&app.db, &crate::webhooks::options())
            .await
            .unwrap();
    }
    let deliveries = app
        .raw(
            Method::GET,
            &format!("/api/v1/webhooks/{hook}/deliveries?limit=200"),
            Some(&cerema_client),
            None,
        )
        .await;
    assert_eq!(deliveries.status, 200, "{}", deliveries.body);
    let events: Vec<&Value> = deliveries.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| &d["event_id"])
        .collect();
    assert!(!events.contains(&&attached), "{events:?}");
}

/// The rows of a public CSV export, with its header.
async fn csv(app: &TestApp, path: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let res = app
        .client
        .get(format!("{}{path}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{path}");
    let bytes = res.bytes().await.unwrap();
    let mut reader = csv::Reader::from_reader(&bytes[..]);
    let header = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    (header, rows)
}

async fn public_exports_and_filters_show_what_the_public_catalogue_shows(app: TestApp) {
    // A running Fabrique: P1 active with a draft roadmap, P2 withdrawn.
    let run = running_fabrique(&app, 2).await;
    let (p1, p2) = (&run.participations[0], &run.participations[1]);
    let rm = format!("/api/v1/participations/{p1}/roadmap");
    let r = app
        .raw(
            Method::PUT,
            &rm,
            Some(&app.admin),
            Some(json!({"kind": "roadmap", "title": "Brouillon"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let action = app
        .post(
            &format!("{rm}/actions"),
            json!({"title": "Action du brouillon", "lead": "Mme Dupont"}),
        )
        .await;
    assert_eq!(action.status, 201, "{}", action.body);
    withdraw(&app, p2).await;
    // A recruiting Fabrique: one application undecided (with a focus), one rejected.
    let (f2, _) = app.ready_fabrique(1, 8).await;
    app.transition(&format!("/api/v1/fabriques/{f2}"), "open_recruitment")
        .await;
    let applicant = app.epci(SIRENS[4]).await;
    let applied = app
        .post(
            &format!("/api/v1/fabriques/{f2}/participations"),
            json!({"territory_id": applicant, "focus": "projet confidentiel"}),
        )
        .await
        .id();
    let rejected_t = app.epci(SIRENS[5]).await;
    let rejected = app.apply(&f2, &rejected_t).await.id();
    app.transition(&format!("/api/v1/participations/{rejected}"), "reject")
        .await;

    let (header, rows) = csv(&app, "/api/v1/exports/participations.csv").await;
    let status = header.iter().position(|h| h == "status").unwrap();
    let ids: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert!(ids.contains(&p1.as_str()));
    for hidden in [p2, &applied, &rejected] {
        assert!(!ids.contains(&hidden.as_str()), "{hidden} in {rows:?}");
    }
    assert!(
        rows.iter()
            .all(|r| ["accepted", "active", "completed"].contains(&r[status].as_str())),
        "{rows:?}"
    );
    assert!(!header.iter().any(|h| h == "sponsor_name"));
    let (header, rows) = csv(&app, "/api/v1/exports/roadmap_actions.csv").await;
    assert!(rows.is_empty(), "actions of a draft roadmap: {rows:?}");
    assert!(!header.iter().any(|h| h == "lead"), "{header:?}");
    // ANCT's export has them all.
    let all = app
        .raw(
            Method::GET,
            "/api/v1/exports/participations.csv",
            Some(&app.admin),
            None,
        )
        .await;
    assert_eq!(all.status, 200);

    // The public filters match the territories accompanied, not applications.
    let listed = |body: &Value| -> Vec<String> {
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let r = app
        .raw(
            Method::GET,
            &format!("/api/v1/fabriques?territory={applicant}"),
            None,
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(listed(&r.body).is_empty(), "{}", r.body);
    let r = app
        .raw(
            Method::GET,
            &format!("/api/v1/fabriques?territory={}", run.territories[0]),
            None,
            None,
        )
        .await;
    assert_eq!(listed(&r.body), vec![run.fabrique.clone()]);
    let ranked = app
        .get(&format!("/api/v1/fabriques?territory={applicant}"))
        .await;
    assert_eq!(
        listed(&ranked.body),
        vec![f2.clone()],
        "ANCT sees the application"
    );
    let region = app
        .get(&format!("/api/v1/territories/{applicant}"))
        .await
        .body["region"]
        .as_str()
        .unwrap()
        .to_owned();
    let public = app
        .raw(
            Method::GET,
            &format!("/api/v1/fabriques?region={region}"),
            None,
            None,
        )
        .await;
    assert!(!listed(&public.body).contains(&f2), "{}", public.body);
}
