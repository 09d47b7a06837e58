//! Territories' region codes take three characters: the official geography gives the overseas
//! collectivities (975 Saint-Pierre-et-Miquelon, 977, 978, 984 to 989) a three-digit code as
//! both department and region. SQLite does not enforce lengths; PostgreSQL does.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() == DatabaseBackend::Postgres {
            m.get_connection()
                .execute_unprepared("ALTER TABLE territories ALTER COLUMN region TYPE varchar(3)")
                .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() == DatabaseBackend::Postgres {
            m.get_connection()
                .execute_unprepared("ALTER TABLE territories ALTER COLUMN region TYPE varchar(2)")
                .await?;
        }
        Ok(())
    }
}
