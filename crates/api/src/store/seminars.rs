use std::collections::HashMap;

use chrono::Utc;
use domain::FabriqueStatus;
use domain::seminar::{
    self as rules, PlanFacts, SeminarAction, SeminarFacts, SeminarKind, SeminarMode, SeminarStatus,
};
use entity::seminar::{ActiveModel, Column, Entity, Model};
use entity::seminar_organization as attending;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use super::access::authorize;
use super::fabriques as fabs;
use super::{Page, PageRequest, fetch_page};
use crate::auth::{Caller, Permission};
use crate::error::{ApiError, FieldProblem, blockers_to_problems};
use crate::extract::parse_enum_list;
use crate::journal::{self, Actor, Change};
use crate::routes::seminars::{
    CreateSeminarRequest, SeminarListParams, SeminarResponse, SeminarTransitionRequest,
    SeminarTransitionResponse, SeminarTransitionsResponse, UpdateSeminarRequest,
};

/// The default place of an intersite seminar.
pub const ANCT_PARIS: &str = "ANCT, Paris";

#[derive(Debug, Clone, Copy)]
pub enum Owner {
    Fabrique(Uuid),
    Participation(Uuid),
}

fn not_found() -> ApiError {
    ApiError::NotFound("seminar")
}

fn kind_of(m: &Model) -> SeminarKind {
    m.kind.parse().unwrap_or(SeminarKind::Local)
}

fn status_of(m: &Model) -> SeminarStatus {
    m.status.parse().unwrap_or(SeminarStatus::Planned)
}

async fn attendees(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<Uuid>>, ApiError> {
    let mut out: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    for row in attending::Entity::find()
        .filter(attending::Column::SeminarId.is_in(ids.to_vec()))
        .all(db)
        .await?
    {
        out.entry(row.seminar_id)
            .or_default()
            .push(row.organization_id);
    }
    for v in out.values_mut() {
        v.sort();
    }
    Ok(out)
}

fn response(m: Model, attending_organization_ids: Vec<Uuid>) -> SeminarResponse {
    SeminarResponse {
        id: m.id,
        kind: kind_of(&m),
        status: status_of(&m),
        mode: m.mode.parse().unwrap_or(SeminarMode::InPerson),
        fabrique_id: m.fabrique_id,
        participation_id: m.participation_id,
        number: m.number,
        scheduled_on: m.scheduled_on,
        place: m.place,
        attendance: m.attendance,
        attending_organization_ids,
        summary: m.summary,
        status_reason: m.status_reason,
        held_at: m.held_at,
        cancelled_at: m.cancelled_at,
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

async fn full(db: &impl ConnectionTrait, m: Model) -> Result<SeminarResponse, ApiError> {
    let orgs = attendees(db, &[m.id])
        .await?
        .remove(&m.id)
        .unwrap_or_default();
    Ok(response(m, orgs))
}

/// The Fabrique (visible to the caller) and, for a local seminar, the participation.
async fn resolve(
    db: &impl ConnectionTrait,
    caller: &Caller,
    owner: Owner,
) -> Result<
    (
        entity::fabrique::Model,
        Option<entity::participation::Model>,
    ),
    ApiError,
> {
    match owner {
        Owner::Fabrique(id) => Ok((fabs::get_visible(db, Some(caller), id).await?, None)),
        Owner::Participation(id) => {
            let p = entity::participation::Entity::find_by_id(id)
                .one(db)
                .await?
                .ok_or(ApiError::NotFound("participation"))?;
            let f = fabs::get_visible(db, Some(caller), p.fabrique_id)
                .await
                .map_err(|_| ApiError::NotFound("participation"))?;
            Ok((f, Some(p)))
        }
    }
}

pub async fn list(
    db: &impl ConnectionTrait,
    caller: &Caller,
    owner: Owner,
    p: &SeminarListParams,
) -> Result<Page<SeminarResponse>, ApiError> {
    let (f, part) = resolve(db, caller, owner).await?;
    let mut q = Entity::find().filter(Column::FabriqueId.eq(f.id));
    if let Some(part) = &part {
        q = q.filter(Column::ParticipationId.eq(part.id));
    }
    let kinds = parse_enum_list::<SeminarKind>(&p.kind, "kind")?;
    if !kinds.is_empty() {
        q = q.filter(Column::Kind.is_in(kinds));
    }
    let statuses = parse_enum_list::<SeminarStatus>(&p.status, "status")?;
    if !statuses.is_empty() {
        q = q.filter(Column::Status.is_in(statuses));
    }
    let sort = super::by_creation(false);
    let req = PageRequest::of(&p.cursor, p.limit, p.count);
    let q = super::updated_since(q, Column::UpdatedAt, p.updated_since);
    let page = fetch_page(db, q, Column::Id, sort, req, |m: &Model| (None, m.id)).await?;
    let ids: Vec<Uuid> = page.items.iter().map(|m| m.id).collect();
    let mut orgs = attendees(db, &ids).await?;
    Ok(page.map(|m| {
        let o = orgs.remove(&m.id).unwrap_or_default();
        response(m, o)
    }))
}

async fn journal_seminar(
    db: &impl ConnectionTrait,
    actor: &Actor,
    action: &str,
    s: &SeminarResponse,
) -> Result<(), ApiError> {
    journal::record(
        db,
        actor,
        Change {
            action,
            entity_type: "seminar",
            entity_id: s.id,
            fabrique_id: Some(s.fabrique_id),
            state: s,
        },
    )
    .await?;
    Ok(())
}

pub async fn plan(
    db: &impl ConnectionTrait,
    actor: &Actor,
    owner: Owner,
    r: CreateSeminarRequest,
) -> Result<SeminarResponse, ApiError> {
    let (f, part) = resolve(db, &actor.caller, owner).await?;
    authorize(db, &actor.caller, Permission::WriteSeminars, f.id, None).await?;
    let f = fabs::get_for_update(db, f.id).await?;
    let kind = if part.is_some() {
        SeminarKind::Local
    } else {
        SeminarKind::Intersite
    };
    let mut taken = Entity::find()
        .filter(Column::FabriqueId.eq(f.id))
        .filter(Column::Kind.eq(kind.as_str()))
        .filter(Column::Status.ne(SeminarStatus::Cancelled.as_str()));
    if let Some(p) = &part {
        taken = taken.filter(Column::ParticipationId.eq(p.id));
    }
    let numbers_taken: Vec<u32> = taken
        .all(db)
        .await?
        .iter()
        .filter_map(|s| u32::try_from(s.number).ok())
        .collect();
    let facts = PlanFacts {
        kind,
        fabrique_status: f.status.parse().unwrap_or(FabriqueStatus::Draft),
        participation_status: part.as_ref().map(|p| {
            p.status
                .parse()
                .unwrap_or(domain::ParticipationStatus::Applied)
        }),
        number: r.number,
        numbers_taken,
    };
    rules::can_plan(&facts).map_err(ApiError::TransitionRefused)?;
    let now = Utc::now();
    let place = r
        .place
        .or_else(|| (kind == SeminarKind::Intersite).then(|| ANCT_PARIS.to_owned()));
    let m = ActiveModel {
        id: Set(Uuid::now_v7()),
        fabrique_id: Set(f.id),
        participation_id: Set(part.as_ref().map(|p| p.id)),
        kind: Set(kind.as_str().into()),
        number: Set(i32::try_from(r.number).unwrap_or(0)),
        scheduled_on: Set(r.scheduled_on),
        place: Set(place),
        mode: Set(r.mode.unwrap_or(SeminarMode::InPerson).as_str().into()),
        status: Set(SeminarStatus::Planned.as_str().into()),
        attendance: Set(None),
        summary: Set(None),
        status_reason: Set(None),
        held_at: Set(None),
        cancelled_at: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
    .map_err(|e| match ApiError::from(e) {
        ApiError::Conflict { .. } => ApiError::TransitionRefused(domain::Blockers(vec![
            domain::Blocker::SeminarNumberTaken { number: r.number },
        ])),
        other => other,
    })?;
    let s = response(m, Vec::new());
    journal_seminar(db, actor, "seminar.planned", &s).await?;
    Ok(s)
}

async fn find_visible(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: Uuid,
) -> Result<Model, ApiError> {
    let m = Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    fabs::get_visible(db, Some(caller), m.fabrique_id)
        .await
        .map_err(|_| not_found())?;
    Ok(m)
}

pub async fn get(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: Uuid,
) -> Result<SeminarResponse, ApiError> {
    let m = find_visible(db, caller, id).await?;
    full(db, m).await
}

pub async fn update(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
    r: UpdateSeminarRequest,
) -> Result<SeminarResponse, ApiError> {
    let m = find_visible(db, &actor.caller, id).await?;
    authorize(
        db,
        &actor.caller,
        Permission::WriteSeminars,
        m.fabrique_id,
        None,
    )
    .await?;
    let status = status_of(&m);
    if r.scheduled_on.is_some() || r.place.is_some() || r.mode.is_some() {
        rules::can_reschedule(status).map_err(ApiError::TransitionRefused)?;
    }
    let version = m.version;
    let mut am: ActiveModel = m.into();
    if let Some(d) = r.scheduled_on {
        am.scheduled_on = Set(d);
    }
    if let Some(p) = r.place {
        am.place = Set(p);
    }
    if let Some(mode) = r.mode {
        am.mode = Set(mode.as_str().into());
    }
    if let Some(s) = r.summary {
        am.summary = Set(s);
    }
    am.version = Set(version + 1);
    am.updated_at = Set(Utc::now());
    let m = am.update(db).await?;
    let s = full(db, m).await?;
    journal_seminar(db, actor, "seminar.updated", &s).await?;
    Ok(s)
}

async fn facts(db: &impl ConnectionTrait, m: &Model) -> Result<SeminarFacts, ApiError> {
    let f = entity::fabrique::Entity::find_by_id(m.fabrique_id)
        .one(db)
        .await?
        .ok_or_else(fabs::not_found)?;
    Ok(SeminarFacts {
        status: status_of(m),
        fabrique_status: f.status.parse().unwrap_or(FabriqueStatus::Draft),
        scheduled_on: m.scheduled_on,
    })
}

pub async fn transitions(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: Uuid,
) -> Result<SeminarTransitionsResponse, ApiError> {
    let m = find_visible(db, caller, id).await?;
    let facts = facts(db, &m).await?;
    let today = Utc::now().date_naive();
    let transitions = SeminarAction::ALL
        .iter()
        .map(|&action| {
            // The attendance comes with the request: do not count its absence here.
            let problems: Vec<FieldProblem> = blockers_to_problems(&domain::Blockers(
                rules::blockers(&facts, action, Some(0), today),
            ));
            SeminarTransitionResponse {
                action,
                to: action.target(),
                allowed: problems.is_empty(),
                blockers: problems,
            }
        })
        .collect();
    Ok(SeminarTransitionsResponse {
        status: facts.status,
        transitions,
    })
}

pub async fn transition(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
    r: SeminarTransitionRequest,
) -> Result<SeminarResponse, ApiError> {
    let m = find_visible(db, &actor.caller, id).await?;
    authorize(
        db,
        &actor.caller,
        Permission::WriteSeminars,
        m.fabrique_id,
        None,
    )
    .await?;
    fabs::get_for_update(db, m.fabrique_id).await?;
    let facts = facts(db, &m).await?;
    let to = rules::decide(&facts, r.action, r.attendance, Utc::now().date_naive())
        .map_err(ApiError::TransitionRefused)?;
    let now = Utc::now();
    let mut upd = Entity::update_many()
        .col_expr(Column::Status, Expr::value(to.as_str()))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .col_expr(Column::Version, Expr::col(Column::Version).add(1));
    match r.action {
        SeminarAction::Hold => {
            let attendance = r.attendance.and_then(|a| i32::try_from(a).ok());
            upd = upd
                .col_expr(Column::Attendance, Expr::value(attendance))
                .col_expr(Column::HeldAt, Expr::value(now));
            if let Some(summary) = &r.summary {
                upd = upd.col_expr(Column::Summary, Expr::value(summary.clone()));
            }
        }
        SeminarAction::Cancel => {
            upd = upd
                .col_expr(Column::CancelledAt, Expr::value(now))
                .col_expr(
                    Column::StatusReason,
                    Expr::value(r.reason.as_deref().map(str::trim)),
                );
        }
    }
    let res = upd
        .filter(Column::Id.eq(id))
        .filter(Column::Status.eq(facts.status.as_str()))
        .exec(db)
        .await?;
    if res.rows_affected == 0 {
        return Err(ApiError::conflict(
            "concurrent_change",
            "the seminar changed meanwhile; read it again",
        ));
    }
    if r.action == SeminarAction::Hold {
        set_attendees(db, id, r.attending_organization_ids.unwrap_or_default()).await?;
    }
    let m = Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    let s = full(db, m).await?;
    journal_seminar(db, actor, &format!("seminar.{}", to.as_str()), &s).await?;
    Ok(s)
}

async fn set_attendees(
    db: &impl ConnectionTrait,
    id: Uuid,
    mut orgs: Vec<Uuid>,
) -> Result<(), ApiError> {
    orgs.sort();
    orgs.dedup();
    if !orgs.is_empty() {
        let found = entity::organization::Entity::find()
            .filter(entity::organization::Column::Id.is_in(orgs.clone()))
            .all(db)
            .await?;
        if found.len() != orgs.len() {
            return Err(ApiError::invalid(
                "/attending_organization_ids",
                "unknown_organization",
                "some ids are not organizations",
            ));
        }
    }
    attending::Entity::delete_many()
        .filter(attending::Column::SeminarId.eq(id))
        .exec(db)
        .await?;
    for org in orgs {
        attending::ActiveModel {
            seminar_id: Set(id),
            organization_id: Set(org),
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

/// Cancelling a Fabrique cancels its planned seminars, each journaled.
pub async fn cancel_planned(
    db: &impl ConnectionTrait,
    actor: &Actor,
    fabrique_id: Uuid,
    reason: Option<&str>,
) -> Result<(), ApiError> {
    let planned = Entity::find()
        .filter(Column::FabriqueId.eq(fabrique_id))
        .filter(Column::Status.eq(SeminarStatus::Planned.as_str()))
        .all(db)
        .await?;
    let now = Utc::now();
    for m in planned {
        let version = m.version;
        let mut am: ActiveModel = m.into();
        am.status = Set(SeminarStatus::Cancelled.as_str().into());
        am.status_reason = Set(reason.map(|r| format!("Fabrique cancelled: {}", r.trim())));
        am.cancelled_at = Set(Some(now));
        am.version = Set(version + 1);
        am.updated_at = Set(now);
        let m = am.update(db).await?;
        let s = full(db, m).await?;
        journal_seminar(db, actor, "seminar.cancelled", &s).await?;
    }
    Ok(())
}

/// Seminars still planned in a Fabrique (completion needs none).
pub async fn planned_count(db: &impl ConnectionTrait, fabrique_id: Uuid) -> Result<u32, ApiError> {
    use sea_orm::PaginatorTrait;
    let n = Entity::find()
        .filter(Column::FabriqueId.eq(fabrique_id))
        .filter(Column::Status.eq(SeminarStatus::Planned.as_str()))
        .count(db)
        .await?;
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}
