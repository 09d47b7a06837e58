//! Organizations, territories, ANCT programmes (seeded), Fabriques, their partners,
//! participations and the journal.
//!
//! Every mutable table carries `version` (bumped by each write; the ETag and `If-Match`
//! precondition build on it) and `created_at` / `updated_at`. Statuses are text checked by the
//! domain crate; ids are UUIDv7, so ordering by id is ordering by creation.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Organizations {
    Table,
    Id,
    Name,
    Acronym,
    Kind,
    Website,
}

#[derive(DeriveIden)]
enum Territories {
    Table,
    Id,
    Name,
    Kind,
    CodeScheme,
    Code,
    Department,
    Region,
    Population,
    Latitude,
    Longitude,
}

#[derive(DeriveIden)]
enum Programmes {
    Table,
    Id,
    Name,
    Description,
    Active,
    CreatedAt,
    UpdatedAt,
}

/// ANCT programmes a Fabrique can be tied to, with ids stable across databases.
pub const PROGRAMMES: [(&str, &str); 5] = [
    (
        "01a2219c-5371-7673-aff7-8ea72af0ffd9",
        "Territoires d'industrie",
    ),
    ("01a2219c-5372-73a1-af4e-5546d331d94d", "Agenda rural"),
    (
        "01a2219c-5373-7352-90c4-81643ba70fcd",
        "Action cœur de ville",
    ),
    (
        "01a2219c-5374-745c-8e4b-152c4ebe9934",
        "Petites villes de demain",
    ),
    ("01a2219c-5375-73b4-9386-15c1d35396b2", "France Ruralités"),
];

#[derive(DeriveIden)]
enum Fabriques {
    Table,
    Id,
    Title,
    Theme,
    Description,
    ProgrammeId,
    MinTerritories,
    MaxTerritories,
    PlannedStart,
    ActualStart,
    EndDate,
    Status,
    StatusReason,
    StatusChangedAt,
    Source,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum FabriquePartners {
    Table,
    FabriqueId,
    OrganizationId,
    Role,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Participations {
    Table,
    Id,
    FabriqueId,
    TerritoryId,
    Status,
    SponsorName,
    SponsorMandate,
    Motivation,
    Focus,
    StatusReason,
    AppliedAt,
    AcceptedAt,
    RejectedAt,
    ActivatedAt,
    CompletedAt,
    WithdrawnAt,
}

#[derive(DeriveIden)]
enum Events {
    Table,
    Id,
    OccurredAt,
    ActorSub,
    ActorRole,
    ActorOrganization,
    ActorTerritory,
    Action,
    EntityType,
    EntityId,
    FabriqueId,
    RequestId,
    State,
}

fn stamps(t: &mut TableCreateStatement) -> &mut TableCreateStatement {
    t.col(integer(Alias::new("version")).default(1))
        .col(timestamp_with_time_zone(Alias::new("created_at")))
        .col(timestamp_with_time_zone(Alias::new("updated_at")))
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let mut t = Table::create();
        t.table(Organizations::Table)
            .col(pk_uuid(Organizations::Id))
            .col(string_len(Organizations::Name, 200))
            .col(string_len_null(Organizations::Acronym, 40))
            .col(string_len(Organizations::Kind, 40))
            .col(string_len_null(Organizations::Website, 500));
        m.create_table(stamps(&mut t).to_owned()).await?;
        m.create_index(
            Index::create()
                .name("ix_organizations_name")
                .table(Organizations::Table)
                .col(Organizations::Name)
                .col(Organizations::Id)
                .to_owned(),
        )
        .await?;

        let mut t = Table::create();
        t.table(Territories::Table)
            .col(pk_uuid(Territories::Id))
            .col(string_len(Territories::Name, 200))
            .col(string_len(Territories::Kind, 40))
            .col(string_len_null(Territories::CodeScheme, 20))
            .col(string_len_null(Territories::Code, 9))
            .col(string_len_null(Territories::Department, 3))
            .col(string_len_null(Territories::Region, 2))
            .col(big_integer_null(Territories::Population))
            .col(double_null(Territories::Latitude))
            .col(double_null(Territories::Longitude));
        m.create_table(stamps(&mut t).to_owned()).await?;
        m.create_index(
            Index::create()
                .name("ux_territories_code")
                .table(Territories::Table)
                .col(Territories::CodeScheme)
                .col(Territories::Code)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_territories_name")
                .table(Territories::Table)
                .col(Territories::Name)
                .col(Territories::Id)
                .to_owned(),
        )
        .await?;

        let mut t = Table::create();
        t.table(Programmes::Table)
            .col(pk_uuid(Programmes::Id))
            .col(string_len_uniq(Programmes::Name, 200))
            .col(text(Programmes::Description).default(""))
            .col(boolean(Programmes::Active).default(true));
        m.create_table(stamps(&mut t).to_owned()).await?;
        let now = chrono::Utc::now();
        for (id, name) in PROGRAMMES {
            let id = uuid::Uuid::parse_str(id).map_err(|e| DbErr::Custom(e.to_string()))?;
            let mut insert = Query::insert();
            insert.into_table(Programmes::Table).columns([
                Programmes::Id,
                Programmes::Name,
                Programmes::CreatedAt,
                Programmes::UpdatedAt,
            ]);
            insert
                .values([id.into(), name.into(), now.into(), now.into()])
                .map_err(|e| DbErr::Custom(e.to_string()))?;
            m.exec_stmt(insert).await?;
        }

        let mut t = Table::create();
        t.table(Fabriques::Table)
            .col(pk_uuid(Fabriques::Id))
            .col(string_len(Fabriques::Title, 300))
            .col(string_len_null(Fabriques::Theme, 300))
            .col(text(Fabriques::Description))
            .col(uuid_null(Fabriques::ProgrammeId))
            .col(integer(Fabriques::MinTerritories))
            .col(integer(Fabriques::MaxTerritories))
            .col(date_null(Fabriques::PlannedStart))
            .col(date_null(Fabriques::ActualStart))
            .col(date_null(Fabriques::EndDate))
            .col(string_len(Fabriques::Status, 20))
            .col(text_null(Fabriques::StatusReason))
            .col(timestamp_with_time_zone(Fabriques::StatusChangedAt))
            .col(text_null(Fabriques::Source))
            .foreign_key(
                ForeignKey::create()
                    .from(Fabriques::Table, Fabriques::ProgrammeId)
                    .to(Programmes::Table, Programmes::Id)
                    .on_delete(ForeignKeyAction::Restrict),
            );
        m.create_table(stamps(&mut t).to_owned()).await?;
        for (name, col) in [
            ("ix_fabriques_status", Fabriques::Status),
            ("ix_fabriques_title", Fabriques::Title),
            ("ix_fabriques_updated_at", Fabriques::UpdatedAt),
            ("ix_fabriques_planned_start", Fabriques::PlannedStart),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(Fabriques::Table)
                    .col(col)
                    .col(Fabriques::Id)
                    .to_owned(),
            )
            .await?;
        }

        m.create_table(
            Table::create()
                .table(FabriquePartners::Table)
                .col(uuid(FabriquePartners::FabriqueId))
                .col(uuid(FabriquePartners::OrganizationId))
                .col(string_len(FabriquePartners::Role, 20))
                .col(timestamp_with_time_zone(FabriquePartners::CreatedAt))
                .primary_key(
                    Index::create()
                        .col(FabriquePartners::FabriqueId)
                        .col(FabriquePartners::OrganizationId)
                        .col(FabriquePartners::Role),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(FabriquePartners::Table, FabriquePartners::FabriqueId)
                        .to(Fabriques::Table, Fabriques::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(FabriquePartners::Table, FabriquePartners::OrganizationId)
                        .to(Organizations::Table, Organizations::Id)
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_fabrique_partners_org")
                .table(FabriquePartners::Table)
                .col(FabriquePartners::OrganizationId)
                .col(FabriquePartners::Role)
                .to_owned(),
        )
        .await?;

        let mut t = Table::create();
        t.table(Participations::Table)
            .col(pk_uuid(Participations::Id))
            .col(uuid(Participations::FabriqueId))
            .col(uuid(Participations::TerritoryId))
            .col(string_len(Participations::Status, 20))
            .col(string_len_null(Participations::SponsorName, 200))
            .col(string_len_null(Participations::SponsorMandate, 200))
            .col(text_null(Participations::Motivation))
            .col(string_len_null(Participations::Focus, 300))
            .col(text_null(Participations::StatusReason))
            .col(timestamp_with_time_zone(Participations::AppliedAt))
            .col(timestamp_with_time_zone_null(Participations::AcceptedAt))
            .col(timestamp_with_time_zone_null(Participations::RejectedAt))
            .col(timestamp_with_time_zone_null(Participations::ActivatedAt))
            .col(timestamp_with_time_zone_null(Participations::CompletedAt))
            .col(timestamp_with_time_zone_null(Participations::WithdrawnAt))
            .foreign_key(
                ForeignKey::create()
                    .from(Participations::Table, Participations::FabriqueId)
                    .to(Fabriques::Table, Fabriques::Id)
                    .on_delete(ForeignKeyAction::Restrict),
            )
            .foreign_key(
                ForeignKey::create()
                    .from(Participations::Table, Participations::TerritoryId)
                    .to(Territories::Table, Territories::Id)
                    .on_delete(ForeignKeyAction::Restrict),
            );
        m.create_table(stamps(&mut t).to_owned()).await?;
        m.create_index(
            Index::create()
                .name("ux_participations_fabrique_territory")
                .table(Participations::Table)
                .col(Participations::FabriqueId)
                .col(Participations::TerritoryId)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_participations_territory")
                .table(Participations::Table)
                .col(Participations::TerritoryId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Events::Table)
                .col(pk_uuid(Events::Id))
                .col(timestamp_with_time_zone(Events::OccurredAt))
                .col(string_len(Events::ActorSub, 200))
                .col(string_len(Events::ActorRole, 20))
                .col(uuid_null(Events::ActorOrganization))
                .col(uuid_null(Events::ActorTerritory))
                .col(string_len(Events::Action, 60))
                .col(string_len(Events::EntityType, 40))
                .col(uuid(Events::EntityId))
                .col(uuid_null(Events::FabriqueId))
                .col(string_len_null(Events::RequestId, 200))
                .col(text(Events::State))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_events_fabrique")
                .table(Events::Table)
                .col(Events::FabriqueId)
                .col(Events::Id)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_events_entity")
                .table(Events::Table)
                .col(Events::EntityType)
                .col(Events::EntityId)
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Events::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Participations::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(FabriquePartners::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Fabriques::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Territories::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Organizations::Table).to_owned())
            .await
    }
}
