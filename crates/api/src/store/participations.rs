use std::collections::HashMap;

use chrono::Utc;
use domain::participation::{self as rules, ParticipationFacts};
use domain::{FabriqueStatus, ParticipationAction, ParticipationStatus};
use entity::participation::{ActiveModel, Column, Entity, Model};
use entity::territory;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use super::fabriques::{self as fabs, sees_personal};
use super::{Page, PageRequest, fetch_page};
use crate::auth::{Caller, Role};
use crate::error::{ApiError, blockers_to_problems};
use crate::extract::{parse_enum_list, parse_id_list};
use crate::journal::{self, Actor, Change};
use crate::pagination::{SortKey, parse_sort};
use crate::routes::participations::{
    CreateParticipationRequest, ParticipationListParams, ParticipationResponse,
    ParticipationTransitionResponse, ParticipationTransitionsResponse, UpdateParticipationRequest,
};

pub fn not_found() -> ApiError {
    ApiError::NotFound("participation")
}

fn status_of(m: &Model) -> ParticipationStatus {
    m.status.parse().unwrap_or(ParticipationStatus::Applied)
}

/// The full response (the journal keeps it whole; readers get [`redact`]ed copies).
fn response(m: Model, territory_name: String) -> ParticipationResponse {
    ParticipationResponse {
        id: m.id,
        fabrique_id: m.fabrique_id,
        territory_id: m.territory_id,
        territory_name,
        status: status_of(&m),
        sponsor_name: m.sponsor_name,
        sponsor_mandate: m.sponsor_mandate,
        motivation: m.motivation,
        focus: m.focus,
        status_reason: m.status_reason,
        applied_at: m.applied_at,
        accepted_at: m.accepted_at,
        rejected_at: m.rejected_at,
        activated_at: m.activated_at,
        completed_at: m.completed_at,
        withdrawn_at: m.withdrawn_at,
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

fn redact(mut p: ParticipationResponse) -> ParticipationResponse {
    p.sponsor_name = None;
    p.sponsor_mandate = None;
    p.motivation = None;
    p
}

async fn territory_names(
    db: &impl ConnectionTrait,
    ids: Vec<Uuid>,
) -> Result<HashMap<Uuid, String>, ApiError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(territory::Entity::find()
        .filter(territory::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.id, t.name))
        .collect())
}

/// Applies the visibility rules of one caller to a participation.
async fn shown(
    db: &impl ConnectionTrait,
    caller: &Caller,
    p: ParticipationResponse,
    cache: &mut HashMap<Uuid, bool>,
) -> Result<ParticipationResponse, ApiError> {
    if caller.role == Role::Territory {
        return Ok(p); // only its own ever reach here
    }
    let personal = match cache.get(&p.fabrique_id) {
        Some(v) => *v,
        None => {
            let v = sees_personal(db, caller, p.fabrique_id).await?;
            cache.insert(p.fabrique_id, v);
            v
        }
    };
    Ok(if personal { p } else { redact(p) })
}

pub async fn list(
    db: &impl ConnectionTrait,
    caller: &Caller,
    fabrique: Option<Uuid>,
    p: &ParticipationListParams,
) -> Result<Page<ParticipationResponse>, ApiError> {
    let sort = parse_sort(
        p.sort.as_deref(),
        &[("created_at", SortKey::<Column>::Created)],
    )?;
    let mut q = Entity::find();
    if let Some(f) = fabrique {
        fabs::get_visible(db, Some(caller), f).await?;
        q = q.filter(Column::FabriqueId.eq(f));
    }
    let fabriques = parse_id_list(&p.fabrique, "fabrique")?;
    if !fabriques.is_empty() {
        q = q.filter(Column::FabriqueId.is_in(fabriques));
    }
    let territories = parse_id_list(&p.territory, "territory")?;
    if !territories.is_empty() {
        q = q.filter(Column::TerritoryId.is_in(territories));
    }
    let statuses = parse_enum_list::<ParticipationStatus>(&p.status, "status")?;
    if !statuses.is_empty() {
        q = q.filter(Column::Status.is_in(statuses));
    }
    match (caller.role, caller.territory) {
        (Role::Territory, Some(t)) => q = q.filter(Column::TerritoryId.eq(t)),
        (Role::Admin | Role::AnctStaff | Role::Analyst, _) => {}
        // Partners read all but drafts.
        _ => q = q.filter(Column::FabriqueId.in_subquery(fabs::past_draft_ids())),
    }
    let q = super::updated_since(q, Column::UpdatedAt, p.updated_since);
    let page = fetch_page(
        db,
        q,
        Column::Id,
        sort,
        PageRequest {
            cursor: p.cursor.as_deref(),
            limit: p.limit,
            count: p.count.unwrap_or(false),
        },
        |m: &Model| (None, m.id),
    )
    .await?;
    let names = territory_names(db, page.items.iter().map(|m| m.territory_id).collect()).await?;
    let mut cache = HashMap::new();
    let mut items = Vec::with_capacity(page.items.len());
    for m in page.items {
        let name = names.get(&m.territory_id).cloned().unwrap_or_default();
        items.push(shown(db, caller, response(m, name), &mut cache).await?);
    }
    Ok(Page {
        items,
        next: page.next,
        total: page.total,
    })
}

/// The participation if the caller may know it exists.
async fn find_visible(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: Uuid,
) -> Result<Model, ApiError> {
    let m = Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    if caller.role == Role::Territory && caller.territory != Some(m.territory_id) {
        return Err(not_found());
    }
    fabs::get_visible(db, Some(caller), m.fabrique_id)
        .await
        .map_err(|_| not_found())?;
    Ok(m)
}

async fn full(db: &impl ConnectionTrait, m: Model) -> Result<ParticipationResponse, ApiError> {
    let name = territory_names(db, vec![m.territory_id])
        .await?
        .remove(&m.territory_id)
        .unwrap_or_default();
    Ok(response(m, name))
}

pub async fn get(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: Uuid,
) -> Result<ParticipationResponse, ApiError> {
    let m = find_visible(db, caller, id).await?;
    let p = full(db, m).await?;
    shown(db, caller, p, &mut HashMap::new()).await
}

async fn journal_participation(
    db: &impl ConnectionTrait,
    actor: &Actor,
    action: &str,
    p: &ParticipationResponse,
) -> Result<(), ApiError> {
    journal::record(
        db,
        actor,
        Change {
            action,
            entity_type: "participation",
            entity_id: p.id,
            fabrique_id: Some(p.fabrique_id),
            state: p,
        },
    )
    .await?;
    Ok(())
}

pub async fn apply(
    db: &impl ConnectionTrait,
    actor: &Actor,
    fabrique_id: Uuid,
    r: CreateParticipationRequest,
) -> Result<ParticipationResponse, ApiError> {
    let caller = &actor.caller;
    if caller.role == Role::Territory && caller.territory != Some(r.territory_id) {
        return Err(ApiError::Forbidden(
            "participations:apply (for another territory)".into(),
        ));
    }
    fabs::get_visible(db, Some(caller), fabrique_id).await?;
    let f = fabs::get_for_update(db, fabrique_id).await?;
    let t = territory::Entity::find_by_id(r.territory_id)
        .one(db)
        .await?;
    let Some(t) = t else {
        return Err(ApiError::invalid(
            "/territory_id",
            "unknown_territory",
            "no territory has this id",
        ));
    };
    let already = Entity::find()
        .filter(Column::FabriqueId.eq(fabrique_id))
        .filter(Column::TerritoryId.eq(r.territory_id))
        .one(db)
        .await?
        .is_some();
    let fstatus: FabriqueStatus = f.status.parse().unwrap_or(FabriqueStatus::Draft);
    rules::can_apply(fstatus, already).map_err(ApiError::TransitionRefused)?;
    let now = Utc::now();
    let m = ActiveModel {
        id: Set(Uuid::now_v7()),
        fabrique_id: Set(fabrique_id),
        territory_id: Set(r.territory_id),
        status: Set(ParticipationStatus::Applied.as_str().into()),
        sponsor_name: Set(r.sponsor_name),
        sponsor_mandate: Set(r.sponsor_mandate),
        motivation: Set(r.motivation),
        focus: Set(r.focus),
        status_reason: Set(None),
        applied_at: Set(now),
        accepted_at: Set(None),
        rejected_at: Set(None),
        activated_at: Set(None),
        completed_at: Set(None),
        withdrawn_at: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
    .map_err(|e| match ApiError::from(e) {
        ApiError::Conflict { .. } => {
            ApiError::TransitionRefused(domain::Blockers(vec![domain::Blocker::AlreadyApplied]))
        }
        other => other,
    })?;
    let p = response(m, t.name);
    journal_participation(db, actor, "participation.applied", &p).await?;
    Ok(p)
}

pub async fn update(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
    r: UpdateParticipationRequest,
) -> Result<ParticipationResponse, ApiError> {
    let m = find_visible(db, &actor.caller, id).await?;
    if actor.caller.role == Role::Territory && actor.caller.territory != Some(m.territory_id) {
        return Err(not_found());
    }
    let status = status_of(&m);
    if status.is_terminal() {
        return Err(ApiError::conflict(
            "participation_closed",
            format!("the participation is {status}; it can no longer change"),
        ));
    }
    let version = m.version;
    let mut am: ActiveModel = m.into();
    if let Some(v) = r.sponsor_name {
        am.sponsor_name = Set(v);
    }
    if let Some(v) = r.sponsor_mandate {
        am.sponsor_mandate = Set(v);
    }
    if let Some(v) = r.motivation {
        am.motivation = Set(v);
    }
    if let Some(v) = r.focus {
        am.focus = Set(v);
    }
    am.version = Set(version + 1);
    am.updated_at = Set(Utc::now());
    let m = am.update(db).await?;
    let p = full(db, m).await?;
    journal_participation(db, actor, "participation.updated", &p).await?;
    Ok(p)
}

async fn facts(
    db: &impl ConnectionTrait,
    m: &Model,
    lock: bool,
) -> Result<ParticipationFacts, ApiError> {
    let f = if lock {
        fabs::get_for_update(db, m.fabrique_id).await?
    } else {
        entity::fabrique::Entity::find_by_id(m.fabrique_id)
            .one(db)
            .await?
            .ok_or_else(fabs::not_found)?
    };
    let c = fabs::counts(db, m.fabrique_id).await?;
    Ok(ParticipationFacts {
        status: status_of(m),
        fabrique_status: f.status.parse().unwrap_or(FabriqueStatus::Draft),
        accepted_in_fabrique: c.accepted + c.active,
        max_territories: u32::try_from(f.max_territories).unwrap_or(0),
    })
}

pub async fn transitions(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: Uuid,
) -> Result<ParticipationTransitionsResponse, ApiError> {
    let m = find_visible(db, caller, id).await?;
    let facts = facts(db, &m, false).await?;
    let transitions = rules::available(&facts, Some("reason given with the request"))
        .into_iter()
        .map(|(action, blockers)| {
            let problems = blockers_to_problems(&domain::Blockers(blockers));
            ParticipationTransitionResponse {
                action,
                to: action.target(),
                allowed: problems.is_empty(),
                blockers: problems,
            }
        })
        .collect();
    Ok(ParticipationTransitionsResponse {
        status: facts.status,
        transitions,
    })
}

fn stamp_column(to: ParticipationStatus) -> Option<Column> {
    match to {
        ParticipationStatus::Accepted => Some(Column::AcceptedAt),
        ParticipationStatus::Rejected => Some(Column::RejectedAt),
        ParticipationStatus::Active => Some(Column::ActivatedAt),
        ParticipationStatus::Completed => Some(Column::CompletedAt),
        ParticipationStatus::Withdrawn => Some(Column::WithdrawnAt),
        ParticipationStatus::Applied => None,
    }
}

/// Moves one participation from `from` to `to`, only if it is still in `from`.
async fn set_status(
    db: &impl ConnectionTrait,
    id: Uuid,
    from: ParticipationStatus,
    to: ParticipationStatus,
    reason: Option<&str>,
) -> Result<bool, ApiError> {
    let now = Utc::now();
    let mut upd = Entity::update_many()
        .col_expr(Column::Status, Expr::value(to.as_str()))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .col_expr(Column::Version, Expr::col(Column::Version).add(1));
    if let Some(col) = stamp_column(to) {
        upd = upd.col_expr(col, Expr::value(now));
    }
    if let Some(r) = reason {
        upd = upd.col_expr(Column::StatusReason, Expr::value(r.trim()));
    }
    let res = upd
        .filter(Column::Id.eq(id))
        .filter(Column::Status.eq(from.as_str()))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

pub async fn transition(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
    action: ParticipationAction,
    reason: Option<&str>,
) -> Result<ParticipationResponse, ApiError> {
    let m = find_visible(db, &actor.caller, id).await?;
    let facts = facts(db, &m, true).await?;
    let to = rules::decide(&facts, action, reason).map_err(ApiError::TransitionRefused)?;
    if !set_status(
        db,
        id,
        facts.status,
        to,
        (action == ParticipationAction::Withdraw)
            .then_some(reason)
            .flatten(),
    )
    .await?
    {
        return Err(ApiError::conflict(
            "concurrent_change",
            "the participation changed meanwhile; read it again",
        ));
    }
    let m = Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    let p = full(db, m).await?;
    journal_participation(db, actor, &format!("participation.{}", action.as_str()), &p).await?;
    shown(db, &actor.caller, p, &mut HashMap::new()).await
}

/// Adopting a roadmap completes its active participation (journaled).
pub async fn complete(db: &impl ConnectionTrait, actor: &Actor, id: Uuid) -> Result<(), ApiError> {
    let m = Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    let to = domain::participation::complete_on_adoption(status_of(&m))
        .map_err(ApiError::TransitionRefused)?;
    if !set_status(db, id, status_of(&m), to, None).await? {
        return Err(ApiError::conflict(
            "concurrent_change",
            "the participation changed meanwhile; read it again",
        ));
    }
    let m = Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    let p = full(db, m).await?;
    journal_participation(db, actor, "participation.completed", &p).await
}

/// Moves every participation of a Fabrique in one of `from` to `to` (launch, cancellation),
/// journaling each.
pub async fn cascade(
    db: &impl ConnectionTrait,
    actor: &Actor,
    fabrique_id: Uuid,
    from: &[ParticipationStatus],
    to: ParticipationStatus,
    reason: Option<&str>,
) -> Result<(), ApiError> {
    let rows = Entity::find()
        .filter(Column::FabriqueId.eq(fabrique_id))
        .filter(Column::Status.is_in(from.iter().map(|s| s.as_str())))
        .all(db)
        .await?;
    for m in rows {
        if set_status(db, m.id, status_of(&m), to, reason).await? {
            let m = Entity::find_by_id(m.id)
                .one(db)
                .await?
                .ok_or_else(not_found)?;
            let p = full(db, m).await?;
            journal_participation(db, actor, &format!("participation.{}", to.as_str()), &p).await?;
        }
    }
    Ok(())
}
