//! The change feed's order: each event records the transaction that wrote it.
//!
//! A reader that pages by a sequence could skip an event whose transaction commits after a
//! later-numbered one. On PostgreSQL each event stores its writer's transaction id
//! (`pg_current_xact_id()`), and the feed only serves events of transactions older than every
//! transaction still running (the snapshot's xmin): those can no longer change, so a cursor
//! over (txid, id) never misses one. SQLite runs one writer at a time, so there txid is 0 and
//! the order of ids is the order of commits.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        let add = match m.get_database_backend() {
            DatabaseBackend::Postgres => {
                "ALTER TABLE events ADD COLUMN txid BIGINT NOT NULL DEFAULT (pg_current_xact_id()::text::bigint)"
            }
            _ => "ALTER TABLE events ADD COLUMN txid BIGINT NOT NULL DEFAULT 0",
        };
        db.execute_unprepared(add).await?;
        db.execute_unprepared("CREATE INDEX ix_events_feed ON events (txid, id)")
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        db.execute_unprepared("DROP INDEX ix_events_feed").await?;
        db.execute_unprepared("ALTER TABLE events DROP COLUMN txid")
            .await?;
        Ok(())
    }
}
