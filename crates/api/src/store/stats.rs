//! Figures for the data team. Every figure is one SQL aggregation over the Fabriques the
//! filters select (the same filters, and the same visibility, as `GET /fabriques`); nothing is
//! counted in Rust. Definitions: `docs/data-dictionary.md`.

use std::collections::BTreeMap;

use domain::ParticipationStatus;
use entity::{fabrique, funding_line, participation as part, roadmap, roadmap_action, seminar};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, Query, SelectStatement};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
};
use uuid::Uuid;

use super::fabriques::{Filters, filtered};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::routes::stats::{FundingByOrganization, FundingFigures, Overview, SeminarFigures};

/// Participation statuses that count as "accompanied".
pub const ACCOMPANIED: [ParticipationStatus; 3] = [
    ParticipationStatus::Accepted,
    ParticipationStatus::Active,
    ParticipationStatus::Completed,
];

/// The ids of the selected Fabriques, as a subquery.
pub fn selected(caller: Option<&Caller>, f: &Filters<'_>) -> Result<SelectStatement, ApiError> {
    use sea_orm::QueryTrait;
    Ok(filtered(
        fabrique::Entity::find()
            .select_only()
            .column(fabrique::Column::Id),
        caller,
        f,
    )?
    .into_query())
}

fn participations_of(ids: &SelectStatement) -> SelectStatement {
    Query::select()
        .column(part::Column::Id)
        .from(part::Entity)
        .and_where(Expr::col(part::Column::FabriqueId).in_subquery(ids.clone()))
        .to_owned()
}

async fn counts_by(
    db: &impl ConnectionTrait,
    q: sea_orm::Select<impl EntityTrait>,
) -> Result<BTreeMap<String, i64>, ApiError> {
    let rows: Vec<(String, i64)> = q.into_tuple().all(db).await?;
    Ok(rows.into_iter().collect())
}

pub async fn overview(
    db: &impl ConnectionTrait,
    caller: Option<&Caller>,
    f: &Filters<'_>,
    with_funding: bool,
) -> Result<Overview, ApiError> {
    let ids = selected(caller, f)?;
    let fabriques_by_status = counts_by(
        db,
        fabrique::Entity::find()
            .select_only()
            .column(fabrique::Column::Status)
            .column_as(fabrique::Column::Id.count(), "n")
            .filter(fabrique::Column::Id.in_subquery(ids.clone()))
            .group_by(fabrique::Column::Status),
    )
    .await?;
    let participations_by_status = counts_by(
        db,
        part::Entity::find()
            .select_only()
            .column(part::Column::Status)
            .column_as(part::Column::Id.count(), "n")
            .filter(part::Column::FabriqueId.in_subquery(ids.clone()))
            .group_by(part::Column::Status),
    )
    .await?;
    let territories: Option<i64> = part::Entity::find()
        .select_only()
        .column_as(Expr::col(part::Column::TerritoryId).count_distinct(), "n")
        .filter(part::Column::FabriqueId.in_subquery(ids.clone()))
        .filter(part::Column::Status.is_in(ACCOMPANIED.map(|s| s.as_str())))
        .into_tuple()
        .one(db)
        .await?;
    let seminar_rows: Vec<(String, String, i64)> = seminar::Entity::find()
        .select_only()
        .column(seminar::Column::Kind)
        .column(seminar::Column::Status)
        .column_as(seminar::Column::Id.count(), "n")
        .filter(seminar::Column::FabriqueId.in_subquery(ids.clone()))
        .group_by(seminar::Column::Kind)
        .group_by(seminar::Column::Status)
        .into_tuple()
        .all(db)
        .await?;
    let mut seminars: BTreeMap<String, SeminarFigures> = BTreeMap::new();
    for (kind, status, n) in seminar_rows {
        let s = seminars.entry(kind).or_default();
        match status.as_str() {
            "planned" => s.planned = n,
            "held" => s.held = n,
            "cancelled" => s.cancelled = n,
            _ => {}
        }
    }
    let roadmaps_adopted = roadmap::Entity::find()
        .filter(roadmap::Column::Status.eq("adopted"))
        .filter(roadmap::Column::ParticipationId.in_subquery(participations_of(&ids)))
        .count(db)
        .await?;
    let roadmap_actions = roadmap_action::Entity::find()
        .filter(
            roadmap_action::Column::RoadmapId.in_subquery(
                Query::select()
                    .column(roadmap::Column::Id)
                    .from(roadmap::Entity)
                    .and_where(
                        Expr::col(roadmap::Column::ParticipationId)
                            .in_subquery(participations_of(&ids)),
                    )
                    .to_owned(),
            ),
        )
        .count(db)
        .await?;
    let funding = if with_funding {
        Some(funding(db, &ids).await?)
    } else {
        None
    };
    Ok(Overview {
        fabriques: fabriques_by_status.values().sum(),
        fabriques_by_status,
        territories_accompanied: territories.unwrap_or(0),
        participations: participations_by_status.values().sum(),
        participations_by_status,
        seminars,
        roadmaps_adopted: roadmaps_adopted as i64,
        roadmap_actions: roadmap_actions as i64,
        funding,
    })
}

/// SUM of a bigint is numeric on PostgreSQL: cast it back.
fn sum_cents() -> Expr {
    Expr::from(Func::cast_as(
        Func::sum(Expr::col(funding_line::Column::AmountCents)),
        Alias::new("bigint"),
    ))
}

async fn funding(
    db: &impl ConnectionTrait,
    ids: &SelectStatement,
) -> Result<FundingFigures, ApiError> {
    let by_kind = counts_by(
        db,
        funding_line::Entity::find()
            .select_only()
            .column(funding_line::Column::Kind)
            .column_as(sum_cents(), "n")
            .filter(funding_line::Column::FabriqueId.in_subquery(ids.clone()))
            .group_by(funding_line::Column::Kind),
    )
    .await?;
    let rows: Vec<(Uuid, i64)> = funding_line::Entity::find()
        .select_only()
        .column(funding_line::Column::OrganizationId)
        .column_as(sum_cents(), "n")
        .filter(funding_line::Column::FabriqueId.in_subquery(ids.clone()))
        .group_by(funding_line::Column::OrganizationId)
        .into_tuple()
        .all(db)
        .await?;
    let names: std::collections::HashMap<Uuid, String> = entity::organization::Entity::find()
        .filter(entity::organization::Column::Id.is_in(rows.iter().map(|r| r.0)))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect();
    let mut by_organization: Vec<FundingByOrganization> = rows
        .into_iter()
        .map(|(organization_id, amount_cents)| FundingByOrganization {
            organization_id,
            name: names.get(&organization_id).cloned().unwrap_or_default(),
            amount_cents,
        })
        .collect();
    by_organization.sort_by(|a, b| {
        b.amount_cents
            .cmp(&a.amount_cents)
            .then(a.name.cmp(&b.name))
    });
    Ok(FundingFigures {
        total_cents: by_kind.values().sum(),
        by_kind_cents: by_kind,
        by_organization,
    })
}
