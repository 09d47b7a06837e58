//! The figures' version: one row whose counter goes up in the transaction of every write that
//! can change a figure (and of a fill of missing figures rows). The figures cache of every
//! instance serves an entry only while the counter is the one it was computed at, so a write
//! through any instance invalidates the figures on all of them, and a write that changes no
//! figure (a lesson, a testimony, a new organization) invalidates none.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveIden)]
enum FiguresVersion {
    Table,
    Id,
    Version,
}

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(FiguresVersion::Table)
                .col(integer(FiguresVersion::Id).primary_key())
                .col(big_integer(FiguresVersion::Version).default(0))
                .to_owned(),
        )
        .await?;
        m.exec_stmt(
            Query::insert()
                .into_table(FiguresVersion::Table)
                .columns([FiguresVersion::Id, FiguresVersion::Version])
                .values_panic([1.into(), 0.into()])
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(FiguresVersion::Table).to_owned())
            .await
    }
}
