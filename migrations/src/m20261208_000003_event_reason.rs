//! Why a change was made, when the API asks for it: a correction of a held seminar or of a
//! Fabrique's dates carries its reason into the journal, and the feed and the history show it.

use sea_orm_migration::prelude::*;

#[derive(DeriveIden)]
enum Events {
    Table,
    Reason,
}

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Events::Table)
                .add_column(ColumnDef::new(Events::Reason).string_len(2000).null())
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Events::Table)
                .drop_column(Events::Reason)
                .to_owned(),
        )
        .await
    }
}
