//! Participations (candidatures / territoires accompagnés): a territory in a Fabrique.

use chrono::Utc;
use domain::participation::{
    self as rules, NewParticipation, ParticipationChanges, ParticipationFacts,
};
use domain::query::{PageRequest, ParticipationFilter};
use domain::{
    Access, Blocker, Blockers, EntityType, FabriqueStatus, ParticipationAction,
    ParticipationStatus, Permission, Scope, Tier, View,
};
use entity::participation::{ActiveModel, Column, Entity, Model};
use entity::{fabrique, territory};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, JoinType,
    QueryFilter, QuerySelect, Select, Set,
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

/// One territory in one Fabrique. Personal data (sponsor, motivation) is present only for
/// ANCT, the Fabrique's co-animators and contractor, and the territory itself.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = ParticipationResponse)]
pub struct Participation {
    pub id: Uuid,
    pub fabrique_id: Uuid,
    pub territory_id: Uuid,
    #[schema(example = "Lorient")]
    pub territory_name: String,
    pub status: ParticipationStatus,
    /// Elected official sponsoring the application (personal data).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sponsor_name: Option<String>,
    /// The sponsor's mandate, e.g. "maire" (personal data).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sponsor_mandate: Option<String>,
    /// Why the territory volunteers (personal data).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub motivation: Option<String>,
    /// Focus or sub-theme of the territory in this Fabrique.
    #[schema(example = "urban logistics")]
    pub focus: Option<String>,
    /// Reason of a withdrawal.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_reason: Option<String>,
    pub applied_at: chrono::DateTime<chrono::Utc>,
    pub accepted_at: Option<chrono::DateTime<chrono::Utc>>,
    pub rejected_at: Option<chrono::DateTime<chrono::Utc>>,
    pub activated_at: Option<chrono::DateTime<chrono::Utc>>,
    pub completed_at: Option<chrono::DateTime<chrono::Utc>>,
    pub withdrawn_at: Option<chrono::DateTime<chrono::Utc>>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl Tiered for Participation {
    const SCHEMA: &'static str = "ParticipationResponse";
    const TIERS: &'static [(&'static str, Tier)] = &[
        ("sponsor_name", Tier::Personal),
        ("sponsor_mandate", Tier::Personal),
        ("motivation", Tier::Personal),
        ("status_reason", Tier::Partner),
    ];

    fn redact(&mut self, view: View) {
        if !view.shows(Tier::Personal) {
            self.sponsor_name = None;
            self.sponsor_mandate = None;
            self.motivation = None;
        }
        if !view.shows(Tier::Partner) {
            self.status_reason = None;
        }
    }
}

impl Participation {
    pub fn scope(&self) -> Scope {
        Scope::territory(self.fabrique_id, self.territory_id)
    }

    /// As `access` may see it.
    pub fn for_access(mut self, access: &Access) -> Self {
        self.redact(access.view(self.scope()));
        self
    }
}

pub fn not_found() -> StoreError {
    StoreError::NotFound("participation")
}

pub fn status_of(m: &Model) -> StoreResult<ParticipationStatus> {
    decode("participations", "status", &m.status)
}

/// A participation with its territory's name and its Fabrique's status.
#[derive(Debug, FromQueryResult)]
pub(crate) struct Row {
    #[sea_orm(nested)]
    pub p: Model,
    pub territory_name: String,
    pub fabrique_status: String,
}

pub(crate) fn joined() -> Select<Entity> {
    Entity::find()
        .join(
            JoinType::InnerJoin,
            Entity::belongs_to(territory::Entity)
                .from(Column::TerritoryId)
                .to(territory::Column::Id)
                .into(),
        )
        .join(
            JoinType::InnerJoin,
            Entity::belongs_to(fabrique::Entity)
                .from(Column::FabriqueId)
                .to(fabrique::Column::Id)
                .into(),
        )
        .column_as(territory::Column::Name, "territory_name")
        .column_as(fabrique::Column::Status, "fabrique_status")
}

fn whole(m: Model, territory_name: String) -> StoreResult<Participation> {
    Ok(Participation {
        status: status_of(&m)?,
        id: m.id,
        fabrique_id: m.fabrique_id,
        territory_id: m.territory_id,
        territory_name,
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
    })
}

/// Whether `access` may know the participation `p` of a Fabrique in `fabrique_status`.
fn sees(access: &Access, fabrique_status: &str, p: &Model) -> StoreResult<bool> {
    let fabrique_status: FabriqueStatus = decode("fabriques", "status", fabrique_status)?;
    Ok(access.sees_fabrique(fabrique_status)
        && access.sees_participation(status_of(p)?, p.territory_id))
}

impl Row {
    /// Whether `access` may know this participation exists.
    pub(crate) fn visible_to(&self, access: &Access) -> StoreResult<bool> {
        sees(access, &self.fabrique_status, &self.p)
    }
}

pub async fn list(
    db: &impl ConnectionTrait,
    access: &Access,
    fabrique: Option<Uuid>,
    f: &ParticipationFilter,
    p: &PageRequest,
) -> StoreResult<Page<Participation>> {
    let mut q = joined().filter(crate::access::participations(access));
    if let Some(id) = fabrique {
        fabs::visible(db, access, id).await?;
        q = q.filter(Column::FabriqueId.eq(id));
    }
    if !f.fabriques.is_empty() {
        q = q.filter(Column::FabriqueId.is_in(f.fabriques.clone()));
    }
    if !f.territories.is_empty() {
        q = q.filter(Column::TerritoryId.is_in(f.territories.clone()));
    }
    if !f.statuses.is_empty() {
        q = q.filter(Column::Status.is_in(f.statuses.iter().map(|s| s.as_str())));
    }
    let q = page::updated_since(q, Column::UpdatedAt, f.updated_since);
    page::fetch(
        db,
        q,
        Column::Id,
        KeyColumn::Created,
        p,
        |_: &Row| None,
        |r| r.p.id,
    )
    .await?
    .try_map(|r| Ok(whole(r.p, r.territory_name)?.for_access(access)))
}

/// The participation row with its names, if `access` may know it exists (one statement).
pub(crate) async fn visible(
    db: &impl ConnectionTrait,
    access: &Access,
    id: Uuid,
) -> StoreResult<Row> {
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

pub async fn get(
    db: &impl ConnectionTrait,
    access: &Access,
    id: Uuid,
) -> StoreResult<Participation> {
    let r = visible(db, access, id).await?;
    Ok(whole(r.p, r.territory_name)?.for_access(access))
}

async fn reread(db: &impl ConnectionTrait, id: Uuid) -> StoreResult<Participation> {
    let r = visible(db, &Access::system(), id).await?;
    whole(r.p, r.territory_name)
}

async fn journal_participation(
    db: &impl ConnectionTrait,
    actor: &Actor,
    action: &str,
    p: &Participation,
) -> StoreResult<()> {
    journal::record(db, actor, action, p.id, Some(p.fabrique_id), p).await
}

pub async fn apply(
    db: &impl ConnectionTrait,
    actor: &Actor,
    fabrique_id: Uuid,
    r: NewParticipation,
) -> StoreResult<Participation> {
    let access = &actor.access;
    fabs::visible(db, access, fabrique_id).await?;
    access.authorize(
        Permission::Apply,
        Scope::territory(fabrique_id, r.territory_id),
    )?;
    let f = fabs::for_update(db, fabrique_id).await?;
    if !crate::territories::exists(db, r.territory_id).await? {
        return Err(StoreError::invalid(
            "/territory_id",
            "unknown_territory",
            "no territory has this id",
        ));
    }
    // A second application of the same territory is refused by the unique index.
    rules::can_apply(fabs::status_of(&f)?, false)?;
    let now = Utc::now();
    let id = Uuid::now_v7();
    ActiveModel {
        id: Set(id),
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
    .map_err(|e| match StoreError::from(e) {
        StoreError::Conflict {
            code: "already_applied",
            ..
        } => StoreError::Refused(Blockers::one(Blocker::AlreadyApplied)),
        other => other,
    })?;
    let p = reread(db, id).await?;
    journal_participation(db, actor, "participation.applied", &p).await?;
    Ok(p.for_access(access))
}

pub async fn update(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
    r: ParticipationChanges,
) -> StoreResult<Participation> {
    let access = &actor.access;
    let row = visible(db, access, id).await?;
    access.authorize(
        Permission::UpdateParticipations,
        Scope::territory(row.p.fabrique_id, row.p.territory_id),
    )?;
    rules::can_edit(status_of(&row.p)?)?;
    let m = row.p;
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
    am.update(db).await?;
    let p = reread(db, id).await?;
    journal_participation(db, actor, "participation.updated", &p).await?;
    Ok(p.for_access(access))
}

async fn facts(
    db: &impl ConnectionTrait,
    m: &Model,
    lock: bool,
) -> StoreResult<ParticipationFacts> {
    let f = if lock {
        fabs::for_update(db, m.fabrique_id).await?
    } else {
        fabrique::Entity::find_by_id(m.fabrique_id)
            .one(db)
            .await?
            .ok_or_else(fabs::not_found)?
    };
    let c = fabs::counts(db, m.fabrique_id).await?;
    Ok(ParticipationFacts {
        status: status_of(m)?,
        fabrique_status: fabs::status_of(&f)?,
        accepted_in_fabrique: c.accepted + c.active,
        max_territories: count(f.max_territories.into()),
    })
}

/// A participation with what its rules need of its Fabrique, in one statement.
#[derive(Debug, FromQueryResult)]
struct FactsRow {
    #[sea_orm(nested)]
    p: Model,
    fabrique_status: String,
    max_territories: i32,
    accepted_in_fabrique: i64,
}

pub async fn transitions(
    db: &impl ConnectionTrait,
    access: &Access,
    id: Uuid,
) -> StoreResult<Transitions<ParticipationAction, ParticipationStatus>> {
    let accepted = fabs::count_of(
        Entity,
        sea_orm::Condition::all()
            .add(
                Expr::col((Entity, Column::FabriqueId))
                    .equals((fabrique::Entity, fabrique::Column::Id)),
            )
            .add(Column::Status.is_in([
                ParticipationStatus::Accepted.as_str(),
                ParticipationStatus::Active.as_str(),
            ])),
    );
    let row = Entity::find_by_id(id)
        .join(
            JoinType::InnerJoin,
            Entity::belongs_to(fabrique::Entity)
                .from(Column::FabriqueId)
                .to(fabrique::Column::Id)
                .into(),
        )
        .column_as(fabrique::Column::Status, "fabrique_status")
        .column_as(fabrique::Column::MaxTerritories, "max_territories")
        .column_as(accepted, "accepted_in_fabrique")
        .into_model::<FactsRow>()
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    if !sees(access, &row.fabrique_status, &row.p)? {
        return Err(not_found());
    }
    let facts = ParticipationFacts {
        status: status_of(&row.p)?,
        fabrique_status: decode("fabriques", "status", &row.fabrique_status)?,
        accepted_in_fabrique: count(row.accepted_in_fabrique),
        max_territories: count(row.max_territories.into()),
    };
    Ok(Transitions {
        status: facts.status,
        actions: rules::available(&facts, Some("reason given with the request"))
            .into_iter()
            .map(|(action, blockers)| (action, action.target(), blockers))
            .collect(),
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
) -> StoreResult<bool> {
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

/// Accept and reject are ANCT's decisions; a territory may withdraw its own participation.
pub fn permission_of(action: ParticipationAction) -> Permission {
    match action {
        ParticipationAction::Withdraw => Permission::Withdraw,
        ParticipationAction::Accept | ParticipationAction::Reject => {
            Permission::DecideParticipations
        }
    }
}

pub async fn transition(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
    action: ParticipationAction,
    reason: Option<&str>,
) -> StoreResult<Participation> {
    let access = &actor.access;
    let row = visible(db, access, id).await?;
    access.authorize(
        permission_of(action),
        Scope::territory(row.p.fabrique_id, row.p.territory_id),
    )?;
    let facts = facts(db, &row.p, true).await?;
    let to = rules::decide(&facts, action, reason)?;
    let reason = (action == ParticipationAction::Withdraw)
        .then_some(reason)
        .flatten();
    if !set_status(db, id, facts.status, to, reason).await? {
        return Err(StoreError::concurrent("participation"));
    }
    let p = reread(db, id).await?;
    journal_participation(db, actor, &format!("participation.{}", action.as_str()), &p).await?;
    Ok(p.for_access(access))
}

/// Adopting a roadmap completes its active participation (journaled).
pub async fn complete(db: &impl ConnectionTrait, actor: &Actor, id: Uuid) -> StoreResult<()> {
    let m = Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    let status = status_of(&m)?;
    let to = rules::complete_on_adoption(status)?;
    if !set_status(db, id, status, to, None).await? {
        return Err(StoreError::concurrent("participation"));
    }
    let p = reread(db, id).await?;
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
) -> StoreResult<()> {
    let rows = Entity::find()
        .filter(Column::FabriqueId.eq(fabrique_id))
        .filter(Column::Status.is_in(from.iter().map(|s| s.as_str())))
        .all(db)
        .await?;
    for m in rows {
        if set_status(db, m.id, status_of(&m)?, to, reason).await? {
            let p = reread(db, m.id).await?;
            journal_participation(db, actor, &format!("participation.{}", to.as_str()), &p).await?;
        }
    }
    Ok(())
}

impl crate::journal::Journalled for Participation {
    const ENTITY_TYPE: EntityType = EntityType::Participation;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tiers::{declared_hidden, removed_keys};

    fn full() -> Participation {
        let now = Utc::now();
        Participation {
            id: Uuid::nil(),
            fabrique_id: Uuid::nil(),
            territory_id: Uuid::nil(),
            territory_name: "Lorient".into(),
            status: ParticipationStatus::Withdrawn,
            sponsor_name: Some("x".into()),
            sponsor_mandate: Some("x".into()),
            motivation: Some("x".into()),
            focus: Some("x".into()),
            status_reason: Some("x".into()),
            applied_at: now,
            accepted_at: Some(now),
            rejected_at: Some(now),
            activated_at: Some(now),
            completed_at: Some(now),
            withdrawn_at: Some(now),
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn redaction_clears_exactly_the_declared_fields() {
        for view in [
            View::PUBLIC,
            View::new(true, false, false),
            View::new(true, true, false),
            View::ALL,
        ] {
            assert_eq!(
                removed_keys(&full(), view),
                declared_hidden::<Participation>(view),
                "{view:?}"
            );
        }
    }
}
