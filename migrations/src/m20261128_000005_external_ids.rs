//! External ids: a partner organization's own id for a Fabrique, territory, participation or
//! seminar, unique per organization in both directions.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ExternalIds {
    Table,
    OrganizationId,
    EntityType,
    ExternalId,
    EntityId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Organizations {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(ExternalIds::Table)
                .col(uuid(ExternalIds::OrganizationId))
                .col(string_len(ExternalIds::EntityType, 30))
                .col(string_len(ExternalIds::ExternalId, 200))
                .col(uuid(ExternalIds::EntityId))
                .col(timestamp_with_time_zone(ExternalIds::CreatedAt))
                .primary_key(
                    Index::create()
                        .col(ExternalIds::OrganizationId)
                        .col(ExternalIds::EntityType)
                        .col(ExternalIds::ExternalId),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(ExternalIds::Table, ExternalIds::OrganizationId)
                        .to(Organizations::Table, Organizations::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_external_ids_entity")
                .table(ExternalIds::Table)
                .col(ExternalIds::OrganizationId)
                .col(ExternalIds::EntityType)
                .col(ExternalIds::EntityId)
                .unique()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(ExternalIds::Table).to_owned())
            .await
    }
}
