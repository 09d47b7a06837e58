//! Pre-aggregated figures per Fabrique and territorial group: `fabrique_area_figures` holds,
//! for each Fabrique, one row per region, per department and per territory kind of its
//! participations (`area_kind` says which; `area` is the region or department code, or the kind),
//! with its participations, held local seminars and adopted roadmaps there. A breakdown by
//! region of every Fabrique, for a caller who sees every participation, then sums one row per
//! Fabrique and region, and counts the Fabriques of a region as its rows, instead of counting
//! distinct Fabriques over every participation.
//!
//! It is kept with the other figures rows, in the transaction of each write that changes them;
//! it starts empty, and the service fills it on start.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveIden)]
enum FabriqueAreaFigures {
    Table,
    FabriqueId,
    AreaKind,
    Area,
    Participations,
    SeminarsHeld,
    RoadmapsAdopted,
}

#[derive(DeriveIden)]
enum Fabriques {
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
                .table(FabriqueAreaFigures::Table)
                .col(uuid(FabriqueAreaFigures::FabriqueId))
                .col(string_len(FabriqueAreaFigures::AreaKind, 20))
                .col(string_len_null(FabriqueAreaFigures::Area, 40))
                .col(integer(FabriqueAreaFigures::Participations).default(0))
                .col(integer(FabriqueAreaFigures::SeminarsHeld).default(0))
                .col(integer(FabriqueAreaFigures::RoadmapsAdopted).default(0))
                .foreign_key(
                    ForeignKey::create()
                        .from(FabriqueAreaFigures::Table, FabriqueAreaFigures::FabriqueId)
                        .to(Fabriques::Table, Fabriques::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        // A Fabrique's rows (its refresh), and a breakdown's: one area kind, grouped on the
        // area, read from the index alone.
        m.create_index(
            Index::create()
                .name("ix_fabrique_area_figures_fabrique")
                .table(FabriqueAreaFigures::Table)
                .col(FabriqueAreaFigures::FabriqueId)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_fabrique_area_figures_by")
                .table(FabriqueAreaFigures::Table)
                .col(FabriqueAreaFigures::AreaKind)
                .col(FabriqueAreaFigures::Area)
                .col(FabriqueAreaFigures::Participations)
                .col(FabriqueAreaFigures::SeminarsHeld)
                .col(FabriqueAreaFigures::RoadmapsAdopted)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(FabriqueAreaFigures::Table).to_owned())
            .await
    }
}
