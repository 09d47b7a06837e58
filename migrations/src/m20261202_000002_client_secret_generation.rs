//! A machine client's secret generation: 0 at creation, bumped by every rotation. A client's
//! access token carries the generation it was issued under (its `cgen` claim) and is refused
//! once the client has moved past it, so a rotation ends the tokens issued before it.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ApiClients {
    Table,
    SecretGeneration,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(ApiClients::Table)
                .add_column(integer(ApiClients::SecretGeneration).default(0))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(ApiClients::Table)
                .drop_column(ApiClients::SecretGeneration)
                .to_owned(),
        )
        .await
    }
}
