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
/// one writes, the other replays its answer or says it is in flight; never two writes.
async fn two_instances_racing_with_one_key_write_once(app: TestApp) {
    let second = app.second_instance().await;
    let before = organization_count(&app).await;
    for round in 0..6 {
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
                409 => assert_eq!(body["code"], "idempotency_request_in_flight", "{body}"),
                other => panic!("unexpected {other}: {body}"),
            }
        }
        assert!(!created.is_empty(), "one of them writes");
        assert!(
            created.iter().filter(|(replayed, _)| !replayed).count() == 1,
            "{created:?}"
        );
        assert!(
            created.iter().all(|(_, id)| *id == created[0].1),
            "{created:?}"
        );
    }
    assert_eq!(organization_count(&app).await, before + 6);
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

    // A request whose first attempt is still running (simulated: its row is in flight) is 409.
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
