//! Purges of what is kept for a while only: expired idempotency keys, every ten minutes.

use std::time::Duration;

use sea_orm::DatabaseConnection;

pub fn spawn(db: DatabaseConnection) {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(600)).await;
            match crate::edge::idempotency::purge_expired(&db).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(purged = n, "expired idempotency keys purged"),
                Err(e) => tracing::warn!(error = %e, "purging idempotency keys failed"),
            }
        }
    });
}
