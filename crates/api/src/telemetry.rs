//! Prometheus metrics: what an operator graphs and alerts on.
//!
//! - `fabriques_http_requests_total` and `fabriques_http_requests_duration_seconds` (labels
//!   `endpoint`, the route's template such as `/api/v1/fabriques/{id}`, `method`, `status`),
//!   counted by actix-web-prom for every answer; unknown paths share the `UNKNOWN` endpoint,
//!   so a scan cannot grow the series;
//! - `fabriques_db_pool_connections` and `fabriques_db_pool_idle_connections`;
//! - `fabriques_webhook_deliveries_pending`, and `fabriques_webhook_attempts_total` by
//!   `outcome` (`delivered`, `failed`: retried later, `given_up`);
//! - `fabriques_rate_limit_refusals_total`.
//!
//! The counters are the process's (several apps in one test process add up); the gauges are
//! read from the database connection at each scrape.

use std::sync::OnceLock;

use prometheus::{Encoder, IntCounter, IntCounterVec, IntGauge, Opts, Registry, TextEncoder};
use sea_orm::{DatabaseBackend, DatabaseConnection};

/// The process-wide counters, made by the first [`Telemetry::new`].
struct Counters {
    refusals: IntCounter,
    attempts: IntCounterVec,
}

static COUNTERS: OnceLock<Counters> = OnceLock::new();

fn counters() -> prometheus::Result<&'static Counters> {
    if let Some(c) = COUNTERS.get() {
        return Ok(c);
    }
    let made = Counters {
        refusals: IntCounter::new(
            "fabriques_rate_limit_refusals_total",
            "Requests refused with 429 by the rate limiter",
        )?,
        attempts: IntCounterVec::new(
            Opts::new(
                "fabriques_webhook_attempts_total",
                "Webhook delivery attempts by outcome: delivered, failed (retried later), given_up",
            ),
            &["outcome"],
        )?,
    };
    Ok(COUNTERS.get_or_init(|| made))
}

/// Counts a request the rate limiter refused.
pub fn rate_limit_refused() {
    if let Some(c) = COUNTERS.get() {
        c.refusals.inc();
    }
}

/// Counts a webhook attempt: `delivered`, `failed` (retried later) or `given_up`.
pub fn webhook_attempt(outcome: &str) {
    if let Some(c) = COUNTERS.get() {
        c.attempts.with_label_values(&[outcome]).inc();
    }
}

/// One app's registry: the process-wide counters, the request metrics and the gauges.
#[derive(Clone)]
pub struct Telemetry {
    pub registry: Registry,
    pool: IntGauge,
    idle: IntGauge,
    pending: IntGauge,
}

impl Telemetry {
    pub fn new() -> prometheus::Result<Self> {
        let registry = Registry::new();
        let gauge = |name: &str, help: &str| -> prometheus::Result<IntGauge> {
            let g = IntGauge::new(name, help)?;
            registry.register(Box::new(g.clone()))?;
            Ok(g)
        };
        let pool = gauge(
            "fabriques_db_pool_connections",
            "Connections the database pool holds",
        )?;
        let idle = gauge(
            "fabriques_db_pool_idle_connections",
            "Connections of the pool that are idle",
        )?;
        let pending = gauge(
            "fabriques_webhook_deliveries_pending",
            "Webhook deliveries waiting for an attempt",
        )?;
        let counters = counters()?;
        registry.register(Box::new(counters.refusals.clone()))?;
        registry.register(Box::new(counters.attempts.clone()))?;
        for outcome in ["delivered", "failed", "given_up"] {
            counters.attempts.with_label_values(&[outcome]);
        }
        Ok(Self {
            registry,
            pool,
            idle,
            pending,
        })
    }

    /// The text exposition format, the gauges read now.
    pub async fn render(&self, db: &DatabaseConnection) -> String {
        let (size, idle) = match db.get_database_backend() {
            DatabaseBackend::Postgres => {
                let p = db.get_postgres_connection_pool();
                (p.size(), p.num_idle())
            }
            DatabaseBackend::Sqlite => {
                let p = db.get_sqlite_connection_pool();
                (p.size(), p.num_idle())
            }
            _ => (0, 0),
        };
        self.pool.set(i64::from(size));
        self.idle.set(i64::try_from(idle).unwrap_or(i64::MAX));
        match crate::jobs::webhooks::pending(db).await {
            Ok(n) => self.pending.set(i64::try_from(n).unwrap_or(i64::MAX)),
            Err(e) => tracing::warn!(error = %e, "metrics: counting pending webhook deliveries"),
        }
        let mut out = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut out) {
            tracing::warn!(error = %e, "metrics: encoding");
        }
        String::from_utf8(out).unwrap_or_default()
    }
}
