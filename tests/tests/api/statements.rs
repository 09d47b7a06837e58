//! The lean read path: every read of the spec, by callers of every kind, costs at most 2 SQL
//! statements for a single resource and 3 for a page, whatever the page size, plus at most 1
//! to work out a partner's or a territory's access. The server counts the statements itself
//! (`Server-Timing`, turned on for these tests); nothing here assumes a number.

use fabriques_api::auth::Role;
use fabriques_api::config::ServiceOptions;
use reqwest::Method;
use serde_json::{Value, json};

use crate::both_engines;
use crate::helpers::{TestApp, test_options};
use crate::year::running_fabrique;

fn counted() -> ServiceOptions {
    ServiceOptions {
        server_timing: true,
        ..test_options()
    }
}

both_engines!(with super::counted(); every_read_costs_two_statements_and_a_page_three);

/// The statements an answer says it took.
pub fn statements(r: &crate::helpers::Resp) -> u32 {
    let timing = r
        .headers
        .get("server-timing")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("no Server-Timing header"));
    let desc = timing
        .split(';')
        .find_map(|p| p.trim().strip_prefix("desc=\""))
        .and_then(|d| d.strip_suffix(" statements\""))
        .unwrap_or_else(|| panic!("Server-Timing without a statement count: {timing}"));
    desc.parse().unwrap()
}

async fn created(app: &TestApp, method: Method, path: &str, token: &str, body: Value) -> Value {
    let r = app.raw(method, path, Some(token), Some(body)).await;
    assert!(r.status.is_success(), "{path}: {} {}", r.status, r.body);
    r.body
}

fn today() -> String {
    chrono::Utc::now().date_naive().to_string()
}

async fn every_read_costs_two_statements_and_a_page_three(app: TestApp) {
    let admin = app.admin.clone();
    let run = running_fabrique(&app, 3).await;
    let f = run.fabrique.clone();
    let p = run.participations[0].clone();
    let funder = app.org("Caisse des dépôts", "funder").await;
    created(
        &app,
        Method::PUT,
        &format!("/api/v1/fabriques/{f}/partners/{funder}"),
        &admin,
        json!({"roles": ["co_funder"]}),
    )
    .await;
    let seminar = created(
        &app,
        Method::POST,
        &format!("/api/v1/participations/{p}/seminars"),
        &admin,
        json!({"number": 1, "scheduled_on": today()}),
    )
    .await["id"]
        .clone();
    created(
        &app,
        Method::POST,
        &format!("/api/v1/fabriques/{f}/seminars"),
        &admin,
        json!({"number": 1, "scheduled_on": today()}),
    )
    .await;
    let member = created(
        &app,
        Method::POST,
        &format!("/api/v1/participations/{p}/working-group-members"),
        &admin,
        json!({"name": "Camille Durand", "category": "resident"}),
    )
    .await["id"]
        .clone();
    created(
        &app,
        Method::PUT,
        &format!("/api/v1/participations/{p}/roadmap"),
        &admin,
        json!({"kind": "roadmap", "title": "Feuille de route 2030"}),
    )
    .await;
    let action = created(
        &app,
        Method::POST,
        &format!("/api/v1/participations/{p}/roadmap/actions"),
        &admin,
        json!({"title": "Requalifier la zone d'activité"}),
    )
    .await["id"]
        .clone();
    let lesson = created(
        &app,
        Method::POST,
        &format!("/api/v1/fabriques/{f}/lessons"),
        &admin,
        json!({"title": "Le foncier se prépare tôt", "kind": "lesson"}),
    )
    .await["id"]
        .clone();
    let testimony = created(
        &app,
        Method::POST,
        &format!("/api/v1/fabriques/{f}/testimonies"),
        &admin,
        json!({"speaker": "Élue"}),
    )
    .await["id"]
        .clone();
    let line = created(
        &app,
        Method::POST,
        &format!("/api/v1/fabriques/{f}/funding-lines"),
        &admin,
        json!({"organization_id": funder, "kind": "co_funding", "amount_cents": 5_000_000}),
    )
    .await["id"]
        .clone();
    let programme = created(
        &app,
        Method::POST,
        "/api/v1/programmes",
        &admin,
        json!({"name": "Villages d'avenir"}),
    )
    .await["id"]
        .clone();
    let (client, secret) = app
        .client(json!({"name": "Système du Cerema", "role": "partner", "organization_id": run.contractor}))
        .await;
    let machine = app.client_token(&client, &secret).await;
    let webhook = created(
        &app,
        Method::POST,
        "/api/v1/webhooks",
        &machine,
        json!({"url": "https://example.org/hook"}),
    )
    .await["webhook"]["id"]
        .clone();
    created(
        &app,
        Method::PUT,
        "/api/v1/external-ids/fabrique/CEREMA-1",
        &machine,
        json!({"entity_id": f}),
    )
    .await;
    // The id each `{...}` stands for, by the segment before it.
    let ids: Vec<(&str, String)> = vec![
        ("fabriques", f.clone()),
        ("participations", p.clone()),
        ("seminars", seminar.as_str().unwrap().to_owned()),
        ("lessons", lesson.as_str().unwrap().to_owned()),
        ("working-group-members", member.as_str().unwrap().to_owned()),
        ("roadmap-actions", action.as_str().unwrap().to_owned()),
        ("testimonies", testimony.as_str().unwrap().to_owned()),
        ("funding-lines", line.as_str().unwrap().to_owned()),
        ("organizations", funder.clone()),
        ("territories", run.territories[0].clone()),
        ("programmes", programme.as_str().unwrap().to_owned()),
        ("clients", client.clone()),
        ("webhooks", webhook.as_str().unwrap().to_owned()),
        ("external-ids", "fabrique".into()),
        ("{entity_type}", "CEREMA-1".into()),
        ("communes", "75056".into()),
        ("epci", "200054781".into()),
    ];
    let fill = |template: &str| -> String {
        let segments: Vec<&str> = template.split('/').collect();
        segments
            .iter()
            .enumerate()
            .map(|(i, s)| {
                if s.starts_with('{') {
                    let before = segments[i - 1];
                    ids.iter()
                        .find(|(c, _)| *c == before)
                        .map(|(_, id)| id.clone())
                        .unwrap_or_else(|| panic!("no id for {s} in {template}"))
                } else {
                    (*s).to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("/")
    };

    let callers: Vec<(&str, Option<String>, u32)> = vec![
        ("anonymous", None, 0),
        ("admin", Some(admin.clone()), 0),
        (
            "a partner",
            Some(app.token(Role::Partner, Some(&run.contractor), None)),
            1,
        ),
        (
            "a territory",
            Some(app.token(Role::Territory, None, Some(&run.territories[0]))),
            1,
        ),
        ("a partner's machine client", Some(machine.clone()), 1),
        ("an analyst", Some(app.token(Role::Analyst, None, None)), 0),
    ];

    let spec = fabriques_api::edge::openapi::document();
    let mut checked = 0;
    let mut over = Vec::new();
    for (template, item) in spec["paths"].as_object().unwrap() {
        let Some(op) = item.get("get") else { continue };
        let Some(rest) = template.strip_prefix("/api/v1") else {
            continue;
        };
        let schema = op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
            .as_str()
            .unwrap_or_default();
        let limit = if schema.ends_with("Page") {
            3
        } else if schema.ends_with("Response") {
            2
        } else {
            // Figures, the map, the exports and the spec itself are not resources.
            continue;
        };
        let path = fill(rest);
        let path = format!("/api/v1{path}");
        for (who, token, access) in &callers {
            let r = app.raw(Method::GET, &path, token.as_deref(), None).await;
            if !r.status.is_success() {
                continue;
            }
            let n = statements(&r);
            checked += 1;
            if n > limit + access {
                over.push(format!(
                    "{who}: GET {path}: {n} statements (at most {limit} + {access})"
                ));
            }
        }
    }
    assert!(over.is_empty(), "{}", over.join("\n"));
    assert!(checked > 100, "only {checked} reads were counted");

    // A page costs the same whatever its size.
    for limit in [1, 50, 200] {
        let r = app
            .raw(
                Method::GET,
                &format!("/api/v1/fabriques/{f}/participations?limit={limit}"),
                Some(&admin),
                None,
            )
            .await;
        assert_eq!(statements(&r), 2, "limit={limit}");
    }
}
