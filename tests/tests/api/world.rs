//! One Fabrique in its year with one of everything (seminars, a working group member, a
//! roadmap with an action, a lesson, a testimony, a funding line, a programme, a machine client
//! with a webhook and an external id), and the id each path parameter of the spec stands for:
//! for the tests that walk every operation of the spec.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::year::{Running, running_fabrique};

pub struct World {
    pub run: Running,
    pub admin: String,
    /// A machine client of the Fabrique's contractor (it owns the webhook and the external id).
    pub machine: String,
    /// The id each `{...}` of a path stands for, by the segment before it.
    pub ids: Vec<(&'static str, String)>,
}

impl World {
    /// `template` with each `{...}` replaced by its id.
    pub fn fill(&self, template: &str) -> String {
        let segments: Vec<&str> = template.split('/').collect();
        segments
            .iter()
            .enumerate()
            .map(|(i, s)| {
                if s.starts_with('{') {
                    let before = segments[i - 1];
                    self.ids
                        .iter()
                        .find(|(c, _)| *c == before)
                        .map(|(_, id)| id.clone())
                        .unwrap_or_else(|| panic!("no id for {s} in {template}"))
                } else {
                    (*s).to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("/")
    }
}

async fn created(app: &TestApp, method: Method, path: &str, token: &str, body: Value) -> Value {
    let r = app.raw(method, path, Some(token), Some(body)).await;
    assert!(r.status.is_success(), "{path}: {} {}", r.status, r.body);
    r.body
}

fn today() -> String {
    chrono::Utc::now().date_naive().to_string()
}

pub async fn world(app: &TestApp) -> World {
    let admin = app.admin.clone();
    let run = running_fabrique(app, 3).await;
    let f = run.fabrique.clone();
    let p = run.participations[0].clone();
    let funder = app.org("Caisse des dépôts", "funder").await;
    created(
        app,
        Method::PUT,
        &format!("/api/v1/fabriques/{f}/partners/{funder}"),
        &admin,
        json!({"roles": ["co_funder"]}),
    )
    .await;
    let seminar = created(
        app,
        Method::POST,
        &format!("/api/v1/participations/{p}/seminars"),
        &admin,
        json!({"number": 1, "scheduled_on": today()}),
    )
    .await["id"]
        .clone();
    created(
        app,
        Method::POST,
        &format!("/api/v1/fabriques/{f}/seminars"),
        &admin,
        json!({"number": 1, "scheduled_on": today()}),
    )
    .await;
    let member = created(
        app,
        Method::POST,
        &format!("/api/v1/participations/{p}/working-group-members"),
        &admin,
        json!({"name": "Camille Durand", "category": "resident"}),
    )
    .await["id"]
        .clone();
    created(
        app,
        Method::PUT,
        &format!("/api/v1/participations/{p}/roadmap"),
        &admin,
        json!({"kind": "roadmap", "title": "Feuille de route 2030"}),
    )
    .await;
    let action = created(
        app,
        Method::POST,
        &format!("/api/v1/participations/{p}/roadmap/actions"),
        &admin,
        json!({"title": "Requalifier la zone d'activité"}),
    )
    .await["id"]
        .clone();
    let lesson = created(
        app,
        Method::POST,
        &format!("/api/v1/fabriques/{f}/lessons"),
        &admin,
        json!({"title": "Le foncier se prépare tôt", "kind": "lesson"}),
    )
    .await["id"]
        .clone();
    let testimony = created(
        app,
        Method::POST,
        &format!("/api/v1/fabriques/{f}/testimonies"),
        &admin,
        json!({"speaker": "Élue"}),
    )
    .await["id"]
        .clone();
    let line = created(
        app,
        Method::POST,
        &format!("/api/v1/fabriques/{f}/funding-lines"),
        &admin,
        json!({"organization_id": funder, "kind": "co_funding", "amount_cents": 5_000_000}),
    )
    .await["id"]
        .clone();
    let programme = created(
        app,
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
        app,
        Method::POST,
        "/api/v1/webhooks",
        &machine,
        json!({"url": "https://example.org/hook"}),
    )
    .await["webhook"]["id"]
        .clone();
    created(
        app,
        Method::PUT,
        "/api/v1/external-ids/fabrique/CEREMA-1",
        &machine,
        json!({"entity_id": f}),
    )
    .await;
    // The id each `{...}` stands for, by the segment before it.
    let ids: Vec<(&'static str, String)> = vec![
        ("fabriques", f.clone()),
        ("participations", p.clone()),
        ("seminars", seminar.as_str().unwrap().to_owned()),
        ("lessons", lesson.as_str().unwrap().to_owned()),
        ("working-group-members", member.as_str().unwrap().to_owned()),
        ("roadmap-actions", action.as_str().unwrap().to_owned()),
        ("testimonies", testimony.as_str().unwrap().to_owned()),
        ("funding-lines", line.as_str().unwrap().to_owned()),
        ("organizations", funder.clone()),
        ("partners", funder.clone()),
        ("territories", run.territories[0].clone()),
        ("programmes", programme.as_str().unwrap().to_owned()),
        ("clients", client.clone()),
        ("webhooks", webhook.as_str().unwrap().to_owned()),
        ("external-ids", "fabrique".into()),
        ("{entity_type}", "CEREMA-1".into()),
        ("communes", "75056".into()),
        ("epci", "200054781".into()),
    ];
    World {
        run,
        admin,
        machine,
        ids,
    }
}
