//! Pre-aggregated figures per territory: `territory_figures` holds one row per territory that
//! takes part in a Fabrique, with what the territorial breakdowns group on (its region,
//! department and kind, copied from `participation_figures`) and how many accompanied
//! participations it has, in any Fabrique. The count of distinct accompanied territories of
//! every Fabrique (the overview's, and each territorial group's) then reads one narrow row per
//! territory instead of every participation.
//!
//! It is kept with the other figures rows, in the transaction of each write that changes them;
//! it starts empty, and the service fills it on start.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveIden)]
enum TerritoryFigures {
    Table,
    TerritoryId,
    Region,
    Department,
    TerritoryKind,
    Accompanied,
}

#[derive(DeriveIden)]
enum Territories {
    Table,
    Id,
}

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(TerritoryFigures::Table)
                .col(pk_uuid(TerritoryFigures::TerritoryId))
                .col(string_len_null(TerritoryFigures::Region, 3))
                .col(string_len_null(TerritoryFigures::Department, 3))
                .col(string_len(TerritoryFigures::TerritoryKind, 40))
                .col(integer(TerritoryFigures::Accompanied).default(0))
                .foreign_key(
                    ForeignKey::create()
                        .from(TerritoryFigures::Table, TerritoryFigures::TerritoryId)
                        .to(Territories::Table, Territories::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        // The accompanied territories, counted or grouped from the index alone.
        m.create_index(
            Index::create()
                .name("ix_territory_figures_accompanied")
                .table(TerritoryFigures::Table)
                .col(TerritoryFigures::Accompanied)
                .col(TerritoryFigures::Region)
                .col(TerritoryFigures::Department)
                .col(TerritoryFigures::TerritoryKind)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(TerritoryFigures::Table).to_owned())
            .await
    }
}
