//! Purges of what is kept for a while only, every ten minutes: expired idempotency keys (kept
//! 24 hours), and the webhook deliveries done with (delivered or failed) older than
//! `FABRIQUES_DELIVERY_RETENTION_DAYS` (30 by default; their payloads may hold personal data).

use std::time::Duration;

use sea_orm::DatabaseConnection;

use crate::config::ServiceOptions;

/// What one round purged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Purged {
    pub idempotency_keys: u64,
    pub deliveries: u64,
}

/// One round of purges.
pub async fn once(db: &DatabaseConnection, options: &ServiceOptions) -> anyhow::Result<Purged> {
    let idempotency_keys = crate::edge::idempotency::purge_expired(db)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let deliveries = match options.delivery_retention_days {
        0 => 0,
        days => {
            let before = chrono::Utc::now() - chrono::Duration::days(i64::from(days));
            store::webhooks::purge_deliveries(db, before).await?
        }
    };
    Ok(Purged {
        idempotency_keys,
        deliveries,
    })
}

pub fn spawn(db: DatabaseConnection, options: ServiceOptions) {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(600)).await;
            match once(&db, &options).await {
                Ok(Purged {
                    idempotency_keys: 0,
                    deliveries: 0,
                }) => {}
                Ok(p) => tracing::info!(
                    idempotency_keys = p.idempotency_keys,
                    deliveries = p.deliveries,
                    "purged what is past its retention"
                ),
                Err(e) => tracing::warn!(error = %e, "purging failed"),
            }
        }
    });
}
