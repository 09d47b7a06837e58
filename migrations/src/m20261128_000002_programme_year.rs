//! The programme year: seminars (and who attended), local working groups, roadmaps and their
//! actions, national lessons (and what they came from), testimonies and funding lines.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

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

#[derive(DeriveIden)]
enum Organizations {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Territories {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Programmes {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Seminars {
    Table,
    Id,
    FabriqueId,
    ParticipationId,
    Kind,
    Number,
    ScheduledOn,
    Place,
    Mode,
    Status,
    Attendance,
    Summary,
    StatusReason,
    HeldAt,
    CancelledAt,
}

#[derive(DeriveIden)]
enum SeminarOrganizations {
    Table,
    SeminarId,
    OrganizationId,
}

#[derive(DeriveIden)]
enum WorkingGroupMembers {
    Table,
    Id,
    ParticipationId,
    Name,
    Organization,
    Function,
    Category,
}

#[derive(DeriveIden)]
enum Roadmaps {
    Table,
    Id,
    ParticipationId,
    Kind,
    Title,
    Summary,
    Status,
    SubmittedAt,
    AdoptedOn,
    AdoptionReference,
}

#[derive(DeriveIden)]
enum RoadmapActions {
    Table,
    Id,
    RoadmapId,
    Position,
    Title,
    Description,
    Lead,
    Horizon,
    DueOn,
    EstimatedCostCents,
    Status,
}

#[derive(DeriveIden)]
enum Lessons {
    Table,
    Id,
    FabriqueId,
    Title,
    Body,
    Kind,
    TargetProgrammeId,
    TargetBody,
}

#[derive(DeriveIden)]
enum LessonSources {
    Table,
    Id,
    LessonId,
    SeminarId,
    ParticipationId,
}

#[derive(DeriveIden)]
enum Testimonies {
    Table,
    Id,
    FabriqueId,
    TerritoryId,
    Speaker,
    Role,
    MediaUrl,
    Quote,
    GivenOn,
    Published,
}

#[derive(DeriveIden)]
enum FundingLines {
    Table,
    Id,
    FabriqueId,
    OrganizationId,
    Kind,
    AmountCents,
    Label,
}

fn stamps(t: &mut TableCreateStatement) -> &mut TableCreateStatement {
    t.col(integer(Alias::new("version")).default(1))
        .col(timestamp_with_time_zone(Alias::new("created_at")))
        .col(timestamp_with_time_zone(Alias::new("updated_at")))
}

fn fk<
    T: IntoIden + 'static,
    C: IntoIden + 'static,
    R: IntoIden + 'static,
    RC: IntoIden + 'static,
>(
    from: T,
    col: C,
    to: R,
    to_col: RC,
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from, col)
        .to(to, to_col)
        .on_delete(on_delete)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use ForeignKeyAction::{Cascade, Restrict};

        let mut t = Table::create();
        t.table(Seminars::Table)
            .col(pk_uuid(Seminars::Id))
            .col(uuid(Seminars::FabriqueId))
            .col(uuid_null(Seminars::ParticipationId))
            .col(string_len(Seminars::Kind, 20))
            .col(integer(Seminars::Number))
            .col(date(Seminars::ScheduledOn))
            .col(string_len_null(Seminars::Place, 300))
            .col(string_len(Seminars::Mode, 20))
            .col(string_len(Seminars::Status, 20))
            .col(integer_null(Seminars::Attendance))
            .col(text_null(Seminars::Summary))
            .col(text_null(Seminars::StatusReason))
            .col(timestamp_with_time_zone_null(Seminars::HeldAt))
            .col(timestamp_with_time_zone_null(Seminars::CancelledAt))
            .foreign_key(&mut fk(
                Seminars::Table,
                Seminars::FabriqueId,
                Fabriques::Table,
                Fabriques::Id,
                Restrict,
            ))
            .foreign_key(&mut fk(
                Seminars::Table,
                Seminars::ParticipationId,
                Participations::Table,
                Participations::Id,
                Restrict,
            ));
        m.create_table(stamps(&mut t).to_owned()).await?;
        m.create_index(
            Index::create()
                .name("ix_seminars_fabrique")
                .table(Seminars::Table)
                .col(Seminars::FabriqueId)
                .col(Seminars::Id)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_seminars_participation")
                .table(Seminars::Table)
                .col(Seminars::ParticipationId)
                .to_owned(),
        )
        .await?;
        // At most one live seminar per number and owner: the rule's safety net under
        // concurrent writers (partial indexes exist on both SQLite and PostgreSQL).
        let db = m.get_connection();
        db.execute_unprepared(
            "CREATE UNIQUE INDEX ux_seminars_local_number ON seminars (participation_id, number) WHERE kind = 'local' AND status <> 'cancelled'",
        )
        .await?;
        db.execute_unprepared(
            "CREATE UNIQUE INDEX ux_seminars_intersite_number ON seminars (fabrique_id, number) WHERE kind = 'intersite' AND status <> 'cancelled'",
        )
        .await?;

        m.create_table(
            Table::create()
                .table(SeminarOrganizations::Table)
                .col(uuid(SeminarOrganizations::SeminarId))
                .col(uuid(SeminarOrganizations::OrganizationId))
                .primary_key(
                    Index::create()
                        .col(SeminarOrganizations::SeminarId)
                        .col(SeminarOrganizations::OrganizationId),
                )
                .foreign_key(&mut fk(
                    SeminarOrganizations::Table,
                    SeminarOrganizations::SeminarId,
                    Seminars::Table,
                    Seminars::Id,
                    Cascade,
                ))
                .foreign_key(&mut fk(
                    SeminarOrganizations::Table,
                    SeminarOrganizations::OrganizationId,
                    Organizations::Table,
                    Organizations::Id,
                    Restrict,
                ))
                .to_owned(),
        )
        .await?;

        let mut t = Table::create();
        t.table(WorkingGroupMembers::Table)
            .col(pk_uuid(WorkingGroupMembers::Id))
            .col(uuid(WorkingGroupMembers::ParticipationId))
            .col(string_len(WorkingGroupMembers::Name, 200))
            .col(string_len_null(WorkingGroupMembers::Organization, 200))
            .col(string_len_null(WorkingGroupMembers::Function, 200))
            .col(string_len(WorkingGroupMembers::Category, 40))
            .foreign_key(&mut fk(
                WorkingGroupMembers::Table,
                WorkingGroupMembers::ParticipationId,
                Participations::Table,
                Participations::Id,
                Restrict,
            ));
        m.create_table(stamps(&mut t).to_owned()).await?;
        m.create_index(
            Index::create()
                .name("ix_working_group_participation")
                .table(WorkingGroupMembers::Table)
                .col(WorkingGroupMembers::ParticipationId)
                .col(WorkingGroupMembers::Id)
                .to_owned(),
        )
        .await?;

        let mut t = Table::create();
        t.table(Roadmaps::Table)
            .col(pk_uuid(Roadmaps::Id))
            .col(uuid_uniq(Roadmaps::ParticipationId))
            .col(string_len(Roadmaps::Kind, 20))
            .col(string_len(Roadmaps::Title, 300))
            .col(text(Roadmaps::Summary))
            .col(string_len(Roadmaps::Status, 20))
            .col(timestamp_with_time_zone_null(Roadmaps::SubmittedAt))
            .col(date_null(Roadmaps::AdoptedOn))
            .col(string_len_null(Roadmaps::AdoptionReference, 300))
            .foreign_key(&mut fk(
                Roadmaps::Table,
                Roadmaps::ParticipationId,
                Participations::Table,
                Participations::Id,
                Restrict,
            ));
        m.create_table(stamps(&mut t).to_owned()).await?;

        let mut t = Table::create();
        t.table(RoadmapActions::Table)
            .col(pk_uuid(RoadmapActions::Id))
            .col(uuid(RoadmapActions::RoadmapId))
            .col(integer(RoadmapActions::Position))
            .col(string_len(RoadmapActions::Title, 300))
            .col(text(RoadmapActions::Description))
            .col(string_len_null(RoadmapActions::Lead, 200))
            .col(string_len_null(RoadmapActions::Horizon, 100))
            .col(date_null(RoadmapActions::DueOn))
            .col(big_integer_null(RoadmapActions::EstimatedCostCents))
            .col(string_len(RoadmapActions::Status, 20))
            .foreign_key(&mut fk(
                RoadmapActions::Table,
                RoadmapActions::RoadmapId,
                Roadmaps::Table,
                Roadmaps::Id,
                Cascade,
            ));
        m.create_table(stamps(&mut t).to_owned()).await?;
        m.create_index(
            Index::create()
                .name("ix_roadmap_actions_roadmap")
                .table(RoadmapActions::Table)
                .col(RoadmapActions::RoadmapId)
                .col(RoadmapActions::Position)
                .to_owned(),
        )
        .await?;

        let mut t = Table::create();
        t.table(Lessons::Table)
            .col(pk_uuid(Lessons::Id))
            .col(uuid(Lessons::FabriqueId))
            .col(string_len(Lessons::Title, 300))
            .col(text(Lessons::Body))
            .col(string_len(Lessons::Kind, 30))
            .col(uuid_null(Lessons::TargetProgrammeId))
            .col(string_len_null(Lessons::TargetBody, 200))
            .foreign_key(&mut fk(
                Lessons::Table,
                Lessons::FabriqueId,
                Fabriques::Table,
                Fabriques::Id,
                Restrict,
            ))
            .foreign_key(&mut fk(
                Lessons::Table,
                Lessons::TargetProgrammeId,
                Programmes::Table,
                Programmes::Id,
                Restrict,
            ));
        m.create_table(stamps(&mut t).to_owned()).await?;
        m.create_index(
            Index::create()
                .name("ix_lessons_fabrique")
                .table(Lessons::Table)
                .col(Lessons::FabriqueId)
                .col(Lessons::Id)
                .to_owned(),
        )
        .await?;

        // A lesson's sources: each row names one seminar or one participation.
        m.create_table(
            Table::create()
                .table(LessonSources::Table)
                .col(pk_uuid(LessonSources::Id))
                .col(uuid(LessonSources::LessonId))
                .col(uuid_null(LessonSources::SeminarId))
                .col(uuid_null(LessonSources::ParticipationId))
                .foreign_key(&mut fk(
                    LessonSources::Table,
                    LessonSources::LessonId,
                    Lessons::Table,
                    Lessons::Id,
                    Cascade,
                ))
                .foreign_key(&mut fk(
                    LessonSources::Table,
                    LessonSources::SeminarId,
                    Seminars::Table,
                    Seminars::Id,
                    Restrict,
                ))
                .foreign_key(&mut fk(
                    LessonSources::Table,
                    LessonSources::ParticipationId,
                    Participations::Table,
                    Participations::Id,
                    Restrict,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_lesson_sources_lesson")
                .table(LessonSources::Table)
                .col(LessonSources::LessonId)
                .to_owned(),
        )
        .await?;

        let mut t = Table::create();
        t.table(Testimonies::Table)
            .col(pk_uuid(Testimonies::Id))
            .col(uuid(Testimonies::FabriqueId))
            .col(uuid_null(Testimonies::TerritoryId))
            .col(string_len(Testimonies::Speaker, 200))
            .col(string_len_null(Testimonies::Role, 200))
            .col(string_len_null(Testimonies::MediaUrl, 500))
            .col(text_null(Testimonies::Quote))
            .col(date_null(Testimonies::GivenOn))
            .col(boolean(Testimonies::Published).default(false))
            .foreign_key(&mut fk(
                Testimonies::Table,
                Testimonies::FabriqueId,
                Fabriques::Table,
                Fabriques::Id,
                Restrict,
            ))
            .foreign_key(&mut fk(
                Testimonies::Table,
                Testimonies::TerritoryId,
                Territories::Table,
                Territories::Id,
                Restrict,
            ));
        m.create_table(stamps(&mut t).to_owned()).await?;
        m.create_index(
            Index::create()
                .name("ix_testimonies_fabrique")
                .table(Testimonies::Table)
                .col(Testimonies::FabriqueId)
                .col(Testimonies::Id)
                .to_owned(),
        )
        .await?;

        let mut t = Table::create();
        t.table(FundingLines::Table)
            .col(pk_uuid(FundingLines::Id))
            .col(uuid(FundingLines::FabriqueId))
            .col(uuid(FundingLines::OrganizationId))
            .col(string_len(FundingLines::Kind, 20))
            .col(big_integer(FundingLines::AmountCents))
            .col(string_len_null(FundingLines::Label, 300))
            .foreign_key(&mut fk(
                FundingLines::Table,
                FundingLines::FabriqueId,
                Fabriques::Table,
                Fabriques::Id,
                Restrict,
            ))
            .foreign_key(&mut fk(
                FundingLines::Table,
                FundingLines::OrganizationId,
                Organizations::Table,
                Organizations::Id,
                Restrict,
            ));
        m.create_table(stamps(&mut t).to_owned()).await?;
        m.create_index(
            Index::create()
                .name("ix_funding_lines_fabrique")
                .table(FundingLines::Table)
                .col(FundingLines::FabriqueId)
                .col(FundingLines::Id)
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            FundingLines::Table.into_iden(),
            Testimonies::Table.into_iden(),
            LessonSources::Table.into_iden(),
            Lessons::Table.into_iden(),
            RoadmapActions::Table.into_iden(),
            Roadmaps::Table.into_iden(),
            WorkingGroupMembers::Table.into_iden(),
            SeminarOrganizations::Table.into_iden(),
            Seminars::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
