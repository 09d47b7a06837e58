//! Pre-aggregated figures per territory and Fabrique key: `territory_key_figures` holds, for
//! each territory with accompanied participations, one row per year, theme, status and
//! programme of the Fabriques it is accompanied in (`key_kind` says which; `key` is the year,
//! theme or status, `programme_id` the programme), with how many such participations it has.
//! The distinct territories of a breakdown of every Fabrique by year, theme, status or
//! programme are then the rows of each key, instead of a distinct count over every
//! participation.
//!
//! It is kept with the other figures rows, in the transaction of each write that changes them;
//! it starts empty, and the service fills it on start.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveIden)]
enum TerritoryKeyFigures {
    Table,
    KeyKind,
    Key,
    ProgrammeId,
    TerritoryId,
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
                .table(TerritoryKeyFigures::Table)
                .col(string_len(TerritoryKeyFigures::KeyKind, 20))
                .col(string_len_null(TerritoryKeyFigures::Key, 300))
                .col(uuid_null(TerritoryKeyFigures::ProgrammeId))
                .col(uuid(TerritoryKeyFigures::TerritoryId))
                .col(integer(TerritoryKeyFigures::Accompanied).default(0))
                .foreign_key(
                    ForeignKey::create()
                        .from(TerritoryKeyFigures::Table, TerritoryKeyFigures::TerritoryId)
                        .to(Territories::Table, Territories::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        // A territory's rows (its refresh), and a breakdown's: one key kind, grouped on the
        // key, read from the index alone.
        m.create_index(
            Index::create()
                .name("ix_territory_key_figures_territory")
                .table(TerritoryKeyFigures::Table)
                .col(TerritoryKeyFigures::TerritoryId)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_territory_key_figures_kind")
                .table(TerritoryKeyFigures::Table)
                .col(TerritoryKeyFigures::KeyKind)
                .col(TerritoryKeyFigures::Key)
                .col(TerritoryKeyFigures::ProgrammeId)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(TerritoryKeyFigures::Table).to_owned())
            .await
    }
}
