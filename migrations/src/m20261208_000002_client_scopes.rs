//! The OAuth scopes a machine client may ask for (`read`, `write`; space-separated, as a
//! token's `scope` claim carries them). Existing clients keep every scope they had in effect.

use sea_orm_migration::prelude::*;

#[derive(DeriveIden)]
enum ApiClients {
    Table,
    Scopes,
}

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(ApiClients::Table)
                .add_column(
                    ColumnDef::new(ApiClients::Scopes)
                        .string_len(100)
                        .not_null()
                        .default("read write"),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(ApiClients::Table)
                .drop_column(ApiClients::Scopes)
                .to_owned(),
        )
        .await
    }
}
