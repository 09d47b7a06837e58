//! Signed webhooks: the delivery worker, the signature and the target-address policy.
//!
//! Policy:
//! - Each active subscription reads the change feed from its own cursor with its client's
//!   rights (the same visibility and redaction as `GET /events`); each event becomes one
//!   delivery whose body is fixed once, so that retries and redeliveries send the same bytes.
//! - Delivery is fair across subscriptions: a worker claims the due deliveries of at most
//!   `webhook_concurrency` subscriptions at once (those whose oldest due delivery has waited
//!   longest, leaving out those it is already delivering to), at most `PER_SUBSCRIPTION` (5)
//!   of each, oldest first, and delivers to each subscription in a task of its own. Within
//!   one subscription the attempts run one after another, first attempts in the order of the
//!   feed (a retry comes when its backoff ends): a receiver gets at most one request at a time
//!   from an instance, and a slow or dead receiver delays only its own queue (as long as fewer
//!   than `webhook_concurrency` are slow at once). Instances do not coordinate per
//!   subscription: two may deliver to the same one at once, out of order.
//! - Deliveries are claimed with `FOR UPDATE SKIP LOCKED` (PostgreSQL; SQLite has one writer,
//!   and a claim takes the write lock first) and leased: several instances never send the
//!   same attempt twice, and a crashed instance's claims come back when their lease ends. A
//!   claimed delivery's lease covers its worst case: the attempts claimed before it for its
//!   subscription and its own, each taking the whole `webhook_timeout_ms` (name resolution
//!   included), plus `LEASE_MARGIN` (30 s) to record the outcome; an attempt that could no
//!   longer be recorded within its lease is not started but handed back. Delivery is at least
//!   once: receivers deduplicate on the event id.
//! - A failed attempt (not 2xx, timeout, refused connection) is retried after an exponential
//!   backoff; after `webhook_max_attempts` the delivery fails (it can be redelivered by hand);
//!   after `webhook_disable_after` failed attempts in a row the subscription is disabled.
//! - Every request carries `Fabriques-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of
//!   "<t>.<body>" keyed with the subscription's secret>`.
//! - Targets must be https on public addresses, checked when subscribing and again at each
//!   attempt against what the name resolves to (the connection goes to the checked address);
//!   redirects are not followed. Configuration may allow private targets, for tests.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use entity::webhook_delivery as delivery;
use entity::webhook_subscription as subscription;
use hmac::{Hmac, Mac};
use sea_orm::sea_query::{Expr, ExprTrait, LockBehavior, LockType};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use sha2::Sha256;
use tokio::task::JoinSet;
use tokio::time::Instant;
use url::{Host, Url};
use uuid::Uuid;

use domain::{ClientStatus, DeliveryStatus, WebhookStatus};

use crate::config::ServiceOptions;

const ACTIVE: &str = WebhookStatus::Active.as_str();
const DISABLED: &str = WebhookStatus::Disabled.as_str();
const PENDING: &str = DeliveryStatus::Pending.as_str();
const DELIVERED: &str = DeliveryStatus::Delivered.as_str();
const FAILED: &str = DeliveryStatus::Failed.as_str();
const CLIENT_ACTIVE: &str = ClientStatus::Active.as_str();

/// The signature header.
pub const SIGNATURE_HEADER: &str = "Fabriques-Signature";
/// Due deliveries claimed at once for one subscription, then attempted one after another.
const PER_SUBSCRIPTION: u64 = 5;
/// What a claimed delivery's lease allows beyond the attempts before it and its own, each
/// taking the whole timeout: reading the subscription and recording each outcome.
const LEASE_MARGIN: Duration = Duration::from_secs(30);
/// An attempt starts only if its lease would still leave this long to record its outcome
/// after a timeout; otherwise (a very slow database) the delivery is handed back.
const RECORD_TIME: Duration = Duration::from_secs(10);
/// Events turned into deliveries per subscription per round.
const FAN_OUT: u32 = 100;
/// Longest retry delay.
const MAX_BACKOFF: Duration = Duration::from_secs(3600);

/// `t=<unix>,v1=<hex>`: the signature of `body` at time `t`.
pub fn signature(secret: &str, t: i64, body: &[u8]) -> String {
    // HMAC takes keys of any length: this cannot fail.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("t={t},v1={hex}")
}

fn is_public_v4(ip: std::net::Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240) // reserved
}

/// The IPv4 address an IPv6 address stands for, in the forms that reach one: IPv4-mapped
/// (`::ffff:a.b.c.d`), IPv4-translated (`::ffff:0:a.b.c.d`), IPv4-compatible (`::a.b.c.d`,
/// deprecated but still routed by some stacks), NAT64 (`64:ff9b::a.b.c.d`, RFC 6052), 6to4
/// (`2002:aabb:ccdd::`, RFC 3056) and Teredo (`2001:0::`, the client's address inverted in the
/// last 32 bits, RFC 4380).
fn embedded_v4(v6: std::net::Ipv6Addr) -> Option<std::net::Ipv4Addr> {
    let s = v6.segments();
    let low = |hi: u16, lo: u16| std::net::Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    if let Some(v4) = v6.to_ipv4_mapped() {
        return Some(v4);
    }
    match s {
        [0, 0, 0, 0, 0xffff, 0, hi, lo] => Some(low(hi, lo)),
        // `::` and `::1` are themselves (unspecified, loopback), not IPv4-compatible forms.
        [0, 0, 0, 0, 0, 0, hi, lo] if (hi, lo) != (0, 0) && (hi, lo) != (0, 1) => Some(low(hi, lo)),
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => Some(low(hi, lo)),
        [0x2002, hi, lo, ..] => Some(low(hi, lo)),
        [0x2001, 0, .., hi, lo] => Some(low(!hi, !lo)),
        _ => None,
    }
}

/// Whether an address is on the public internet (not private, loopback, link-local...). An
/// IPv6 address that carries an IPv4 one (see [`embedded_v4`]) is judged by that address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = embedded_v4(v6) {
                return is_public_v4(v4);
            }
            let [first, second, ..] = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local
                || (first & 0xffc0) == 0xfe80 // link-local
                || (first == 0x64 && second == 0xff9b) // local-use NAT64 (RFC 8215)
                || (first == 0x0100 && v6.segments()[1..4] == [0, 0, 0]) // discard-only
                || (first == 0x2001 && second == 0x0db8) // documentation
                || (first == 0x3fff && second < 0x1000)) // documentation (RFC 9637)
        }
    }
}

/// Checks a webhook URL when it is given; the address it resolves to is checked at each attempt.
pub fn check_url(raw: &str, allow_private: bool) -> Result<Url, String> {
    let url = Url::parse(raw.trim()).map_err(|e| format!("not an absolute URL: {e}"))?;
    match url.scheme() {
        "https" => {}
        "http" if allow_private => {}
        "http" => return Err("use https".into()),
        other => return Err(format!("the scheme `{other}` is not allowed: use https")),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("credentials in the URL are not allowed".into());
    }
    if url.fragment().is_some() {
        return Err("a fragment (#...) is not allowed".into());
    }
    match url.host() {
        None => return Err("the URL has no host".into()),
        Some(Host::Domain(d)) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            if !allow_private && (d == "localhost" || d.ends_with(".localhost") || !d.contains('.'))
            {
                return Err(format!("`{d}` is not a public host name"));
            }
        }
        Some(Host::Ipv4(ip)) if !allow_private && !is_public(IpAddr::V4(ip)) => {
            return Err(format!("{ip} is a private, loopback or reserved address"));
        }
        Some(Host::Ipv6(ip)) if !allow_private && !is_public(IpAddr::V6(ip)) => {
            return Err(format!("{ip} is a private, loopback or reserved address"));
        }
        Some(_) => {}
    }
    Ok(url)
}

/// Resolves the target and checks every address; returns the one to connect to.
async fn resolve(url: &Url, allow_private: bool) -> Result<Option<(String, SocketAddr)>, String> {
    let Some(Host::Domain(domain)) = url.host() else {
        return Ok(None);
    };
    let port = url.port_or_known_default().unwrap_or(443);
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((domain, port))
        .await
        .map_err(|e| format!("cannot resolve {domain}: {e}"))?
        .collect();
    let Some(first) = addrs.first().copied() else {
        return Err(format!("{domain} resolves to no address"));
    };
    if !allow_private && let Some(bad) = addrs.iter().find(|a| !is_public(a.ip())) {
        return Err(format!(
            "{domain} resolves to {}, a private address",
            bad.ip()
        ));
    }
    Ok(Some((domain.to_owned(), first)))
}

/// How many deliveries wait for an attempt (for the metrics).
pub async fn pending(db: &DatabaseConnection) -> Result<u64, sea_orm::DbErr> {
    use sea_orm::PaginatorTrait;
    delivery::Entity::find()
        .filter(delivery::Column::Status.eq(PENDING))
        .count(db)
        .await
}

/// Starts the worker on the current runtime: every `webhook_poll_ms` it turns new events
/// into deliveries; whenever it has a free slot (of `webhook_concurrency`) it claims the due
/// deliveries of the subscriptions it is not already delivering to, and delivers to each
/// subscription in a task of its own, so that a slow receiver holds up only its own queue.
pub fn spawn(db: DatabaseConnection, options: ServiceOptions) {
    tokio::spawn(async move {
        let poll = Duration::from_millis(std::cmp::Ord::max(options.webhook_poll_ms, 10));
        let slots = slots(&options);
        let options = Arc::new(options);
        let mut running: JoinSet<()> = JoinSet::new();
        // The subscription each running task delivers to.
        let mut busy: HashMap<tokio::task::Id, Uuid> = HashMap::new();
        let mut next_round = Instant::now();
        loop {
            if Instant::now() >= next_round {
                if let Err(e) = fan_out(&db).await {
                    tracing::warn!(error = %e, "webhook worker round failed");
                }
                next_round = Instant::now() + poll;
            }
            let free = slots.saturating_sub(running.len());
            let skip: HashSet<Uuid> = busy.values().copied().collect();
            match claim(&db, &options, &skip, free).await {
                Ok(claims) => {
                    for c in claims {
                        let sub = c.subscription;
                        let task = running.spawn(run(db.clone(), options.clone(), c));
                        busy.insert(task.id(), sub);
                    }
                }
                Err(e) => tracing::warn!(error = %e, "webhook worker claim failed"),
            }
            // Until the next round, or until a subscription's task ends: its slot is free.
            tokio::select! {
                () = tokio::time::sleep_until(next_round) => {}
                Some(done) = running.join_next_with_id() => {
                    let id = match done {
                        Ok((id, ())) => id,
                        Err(e) => {
                            tracing::error!(error = %e, "webhook delivery task ended abnormally");
                            e.id()
                        }
                    };
                    busy.remove(&id);
                }
            }
        }
    });
}

/// A subscription's task in the worker: its claimed deliveries, errors logged.
async fn run(db: DatabaseConnection, options: Arc<ServiceOptions>, claim: Claim) {
    let sub = claim.subscription;
    if let Err(e) = deliver(&db, &options, claim).await {
        tracing::warn!(webhook = %sub, error = %e, "webhook deliveries failed");
    }
}

/// Subscriptions delivered to at once (the option is at least 1; a struct built in code may
/// say 0).
fn slots(options: &ServiceOptions) -> usize {
    usize::from(std::cmp::Ord::max(options.webhook_concurrency, 1))
}

/// One round, to the end: turn new events into deliveries, then attempt the deliveries that
/// are due (a few per subscription, up to `webhook_concurrency` subscriptions at once).
pub async fn tick(db: &DatabaseConnection, options: &ServiceOptions) -> anyhow::Result<()> {
    fan_out(db).await?;
    let slots = slots(options);
    let claims = claim(db, options, &HashSet::new(), slots).await?;
    // At most `slots` subscriptions were claimed: they all start now, as their leases assume.
    let done =
        futures_util::future::join_all(claims.into_iter().map(|c| deliver(db, options, c))).await;
    done.into_iter().collect()
}

async fn fan_out(db: &DatabaseConnection) -> anyhow::Result<()> {
    let ids: Vec<Uuid> = subscription::Entity::find()
        .filter(subscription::Column::Status.eq(ACTIVE))
        .all(db)
        .await?
        .into_iter()
        .map(|s| s.id)
        .collect();
    for id in ids {
        let txn = store::begin_write(db).await?;
        // Another instance busy with this subscription: skip it this round.
        let Some(sub) = subscription::Entity::find_by_id(id)
            .filter(subscription::Column::Status.eq(ACTIVE))
            .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
            .one(&txn)
            .await?
        else {
            continue;
        };
        let Some(client) = entity::api_client::Entity::find_by_id(sub.client_id)
            .filter(entity::api_client::Column::Status.eq(CLIENT_ACTIVE))
            .one(&txn)
            .await?
        else {
            continue;
        };
        let caller = domain::Caller {
            subject: format!("client:{}", client.id),
            role: store::decode::decode("api_clients", "role", &client.role)?,
            organization: client.organization_id,
            territory: client.territory_id,
            client: Some(client.id),
            // A delivery is the feed read for the client: the read scope is what matters.
            scopes: domain::TokenScopes::ALL,
        };
        let access = store::access::load(&txn, caller).await?;
        let after = sub
            .cursor
            .as_deref()
            .and_then(|c| store::cursor::decode(c, store::cursor::KeyKind::Number))
            .and_then(|c| match c.key {
                Some(domain::query::CursorKey::Number(txid)) => Some((txid, c.id)),
                _ => None,
            });
        let request = domain::query::FeedRequest {
            after,
            now: false,
            types: store::webhooks::types_of(&sub)?,
            limit: FAN_OUT,
        };
        let page = store::events::feed(&txn, &access, &request).await?;
        if page.items.is_empty() {
            continue;
        }
        let now = Utc::now();
        for event in &page.items {
            delivery::ActiveModel {
                id: Set(Uuid::now_v7()),
                subscription_id: Set(sub.id),
                event_id: Set(event.id),
                payload: Set(serde_json::to_string(event)?),
                status: Set(PENDING.into()),
                attempts: Set(0),
                next_attempt_at: Set(now),
                last_attempt_at: Set(None),
                last_status_code: Set(None),
                last_error: Set(None),
                created_at: Set(now),
                delivered_at: Set(None),
            }
            .insert(&txn)
            .await?;
        }
        subscription::Entity::update_many()
            .col_expr(
                subscription::Column::Cursor,
                Expr::value(page.next.as_ref().map(store::cursor::encode)),
            )
            .filter(subscription::Column::Id.eq(sub.id))
            .exec(&txn)
            .await?;
        txn.commit().await?;
    }
    Ok(())
}

fn backoff(options: &ServiceOptions, attempts: i32) -> Duration {
    let exp = u32::try_from(attempts.saturating_sub(1).clamp(0, 20)).unwrap_or(20);
    Duration::from_millis(options.webhook_backoff_ms.saturating_mul(1u64 << exp)).min(MAX_BACKOFF)
}

/// The subscriptions that may receive: active, of an active client (a revoked client's
/// subscriptions receive nothing more).
fn deliverable() -> sea_orm::sea_query::SelectStatement {
    sea_orm::sea_query::Query::select()
        .column(subscription::Column::Id)
        .from(subscription::Entity)
        .and_where(Expr::col(subscription::Column::Status).eq(ACTIVE))
        .and_where(
            Expr::col(subscription::Column::ClientId).in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(entity::api_client::Column::Id)
                    .from(entity::api_client::Entity)
                    .and_where(Expr::col(entity::api_client::Column::Status).eq(CLIENT_ACTIVE))
                    .to_owned(),
            ),
        )
        .to_owned()
}

/// One subscription's claimed deliveries, oldest first, each with the end of its lease.
struct Claim {
    subscription: Uuid,
    deliveries: Vec<(delivery::Model, DateTime<Utc>)>,
}

/// When the lease of the delivery at `position` (from 0) of a claim made at `now` ends: after
/// the attempts before it and its own, each taking the whole timeout, plus the margin.
fn lease_end(options: &ServiceOptions, now: DateTime<Utc>, position: usize) -> DateTime<Utc> {
    let attempts = u32::try_from(position).map_or(u32::MAX, |p| p.saturating_add(1));
    let worst = Duration::from_millis(options.webhook_timeout_ms)
        .saturating_mul(attempts)
        .saturating_add(LEASE_MARGIN);
    chrono::Duration::from_std(worst)
        .ok()
        .and_then(|d| now.checked_add_signed(d))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Claims the due deliveries of at most `subscriptions` subscriptions (those whose oldest due
/// delivery has waited longest, but those in `skip`): up to [`PER_SUBSCRIPTION`] each, oldest
/// first, each leased for its own worst case ([`lease_end`]). The claim counts the attempt, so
/// that a crash mid-attempt counts too.
async fn claim(
    db: &DatabaseConnection,
    options: &ServiceOptions,
    skip: &HashSet<Uuid>,
    subscriptions: usize,
) -> anyhow::Result<Vec<Claim>> {
    if subscriptions == 0 {
        return Ok(Vec::new());
    }
    let now = Utc::now();
    let txn = store::begin_write(db).await?;
    if txn.get_database_backend() == DbBackend::Sqlite {
        // SQLite has one writer and no SKIP LOCKED: take the write lock before reading, so
        // that an outcome being recorded meanwhile makes this claim wait (busy timeout)
        // rather than fail when it would upgrade its read lock.
        txn.execute_unprepared("UPDATE webhook_deliveries SET attempts = attempts WHERE 0")
            .await?;
    }
    let mut waiting = delivery::Entity::find()
        .select_only()
        .column(delivery::Column::SubscriptionId)
        .filter(delivery::Column::Status.eq(PENDING))
        .filter(delivery::Column::NextAttemptAt.lte(now))
        .filter(delivery::Column::SubscriptionId.in_subquery(deliverable()));
    if !skip.is_empty() {
        waiting = waiting.filter(delivery::Column::SubscriptionId.is_not_in(skip.iter().copied()));
    }
    let chosen: Vec<Uuid> = waiting
        .group_by(delivery::Column::SubscriptionId)
        .order_by_asc(Expr::col(delivery::Column::NextAttemptAt).min())
        .limit(u64::try_from(subscriptions).unwrap_or(u64::MAX))
        .into_tuple()
        .all(&txn)
        .await?;
    let mut claims = Vec::new();
    for sub in chosen {
        // Rows another instance is claiming are skipped (PostgreSQL); the conditions are
        // checked again on a row claimed since this statement's snapshot.
        let due = delivery::Entity::find()
            .filter(delivery::Column::SubscriptionId.eq(sub))
            .filter(delivery::Column::Status.eq(PENDING))
            .filter(delivery::Column::NextAttemptAt.lte(now))
            .order_by_asc(delivery::Column::NextAttemptAt)
            .order_by_asc(delivery::Column::Id)
            .limit(PER_SUBSCRIPTION)
            .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
            .all(&txn)
            .await?;
        let mut deliveries = Vec::with_capacity(due.len());
        for (position, d) in due.into_iter().enumerate() {
            let until = lease_end(options, now, position);
            delivery::Entity::update_many()
                .col_expr(
                    delivery::Column::Attempts,
                    Expr::col(delivery::Column::Attempts).add(1),
                )
                .col_expr(delivery::Column::LastAttemptAt, Expr::value(now))
                .col_expr(delivery::Column::NextAttemptAt, Expr::value(until))
                .filter(delivery::Column::Id.eq(d.id))
                .exec(&txn)
                .await?;
            deliveries.push((d, until));
        }
        if !deliveries.is_empty() {
            claims.push(Claim {
                subscription: sub,
                deliveries,
            });
        }
    }
    txn.commit().await?;
    Ok(claims)
}

/// Attempts one subscription's claimed deliveries one after another, in order: its receiver
/// sees at most one request at a time from this instance.
async fn deliver(
    db: &DatabaseConnection,
    options: &ServiceOptions,
    claim: Claim,
) -> anyhow::Result<()> {
    let timeout = Duration::from_millis(options.webhook_timeout_ms);
    let worst = chrono::Duration::from_std(timeout.saturating_add(RECORD_TIME)).ok();
    for (d, until) in claim.deliveries {
        let sub = subscription::Entity::find_by_id(claim.subscription)
            .one(db)
            .await?
            // Disabled or deleted since the claim (by an earlier attempt, say).
            .filter(|s| s.status == ACTIVE);
        // Its lease might end before a timed-out attempt is recorded (the database was slow).
        // A timeout too long to add to a date has a lease without end (`lease_end`).
        let late = worst
            .and_then(|w| Utc::now().checked_add_signed(w))
            .is_some_and(|t| t > until);
        let Some(sub) = sub.filter(|_| !late) else {
            if late {
                tracing::warn!(delivery = %d.id, "webhook delivery handed back: lease too short");
            }
            // Hand the delivery back untouched, due again (once the subscription is active).
            delivery::Entity::update_many()
                .col_expr(delivery::Column::Attempts, Expr::value(d.attempts))
                .col_expr(
                    delivery::Column::LastAttemptAt,
                    Expr::value(d.last_attempt_at),
                )
                .col_expr(
                    delivery::Column::NextAttemptAt,
                    Expr::value(d.next_attempt_at),
                )
                .filter(delivery::Column::Id.eq(d.id))
                .exec(db)
                .await?;
            continue;
        };
        // The whole attempt, name resolution included, within the timeout the lease assumes.
        let outcome = tokio::time::timeout(timeout, attempt(&sub, &d, options))
            .await
            .unwrap_or_else(|_| Err("timed out".to_owned()));
        record(db, options, &sub, d, outcome).await?;
    }
    Ok(())
}

/// The receiver's status, or why there was none.
type Outcome = Result<u16, String>;

async fn attempt(
    sub: &subscription::Model,
    d: &delivery::Model,
    options: &ServiceOptions,
) -> Outcome {
    let allow_private = options.webhook_allow_private_targets;
    let url = check_url(&sub.url, allow_private)?;
    // No proxy from the environment: a proxy would connect to the target itself, after the
    // address check, and could reach what the check refuses.
    let mut builder = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_millis(options.webhook_timeout_ms))
        .user_agent(concat!("fabriques-webhooks/", env!("CARGO_PKG_VERSION")));
    if let Some((domain, addr)) = resolve(&url, allow_private).await? {
        builder = builder.resolve(&domain, addr);
    }
    let client = builder.build().map_err(|e| e.to_string())?;
    let t = Utc::now().timestamp();
    let res = client
        .post(url)
        .header("Content-Type", "application/json")
        .header(
            SIGNATURE_HEADER,
            signature(&sub.secret, t, d.payload.as_bytes()),
        )
        .header("Fabriques-Webhook-Id", sub.id.to_string())
        .header("Fabriques-Delivery-Id", d.id.to_string())
        .header("Fabriques-Event-Id", d.event_id.to_string())
        .body(d.payload.clone())
        .send()
        .await
        .map_err(|e| {
            if e.is_timeout() {
                "timed out".to_owned()
            } else if e.is_connect() {
                "connection failed".to_owned()
            } else {
                format!("request failed: {e}")
            }
        })?;
    Ok(res.status().as_u16())
}

async fn record(
    db: &DatabaseConnection,
    options: &ServiceOptions,
    sub: &subscription::Model,
    d: delivery::Model,
    outcome: Outcome,
) -> anyhow::Result<()> {
    let now = Utc::now();
    let attempts = d.attempts + 1;
    let mut a: delivery::ActiveModel = d.into();
    a.attempts = Set(attempts);
    a.last_attempt_at = Set(Some(now));
    let success = matches!(outcome, Ok(s) if (200..300).contains(&s));
    let (code, error) = match &outcome {
        Ok(s) if success => (Some(i32::from(*s)), None),
        Ok(s) => (
            Some(i32::from(*s)),
            Some(format!("the receiver answered {s}")),
        ),
        Err(e) => (None, Some(e.chars().take(500).collect::<String>())),
    };
    a.last_status_code = Set(code);
    a.last_error = Set(error.clone());
    let outcome = if success {
        a.status = Set(DELIVERED.into());
        a.delivered_at = Set(Some(now));
        "delivered"
    } else if attempts >= i32::try_from(options.webhook_max_attempts).unwrap_or(i32::MAX) {
        a.status = Set(FAILED.into());
        "given_up"
    } else {
        a.next_attempt_at = Set(now + backoff(options, attempts));
        "failed"
    };
    crate::telemetry::webhook_attempt(outcome);
    let txn = store::begin_write(db).await?;
    a.update(&txn).await?;
    if success {
        subscription::Entity::update_many()
            .col_expr(subscription::Column::ConsecutiveFailures, Expr::value(0))
            .filter(subscription::Column::Id.eq(sub.id))
            .exec(&txn)
            .await?;
    } else {
        subscription::Entity::update_many()
            .col_expr(
                subscription::Column::ConsecutiveFailures,
                Expr::col(subscription::Column::ConsecutiveFailures).add(1),
            )
            .filter(subscription::Column::Id.eq(sub.id))
            .exec(&txn)
            .await?;
        let limit = i32::try_from(options.webhook_disable_after).unwrap_or(i32::MAX);
        let disabled = subscription::Entity::update_many()
            .col_expr(subscription::Column::Status, Expr::value(DISABLED))
            .col_expr(
                subscription::Column::DisabledReason,
                Expr::value(format!(
                    "disabled after {limit} failed attempts in a row; last: {}",
                    error.unwrap_or_default()
                )),
            )
            .col_expr(subscription::Column::UpdatedAt, Expr::value(now))
            .filter(subscription::Column::Id.eq(sub.id))
            .filter(subscription::Column::Status.eq(ACTIVE))
            .filter(subscription::Column::ConsecutiveFailures.gte(limit))
            .exec(&txn)
            .await?;
        if disabled.rows_affected > 0 {
            tracing::warn!(webhook = %sub.id, "webhook disabled after repeated failures");
        }
    }
    txn.commit().await?;
    Ok(())
}

/// Documents the delivered events in the spec's `webhooks` section (OpenAPI 3.1).
pub fn document(api: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::path::{
        HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItem,
    };
    use utoipa::openapi::request_body::RequestBodyBuilder;
    use utoipa::openapi::{
        ContentBuilder, ObjectBuilder, PathsBuilder, Ref, Required, ResponseBuilder, Type,
    };

    let header = |name: &str, description: &str| {
        ParameterBuilder::new()
            .name(name)
            .parameter_in(ParameterIn::Header)
            .required(Required::True)
            .description(Some(description))
            .schema(Some(ObjectBuilder::new().schema_type(Type::String).build()))
            .build()
    };
    let op = OperationBuilder::new()
        .operation_id(Some("webhook_event"))
        .tag("webhook events")
        .summary(Some("A change, POSTed to each subscribed client's URL"))
        .description(Some(
            "The body is the change-feed event (as in `GET /api/v1/events`), seen with the client's rights. Verify `Fabriques-Signature` before trusting it: `t=<unix seconds>,v1=<hex>`, where v1 is HMAC-SHA256, keyed with the subscription's secret, of `<t>.<raw body>`; refuse a `t` older than 5 minutes. Delivery is at least once: deduplicate on `Fabriques-Event-Id`. Answer 2xx within 10 s; anything else is retried with exponential backoff, and a subscription failing repeatedly is disabled.",
        ))
        .parameter(header(SIGNATURE_HEADER, "t=<unix seconds>,v1=<hex HMAC-SHA256 of \"<t>.<body>\">"))
        .parameter(header("Fabriques-Webhook-Id", "The subscription"))
        .parameter(header("Fabriques-Delivery-Id", "The delivery (the same on every retry)"))
        .parameter(header("Fabriques-Event-Id", "The event: deduplicate on it"))
        .request_body(Some(
            RequestBodyBuilder::new()
                .required(Some(Required::True))
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("FeedEventResponse")))
                        .build(),
                )
                .build(),
        ))
        .response("2XX", ResponseBuilder::new().description("Received").build())
        // The receiver checks the signature; no credentials are sent.
        .securities(Some([utoipa::openapi::security::SecurityRequirement::default()]))
        // What the server calls, not an operation of a client: generators leave it out (they
        // would emit a method POSTing to `change`, which does not compile in TypeScript).
        .extensions(Some(
            utoipa::openapi::extensions::ExtensionsBuilder::new()
                .add("x-internal", true)
                .build(),
        ))
        .build();
    api.webhooks = Some(
        PathsBuilder::new()
            .path("change", PathItem::new(HttpMethod::Post, op))
            .build(),
    );
}

#[cfg(test)]
mod tests {
    use super::is_public;
    use std::net::IpAddr;

    #[test]
    fn each_lease_covers_the_attempts_claimed_before_it_and_its_own() {
        let options = crate::config::ServiceOptions {
            webhook_timeout_ms: 10_000,
            ..Default::default()
        };
        let now = chrono::Utc::now();
        let after = |position| (super::lease_end(&options, now, position) - now).num_seconds();
        assert_eq!(after(0), 40);
        assert_eq!(after(4), 80);
        let absurd = crate::config::ServiceOptions {
            webhook_timeout_ms: u64::MAX,
            ..Default::default()
        };
        assert_eq!(
            super::lease_end(&absurd, now, 1),
            chrono::DateTime::<chrono::Utc>::MAX_UTC
        );
    }

    fn public(ip: &str) -> bool {
        is_public(ip.parse::<IpAddr>().unwrap())
    }

    #[test]
    fn ipv6_forms_of_private_ipv4_addresses_are_private() {
        for ip in [
            "::ffff:127.0.0.1",                     // mapped
            "::ffff:0:10.0.0.1",                    // translated
            "::127.0.0.1",                          // compatible
            "::169.254.169.254",                    // compatible, the metadata service
            "64:ff9b::7f00:1",                      // NAT64 of 127.0.0.1
            "64:ff9b::a9fe:a9fe",                   // NAT64 of 169.254.169.254
            "64:ff9b:1::1",                         // local-use NAT64
            "2002:7f00:1::",                        // 6to4 of 127.0.0.1
            "2002:c0a8:101::1",                     // 6to4 of 192.168.1.1
            "2001:0:4136:e378:8000:63bf:80ff:fffe", // Teredo, client 127.0.0.1
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "100::1",
            "2001:db8::1",
            "3fff::1",
        ] {
            assert!(!public(ip), "{ip} is public?");
        }
    }

    #[test]
    fn public_addresses_in_every_form_are_public() {
        for ip in [
            "93.184.215.14",
            "::ffff:93.184.215.14",
            "64:ff9b::5db8:d70e",
            "2002:5db8:d70e::1",
            "2606:4700::1111",
            "2a00:1450:4007:80e::200e",
        ] {
            assert!(public(ip), "{ip} is private?");
        }
    }
}
