//! Safe retries with `Idempotency-Key`.

use fabriques_api::auth::Role;
use sea_orm::ActiveModelTrait;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::both_engines;
use crate::helpers::TestApp;

both_engines!(
    a_retry_replays_the_first_response_and_writes_nothing,
    keys_are_per_client_per_request_and_refused_in_flight,
    two_instances_racing_with_one_key_write_once,
    expired_keys_are_purged,
    answers_with_a_secret_are_neither_kept_nor_replayed,
    the_migration_scrubs_the_secrets_kept_before_it,
);

async fn expired_keys_are_purged(app: TestApp) {
    use entity::idempotency_key::Entity;
    use sea_orm::{EntityTrait, PaginatorTrait, Set};
    let mut old = fabriques_api::edge::idempotency::in_flight_row("admin:someone", "old", "fp");
    old.created_at = Set(chrono::Utc::now() - chrono::Duration::hours(26));
    old.insert(&app.db).await.unwrap();
    let mut recent =
        fabriques_api::edge::idempotency::in_flight_row("admin:someone", "recent", "fp");
    recent.created_at = Set(chrono::Utc::now() - chrono::Duration::hours(23));
    recent.insert(&app.db).await.unwrap();
    assert_eq!(
        fabriques_api::edge::idempotency::purge_expired(&app.db)
            .await
            .unwrap(),
        1
    );
    let left: Vec<String> = Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.key)
        .collect();
    assert_eq!(left, vec!["recent".to_owned()]);
    assert_eq!(Entity::find().count(&app.db).await.unwrap(), 1);
}

/// The same request with the same key, sent at once to two instances sharing the database:
/// one writes, the other waits for its transaction and replays its answer; never two writes,
/// never an "in flight" refusal (the key is held in the write's own transaction).
async fn two_instances_racing_with_one_key_write_once(app: TestApp) {
    let second = app.second_instance().await;
    let before = organization_count(&app).await;
    for round in 0..10 {
        let key = format!("race-{round}");
        let body = json!({"name": format!("Organisation {round}"), "kind": "other"});
        let send = |base: String| {
            let (client, token, key, body) = (
                app.client.clone(),
                app.admin.clone(),
                key.clone(),
                body.clone(),
            );
            async move {
                client
                    .post(format!("{base}/api/v1/organizations"))
                    .bearer_auth(token)
                    .header("Idempotency-Key", key)
                    .json(&body)
                    .send()
                    .await
                    .expect("request")
            }
        };
        let (a, b) = tokio::join!(send(app.base.clone()), send(second.clone()));
        let mut created = Vec::new();
        for r in [a, b] {
            let status = r.status().as_u16();
            let replayed = r.headers().get("idempotent-replayed").is_some();
            let body: serde_json::Value = r.json().await.unwrap();
            match status {
                201 => created.push((replayed, body["id"].clone())),
                other => panic!("unexpected {other}: {body}"),
            }
        }
        assert_eq!(created.len(), 2, "both are answered 201: {created:?}");
        assert!(
            created.iter().filter(|(replayed, _)| !replayed).count() == 1,
            "{created:?}"
        );
        assert!(
            created.iter().all(|(_, id)| *id == created[0].1),
            "{created:?}"
        );
    }
    assert_eq!(organization_count(&app).await, before + 10);
}

async fn post_with_key(
    app: &TestApp,
    token: &str,
    key: &str,
    body: serde_json::Value,
) -> reqwest::Response {
    app.client
        .post(format!("{}/api/v1/organizations", app.base))
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .json(&body)
        .send()
        .await
        .expect("request")
}

async fn organization_count(app: &TestApp) -> u64 {
    app.get("/api/v1/organizations?count=true").await.body["total"]
        .as_u64()
        .unwrap()
}

async fn a_retry_replays_the_first_response_and_writes_nothing(app: TestApp) {
    let body = json!({"name": "Caisse des dépôts", "kind": "funder"});
    let first = post_with_key(&app, &app.admin, "create-cdc-1", body.clone()).await;
    assert_eq!(first.status(), 201);
    let location = first.headers()["location"].clone();
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first_body = first.text().await.unwrap();
    for _ in 0..3 {
        let retry = post_with_key(&app, &app.admin, "create-cdc-1", body.clone()).await;
        assert_eq!(retry.status(), 201);
        assert_eq!(retry.headers()["location"], location);
        assert_eq!(retry.headers()["idempotent-replayed"], "true");
        assert_eq!(retry.text().await.unwrap(), first_body, "replayed exactly");
    }
    assert_eq!(
        organization_count(&app).await,
        1,
        "the retries wrote nothing"
    );
    let other = post_with_key(
        &app,
        &app.admin,
        "create-cdc-1",
        json!({"name": "Autre", "kind": "funder"}),
    )
    .await;
    assert_eq!(other.status(), 422);
    let problem: serde_json::Value = other.json().await.unwrap();
    assert_eq!(problem["code"], "idempotency_key_reused");
    assert_eq!(organization_count(&app).await, 1);
    // A refused request is kept too: retrying it gives the same refusal.
    let bad = json!({"name": "", "kind": "funder"});
    let first = post_with_key(&app, &app.admin, "bad-1", bad.clone()).await;
    assert_eq!(first.status(), 422);
    assert_eq!(
        post_with_key(&app, &app.admin, "bad-1", bad)
            .await
            .headers()["idempotent-replayed"],
        "true"
    );
    let too_long = post_with_key(&app, &app.admin, &"k".repeat(300), body).await;
    assert_eq!(too_long.status(), 400);
}

async fn keys_are_per_client_per_request_and_refused_in_flight(app: TestApp) {
    let body = json!({"name": "Cerema", "kind": "public_operator"});
    let mine = post_with_key(&app, &app.admin, "shared-key", body.clone()).await;
    assert_eq!(mine.status(), 201);
    let mine: serde_json::Value = mine.json().await.unwrap();
    // Another client's identical key is its own: it creates, and never sees the first response.
    let staff = app.token(Role::AnctStaff, None, None);
    let theirs = post_with_key(&app, &staff, "shared-key", body.clone()).await;
    assert_eq!(theirs.status(), 201);
    assert!(theirs.headers().get("idempotent-replayed").is_none());
    let theirs: serde_json::Value = theirs.json().await.unwrap();
    assert_ne!(mine["id"], theirs["id"]);

    // A key left in flight by an older version (which kept it apart from the write) is 409.
    let bytes = serde_json::to_vec(&body).unwrap();
    let mut h = Sha256::new();
    h.update(b"POST /api/v1/organizations?\n");
    h.update(&bytes);
    let fingerprint: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    entity_row(&app, "admin:admin@test", "in-flight", &fingerprint).await;
    let busy = app
        .client
        .post(format!("{}/api/v1/organizations", app.base))
        .bearer_auth(&app.admin)
        .header("Idempotency-Key", "in-flight")
        .header("content-type", "application/json")
        .body(bytes)
        .send()
        .await
        .unwrap();
    assert_eq!(busy.status(), 409);
    let problem: serde_json::Value = busy.json().await.unwrap();
    assert_eq!(problem["code"], "idempotency_request_in_flight");
}

async fn entity_row(app: &TestApp, client: &str, key: &str, fingerprint: &str) {
    fabriques_api::edge::idempotency::in_flight_row(client, key, fingerprint)
        .insert(&app.db)
        .await
        .expect("insert");
}

/// A POST to `path` with a key, as `token`; the answer is checked against the spec.
async fn send_with_key(
    app: &TestApp,
    token: &str,
    path: &str,
    key: &str,
    body: &serde_json::Value,
) -> crate::helpers::Resp {
    let res = app
        .client
        .post(format!("{}{path}", app.base))
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .expect("request");
    let status = res.status();
    let headers = res.headers().clone();
    let body: serde_json::Value = res.json().await.unwrap();
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    crate::conformance::check("POST", path, status.as_u16(), content_type, &body);
    crate::helpers::Resp {
        status,
        headers,
        body,
    }
}

/// Every idempotency record, as text: what a reader of the table would see.
async fn idempotency_table(app: &TestApp) -> String {
    use sea_orm::EntityTrait;
    entity::idempotency_key::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .iter()
        .map(|row| format!("{row:?}\n"))
        .collect()
}

/// The retry of a completed request whose answer carried a secret: refused, the secret not
/// shown, nothing run again.
fn assert_not_replayed(r: &crate::helpers::Resp, secret: &str, advice: &str) {
    r.assert_problem(409, "not_replayable");
    assert!(r.headers.get("idempotent-replayed").is_none());
    assert!(!r.body.to_string().contains(secret), "{}", r.body);
    let detail = r.body["detail"].as_str().unwrap();
    assert!(detail.contains(advice), "{detail}");
}

/// Answers that carry a secret (a client's creation and rotation, a webhook's creation) are
/// not kept with their key: the table never holds the secret, and a retry with the same key
/// neither runs the action again nor shows the secret; it is a 409 that says what to do.
async fn answers_with_a_secret_are_neither_kept_nor_replayed(app: TestApp) {
    use sea_orm::{EntityTrait, PaginatorTrait};
    let admin = app.admin.clone();
    let body = json!({"name": "Observatoire", "role": "anct_staff"});
    let created = send_with_key(&app, &admin, "/api/v1/clients", "new-client", &body).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["client_id"].as_str().unwrap().to_owned();
    let secret = created.body["client_secret"].as_str().unwrap().to_owned();
    let table = idempotency_table(&app).await;
    assert!(table.contains("new-client"), "the key is recorded: {table}");
    assert!(!table.contains(&secret), "the secret is kept: {table}");
    for _ in 0..2 {
        let retry = send_with_key(&app, &admin, "/api/v1/clients", "new-client", &body).await;
        assert_not_replayed(&retry, &secret, "rotate-secret");
        assert!(retry.body["detail"].as_str().unwrap().contains(&id));
    }
    assert_eq!(
        entity::api_client::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
        1,
        "the retries created no client"
    );
    // The other behaviours of a key stand: another request with it is still 422.
    send_with_key(
        &app,
        &admin,
        "/api/v1/clients",
        "new-client",
        &json!({"name": "Autre", "role": "anct_staff"}),
    )
    .await
    .assert_problem(422, "idempotency_key_reused");

    // A rotation: not kept, and its retry does not rotate again (the secret it gave works).
    let rotate = format!("/api/v1/clients/{id}/rotate-secret");
    let rotated = send_with_key(&app, &admin, &rotate, "rotate-1", &json!({})).await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let rotated_secret = rotated.body["client_secret"].as_str().unwrap().to_owned();
    let retry = send_with_key(&app, &admin, &rotate, "rotate-1", &json!({})).await;
    assert_not_replayed(&retry, &rotated_secret, "rotate");
    let table = idempotency_table(&app).await;
    assert!(!table.contains(&rotated_secret), "{table}");
    assert!(!table.contains(&secret), "{table}");
    let token = app.client_token(&id, &rotated_secret).await;

    // A webhook subscription: its signing secret is not kept either.
    let hook = json!({"url": "https://hooks.example.org/fabriques"});
    let created = send_with_key(&app, &token, "/api/v1/webhooks", "hook-1", &hook).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let hook_secret = created.body["secret"].as_str().unwrap().to_owned();
    let table = idempotency_table(&app).await;
    assert!(table.contains("hook-1"), "{table}");
    assert!(!table.contains(&hook_secret), "{table}");
    let retry = send_with_key(&app, &token, "/api/v1/webhooks", "hook-1", &hook).await;
    assert_not_replayed(&retry, &hook_secret, "webhook");
    assert_eq!(
        entity::webhook_subscription::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
        1,
        "the retry subscribed nothing"
    );
}

/// The records kept before answers with a secret stopped being kept lose the secret when the
/// migration runs; the others are left as they were.
async fn the_migration_scrubs_the_secrets_kept_before_it(app: TestApp) {
    use migration::{Migrator, MigratorTrait};
    use sea_orm::{EntityTrait, Set};
    // Back to the schema before the migration (and whatever came after it).
    let all = Migrator::migrations();
    let at = all
        .iter()
        .position(|m| m.name() == "m20261202_000001_idempotency_secrets")
        .expect("the migration");
    let after = u32::try_from(all.len() - at).unwrap();
    Migrator::down(&app.db, Some(after)).await.unwrap();
    let kept = [
        (
            "created-client",
            r#"{"client":{"id":"c1"},"client_id":"c1","client_secret":"fsec_kept_before"}"#,
        ),
        (
            "created-hook",
            r#"{"webhook":{"id":"w1"},"secret":"whsec_kept_before"}"#,
        ),
        ("created-org", r#"{"id":"o1","name":"Cerema"}"#),
    ];
    for (key, body) in kept {
        let mut row =
            fabriques_api::edge::idempotency::in_flight_row("admin:admin@test", key, "fp");
        row.state = Set("done".into());
        row.status = Set(Some(201));
        row.content_type = Set(Some("application/json".into()));
        row.body = Set(Some(body.into()));
        row.insert(&app.db).await.unwrap();
    }
    Migrator::up(&app.db, None).await.unwrap();
    let table = idempotency_table(&app).await;
    assert!(!table.contains("fsec_kept_before"), "{table}");
    assert!(!table.contains("whsec_kept_before"), "{table}");
    let state = |key: &'static str| {
        let db = app.db.clone();
        async move {
            entity::idempotency_key::Entity::find_by_id((
                "admin:admin@test".to_owned(),
                key.to_owned(),
            ))
            .one(&db)
            .await
            .unwrap()
            .unwrap()
        }
    };
    for key in ["created-client", "created-hook"] {
        let row = state(key).await;
        assert_eq!(row.state, "not_replayable", "{row:?}");
        assert_eq!(row.status, Some(201));
    }
    let org = state("created-org").await;
    assert_eq!(org.state, "done");
    assert_eq!(org.body.as_deref(), Some(kept[2].1));
}
