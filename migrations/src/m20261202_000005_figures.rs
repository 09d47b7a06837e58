//! Pre-aggregated figures: what the statistics count, kept per Fabrique and per participation
//! in the same transaction as every journalled write (the store's `figures` module), so that a
//! cold overview or breakdown sums one narrow row per Fabrique (or per participation) instead
//! of scanning every seminar, roadmap and action.
//!
//! `fabrique_figures` holds, for one Fabrique, counts split the way the access tiers see them:
//! - `p_<status>`: its participations by status;
//! - `s_<kind>_<status>`: its seminars; `sa_<kind>_<status>`: those a caller who sees only the
//!   accompanied participations sees (intersite ones, and local ones of accompanied
//!   participations);
//! - `r_adopted` / `ra_adopted`: adopted roadmaps of all / of accompanied participations;
//! - `act_<participations>_<roadmaps>`: roadmap actions, of all or accompanied participations'
//!   roadmaps, all roadmaps or adopted ones;
//! - `fund_<kind>`: funding in cents.
//!
//! `participation_figures` holds one row per participation with what the territorial
//! breakdowns group on, copied from the participation and its territory (status, region,
//! department, kind), and its held local seminars and adopted roadmaps.
//!
//! Both start empty: on start the service fills the rows of every Fabrique that has none.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveIden)]
enum FabriqueFigures {
    Table,
    FabriqueId,
}

#[derive(DeriveIden)]
enum ParticipationFigures {
    Table,
    ParticipationId,
    FabriqueId,
    TerritoryId,
    Status,
    Region,
    Department,
    TerritoryKind,
    SeminarsHeld,
    RoadmapsAdopted,
}

#[derive(DeriveIden)]
enum Fabriques {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Participations {
    Table,
    Id,
}

/// The counting columns of `fabrique_figures`.
pub(crate) const COUNTS: &[&str] = &[
    "p_applied",
    "p_accepted",
    "p_rejected",
    "p_active",
    "p_completed",
    "p_withdrawn",
    "s_local_planned",
    "s_local_held",
    "s_local_cancelled",
    "s_intersite_planned",
    "s_intersite_held",
    "s_intersite_cancelled",
    "sa_local_planned",
    "sa_local_held",
    "sa_local_cancelled",
    "sa_intersite_planned",
    "sa_intersite_held",
    "sa_intersite_cancelled",
    "r_adopted",
    "ra_adopted",
    "act_all_all",
    "act_all_adopted",
    "act_acc_all",
    "act_acc_adopted",
];

pub(crate) const AMOUNTS: &[&str] = &["fund_anct", "fund_co_funding"];

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let mut t = Table::create();
        t.table(FabriqueFigures::Table)
            .col(pk_uuid(FabriqueFigures::FabriqueId))
            .foreign_key(
                ForeignKey::create()
                    .from(FabriqueFigures::Table, FabriqueFigures::FabriqueId)
                    .to(Fabriques::Table, Fabriques::Id)
                    .on_delete(ForeignKeyAction::Cascade),
            );
        for c in COUNTS {
            t.col(integer(Alias::new(*c)).default(0));
        }
        for c in AMOUNTS {
            t.col(big_integer(Alias::new(*c)).default(0));
        }
        m.create_table(t.to_owned()).await?;

        m.create_table(
            Table::create()
                .table(ParticipationFigures::Table)
                .col(pk_uuid(ParticipationFigures::ParticipationId))
                .col(uuid(ParticipationFigures::FabriqueId))
                .col(uuid(ParticipationFigures::TerritoryId))
                .col(string_len(ParticipationFigures::Status, 20))
                .col(string_len_null(ParticipationFigures::Region, 3))
                .col(string_len_null(ParticipationFigures::Department, 3))
                .col(string_len(ParticipationFigures::TerritoryKind, 40))
                .col(integer(ParticipationFigures::SeminarsHeld).default(0))
                .col(integer(ParticipationFigures::RoadmapsAdopted).default(0))
                .foreign_key(
                    ForeignKey::create()
                        .from(
                            ParticipationFigures::Table,
                            ParticipationFigures::ParticipationId,
                        )
                        .to(Participations::Table, Participations::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(
                            ParticipationFigures::Table,
                            ParticipationFigures::FabriqueId,
                        )
                        .to(Fabriques::Table, Fabriques::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        // The selected Fabriques' rows, with what the distinct count of accompanied
        // territories reads (covering: the count never visits the table).
        m.create_index(
            Index::create()
                .name("ix_participation_figures_fabrique")
                .table(ParticipationFigures::Table)
                .col(ParticipationFigures::FabriqueId)
                .col(ParticipationFigures::Status)
                .col(ParticipationFigures::TerritoryId)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_participation_figures_territory")
                .table(ParticipationFigures::Table)
                .col(ParticipationFigures::TerritoryId)
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(ParticipationFigures::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(FabriqueFigures::Table).to_owned())
            .await
    }
}
