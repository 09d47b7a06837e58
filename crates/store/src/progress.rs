//! Where each territory of a Fabrique stands in the year, and what still blocks completion.
//! The territories listed are the participations the caller may see.

use std::collections::HashMap;

use domain::fabrique::{self as rules, FabriqueAction};
use domain::roadmap::RoadmapStatus;
use domain::seminar::{SEMINARS_PER_OWNER, SeminarKind, SeminarStatus};
use domain::{Access, FabriqueStatus, ParticipationStatus};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
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

impl SeminarTally {
    fn add(&mut self, status: SeminarStatus, n: u32) {
        match status {
            SeminarStatus::Planned => self.planned += n,
            SeminarStatus::Held => self.held += n,
            SeminarStatus::Cancelled => self.cancelled += n,
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

pub async fn progress(
    db: &impl ConnectionTrait,
    access: &Access,
    id: Uuid,
) -> StoreResult<Progress> {
    use entity::{
        participation, roadmap, roadmap_action, seminar, territory, working_group_member as wg,
    };
    let f = fabs::visible(db, access, id).await?;
    let facts = fabs::facts(db, &f).await?;

    // Seminars by owner, kind and status: one aggregate.
    let rows: Vec<(Option<Uuid>, String, String, i64)> = seminar::Entity::find()
        .select_only()
        .column(seminar::Column::ParticipationId)
        .column(seminar::Column::Kind)
        .column(seminar::Column::Status)
        .column_as(seminar::Column::Id.count(), "n")
        .filter(seminar::Column::FabriqueId.eq(id))
        .group_by(seminar::Column::ParticipationId)
        .group_by(seminar::Column::Kind)
        .group_by(seminar::Column::Status)
        .into_tuple()
        .all(db)
        .await?;
    let mut intersite = SeminarTally::default();
    let mut local: HashMap<Uuid, SeminarTally> = HashMap::new();
    for (participation, kind, status, n) in rows {
        let status: SeminarStatus = decode("seminars", "status", &status)?;
        let n = count(n);
        match (decode("seminars", "kind", &kind)?, participation) {
            (SeminarKind::Local, Some(p)) => local.entry(p).or_default().add(status, n),
            _ => intersite.add(status, n),
        }
    }
    let last_seminar: HashMap<Uuid, chrono::DateTime<chrono::Utc>> = seminar::Entity::find()
        .select_only()
        .column(seminar::Column::ParticipationId)
        .column_as(seminar::Column::UpdatedAt.max(), "last")
        .filter(seminar::Column::FabriqueId.eq(id))
        .filter(seminar::Column::ParticipationId.is_not_null())
        .group_by(seminar::Column::ParticipationId)
        .into_tuple::<(Option<Uuid>, Option<chrono::DateTime<chrono::Utc>>)>()
        .all(db)
        .await?
        .into_iter()
        .filter_map(|(p, t)| Some((p?, t?)))
        .collect();

    let parts = participation::Entity::find()
        .filter(participation::Column::FabriqueId.eq(id))
        .filter(crate::access::participations(access))
        .all(db)
        .await?;
    let pids: Vec<Uuid> = parts.iter().map(|p| p.id).collect();
    let names: HashMap<Uuid, String> = territory::Entity::find()
        .select_only()
        .column(territory::Column::Id)
        .column(territory::Column::Name)
        .filter(
            territory::Column::Id.is_in(parts.iter().map(|p| p.territory_id).collect::<Vec<_>>()),
        )
        .into_tuple::<(Uuid, String)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let roadmaps: HashMap<Uuid, roadmap::Model> = roadmap::Entity::find()
        .filter(roadmap::Column::ParticipationId.is_in(pids.clone()))
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.participation_id, r))
        .collect();
    let action_counts: HashMap<Uuid, i64> = roadmap_action::Entity::find()
        .select_only()
        .column(roadmap_action::Column::RoadmapId)
        .column_as(roadmap_action::Column::Id.count(), "n")
        .filter(
            roadmap_action::Column::RoadmapId
                .is_in(roadmaps.values().map(|r| r.id).collect::<Vec<_>>()),
        )
        .group_by(roadmap_action::Column::RoadmapId)
        .into_tuple::<(Uuid, i64)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let groups: HashMap<Uuid, (i64, Option<chrono::DateTime<chrono::Utc>>)> = wg::Entity::find()
        .select_only()
        .column(wg::Column::ParticipationId)
        .column_as(wg::Column::Id.count(), "n")
        .column_as(wg::Column::UpdatedAt.max(), "last")
        .filter(wg::Column::ParticipationId.is_in(pids))
        .group_by(wg::Column::ParticipationId)
        .into_tuple::<(Uuid, i64, Option<chrono::DateTime<chrono::Utc>>)>()
        .all(db)
        .await?
        .into_iter()
        .map(|(p, n, last)| (p, (n, last)))
        .collect();

    let territories = parts
        .into_iter()
        .map(|p| {
            let roadmap = roadmaps.get(&p.id);
            let (group_size, group_last) = groups.get(&p.id).copied().unwrap_or((0, None));
            let last_activity = [
                Some(p.updated_at),
                roadmap.map(|r| r.updated_at),
                group_last,
                last_seminar.get(&p.id).copied(),
            ]
            .into_iter()
            .flatten()
            .max()
            .unwrap_or(p.updated_at);
            Ok(TerritoryProgress {
                participation_id: p.id,
                territory_id: p.territory_id,
                territory_name: names.get(&p.territory_id).cloned().unwrap_or_default(),
                status: crate::participations::status_of(&p)?,
                local_seminars: local.remove(&p.id).unwrap_or_default(),
                roadmap_status: roadmap
                    .map(|r| decode("roadmaps", "status", &r.status))
                    .transpose()?,
                roadmap_actions: roadmap
                    .and_then(|r| action_counts.get(&r.id))
                    .map_or(0, |n| count(*n)),
                working_group_size: count(group_size),
                last_activity,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(Progress {
        fabrique_id: id,
        status: facts.status,
        intersite_seminars: intersite,
        lessons: facts.lessons,
        territories,
        completion_blockers: of_blockers(&rules::blockers(&facts, FabriqueAction::Complete, None)),
    })
}
