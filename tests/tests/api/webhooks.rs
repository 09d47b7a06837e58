//! Signed webhooks, end to end: a local receiver checks every signature, sees the retries,
//! the auto-disable and a manual redelivery. Private targets are refused by default.

use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::Duration;

use hmac::{Hmac, Mac};
use reqwest::Method;
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Mutex;

use crate::both_engines;
use crate::helpers::TestApp;
use fabriques_api::auth::Role;
use fabriques_api::config::ServiceOptions;

pub fn options() -> ServiceOptions {
    ServiceOptions {
        webhook_allow_private_targets: true,
        webhook_poll_ms: 50,
        webhook_backoff_ms: 50,
        webhook_max_attempts: 3,
        webhook_disable_after: 5,
        webhook_timeout_ms: 2000,
        ..crate::helpers::test_options()
    }
}

#[derive(Debug, Clone)]
struct Received {
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// A minimal HTTP/1.1 receiver: records each request, answers with the current status.
struct Receiver {
    url: String,
    status: Arc<AtomicU16>,
    seen: Arc<Mutex<Vec<Received>>>,
}

async fn receiver() -> Receiver {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks/fabriques", listener.local_addr().unwrap());
    let status = Arc::new(AtomicU16::new(200));
    let seen: Arc<Mutex<Vec<Received>>> = Arc::default();
    let (st, sn) = (status.clone(), seen.clone());
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let (st, sn) = (st.clone(), sn.clone());
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let head_end = loop {
                    let n = sock.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        break p + 4;
                    }
                };
                let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
                let headers: Vec<(String, String)> = head
                    .lines()
                    .skip(1)
                    .filter_map(|l| l.split_once(':'))
                    .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
                    .collect();
                let len: usize = headers
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                    .and_then(|(_, v)| v.parse().ok())
                    .unwrap_or(0);
                while buf.len() < head_end + len {
                    let n = sock.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        break;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
                let body = buf[head_end..].to_vec();
                sn.lock().await.push(Received { headers, body });
                let code = st.load(Ordering::SeqCst);
                let reply =
                    format!("HTTP/1.1 {code} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                let _ = sock.write_all(reply.as_bytes()).await;
            });
        }
    });
    Receiver { url, status, seen }
}

impl Receiver {
    async fn wait_for(&self, n: usize) -> Vec<Received> {
        for _ in 0..200 {
            let seen = self.seen.lock().await.clone();
            if seen.len() >= n {
                return seen;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "the receiver got {} request(s), expected {n}",
            self.seen.lock().await.len()
        );
    }
    async fn count(&self) -> usize {
        self.seen.lock().await.len()
    }
}

/// Checks `t=<unix>,v1=<hex>` as a receiver would; returns the event.
fn verify(secret: &str, r: &Received) -> Value {
    let sig = r.header("fabriques-signature").expect("signature header");
    let t = sig
        .split(',')
        .find_map(|p| p.strip_prefix("t="))
        .expect("t=");
    let v1 = sig
        .split(',')
        .find_map(|p| p.strip_prefix("v1="))
        .expect("v1=");
    let age = chrono::Utc::now().timestamp() - t.parse::<i64>().unwrap();
    assert!((0..300).contains(&age), "timestamp {t} is {age} s old");
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.").as_bytes());
    mac.update(&r.body);
    let expected: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(v1, expected, "signature");
    // The same signature does not fit another body.
    let mut other = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    other.update(format!("{t}.").as_bytes());
    other.update(b"{\"tampered\":true}");
    assert_ne!(
        v1,
        other
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    r.json()
}

async fn poll_until(
    app: &TestApp,
    token: &str,
    path: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    for _ in 0..200 {
        let r = app.raw(Method::GET, path, Some(token), None).await;
        assert_eq!(r.status, 200, "{}", r.body);
        if done(&r.body) {
            return r.body;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{path} never reached the expected state");
}

async fn webhooks_are_signed_retried_disabled_and_redelivered(app: TestApp) {
    let rx = receiver().await;
    let (id, secret) = app
        .client(json!({"name": "Observatoire", "role": "anct_staff"}))
        .await;
    let token = app.client_token(&id, &secret).await;
    let created = app
        .raw(
            Method::POST,
            "/api/v1/webhooks",
            Some(&token),
            Some(json!({"url": rx.url, "types": ["fabrique"]})),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let hook = created.body["webhook"]["id"].as_str().unwrap().to_owned();
    let hook_secret = created.body["secret"].as_str().unwrap().to_owned();
    assert!(hook_secret.starts_with("whsec_"));
    assert_eq!(created.body["webhook"]["client_id"], id);
    assert_eq!(created.body["webhook"]["types"], json!(["fabrique"]));
    // The secret is not shown again.
    let read = app
        .raw(
            Method::GET,
            &format!("/api/v1/webhooks/{hook}"),
            Some(&token),
            None,
        )
        .await;
    assert!(!read.body.to_string().contains(&hook_secret));

    // 1. A change is delivered once, signed; other types are not sent.
    app.org("Hors sujet", "other").await;
    let f1 = app
        .post("/api/v1/fabriques", json!({"title": "Première"}))
        .await
        .id();
    let got = rx.wait_for(1).await;
    let event = verify(&hook_secret, &got[0]);
    assert_eq!(event["entity_type"], "fabrique");
    assert_eq!(event["entity_id"], f1);
    assert_eq!(event["action"], "fabrique.created");
    assert_eq!(got[0].header("fabriques-event-id").unwrap(), event["id"]);
    assert_eq!(got[0].header("fabriques-webhook-id").unwrap(), hook);
    let log = poll_until(
        &app,
        &token,
        &format!("/api/v1/webhooks/{hook}/deliveries"),
        |b| b["items"][0]["status"] == "delivered",
    )
    .await;
    assert_eq!(log["items"].as_array().unwrap().len(), 1);
    assert_eq!(log["items"][0]["attempts"], 1);
    assert_eq!(log["items"][0]["last_status_code"], 200);

    // 2. A failing receiver sees the retries, then the delivery is given up.
    rx.status.store(500, Ordering::SeqCst);
    let f2 = app
        .post("/api/v1/fabriques", json!({"title": "Deuxième"}))
        .await
        .id();
    let got = rx.wait_for(4).await;
    let retries: Vec<&Received> = got[1..].iter().collect();
    let delivery_ids: Vec<&str> = retries
        .iter()
        .map(|r| r.header("fabriques-delivery-id").unwrap())
        .collect();
    assert!(
        delivery_ids.iter().all(|d| *d == delivery_ids[0]),
        "one delivery, retried"
    );
    for r in &retries {
        assert_eq!(verify(&hook_secret, r)["entity_id"], f2);
        assert_eq!(r.body, retries[0].body, "every attempt sends the same body");
    }
    let log = poll_until(
        &app,
        &token,
        &format!("/api/v1/webhooks/{hook}/deliveries?status=failed"),
        |b| b["items"].as_array().is_some_and(|a| a.len() == 1),
    )
    .await;
    let failed = &log["items"][0];
    assert_eq!(failed["attempts"], 3);
    assert_eq!(failed["last_status_code"], 500);
    assert!(failed["last_error"].as_str().unwrap().contains("500"));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(rx.count().await, 4, "no attempt after the last one");

    // 3. Manual redelivery, once the receiver is fixed: the same event, freshly signed.
    rx.status.store(200, Ordering::SeqCst);
    let redelivered = app
        .raw(
            Method::POST,
            &format!(
                "/api/v1/webhooks/{hook}/deliveries/{}/redeliver",
                failed["id"].as_str().unwrap()
            ),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(redelivered.status, 202, "{}", redelivered.body);
    let got = rx.wait_for(5).await;
    assert_eq!(verify(&hook_secret, &got[4])["entity_id"], f2);
    poll_until(
        &app,
        &token,
        &format!("/api/v1/webhooks/{hook}/deliveries?status=delivered"),
        |b| b["items"].as_array().is_some_and(|a| a.len() == 2),
    )
    .await;

    // 4. Failing again and again: after 5 failed attempts in a row the subscription is disabled.
    rx.status.store(503, Ordering::SeqCst);
    for title in ["Troisième", "Quatrième"] {
        app.post("/api/v1/fabriques", json!({"title": title})).await;
    }
    let hook_state = poll_until(&app, &token, &format!("/api/v1/webhooks/{hook}"), |b| {
        b["status"] == "disabled"
    })
    .await;
    assert!(
        hook_state["disabled_reason"]
            .as_str()
            .unwrap()
            .contains("failed attempts"),
        "{hook_state}"
    );
    assert!(hook_state["consecutive_failures"].as_i64().unwrap() >= 5);
    // An attempt already under way when it was disabled may still land: let it.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let settled = rx.count().await;
    app.post("/api/v1/fabriques", json!({"title": "Cinquième"}))
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        rx.count().await,
        settled,
        "a disabled subscription gets nothing"
    );

    // 5. Re-enabled, it delivers what is still pending, including what came meanwhile.
    rx.status.store(200, Ordering::SeqCst);
    let r = app
        .raw(
            Method::PATCH,
            &format!("/api/v1/webhooks/{hook}"),
            Some(&token),
            Some(json!({"status": "active"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["consecutive_failures"], 0);
    let mut seen_fifth = false;
    for _ in 0..200 {
        let got = rx.seen.lock().await.clone();
        seen_fifth = got[settled..]
            .iter()
            .any(|r| verify(&hook_secret, r)["state"]["title"] == "Cinquième");
        if seen_fifth {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        seen_fifth,
        "the change made while disabled is delivered once re-enabled"
    );

    // Another client sees neither the subscription nor its log.
    let (other, other_secret) = app
        .client(json!({"name": "Autre", "role": "analyst"}))
        .await;
    let other_token = app.client_token(&other, &other_secret).await;
    app.raw(
        Method::GET,
        &format!("/api/v1/webhooks/{hook}"),
        Some(&other_token),
        None,
    )
    .await
    .assert_problem(404, "not_found");
    let list = app
        .raw(Method::GET, "/api/v1/webhooks", Some(&other_token), None)
        .await;
    assert_eq!(list.body["items"], json!([]));
    // Deleting removes it with its log.
    let r = app
        .raw(
            Method::DELETE,
            &format!("/api/v1/webhooks/{hook}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(r.status, 204);
    app.raw(
        Method::GET,
        &format!("/api/v1/webhooks/{hook}"),
        Some(&token),
        None,
    )
    .await
    .assert_problem(404, "not_found");
}

both_engines!(with super::options(); webhooks_are_signed_retried_disabled_and_redelivered);

async fn private_targets_and_other_owners_are_refused(app: TestApp) {
    let (id, secret) = app
        .client(json!({"name": "Observatoire", "role": "anct_staff"}))
        .await;
    let token = app.client_token(&id, &secret).await;
    for url in [
        "http://example.org/hook",
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://10.1.2.3/hook",
        "https://192.168.1.10/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://[fe80::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://[::127.0.0.1]/hook",
        "https://[64:ff9b::7f00:1]/hook",
        "https://[2002:7f00:1::]/hook",
        "https://user:pw@example.org/hook",
        "ftp://example.org/hook",
        "not a url",
    ] {
        let r = app
            .raw(
                Method::POST,
                "/api/v1/webhooks",
                Some(&token),
                Some(json!({"url": url})),
            )
            .await;
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.body["errors"][0]["pointer"], "/url", "{url}: {}", r.body);
    }
    let r = app
        .raw(
            Method::POST,
            "/api/v1/webhooks",
            Some(&token),
            Some(json!({"url": "https://example.org/hook", "types": ["fabrique", "nope"]})),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["pointer"], "/types/1");
    let ok = app
        .raw(
            Method::POST,
            "/api/v1/webhooks",
            Some(&token),
            Some(json!({"url": "https://example.org/hook"})),
        )
        .await;
    assert_eq!(ok.status, 201, "{}", ok.body);
    // A person's token owns no webhook; an admin must name the client.
    let person = app.token(fabriques_api::auth::Role::AnctStaff, None, None);
    app.raw(
        Method::POST,
        "/api/v1/webhooks",
        Some(&person),
        Some(json!({"url": "https://example.org/hook"})),
    )
    .await
    .assert_problem(422, "machine_client_required");
    app.post(
        "/api/v1/webhooks",
        json!({"url": "https://example.org/hook"}),
    )
    .await
    .assert_problem(422, "validation_failed");
    let by_admin = app
        .post(
            "/api/v1/webhooks",
            json!({"url": "https://example.org/other", "client_id": id}),
        )
        .await;
    assert_eq!(by_admin.status, 201, "{}", by_admin.body);
    let mine = app
        .raw(Method::GET, "/api/v1/webhooks", Some(&token), None)
        .await;
    assert_eq!(mine.body["items"].as_array().unwrap().len(), 2);
    // Territories do not read the feed, so they cannot subscribe.
    let t = app.territory("Lorient", "commune", "56121").await;
    let (tid, tsecret) = app
        .client(json!({"name": "Lorient", "role": "territory", "territory_id": t}))
        .await;
    let ttoken = app.client_token(&tid, &tsecret).await;
    app.raw(
        Method::POST,
        "/api/v1/webhooks",
        Some(&ttoken),
        Some(json!({"url": "https://example.org/hook"})),
    )
    .await
    .assert_problem(403, "forbidden");
}

both_engines!(
    private_targets_and_other_owners_are_refused,
    a_client_holds_at_most_ten_subscriptions
);

/// The delivery worker's cost per client is bounded: the eleventh subscription is refused
/// with its blocker, and deleting one makes room again.
async fn a_client_holds_at_most_ten_subscriptions(app: TestApp) {
    let (id, secret) = app
        .client(json!({"name": "Observatoire", "role": "anct_staff"}))
        .await;
    let token = app.client_token(&id, &secret).await;
    let subscribe = |i: usize| {
        let app = &app;
        let token = token.clone();
        async move {
            app.raw(
                Method::POST,
                "/api/v1/webhooks",
                Some(&token),
                Some(json!({"url": format!("https://example.org/hook-{i}")})),
            )
            .await
        }
    };
    let mut first = None;
    for i in 0..10 {
        let r = subscribe(i).await;
        assert_eq!(r.status, 201, "{i}: {}", r.body);
        first.get_or_insert(r.body["webhook"]["id"].as_str().unwrap().to_owned());
    }
    let r = subscribe(10).await;
    r.assert_refused("webhook_limit_reached");
    let first = first.unwrap();
    let r = app
        .raw(
            Method::DELETE,
            &format!("/api/v1/webhooks/{first}"),
            Some(&token),
            None,
        )
        .await;
    assert!(r.status.is_success(), "{}", r.body);
    assert_eq!(subscribe(11).await.status, 201);
}

async fn several_workers_deliver_each_event_once(app: TestApp) {
    let rx = receiver().await;
    let (id, secret) = app
        .client(json!({"name": "Observatoire", "role": "anct_staff"}))
        .await;
    let token = app.client_token(&id, &secret).await;
    let r = app
        .raw(
            Method::POST,
            "/api/v1/webhooks",
            Some(&token),
            Some(json!({"url": rx.url, "types": ["fabrique"]})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let hook_secret = r.body["secret"].as_str().unwrap().to_owned();
    // Two more workers on the same database, as two more instances would run them.
    for _ in 0..2 {
        fabriques_api::jobs::webhooks::spawn(app.db.clone(), options());
    }
    let writes = (0..20).map(|i| app.post("/api/v1/fabriques", json!({"title": format!("F{i}")})));
    let ids: Vec<String> = futures_util::future::join_all(writes)
        .await
        .iter()
        .map(|r| r.id())
        .collect();
    let got = rx.wait_for(20).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    let got_after = rx.seen.lock().await.clone();
    assert_eq!(got_after.len(), got.len(), "no late duplicates");
    let mut delivered: Vec<String> = got_after
        .iter()
        .map(|r| {
            verify(&hook_secret, r)["entity_id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    delivered.sort();
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(delivered, expected, "each event exactly once");

    // Once the client is revoked, its subscriptions receive nothing more.
    let r = app
        .post(&format!("/api/v1/clients/{id}/revoke"), json!({}))
        .await;
    assert_eq!(r.status, 200);
    app.post("/api/v1/fabriques", json!({"title": "Après"}))
        .await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(rx.count().await, 20);
}

both_engines!(with super::options(); several_workers_deliver_each_event_once);

/// A receiver that accepts every connection and never answers (a hung server): it keeps the
/// sockets open and counts them.
async fn dead_receiver() -> (String, Arc<std::sync::atomic::AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks/hung", listener.local_addr().unwrap());
    let connections = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = connections.clone();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = listener.accept().await {
            seen.fetch_add(1, Ordering::SeqCst);
            held.push(sock);
        }
    });
    (url, connections)
}

/// Subscribes the machine client behind `token` to `url` (fabrique events); the webhook id.
async fn subscribe(app: &TestApp, token: &str, url: &str) -> (uuid::Uuid, String) {
    let r = app
        .raw(
            Method::POST,
            "/api/v1/webhooks",
            Some(token),
            Some(json!({"url": url, "types": ["fabrique"]})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    (
        r.body["webhook"]["id"].as_str().unwrap().parse().unwrap(),
        r.body["secret"].as_str().unwrap().to_owned(),
    )
}

/// The deliveries of one subscription as stored.
async fn deliveries(app: &TestApp, hook: uuid::Uuid) -> Vec<entity::webhook_delivery::Model> {
    use entity::webhook_delivery as delivery;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    delivery::Entity::find()
        .filter(delivery::Column::SubscriptionId.eq(hook))
        .order_by_asc(delivery::Column::Id)
        .all(&app.db)
        .await
        .unwrap()
}

/// Claimed and not yet recorded: the claim counted the attempt but no outcome is written yet
/// (these tests' receivers never answer, so every outcome has an error).
fn in_flight(d: &entity::webhook_delivery::Model) -> bool {
    d.status == "pending" && d.attempts == 1 && d.last_error.is_none()
}

/// Worst case for the deliveries of one subscription claimed together: if the j-th of them
/// (by lease) starts only after j - 1 attempts that each took the whole timeout, it is
/// recorded after j timeouts; its lease must still run then (with time left to record it).
fn assert_leases_cover_the_worst_case(
    claimed: &[entity::webhook_delivery::Model],
    timeout_ms: i64,
) {
    assert!(!claimed.is_empty());
    let claimed_at = claimed[0].last_attempt_at.unwrap();
    assert!(
        claimed
            .iter()
            .all(|d| d.last_attempt_at == Some(claimed_at)),
        "claimed together: {claimed:?}"
    );
    let mut leases: Vec<_> = claimed.iter().map(|d| d.next_attempt_at).collect();
    leases.sort();
    for (j, lease) in (1..).zip(&leases) {
        let worst = claimed_at
            + chrono::Duration::milliseconds(j * timeout_ms)
            + chrono::Duration::seconds(1);
        assert!(
            *lease >= worst,
            "the {j}th of {} deliveries claimed at {claimed_at} is leased until {lease}, \
             but may be recorded as late as {worst} ({j} attempts of {timeout_ms} ms, plus 1 s)",
            leases.len()
        );
    }
}

/// Head-of-line blocking: a subscription whose receiver hangs must not hold up another
/// subscription's deliveries. With six events queued for both, the healthy receiver gets all
/// of them well within one attempt timeout of the hung one, in order, while the hung one is
/// tried one delivery at a time, each lease outliving its attempt.
async fn a_hung_receiver_does_not_hold_up_other_subscriptions(app: TestApp) {
    let opts = hung_options;
    let timeout_ms = i64::try_from(opts().webhook_timeout_ms).unwrap();
    let (dead_url, dead_connections) = dead_receiver().await;
    let rx = receiver().await;
    let (id, secret) = app
        .client(json!({"name": "Observatoire", "role": "anct_staff"}))
        .await;
    let token = app.client_token(&id, &secret).await;
    // The hung receiver subscribes first: its deliveries come first in the queue.
    let (dead, _) = subscribe(&app, &token, &dead_url).await;
    let (healthy, healthy_secret) = subscribe(&app, &token, &rx.url).await;
    let mut ids = Vec::new();
    for i in 0..6 {
        ids.push(
            app.post("/api/v1/fabriques", json!({"title": format!("F{i}")}))
                .await
                .id(),
        );
    }
    fabriques_api::jobs::webhooks::spawn(app.db.clone(), opts());
    // From the moment both subscriptions have their six deliveries queued...
    let mut queued = false;
    for _ in 0..500 {
        if deliveries(&app, dead).await.len() == 6 && deliveries(&app, healthy).await.len() == 6 {
            queued = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(queued, "the events were never turned into deliveries");
    let start = std::time::Instant::now();
    // ...the healthy receiver has all six within two timeouts (on a sequential worker it
    // would wait for the six attempts of the hung one: six timeouts).
    let deadline = Duration::from_millis(2 * u64::try_from(timeout_ms).unwrap());
    while rx.count().await < 6 && start.elapsed() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let took = start.elapsed();
    let got = rx.seen.lock().await.clone();
    assert_eq!(
        got.len(),
        6,
        "the healthy receiver got {} of 6 deliveries in {took:?} (timeout {timeout_ms} ms, the \
         hung receiver had {} connections)",
        got.len(),
        dead_connections.load(Ordering::SeqCst)
    );
    let delivered: Vec<String> = got
        .iter()
        .map(|r| {
            verify(&healthy_secret, r)["entity_id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(delivered, ids, "each event once, in the order of the feed");
    // The hung subscription: one attempt at a time, several claimed, each lease covering the
    // worst case.
    assert_eq!(
        dead_connections.load(Ordering::SeqCst),
        1,
        "one attempt at a time per subscription"
    );
    let claimed: Vec<_> = deliveries(&app, dead)
        .await
        .into_iter()
        .filter(in_flight)
        .collect();
    assert!(claimed.len() > 1, "{claimed:?}");
    assert_leases_cover_the_worst_case(&claimed, timeout_ms);
    // And in fact: each of them is recorded (timed out) before its lease ends.
    let leases: std::collections::HashMap<_, _> =
        claimed.iter().map(|d| (d.id, d.next_attempt_at)).collect();
    let mut recorded = Vec::new();
    for _ in 0..1000 {
        recorded = deliveries(&app, dead)
            .await
            .into_iter()
            .filter(|d| leases.contains_key(&d.id) && !in_flight(d))
            .collect();
        if recorded.len() == leases.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(recorded.len(), leases.len(), "{recorded:?}");
    for d in &recorded {
        assert_eq!(d.last_error.as_deref(), Some("timed out"), "{d:?}");
        assert!(d.last_attempt_at.unwrap() < leases[&d.id], "{d:?}");
    }
}

/// The app runs no worker: the test starts one once the events are queued. A 1 s attempt
/// timeout, and no retry within the test.
fn hung_options() -> ServiceOptions {
    ServiceOptions {
        webhook_worker: false,
        webhook_timeout_ms: 1000,
        webhook_backoff_ms: 60_000,
        ..options()
    }
}

both_engines!(with super::hung_options(); a_hung_receiver_does_not_hold_up_other_subscriptions);

/// The lease of every delivery claimed for one subscription covers the worst case at the
/// default attempt timeout (10 s): its turn after the attempts claimed before it, each taking
/// the whole timeout, plus time to record the outcome. Another instance would otherwise claim
/// and send it again while this one is still working.
async fn leases_outlive_the_attempts_before_them(app: TestApp) {
    let opts = lease_options;
    let timeout_ms = i64::try_from(opts().webhook_timeout_ms).unwrap();
    let (dead_url, dead_connections) = dead_receiver().await;
    let (id, secret) = app
        .client(json!({"name": "Observatoire", "role": "anct_staff"}))
        .await;
    let token = app.client_token(&id, &secret).await;
    let (dead, _) = subscribe(&app, &token, &dead_url).await;
    for i in 0..10 {
        app.post("/api/v1/fabriques", json!({"title": format!("F{i}")}))
            .await;
    }
    fabriques_api::jobs::webhooks::spawn(app.db.clone(), opts());
    let mut claimed = Vec::new();
    for _ in 0..500 {
        claimed = deliveries(&app, dead)
            .await
            .into_iter()
            .filter(in_flight)
            .collect();
        if !claimed.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(claimed.len() > 1, "{claimed:?}");
    assert_leases_cover_the_worst_case(&claimed, timeout_ms);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(dead_connections.load(Ordering::SeqCst), 1);
}

/// The app runs no worker (the test starts one once the events are queued); attempts time
/// out after the default 10 s.
fn lease_options() -> ServiceOptions {
    ServiceOptions {
        webhook_worker: false,
        webhook_timeout_ms: ServiceOptions::default().webhook_timeout_ms,
        ..options()
    }
}

both_engines!(with super::lease_options(); leases_outlive_the_attempts_before_them);

both_engines!(with super::options(); client_and_webhook_administration_is_journalled_for_admins_only);

/// Creating, rotating and revoking a client, and subscribing, changing and deleting a webhook,
/// are journal entries: in the feed for admins, without a secret, and for nobody else.
async fn client_and_webhook_administration_is_journalled_for_admins_only(app: TestApp) {
    let rx = receiver().await;
    let (id, secret) = app
        .client(json!({"name": "Observatoire", "role": "anct_staff"}))
        .await;
    let token = app.client_token(&id, &secret).await;
    let created = app
        .raw(
            Method::POST,
            "/api/v1/webhooks",
            Some(&token),
            Some(json!({"url": rx.url, "types": ["fabrique"]})),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let hook = created.body["webhook"]["id"].as_str().unwrap().to_owned();
    let hook_secret = created.body["secret"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/webhooks/{hook}");
    let r = app
        .raw(
            Method::PATCH,
            &path,
            Some(&token),
            Some(json!({"types": ["fabrique", "seminar"]})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app.raw(Method::DELETE, &path, Some(&token), None).await;
    assert_eq!(r.status, 204, "{}", r.body);
    let rotated = app
        .post(&format!("/api/v1/clients/{id}/rotate-secret"), json!({}))
        .await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let new_secret = rotated.body["client_secret"].as_str().unwrap().to_owned();
    let r = app
        .post(&format!("/api/v1/clients/{id}/revoke"), json!({}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);

    let feed = |token: String| {
        let app = &app;
        async move {
            let r = app
                .raw(
                    Method::GET,
                    "/api/v1/events?types=client,webhook&limit=200",
                    Some(&token),
                    None,
                )
                .await;
            assert_eq!(r.status, 200, "{}", r.body);
            r.body
        }
    };
    let seen = feed(app.admin.clone()).await;
    let actions: Vec<(&str, &str)> = seen["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap(),
                e["entity_id"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        actions,
        [
            ("client.created", id.as_str()),
            ("webhook.created", hook.as_str()),
            ("webhook.updated", hook.as_str()),
            ("webhook.deleted", hook.as_str()),
            ("client.secret_rotated", id.as_str()),
            ("client.revoked", id.as_str()),
        ],
        "{seen}"
    );
    assert_eq!(
        seen["items"][2]["state"]["types"],
        json!(["fabrique", "seminar"])
    );
    assert_eq!(seen["items"][5]["state"]["status"], "revoked");
    let text = seen.to_string();
    for s in [&secret, &new_secret, &hook_secret] {
        assert!(
            !text.contains(s.as_str()),
            "a secret in the journal: {text}"
        );
    }
    assert!(!text.contains("argon2"), "{text}");
    // ANCT staff, an analyst: no administration events.
    for role in [Role::AnctStaff, Role::Analyst] {
        let other = feed(app.token(role, None, None)).await;
        assert_eq!(other["items"], json!([]), "{role:?}: {other}");
    }
}

both_engines!(with super::options(); delivery_logs_are_purged_after_their_retention);

/// Deliveries done with (delivered, failed) go after `delivery_retention_days`; pending ones
/// and recent ones stay; 0 keeps everything.
async fn delivery_logs_are_purged_after_their_retention(app: TestApp) {
    use entity::webhook_delivery as delivery;
    use sea_orm::{ActiveModelTrait, EntityTrait, Set};
    let rx = receiver().await;
    let (id, secret) = app
        .client(json!({"name": "Observatoire", "role": "anct_staff"}))
        .await;
    let token = app.client_token(&id, &secret).await;
    let created = app
        .raw(
            Method::POST,
            "/api/v1/webhooks",
            Some(&token),
            Some(json!({"url": rx.url, "types": ["programme"]})),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let hook: uuid::Uuid = created.body["webhook"]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    for n in 0..4 {
        app.org(&format!("Partenaire {n}"), "other").await;
    }
    let events: Vec<uuid::Uuid> = entity::event::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect();
    let now = chrono::Utc::now();
    let mut rows = Vec::new();
    for (n, (status, age_days)) in [
        ("delivered", 40),
        ("failed", 31),
        ("pending", 90),
        ("delivered", 3),
    ]
    .into_iter()
    .enumerate()
    {
        let at = now - chrono::Duration::days(age_days);
        let m = delivery::ActiveModel {
            id: Set(uuid::Uuid::now_v7()),
            subscription_id: Set(hook),
            event_id: Set(events[n]),
            payload: Set("{}".into()),
            status: Set(status.into()),
            attempts: Set(1),
            next_attempt_at: Set(at),
            last_attempt_at: Set(Some(at)),
            last_status_code: Set(Some(200)),
            last_error: Set(None),
            created_at: Set(at),
            delivered_at: Set((status == "delivered").then_some(at)),
        }
        .insert(&app.db)
        .await
        .unwrap();
        rows.push(m.id);
    }
    let keep_all = fabriques_api::config::ServiceOptions {
        delivery_retention_days: 0,
        ..Default::default()
    };
    let p = fabriques_api::jobs::purge::once(&app.db, &keep_all)
        .await
        .unwrap();
    assert_eq!(p.deliveries, 0);
    let p = fabriques_api::jobs::purge::once(&app.db, &Default::default())
        .await
        .unwrap();
    assert_eq!(p.deliveries, 2, "{p:?}");
    let left: Vec<uuid::Uuid> = delivery::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.id)
        .filter(|d| rows.contains(d))
        .collect();
    assert_eq!(
        left,
        rows[2..].to_vec(),
        "the pending and the recent one stay"
    );
}
