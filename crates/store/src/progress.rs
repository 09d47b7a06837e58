//! Where each territory of a Fabrique stands in the year, and what still blocks completion.
//! The territories listed are the participations the caller may see.

use domain::fabrique::{self as rules, FabriqueAction};
use domain::roadmap::RoadmapStatus;
use domain::seminar::{SEMINARS_PER_OWNER, SeminarKind, SeminarStatus};
use domain::{Access, FabriqueStatus, ParticipationStatus};
use sea_orm::sea_query::{Expr, ExprTrait, IntoIden, Order, Query};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, FromQueryResult, JoinType, QueryResult};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::decode::{count, decode};
use crate::error::StoreResult;
use crate::fabriques as fabs;
use crate::problem::{FieldProblem, of_blockers};

/// Seminars of one owner by status, out of the 4 expected.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SeminarTally {
    pub planned: u32,
    pub held: u32,
    pub cancelled: u32,
    /// Always 4: the seminars expected of this owner.
    #[schema(example = 4)]
    pub expected: u32,
}

impl Default for SeminarTally {
    fn default() -> Self {
        SeminarTally {
            planned: 0,
            held: 0,
            cancelled: 0,
            expected: SEMINARS_PER_OWNER,
        }
    }
}

/// One territory's year.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TerritoryProgress {
    pub participation_id: Uuid,
    pub territory_id: Uuid,
    pub territory_name: String,
    pub status: ParticipationStatus,
    pub local_seminars: SeminarTally,
    /// Null until a roadmap is started.
    pub roadmap_status: Option<RoadmapStatus>,
    pub roadmap_actions: u32,
    pub working_group_size: u32,
    /// Latest change to the participation, its seminars, roadmap or working group.
    pub last_activity: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = ProgressResponse)]
pub struct Progress {
    pub fabrique_id: Uuid,
    pub status: FabriqueStatus,
    pub intersite_seminars: SeminarTally,
    pub lessons: u32,
    pub territories: Vec<TerritoryProgress>,
    /// What still blocks completion (empty when it could complete now).
    pub completion_blockers: Vec<FieldProblem>,
}

/// Where the Fabrique `id` stands, in two statements: the Fabrique with its facts and its
/// intersite seminars, then the participations the caller may see, each with its territory,
/// its seminars, its roadmap (when the caller may see it) and its working group.
pub async fn progress(
    db: &impl ConnectionTrait,
    access: &Access,
    id: Uuid,
) -> StoreResult<Progress> {
    use entity::{
        participation as part, roadmap, roadmap_action as action, seminar, territory,
        working_group_member as wg,
    };
    let seminars = |cond: Condition, status: SeminarStatus| {
        fabs::count_of(
            seminar::Entity,
            cond.add(seminar::Column::Status.eq(status.as_str())),
        )
    };
    let intersite = || {
        Condition::all()
            .add(seminar::Column::FabriqueId.eq(id))
            .add(seminar::Column::Kind.eq(SeminarKind::Intersite.as_str()))
    };
    let (_, facts, row) = fabs::visible_with_facts(db, access, id, |q| {
        for s in SeminarStatus::ALL {
            q.expr_as(
                seminars(intersite(), *s),
                format!("intersite_{}", s.as_str()),
            );
        }
    })
    .await?;
    let tally = |row: &QueryResult, prefix: &str| -> StoreResult<SeminarTally> {
        let n = |s: SeminarStatus| -> StoreResult<u32> {
            Ok(count(
                row.try_get::<i64>("", &format!("{prefix}_{}", s.as_str()))?,
            ))
        };
        Ok(SeminarTally {
            planned: n(SeminarStatus::Planned)?,
            held: n(SeminarStatus::Held)?,
            cancelled: n(SeminarStatus::Cancelled)?,
            expected: SEMINARS_PER_OWNER,
        })
    };
    let intersite_seminars = tally(&row, "intersite")?;

    let of_participation = |c: Expr| c.equals((part::Entity, part::Column::Id));
    let local = || {
        Condition::all()
            .add(of_participation(Expr::col((
                seminar::Entity,
                seminar::Column::ParticipationId,
            ))))
            .add(seminar::Column::Kind.eq(SeminarKind::Local.as_str()))
    };
    let latest =
        |table: sea_orm::sea_query::DynIden, column: sea_orm::sea_query::DynIden, fk: Expr| {
            let q = Query::select()
                .expr(sea_orm::sea_query::Func::max(Expr::col((
                    table.clone(),
                    column,
                ))))
                .from(table)
                .and_where(of_participation(fk))
                .to_owned();
            Expr::SubQuery(None, Box::new(q.into()))
        };
    let mut q = Query::select()
        .columns(<part::Column as sea_orm::Iterable>::iter().map(|c| (part::Entity, c)))
        .expr_as(
            Expr::col((territory::Entity, territory::Column::Name)),
            "territory_name",
        )
        .expr_as(
            Expr::col((roadmap::Entity, roadmap::Column::Id)),
            "roadmap_id",
        )
        .expr_as(
            Expr::col((roadmap::Entity, roadmap::Column::Status)),
            "roadmap_status",
        )
        .expr_as(
            Expr::col((roadmap::Entity, roadmap::Column::UpdatedAt)),
            "roadmap_updated_at",
        )
        .expr_as(
            fabs::count_of(
                action::Entity,
                Condition::all().add(
                    Expr::col((action::Entity, action::Column::RoadmapId))
                        .equals((roadmap::Entity, roadmap::Column::Id)),
                ),
            ),
            "roadmap_actions",
        )
        .expr_as(
            fabs::count_of(
                wg::Entity,
                Condition::all().add(of_participation(Expr::col((
                    wg::Entity,
                    wg::Column::ParticipationId,
                )))),
            ),
            "group_size",
        )
        .expr_as(
            latest(
                wg::Entity.into_iden(),
                wg::Column::UpdatedAt.into_iden(),
                Expr::col((wg::Entity, wg::Column::ParticipationId)),
            ),
            "group_last",
        )
        .expr_as(
            latest(
                seminar::Entity.into_iden(),
                seminar::Column::UpdatedAt.into_iden(),
                Expr::col((seminar::Entity, seminar::Column::ParticipationId)),
            ),
            "seminar_last",
        )
        .from(part::Entity)
        .inner_join(
            territory::Entity,
            Expr::col((territory::Entity, territory::Column::Id))
                .equals((part::Entity, part::Column::TerritoryId)),
        )
        .join(
            JoinType::LeftJoin,
            roadmap::Entity,
            Condition::all()
                .add(
                    Expr::col((roadmap::Entity, roadmap::Column::ParticipationId))
                        .equals((part::Entity, part::Column::Id)),
                )
                .add(crate::access::roadmaps(access)),
        )
        .and_where(part::Column::FabriqueId.eq(id))
        .cond_where(crate::access::participations(access))
        .order_by((part::Entity, part::Column::CreatedAt), Order::Asc)
        .order_by((part::Entity, part::Column::Id), Order::Asc)
        .to_owned();
    for s in SeminarStatus::ALL {
        q.expr_as(seminars(local(), *s), format!("local_{}", s.as_str()));
    }
    let territories = db
        .query_all(&q)
        .await?
        .iter()
        .map(|row| {
            let p = part::Model::from_query_result(row, "")?;
            let roadmap_status: Option<String> = row.try_get("", "roadmap_status")?;
            let roadmap_updated: Option<chrono::DateTime<chrono::Utc>> =
                row.try_get("", "roadmap_updated_at")?;
            let last_activity = [
                Some(p.updated_at),
                roadmap_updated,
                row.try_get("", "group_last")?,
                row.try_get("", "seminar_last")?,
            ]
            .into_iter()
            .flatten()
            .max()
            .unwrap_or(p.updated_at);
            Ok(TerritoryProgress {
                participation_id: p.id,
                territory_id: p.territory_id,
                territory_name: row.try_get("", "territory_name")?,
                status: crate::participations::status_of(&p)?,
                local_seminars: tally(row, "local")?,
                roadmap_status: roadmap_status
                    .map(|s| decode("roadmaps", "status", &s))
                    .transpose()?,
                roadmap_actions: count(row.try_get("", "roadmap_actions")?),
                working_group_size: count(row.try_get("", "group_size")?),
                last_activity,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(Progress {
        fabrique_id: id,
        status: facts.status,
        intersite_seminars,
        lessons: facts.lessons,
        territories,
        completion_blockers: of_blockers(&rules::blockers(&facts, FabriqueAction::Complete, None)),
    })
}
