//! The change feed: ordered, filtered to what the caller may see, and never skipping an event
//! while writers commit concurrently.

use std::collections::HashSet;

use fabriques_api::auth::Role;
use reqwest::Method;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

use crate::both_engines;
use crate::helpers::TestApp;

both_engines!(
    the_feed_is_ordered_filtered_and_has_tombstones,
    a_reader_following_the_feed_misses_nothing_under_concurrent_writers
);

/// Follows the feed from `after` to its current end, as `token`. On PostgreSQL the feed holds
/// back events while any transaction of the cluster is open (other tests run beside this
/// one, some holding a transaction open on purpose), so an empty page is taken for the end
/// only once it stays empty for two seconds.
async fn drain(
    app: &TestApp,
    token: &str,
    after: Option<String>,
    extra: &str,
) -> (Vec<Value>, Option<String>) {
    let mut cursor = after;
    let mut out = Vec::new();
    let mut empty_polls = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/events?limit=50{extra}&after={c}"),
            None => format!("/api/v1/events?limit=50{extra}"),
        };
        let r = app.raw(Method::GET, &path, Some(token), None).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let items = r.body["items"].as_array().unwrap().clone();
        let next = r.body["next_cursor"].as_str().map(str::to_owned);
        if items.is_empty() {
            empty_polls += 1;
            if empty_polls >= 40 {
                return (out, next.or(cursor));
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            continue;
        }
        empty_polls = 0;
        out.extend(items);
        cursor = next;
    }
}

async fn the_feed_is_ordered_filtered_and_has_tombstones(app: TestApp) {
    let org = app.org("Éphémère", "other").await;
    app.raw(
        Method::DELETE,
        &format!("/api/v1/organizations/{org}"),
        Some(&app.admin),
        None,
    )
    .await;
    let draft = app
        .post("/api/v1/fabriques", json!({"title": "Brouillon secret"}))
        .await
        .id();
    let (open, _) = app.ready_fabrique(1, 8).await;
    app.transition(&format!("/api/v1/fabriques/{open}"), "open_recruitment")
        .await;

    let (all, cursor) = drain(&app, &app.admin, None, "").await;
    let ids: Vec<&str> = all.iter().filter_map(|e| e["id"].as_str()).collect();
    let unique: HashSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "no event twice");
    let tombstone = all
        .iter()
        .find(|e| e["action"] == "organization.deleted")
        .expect("a tombstone");
    assert_eq!(tombstone["deleted"], true);
    assert_eq!(tombstone["state"]["name"], "Éphémère");
    assert!(all.iter().any(|e| e["entity_id"] == draft.as_str()));
    // Nothing new: the same cursor comes back.
    let (none, again) = drain(&app, &app.admin, cursor.clone(), "").await;
    assert!(none.is_empty());
    assert_eq!(again, cursor);

    // A partner never sees the draft's events; a type filter keeps only that type.
    let amf = app.org("AMF", "elected_officials_association").await;
    let partner = app.token(Role::Partner, Some(&amf), None);
    let (seen, _) = drain(&app, &partner, None, "").await;
    assert!(
        !seen.iter().any(|e| e["fabrique_id"] == draft.as_str()),
        "draft events leaked"
    );
    assert!(seen.iter().any(|e| e["fabrique_id"] == open.as_str()));
    let (only, _) = drain(&app, &app.admin, None, "&types=organization").await;
    assert!(!only.is_empty() && only.iter().all(|e| e["entity_type"] == "organization"));
    let territory = app.token(
        Role::Territory,
        None,
        Some(&uuid::Uuid::now_v7().to_string()),
    );
    app.raw(Method::GET, "/api/v1/events", Some(&territory), None)
        .await
        .assert_problem(403, "forbidden");
    app.get("/api/v1/events?after=nonsense")
        .await
        .assert_problem(400, "invalid_query");
    // An unknown type is refused, naming the valid ones.
    let r = app.get("/api/v1/events?types=seminars").await;
    r.assert_problem(400, "invalid_query");
    let said = r.body.to_string();
    assert!(
        said.contains("seminars") && said.contains("`seminar`") && said.contains("`fabrique`"),
        "{said}"
    );

    // From now: an empty page whose cursor gives what comes next, and only that.
    let r = app.get("/api/v1/events?from=now").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["items"], json!([]));
    let now = r.body["next_cursor"].as_str().map(str::to_owned);
    assert!(now.is_some(), "{}", r.body);
    let (past, _) = drain(&app, &app.admin, now.clone(), "").await;
    assert!(past.is_empty(), "from now saw the past: {past:?}");
    let org = app.org("Cerema", "other").await;
    let (next, _) = drain(&app, &app.admin, now.clone(), "").await;
    assert_eq!(next.len(), 1, "{next:?}");
    assert_eq!(next[0]["entity_id"], org.as_str());
    let r = app
        .get(&format!(
            "/api/v1/events?from=now&after={}",
            now.unwrap_or_default()
        ))
        .await;
    r.assert_problem(400, "invalid_query");
    app.get("/api/v1/events?from=yesterday")
        .await
        .assert_problem(400, "invalid_query");
}

async fn a_reader_following_the_feed_misses_nothing_under_concurrent_writers(app: TestApp) {
    const WRITERS: usize = 24;
    let base = app.base.clone();
    let admin = app.admin.clone();
    let client = app.client.clone();
    let writers = tokio::spawn(async move {
        let mut tasks = Vec::new();
        for i in 0..WRITERS {
            let (client, base, admin) = (client.clone(), base.clone(), admin.clone());
            tasks.push(tokio::spawn(async move {
                client
                    .post(format!("{base}/api/v1/organizations"))
                    .bearer_auth(admin)
                    .json(&json!({"name": format!("Partenaire {i}"), "kind": "other"}))
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
            }));
        }
        let mut ok = 0;
        for t in tasks {
            if matches!(t.await, Ok(Ok(201))) {
                ok += 1;
            }
        }
        ok
    });
    // Follow the feed while they write.
    let mut seen: Vec<String> = Vec::new();
    let mut cursor: Option<String> = None;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while seen.len() < WRITERS && std::time::Instant::now() < deadline {
        let (items, next) = drain(&app, &app.admin, cursor.clone(), "&types=organization").await;
        seen.extend(
            items
                .iter()
                .filter_map(|e| e["id"].as_str().map(str::to_owned)),
        );
        cursor = next;
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    assert_eq!(writers.await.unwrap(), WRITERS, "every writer succeeded");
    let (rest, _) = drain(&app, &app.admin, cursor, "&types=organization").await;
    seen.extend(
        rest.iter()
            .filter_map(|e| e["id"].as_str().map(str::to_owned)),
    );
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "an event came twice");
    assert_eq!(
        seen.len(),
        WRITERS,
        "the follower saw every creation exactly once"
    );
    let in_db = entity_count(&app).await;
    let (all, _) = drain(&app, &app.admin, None, "").await;
    assert_eq!(
        all.len() as u64,
        in_db,
        "the feed from the start holds every event"
    );
}

async fn entity_count(app: &TestApp) -> u64 {
    entity::event::Entity::find().count(&app.db).await.unwrap()
}
