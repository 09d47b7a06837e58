//! Fabriques by programme, in id order: the lists' `programme` filter walks this index page
//! by page (keyset) instead of scanning every Fabrique, and deleting a programme checks its
//! Fabriques without a scan.

use sea_orm_migration::prelude::*;

#[derive(DeriveIden)]
enum Fabriques {
    Table,
    Id,
    ProgrammeId,
}

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(
            Index::create()
                .name("ix_fabriques_programme")
                .table(Fabriques::Table)
                .col(Fabriques::ProgrammeId)
                .col(Fabriques::Id)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("ix_fabriques_programme")
                .table(Fabriques::Table)
                .to_owned(),
        )
        .await
    }
}
