//! Row versions, for writes conditional on `If-Match`: the edge compares the client's ETag
//! with the representation it reads, then claims the row with one conditional statement,
//! `UPDATE … SET version = version + 1 WHERE id = ? AND version = ?`, in the write's own
//! transaction, so that of two writers holding the same ETag exactly one gets past it.

use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, FromQueryResult};
use uuid::Uuid;

use crate::error::{StoreError, StoreResult};

/// The tables whose rows carry a version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    Organizations,
    Territories,
    Programmes,
    Fabriques,
    Participations,
    Seminars,
    WorkingGroupMembers,
    Roadmaps,
    RoadmapActions,
    Lessons,
    Testimonies,
    FundingLines,
    ApiClients,
    WebhookSubscriptions,
}

impl Table {
    fn name(self) -> &'static str {
        match self {
            Table::Organizations => "organizations",
            Table::Territories => "territories",
            Table::Programmes => "programmes",
            Table::Fabriques => "fabriques",
            Table::Participations => "participations",
            Table::Seminars => "seminars",
            Table::WorkingGroupMembers => "working_group_members",
            Table::Roadmaps => "roadmaps",
            Table::RoadmapActions => "roadmap_actions",
            Table::Lessons => "lessons",
            Table::Testimonies => "testimonies",
            Table::FundingLines => "funding_lines",
            Table::ApiClients => "api_clients",
            Table::WebhookSubscriptions => "webhook_subscriptions",
        }
    }
}

#[derive(FromQueryResult)]
struct VersionRow {
    version: i32,
}

/// The row's current version, if the row exists.
pub async fn current(
    db: &impl ConnectionTrait,
    table: Table,
    id: Uuid,
) -> StoreResult<Option<i32>> {
    let select = Query::select()
        .column(Alias::new("version"))
        .from(Alias::new(table.name()))
        .and_where(Expr::col(Alias::new("id")).eq(id))
        .to_owned();
    Ok(
        VersionRow::find_by_statement(db.get_database_backend().build(&select))
            .one(db)
            .await?
            .map(|r| r.version),
    )
}

/// Moves the row past `version`; [`StoreError::Stale`] when another writer did first.
pub async fn claim(
    db: &impl ConnectionTrait,
    table: Table,
    id: Uuid,
    version: i32,
) -> StoreResult<()> {
    let update = Query::update()
        .table(Alias::new(table.name()))
        .value(
            Alias::new("version"),
            Expr::col(Alias::new("version")).add(1),
        )
        .and_where(Expr::col(Alias::new("id")).eq(id))
        .and_where(Expr::col(Alias::new("version")).eq(version))
        .to_owned();
    if db.execute(&update).await?.rows_affected() == 0 {
        return Err(StoreError::Stale);
    }
    Ok(())
}
