//! Pre-aggregated figures per Fabrique key: `key_figures` holds one row per status, year,
//! theme and programme of the Fabriques (`key_kind` says which; `key` is the status, year or
//! theme, `programme_id` the programme), with how many Fabriques have it and the sum of their
//! `fabrique_figures` columns. The overview and the breakdowns by status, year, theme and
//! programme of every Fabrique then read a handful of rows, however many Fabriques there are.
//!
//! `fabrique_figures` gains the keys of its Fabrique (`key_status`, `key_theme`,
//! `key_programme_id`, `key_year`: prefixed, so that a statement joining it to `fabriques`
//! names the Fabrique's own columns without ambiguity), so that a write knows which key rows its Fabrique counted in before it changed
//! them. Its rows are emptied here: the service computes them again, keys included, on start,
//! and builds `key_figures` from them.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261202_000005_figures::{AMOUNTS, COUNTS};

#[derive(DeriveIden)]
enum FabriqueFigures {
    Table,
    KeyStatus,
    KeyTheme,
    KeyProgrammeId,
    KeyYear,
}

#[derive(DeriveIden)]
enum KeyFigures {
    Table,
    KeyKind,
    Key,
    ProgrammeId,
    Fabriques,
}

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // (One column per statement: SQLite adds one at a time.)
        for col in [
            string_len_null(FabriqueFigures::KeyStatus, 20),
            string_len_null(FabriqueFigures::KeyTheme, 300),
            uuid_null(FabriqueFigures::KeyProgrammeId),
            string_len_null(FabriqueFigures::KeyYear, 4),
        ] {
            let mut col = col;
            m.alter_table(
                Table::alter()
                    .table(FabriqueFigures::Table)
                    .add_column(&mut col)
                    .to_owned(),
            )
            .await?;
        }
        m.exec_stmt(
            Query::delete()
                .from_table(FabriqueFigures::Table)
                .to_owned(),
        )
        .await?;

        let mut t = Table::create();
        t.table(KeyFigures::Table)
            .col(string_len(KeyFigures::KeyKind, 20))
            .col(string_len_null(KeyFigures::Key, 300))
            .col(uuid_null(KeyFigures::ProgrammeId))
            .col(big_integer(KeyFigures::Fabriques).default(0));
        // The summed columns: those of `fabrique_figures`.
        for c in COUNTS.iter().chain(AMOUNTS) {
            t.col(big_integer(Alias::new(*c)).default(0));
        }
        m.create_table(t.to_owned()).await?;
        m.create_index(
            Index::create()
                .name("ix_key_figures_kind")
                .table(KeyFigures::Table)
                .col(KeyFigures::KeyKind)
                .col(KeyFigures::Key)
                .col(KeyFigures::ProgrammeId)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(KeyFigures::Table).to_owned())
            .await?;
        for col in [
            FabriqueFigures::KeyStatus,
            FabriqueFigures::KeyTheme,
            FabriqueFigures::KeyProgrammeId,
            FabriqueFigures::KeyYear,
        ] {
            m.alter_table(
                Table::alter()
                    .table(FabriqueFigures::Table)
                    .drop_column(col)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
