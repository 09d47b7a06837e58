use std::collections::HashMap;

use domain::ParticipationStatus;
use domain::fabrique::{self as rules, FabriqueAction};
use domain::roadmap::RoadmapStatus;
use domain::seminar::{SEMINARS_PER_OWNER, SeminarKind, SeminarStatus};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use super::fabriques as fabs;
use crate::auth::Caller;
use crate::error::{ApiError, blockers_to_problems};
use crate::routes::progress::{ProgressResponse, SeminarTally, TerritoryProgress};

fn tally() -> SeminarTally {
    SeminarTally {
        expected: SEMINARS_PER_OWNER,
        ..SeminarTally::default()
    }
}

fn add(t: &mut SeminarTally, status: &str, n: u32) {
    match status.parse() {
        Ok(SeminarStatus::Planned) => t.planned += n,
        Ok(SeminarStatus::Held) => t.held += n,
        Ok(SeminarStatus::Cancelled) => t.cancelled += n,
        Err(()) => {}
    }
}

pub async fn progress(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: Uuid,
) -> Result<ProgressResponse, ApiError> {
    use entity::{
        participation, roadmap, roadmap_action, seminar, territory, working_group_member as wg,
    };
    let f = fabs::get_visible(db, Some(caller), id).await?;
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
    let mut intersite = tally();
    let mut local: HashMap<Uuid, SeminarTally> = HashMap::new();
    for (participation, kind, status, n) in rows {
        let n = u32::try_from(n).unwrap_or(u32::MAX);
        match (kind.parse(), participation) {
            (Ok(SeminarKind::Local), Some(p)) => {
                add(local.entry(p).or_insert_with(tally), &status, n)
            }
            _ => add(&mut intersite, &status, n),
        }
    }
    let last_seminar: HashMap<Uuid, chrono::DateTime<chrono::Utc>> = seminar::Entity::find()
        .filter(seminar::Column::FabriqueId.eq(id))
        .all(db)
        .await?
        .into_iter()
        .filter_map(|s| s.participation_id.map(|p| (p, s.updated_at)))
        .fold(HashMap::new(), |mut acc, (p, t)| {
            let e = acc.entry(p).or_insert(t);
            *e = (*e).max(t);
            acc
        });

    let parts = participation::Entity::find()
        .filter(participation::Column::FabriqueId.eq(id))
        .all(db)
        .await?;
    let pids: Vec<Uuid> = parts.iter().map(|p| p.id).collect();
    let names: HashMap<Uuid, String> = territory::Entity::find()
        .filter(
            territory::Column::Id.is_in(parts.iter().map(|p| p.territory_id).collect::<Vec<_>>()),
        )
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.id, t.name))
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
            TerritoryProgress {
                participation_id: p.id,
                territory_id: p.territory_id,
                territory_name: names.get(&p.territory_id).cloned().unwrap_or_default(),
                status: p.status.parse().unwrap_or(ParticipationStatus::Applied),
                local_seminars: local.remove(&p.id).unwrap_or_else(tally),
                roadmap_status: roadmap.and_then(|r| r.status.parse::<RoadmapStatus>().ok()),
                roadmap_actions: roadmap
                    .and_then(|r| action_counts.get(&r.id))
                    .map_or(0, |n| u32::try_from(*n).unwrap_or(u32::MAX)),
                working_group_size: u32::try_from(group_size).unwrap_or(u32::MAX),
                last_activity,
            }
        })
        .collect();
    Ok(ProgressResponse {
        fabrique_id: id,
        status: facts.status,
        intersite_seminars: intersite,
        lessons: facts.lessons,
        territories,
        completion_blockers: blockers_to_problems(&domain::Blockers(rules::blockers(
            &facts,
            FabriqueAction::Complete,
            None,
        ))),
    })
}
