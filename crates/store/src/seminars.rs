//! Seminars: four local ones per territory (participation), four intersite ones per Fabrique.
//! A local seminar is visible with its participation, an intersite one with its Fabrique.

use std::collections::HashMap;

use chrono::Utc;
use domain::query::{CursorKey, PageRequest, SeminarFilter, SeminarSortKey};
use domain::seminar::{
    self as rules, NewSeminar, PlanFacts, SeminarAction, SeminarChanges, SeminarFacts, SeminarKind,
    SeminarStatus, SeminarTransition,
};
use domain::{
    Access, Blocker, Blockers, EntityType, FabriqueStatus, Permission, Scope, Tier, View,
};
use entity::seminar::{ActiveModel, Column, Entity, Model};
use entity::seminar_organization as attending;
use entity::{fabrique, participation};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, JoinType,
    PaginatorTrait, QueryFilter, QuerySelect, Select, Set,
};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::decode::{count, decode};
use crate::error::{StoreError, StoreResult};
use crate::fabriques::{self as fabs, Transitions};
use crate::journal::{self, Actor};
use crate::page::{self, KeyColumn, Page};
use crate::tiers::Tiered;

/// The default place of an intersite seminar.
pub const ANCT_PARIS: &str = "ANCT, Paris";

/// Whose seminars: a Fabrique's (intersite and local) or a participation's (local).
#[derive(Debug, Clone, Copy)]
pub enum Owner {
    Fabrique(Uuid),
    Participation(Uuid),
}

/// A seminar: local (séminaire local, one territory) or intersite (séminaire intersite).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = SeminarResponse)]
pub struct Seminar {
    pub id: Uuid,
    pub fabrique_id: Uuid,
    /// The participation of a local seminar; null for an intersite one.
    pub participation_id: Option<Uuid>,
    pub kind: SeminarKind,
    /// 1 to 4 within its kind and owner.
    #[schema(example = 1, minimum = 1, maximum = 4)]
    pub number: i32,
    pub scheduled_on: chrono::NaiveDate,
    #[schema(example = "ANCT, Paris")]
    pub place: Option<String>,
    pub mode: domain::seminar::SeminarMode,
    pub status: SeminarStatus,
    /// How many attended (held seminars).
    pub attendance: Option<i32>,
    /// Organizations that attended.
    pub attending_organization_ids: Vec<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Why it was cancelled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_reason: Option<String>,
    pub held_at: Option<chrono::DateTime<chrono::Utc>>,
    pub cancelled_at: Option<chrono::DateTime<chrono::Utc>>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    /// The territory of a local seminar (to work out who sees what; not shown).
    #[serde(skip)]
    pub territory_id: Option<Uuid>,
}

impl Tiered for Seminar {
    const SCHEMA: &'static str = "SeminarResponse";
    const TIERS: &'static [(&'static str, Tier)] =
        &[("summary", Tier::Partner), ("status_reason", Tier::Partner)];

    fn redact(&mut self, view: View) {
        if !view.shows(Tier::Partner) {
            self.summary = None;
            self.status_reason = None;
        }
    }
}

impl Seminar {
    pub fn scope(&self) -> Scope {
        Scope {
            fabrique: self.fabrique_id,
            territory: self.territory_id,
        }
    }

    pub fn for_access(mut self, access: &Access) -> Self {
        self.redact(access.view(self.scope()));
        self
    }
}

fn not_found() -> StoreError {
    StoreError::NotFound("seminar")
}

fn status_of(m: &Model) -> StoreResult<SeminarStatus> {
    decode("seminars", "status", &m.status)
}

/// A seminar with its Fabrique's status and, for a local one, its participation's.
#[derive(Debug, FromQueryResult)]
struct Row {
    #[sea_orm(nested)]
    s: Model,
    fabrique_status: String,
    participation_status: Option<String>,
    territory_id: Option<Uuid>,
}

fn joined() -> Select<Entity> {
    Entity::find()
        .join(
            JoinType::InnerJoin,
            Entity::belongs_to(fabrique::Entity)
                .from(Column::FabriqueId)
                .to(fabrique::Column::Id)
                .into(),
        )
        .join(
            JoinType::LeftJoin,
            Entity::belongs_to(participation::Entity)
                .from(Column::ParticipationId)
                .to(participation::Column::Id)
                .into(),
        )
        .column_as(fabrique::Column::Status, "fabrique_status")
        .column_as(participation::Column::Status, "participation_status")
        .column_as(participation::Column::TerritoryId, "territory_id")
}

impl Row {
    fn visible_to(&self, access: &Access) -> StoreResult<bool> {
        let f: FabriqueStatus = decode("fabriques", "status", &self.fabrique_status)?;
        if !access.sees_fabrique(f) {
            return Ok(false);
        }
        Ok(match (&self.participation_status, self.territory_id) {
            (Some(p), Some(t)) => {
                access.sees_participation(decode("participations", "status", p)?, t)
            }
            _ => true,
        })
    }
}

async fn attendees(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> StoreResult<HashMap<Uuid, Vec<Uuid>>> {
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

fn whole(r: Row, attending_organization_ids: Vec<Uuid>) -> StoreResult<Seminar> {
    let m = r.s;
    Ok(Seminar {
        kind: decode("seminars", "kind", &m.kind)?,
        status: status_of(&m)?,
        mode: decode("seminars", "mode", &m.mode)?,
        id: m.id,
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
        territory_id: r.territory_id,
    })
}

/// The Fabrique (visible to the caller) and, for a local seminar, the participation.
/// The Fabrique (its id) and the participation (for a local seminar) of a seminar list or a
/// new seminar, once the caller may see them: one statement.
async fn resolve(
    db: &impl ConnectionTrait,
    access: &Access,
    owner: Owner,
) -> StoreResult<(Uuid, Option<participation::Model>)> {
    match owner {
        Owner::Fabrique(id) => Ok((fabs::visible(db, access, id).await?.id, None)),
        Owner::Participation(id) => {
            // The participation's read checks its Fabrique's visibility too.
            let p = crate::participations::visible(db, access, id).await?.p;
            Ok((p.fabrique_id, Some(p)))
        }
    }
}

pub async fn list(
    db: &impl ConnectionTrait,
    access: &Access,
    owner: Owner,
    f: &SeminarFilter,
    p: &PageRequest,
) -> StoreResult<Page<Seminar>> {
    let (fabrique, part) = resolve(db, access, owner).await?;
    let mut q = joined()
        .filter(Column::FabriqueId.eq(fabrique))
        .filter(crate::access::seminars(access));
    if let Some(part) = &part {
        q = q.filter(Column::ParticipationId.eq(part.id));
    }
    let page = page::fetch(
        db,
        filtered(q, f),
        Column::Id,
        KeyColumn::Created,
        p,
        |_: &Row| None,
        |r| r.s.id,
    )
    .await?;
    views(db, access, page).await
}

/// `q` narrowed by the filter.
fn filtered(mut q: Select<Entity>, f: &SeminarFilter) -> Select<Entity> {
    if !f.kinds.is_empty() {
        q = q.filter(Column::Kind.is_in(f.kinds.iter().map(|k| k.as_str())));
    }
    if !f.statuses.is_empty() {
        q = q.filter(Column::Status.is_in(f.statuses.iter().map(|s| s.as_str())));
    }
    if !f.fabriques.is_empty() {
        q = q.filter(Column::FabriqueId.is_in(f.fabriques.clone()));
    }
    if !f.territories.is_empty() {
        q = q.filter(
            Expr::col((participation::Entity, participation::Column::TerritoryId))
                .is_in(f.territories.clone()),
        );
    }
    if let Some(d) = f.from {
        q = q.filter(Column::ScheduledOn.gte(d));
    }
    if let Some(d) = f.to {
        q = q.filter(Column::ScheduledOn.lte(d));
    }
    page::updated_since(q, Column::UpdatedAt, f.updated_since)
}

/// The page's seminars with their attendees, as `access` sees them.
async fn views(
    db: &impl ConnectionTrait,
    access: &Access,
    page: Page<Row>,
) -> StoreResult<Page<Seminar>> {
    let ids: Vec<Uuid> = page.items.iter().map(|r| r.s.id).collect();
    let mut orgs = attendees(db, &ids).await?;
    page.try_map(|r| {
        let o = orgs.remove(&r.s.id).unwrap_or_default();
        Ok(whole(r, o)?.for_access(access))
    })
}

/// The agenda: seminars across every Fabrique the caller may see (intersite ones of visible
/// Fabriques, local ones of visible participations), by date range, kind, status, Fabrique
/// and territory; in creation order or by date.
pub async fn agenda(
    db: &impl ConnectionTrait,
    access: &Access,
    f: &SeminarFilter,
    p: &PageRequest<SeminarSortKey>,
) -> StoreResult<Page<Seminar>> {
    let q = filtered(joined().filter(crate::access::seminars(access)), f);
    let key = match p.sort.key {
        SeminarSortKey::CreatedAt => KeyColumn::Created,
        SeminarSortKey::ScheduledOn => KeyColumn::Day(Column::ScheduledOn),
    };
    let page = page::fetch(
        db,
        q,
        Column::Id,
        key,
        p,
        |r: &Row| Some(CursorKey::Day(r.s.scheduled_on)),
        |r| r.s.id,
    )
    .await?;
    views(db, access, page).await
}

async fn journal_seminar(
    db: &impl ConnectionTrait,
    actor: &Actor,
    action: &str,
    s: &Seminar,
) -> StoreResult<()> {
    journal::record(db, actor, action, s.id, Some(s.fabrique_id), s).await
}

pub async fn plan(
    db: &impl ConnectionTrait,
    actor: &Actor,
    owner: Owner,
    r: NewSeminar,
) -> StoreResult<Seminar> {
    let access = &actor.access;
    let (f, part) = resolve(db, access, owner).await?;
    access.authorize(Permission::WriteSeminars, Scope::fabrique(f))?;
    let f = fabs::for_update(db, f).await?;
    let kind = if part.is_some() {
        SeminarKind::Local
    } else {
        SeminarKind::Intersite
    };
    let mut taken = Entity::find()
        .select_only()
        .column(Column::Number)
        .filter(Column::FabriqueId.eq(f.id))
        .filter(Column::Kind.eq(kind.as_str()))
        .filter(Column::Status.ne(SeminarStatus::Cancelled.as_str()));
    if let Some(p) = &part {
        taken = taken.filter(Column::ParticipationId.eq(p.id));
    }
    let numbers: Vec<i32> = taken.into_tuple().all(db).await?;
    let facts = PlanFacts {
        kind,
        fabrique_status: fabs::status_of(&f)?,
        participation_status: part
            .as_ref()
            .map(crate::participations::status_of)
            .transpose()?,
        number: r.number,
        numbers_taken: numbers.into_iter().map(|n| count(n.into())).collect(),
    };
    rules::can_plan(&facts)?;
    let now = Utc::now();
    let place = r
        .place
        .or_else(|| (kind == SeminarKind::Intersite).then(|| ANCT_PARIS.to_owned()));
    let id = Uuid::now_v7();
    ActiveModel {
        id: Set(id),
        fabrique_id: Set(f.id),
        participation_id: Set(part.as_ref().map(|p| p.id)),
        kind: Set(kind.as_str().into()),
        number: Set(i32::try_from(r.number).unwrap_or(i32::MAX)),
        scheduled_on: Set(r.scheduled_on),
        place: Set(place),
        mode: Set(r.mode.as_str().into()),
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
    .map_err(|e| match StoreError::from(e) {
        // Two planners racing for the same number: the partial unique index decides.
        StoreError::Conflict {
            code: "seminar_number_taken",
            ..
        } => StoreError::Refused(Blockers::one(Blocker::SeminarNumberTaken {
            number: r.number,
        })),
        other => other,
    })?;
    let s = reread(db, id).await?;
    journal_seminar(db, actor, "seminar.planned", &s).await?;
    Ok(s.for_access(access))
}

async fn visible(db: &impl ConnectionTrait, access: &Access, id: Uuid) -> StoreResult<Row> {
    let row = joined()
        .filter(Column::Id.eq(id))
        .into_model::<Row>()
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    if !row.visible_to(access)? {
        return Err(not_found());
    }
    Ok(row)
}

async fn with_attendees(db: &impl ConnectionTrait, r: Row) -> StoreResult<Seminar> {
    let id = r.s.id;
    let orgs = attendees(db, &[id]).await?.remove(&id).unwrap_or_default();
    whole(r, orgs)
}

async fn reread(db: &impl ConnectionTrait, id: Uuid) -> StoreResult<Seminar> {
    with_attendees(db, visible(db, &Access::system(), id).await?).await
}

/// One seminar in two statements: the row with what decides its visibility, then who
/// attended.
pub async fn get(db: &impl ConnectionTrait, access: &Access, id: Uuid) -> StoreResult<Seminar> {
    let r = visible(db, access, id).await?;
    Ok(with_attendees(db, r).await?.for_access(access))
}

pub async fn update(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
    r: SeminarChanges,
) -> StoreResult<Seminar> {
    let access = &actor.access;
    let row = visible(db, access, id).await?;
    access.authorize(
        Permission::WriteSeminars,
        Scope::fabrique(row.s.fabrique_id),
    )?;
    let status = status_of(&row.s)?;
    if r.reschedules() {
        rules::can_reschedule(status)?;
    }
    let m = row.s;
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
    am.update(db).await?;
    let s = reread(db, id).await?;
    journal_seminar(db, actor, "seminar.updated", &s).await?;
    Ok(s.for_access(access))
}

/// Corrects a held seminar (ANCT): its date, attendance or summary, journalled as
/// `seminar.corrected` with the reason.
pub async fn correct(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
    c: domain::correction::SeminarCorrection,
) -> StoreResult<Seminar> {
    let access = &actor.access;
    let row = visible(db, access, id).await?;
    access.authorize(
        Permission::CorrectRecords,
        Scope::fabrique(row.s.fabrique_id),
    )?;
    domain::correction::check_seminar(status_of(&row.s)?, &c, Utc::now().date_naive())?;
    let m = row.s;
    let version = m.version;
    let mut am: ActiveModel = m.into();
    if let Some(d) = c.scheduled_on {
        am.scheduled_on = Set(d);
    }
    if let Some(a) = c.attendance {
        am.attendance = Set(Some(i32::try_from(a).unwrap_or(i32::MAX)));
    }
    if let Some(s) = c.summary {
        am.summary = Set(s);
    }
    am.version = Set(version + 1);
    am.updated_at = Set(Utc::now());
    am.update(db).await?;
    let s = reread(db, id).await?;
    journal::record_correction(db, actor, s.id, Some(s.fabrique_id), &s, &c.reason).await?;
    Ok(s.for_access(access))
}

fn facts(r: &Row) -> StoreResult<SeminarFacts> {
    Ok(SeminarFacts {
        status: status_of(&r.s)?,
        fabrique_status: decode("fabriques", "status", &r.fabrique_status)?,
        scheduled_on: r.s.scheduled_on,
    })
}

pub async fn transitions(
    db: &impl ConnectionTrait,
    access: &Access,
    id: Uuid,
) -> StoreResult<Transitions<SeminarAction, SeminarStatus>> {
    let row = visible(db, access, id).await?;
    let facts = facts(&row)?;
    let today = Utc::now().date_naive();
    Ok(Transitions {
        status: facts.status,
        actions: SeminarAction::ALL
            .iter()
            // The attendance comes with the request: do not count its absence here.
            .map(|&action| {
                (
                    action,
                    action.target(),
                    rules::blockers(&facts, action, Some(0), today),
                )
            })
            .collect(),
    })
}

pub async fn transition(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
    r: SeminarTransition,
) -> StoreResult<Seminar> {
    let access = &actor.access;
    let row = visible(db, access, id).await?;
    access.authorize(
        Permission::WriteSeminars,
        Scope::fabrique(row.s.fabrique_id),
    )?;
    fabs::for_update(db, row.s.fabrique_id).await?;
    let facts = facts(&row)?;
    let to = rules::decide(&facts, r.action, r.attendance, Utc::now().date_naive())?;
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
                .col_expr(Column::StatusReason, Expr::value(r.reason.clone()));
        }
    }
    let res = upd
        .filter(Column::Id.eq(id))
        .filter(Column::Status.eq(facts.status.as_str()))
        .exec(db)
        .await?;
    if res.rows_affected == 0 {
        return Err(StoreError::concurrent("seminar"));
    }
    if r.action == SeminarAction::Hold {
        set_attendees(db, id, r.attending_organization_ids).await?;
    }
    let s = reread(db, id).await?;
    journal_seminar(db, actor, &format!("seminar.{}", to.as_str()), &s).await?;
    Ok(s.for_access(access))
}

async fn set_attendees(
    db: &impl ConnectionTrait,
    id: Uuid,
    mut orgs: Vec<Uuid>,
) -> StoreResult<()> {
    orgs.sort();
    orgs.dedup();
    if !orgs.is_empty() {
        let found = entity::organization::Entity::find()
            .filter(entity::organization::Column::Id.is_in(orgs.clone()))
            .count(db)
            .await?;
        if found as usize != orgs.len() {
            return Err(StoreError::invalid(
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
) -> StoreResult<()> {
    let planned = Entity::find()
        .filter(Column::FabriqueId.eq(fabrique_id))
        .filter(Column::Status.eq(SeminarStatus::Planned.as_str()))
        .all(db)
        .await?;
    let now = Utc::now();
    for m in planned {
        let id = m.id;
        let version = m.version;
        let mut am: ActiveModel = m.into();
        am.status = Set(SeminarStatus::Cancelled.as_str().into());
        am.status_reason = Set(reason.map(|r| format!("Fabrique cancelled: {}", r.trim())));
        am.cancelled_at = Set(Some(now));
        am.version = Set(version + 1);
        am.updated_at = Set(now);
        am.update(db).await?;
        let s = reread(db, id).await?;
        journal_seminar(db, actor, "seminar.cancelled", &s).await?;
    }
    Ok(())
}

/// Seminars still planned in a Fabrique (completion needs none).
pub async fn planned_count(db: &impl ConnectionTrait, fabrique_id: Uuid) -> StoreResult<u32> {
    let n = Entity::find()
        .filter(Column::FabriqueId.eq(fabrique_id))
        .filter(Column::Status.eq(SeminarStatus::Planned.as_str()))
        .count(db)
        .await?;
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}

impl crate::journal::Journalled for Seminar {
    const ENTITY_TYPE: EntityType = EntityType::Seminar;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tiers::{declared_hidden, removed_keys};

    #[test]
    fn redaction_clears_exactly_the_declared_fields() {
        let now = Utc::now();
        let s = Seminar {
            id: Uuid::nil(),
            fabrique_id: Uuid::nil(),
            participation_id: Some(Uuid::nil()),
            kind: SeminarKind::Local,
            number: 1,
            scheduled_on: now.date_naive(),
            place: Some("x".into()),
            mode: domain::seminar::SeminarMode::Online,
            status: SeminarStatus::Cancelled,
            attendance: Some(3),
            attending_organization_ids: vec![],
            summary: Some("x".into()),
            status_reason: Some("x".into()),
            held_at: Some(now),
            cancelled_at: Some(now),
            created_at: now,
            updated_at: now,
            territory_id: None,
        };
        for view in [View::PUBLIC, View::new(true, false, false), View::ALL] {
            assert_eq!(removed_keys(&s, view), declared_hidden::<Seminar>(view));
        }
    }
}
