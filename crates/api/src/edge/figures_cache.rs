//! A cache of computed figures (`/stats/overview`, `/stats/breakdown`): a dashboard asking
//! for the same figures again does not make the database aggregate every seminar again.
//!
//! Policy:
//! - An entry is keyed by the figures asked for, the selection as parsed (the same however the
//!   query writes it: values in another order or repeated), and what the caller may see; it is
//!   stored with the figures' version read *before* it was computed
//!   ([`store::figures::version`]: a counter that every write able to change a figure moves
//!   on in its own transaction). It is served only while the version is unchanged, so such a
//!   write, committed through this instance or another one on the same database, makes the
//!   next request compute afresh; a write that changes no figure (a lesson, a testimony, a new
//!   organization, a Fabrique's title or description) keeps the entries.
//! - Entries also expire after `FABRIQUES_STATS_CACHE_SECONDS` (30 by default; 0 turns the
//!   cache off). That bounds the staleness the version cannot see: rows changed by hand in
//!   the database.
//! - Each instance has its own cache, up to 32 MiB: nothing is shared between instances.
//! - Concurrent requests for figures being computed wait for that one computation: after a
//!   write, a dashboard's simultaneous requests aggregate once.
//! - Answers say `Cache-Status: fabriques; hit` or `fabriques; fwd=miss|stale` (RFC 9211).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use actix_web::HttpResponse;
use actix_web::http::header::ContentType;
use actix_web::web::Bytes;
use sea_orm::ConnectionTrait;
use serde::Serialize;

use super::error::ApiError;

/// Shared by every worker of an instance (clones share the entries).
#[derive(Clone)]
pub struct FiguresCache(Option<Caches>);

#[derive(Clone)]
struct Caches {
    /// The answers, keyed by data version and figures asked for. Concurrent requests for an
    /// entry being computed wait for that one computation (after a write, a dashboard's
    /// simultaneous requests aggregate once, not once each).
    answers: moka::future::Cache<String, Bytes>,
    /// The data version each key was last computed at: tells `stale` from `miss`.
    versions: moka::sync::Cache<String, String>,
}

impl FiguresCache {
    /// A cache whose entries live `ttl_seconds` at most; none at all for 0.
    pub fn new(ttl_seconds: u64) -> Self {
        if ttl_seconds == 0 {
            return Self(None);
        }
        let ttl = Duration::from_secs(ttl_seconds);
        Self(Some(Caches {
            answers: moka::future::Cache::builder()
                .max_capacity(32 * 1024 * 1024)
                .weigher(|k: &String, v: &Bytes| {
                    u32::try_from(k.len() + v.len()).unwrap_or(u32::MAX)
                })
                .time_to_live(ttl)
                .build(),
            versions: moka::sync::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(ttl)
                .build(),
        }))
    }

    /// `compute`'s value as a JSON answer, from the cache while the data is unchanged.
    pub async fn json<T, F, Fut>(
        &self,
        db: &impl ConnectionTrait,
        key: String,
        compute: F,
    ) -> Result<HttpResponse, ApiError>
    where
        T: Serialize,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, ApiError>>,
    {
        let encode = |value: &T| {
            serde_json::to_vec(value)
                .map(Bytes::from)
                .map_err(|e| ApiError::Internal(e.into()))
        };
        let Some(caches) = &self.0 else {
            let body = encode(&compute().await?)?;
            return Ok(HttpResponse::Ok()
                .content_type(ContentType::json())
                .body(body));
        };
        let version = store::figures::version(db).await?;
        let entry = format!("{version}\u{1f}{key}");
        let (status, body) = match caches.answers.get(&entry).await {
            Some(body) => ("hit", body),
            None => {
                let body = caches
                    .answers
                    .try_get_with(entry, async { encode(&compute().await?) })
                    .await
                    .map_err(shared)?;
                let before = caches.versions.get(&key);
                caches.versions.insert(key, version.clone());
                let stale = before.is_some_and(|v| v != version);
                (if stale { "stale" } else { "miss" }, body)
            }
        };
        Ok(HttpResponse::Ok()
            .content_type(ContentType::json())
            .insert_header((
                "cache-status",
                if status == "hit" {
                    "fabriques; hit".to_owned()
                } else {
                    format!("fabriques; fwd={status}")
                },
            ))
            .body(body))
    }
}

/// The error of a computation other requests waited for: the computing request's own, or
/// the same kind of answer for those that waited.
fn shared(e: Arc<ApiError>) -> ApiError {
    Arc::try_unwrap(e).unwrap_or_else(|e| match &*e {
        ApiError::Unavailable { fault, cause } => ApiError::Unavailable {
            fault: *fault,
            cause: cause.clone(),
        },
        other => ApiError::Internal(anyhow::anyhow!("figures: {other}")),
    })
}
