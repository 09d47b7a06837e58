//! The official geography (COG) as reference tables: regions, departments, EPCI and current
//! communes. The rows are loaded at start by the api crate from `reference/cog/` (and reloaded
//! when that dataset changes); `ref_meta` records which dataset is loaded.
//! `search` columns hold the name lower-cased, without accents or punctuation, for
//! accent- and case-insensitive look-ups on both engines.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RefRegions {
    Table,
    Code,
    Name,
    Search,
    ChefLieu,
}

#[derive(DeriveIden)]
enum RefDepartments {
    Table,
    Code,
    Name,
    Search,
    Region,
    ChefLieu,
}

#[derive(DeriveIden)]
enum RefEpci {
    Table,
    Siren,
    Name,
    Search,
    Kind,
    Population,
    Departments,
    Regions,
    MemberCount,
}

#[derive(DeriveIden)]
enum RefCommunes {
    Table,
    Code,
    Name,
    Search,
    Department,
    Region,
    EpciSiren,
    Population,
    PostalCodes,
}

#[derive(DeriveIden)]
enum RefMeta {
    Table,
    Key,
    Value,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(RefRegions::Table)
                .col(string_len(RefRegions::Code, 3).primary_key())
                .col(string_len(RefRegions::Name, 100))
                .col(string_len(RefRegions::Search, 100))
                .col(string_len_null(RefRegions::ChefLieu, 5))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(RefDepartments::Table)
                .col(string_len(RefDepartments::Code, 3).primary_key())
                .col(string_len(RefDepartments::Name, 100))
                .col(string_len(RefDepartments::Search, 100))
                .col(string_len(RefDepartments::Region, 3))
                .col(string_len_null(RefDepartments::ChefLieu, 5))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(RefEpci::Table)
                .col(string_len(RefEpci::Siren, 9).primary_key())
                .col(string_len(RefEpci::Name, 200))
                .col(string_len(RefEpci::Search, 200))
                .col(string_len(RefEpci::Kind, 10))
                .col(big_integer_null(RefEpci::Population))
                .col(string_len(RefEpci::Departments, 200))
                .col(string_len(RefEpci::Regions, 100))
                .col(integer(RefEpci::MemberCount))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(RefCommunes::Table)
                .col(string_len(RefCommunes::Code, 5).primary_key())
                .col(string_len(RefCommunes::Name, 100))
                .col(string_len(RefCommunes::Search, 100))
                .col(string_len(RefCommunes::Department, 3))
                .col(string_len(RefCommunes::Region, 3))
                .col(string_len_null(RefCommunes::EpciSiren, 9))
                .col(big_integer_null(RefCommunes::Population))
                .col(string_len(RefCommunes::PostalCodes, 300))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_ref_communes_department")
                .table(RefCommunes::Table)
                .col(RefCommunes::Department)
                .col(RefCommunes::Code)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(RefMeta::Table)
                .col(string_len(RefMeta::Key, 50).primary_key())
                .col(string_len(RefMeta::Value, 200))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            RefMeta::Table.into_iden(),
            RefCommunes::Table.into_iden(),
            RefEpci::Table.into_iden(),
            RefDepartments::Table.into_iden(),
            RefRegions::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
