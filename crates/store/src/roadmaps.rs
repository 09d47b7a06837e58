//! Roadmaps (feuilles de route) and action programmes, one per participation, with their
//! actions. Adopted ones are public; the others are seen by tokens that see more than the
//! public of that territory.

use chrono::Utc;
use domain::roadmap::{
    self as rules, ActionChanges, ActionStatus, Adoption, NewAction, RoadmapAction, RoadmapDraft,
    RoadmapFacts, RoadmapKind, RoadmapStatus,
};
use domain::{Access, EntityType, Permission, Scope, Tier, View};
use entity::roadmap::{ActiveModel, Column, Entity, Model};
use entity::roadmap_action as action;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, IdenStatic,
    JoinType, QueryFilter, QueryOrder, QueryResult, QuerySelect, QueryTrait, Select, Set,
};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::decode::{count, decode};
use crate::error::{StoreError, StoreResult};
use crate::fabriques::{self as fabs, Transitions};
use crate::journal::{self, Actor};
use crate::participations::{self as parts, Row};
use crate::tiers::Tiered;

/// One action of a roadmap.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = RoadmapActionResponse)]
pub struct Action {
    pub id: Uuid,
    pub roadmap_id: Uuid,
    /// Order in the roadmap, from 1.
    pub position: i32,
    #[schema(example = "Requalifier la zone d'activité des Landes")]
    pub title: String,
    pub description: String,
    /// Who leads it.
    #[schema(example = "Service développement économique")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lead: Option<String>,
    /// A horizon such as "2030" or "court terme".
    pub horizon: Option<String>,
    pub due_on: Option<chrono::NaiveDate>,
    pub estimated_cost_cents: Option<i64>,
    pub status: ActionStatus,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl Tiered for Action {
    const SCHEMA: &'static str = "RoadmapActionResponse";
    const TIERS: &'static [(&'static str, Tier)] = &[("lead", Tier::Partner)];

    fn redact(&mut self, view: View) {
        if !view.shows(Tier::Partner) {
            self.lead = None;
        }
    }
}

/// The roadmap of a participation with its actions.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = RoadmapResponse)]
pub struct Roadmap {
    pub id: Uuid,
    pub participation_id: Uuid,
    pub fabrique_id: Uuid,
    pub kind: RoadmapKind,
    pub title: String,
    pub summary: String,
    pub status: RoadmapStatus,
    pub submitted_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Date of the adopting decision.
    pub adopted_on: Option<chrono::NaiveDate>,
    /// Reference of the adopting decision (e.g. a council deliberation).
    pub adoption_reference: Option<String>,
    pub actions: Vec<Action>,
    /// Sum of the actions' estimated costs.
    pub total_estimated_cost_cents: i64,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl Roadmap {
    fn for_view(mut self, view: View) -> Self {
        for a in &mut self.actions {
            a.redact(view);
        }
        self
    }
}

fn not_found() -> StoreError {
    StoreError::NotFound("roadmap")
}

fn status_of(m: &Model) -> StoreResult<RoadmapStatus> {
    decode("roadmaps", "status", &m.status)
}

fn scope_of(p: &Row) -> Scope {
    Scope::territory(p.p.fabrique_id, p.p.territory_id)
}

fn action_view(a: action::Model) -> StoreResult<Action> {
    Ok(Action {
        status: decode("roadmap_actions", "status", &a.status)?,
        id: a.id,
        roadmap_id: a.roadmap_id,
        position: a.position,
        title: a.title,
        description: a.description,
        lead: a.lead,
        horizon: a.horizon,
        due_on: a.due_on,
        estimated_cost_cents: a.estimated_cost_cents,
        created_at: a.created_at,
        updated_at: a.updated_at,
    })
}

async fn actions_of(db: &impl ConnectionTrait, roadmap: Uuid) -> StoreResult<Vec<action::Model>> {
    Ok(action::Entity::find()
        .filter(action::Column::RoadmapId.eq(roadmap))
        .order_by_asc(action::Column::Position)
        .order_by_asc(action::Column::Id)
        .all(db)
        .await?)
}

async fn whole(db: &impl ConnectionTrait, m: Model, fabrique_id: Uuid) -> StoreResult<Roadmap> {
    let actions = actions_of(db, m.id)
        .await?
        .into_iter()
        .map(action_view)
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(Roadmap {
        kind: decode("roadmaps", "kind", &m.kind)?,
        status: status_of(&m)?,
        id: m.id,
        participation_id: m.participation_id,
        fabrique_id,
        title: m.title,
        summary: m.summary,
        submitted_at: m.submitted_at,
        adopted_on: m.adopted_on,
        adoption_reference: m.adoption_reference,
        total_estimated_cost_cents: actions.iter().filter_map(|a| a.estimated_cost_cents).sum(),
        actions,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

async fn find(db: &impl ConnectionTrait, participation_id: Uuid) -> StoreResult<Option<Model>> {
    Ok(Entity::find()
        .filter(Column::ParticipationId.eq(participation_id))
        .one(db)
        .await?)
}

/// `q` (participations) with each one's roadmap, its columns prefixed `roadmap_`.
fn with_roadmap(q: Select<entity::participation::Entity>) -> Select<entity::participation::Entity> {
    use entity::participation as part;
    let mut q = q.join(
        JoinType::LeftJoin,
        part::Entity::belongs_to(Entity)
            .from(part::Column::Id)
            .to(Column::ParticipationId)
            .into(),
    );
    for c in <Column as sea_orm::Iterable>::iter() {
        q = q.column_as(c, format!("roadmap_{}", c.as_str()));
    }
    q
}

/// The participation and its roadmap from a row of [`with_roadmap`], once the caller may see
/// both.
fn seen(access: &Access, row: &QueryResult) -> StoreResult<(Row, Model)> {
    let p = Row::from_query_result(row, "")?;
    if !p.visible_to(access)? {
        return Err(parts::not_found());
    }
    if row.try_get::<Option<Uuid>>("", "roadmap_id")?.is_none() {
        return Err(not_found());
    }
    let m = Model::from_query_result(row, "roadmap_")?;
    if !access.sees_roadmap(status_of(&m)?, scope_of(&p)) {
        return Err(not_found());
    }
    Ok((p, m))
}

/// The participation (visible to the caller) and its roadmap, if the caller may see it: one
/// statement.
async fn visible(
    db: &impl ConnectionTrait,
    access: &Access,
    participation_id: Uuid,
) -> StoreResult<(Row, Model)> {
    use entity::participation as part;
    let q = with_roadmap(parts::joined().filter(part::Column::Id.eq(participation_id)));
    let row = db
        .query_one(q.as_query())
        .await?
        .ok_or_else(parts::not_found)?;
    seen(access, &row)
}

pub async fn get(
    db: &impl ConnectionTrait,
    access: &Access,
    participation_id: Uuid,
) -> StoreResult<Roadmap> {
    let (p, m) = visible(db, access, participation_id).await?;
    let view = access.view(scope_of(&p));
    Ok(whole(db, m, p.p.fabrique_id).await?.for_view(view))
}

/// The participation, for a write reaching it.
async fn writable(
    db: &impl ConnectionTrait,
    access: &Access,
    participation_id: Uuid,
    perm: Permission,
) -> StoreResult<Row> {
    let p = parts::visible(db, access, participation_id).await?;
    access.authorize(perm, scope_of(&p))?;
    Ok(p)
}

async fn journal_roadmap(
    db: &impl ConnectionTrait,
    actor: &Actor,
    action: &str,
    r: &Roadmap,
) -> StoreResult<()> {
    journal::record(db, actor, action, r.id, Some(r.fabrique_id), r).await
}

/// Creates the roadmap or changes its draft; `true` when created.
pub async fn put(
    db: &impl ConnectionTrait,
    actor: &Actor,
    participation_id: Uuid,
    r: RoadmapDraft,
) -> StoreResult<(Roadmap, bool)> {
    let p = writable(
        db,
        &actor.access,
        participation_id,
        Permission::WriteRoadmaps,
    )
    .await?;
    rules::can_write(parts::status_of(&p.p)?)?;
    let now = Utc::now();
    let (m, created) = match find(db, participation_id).await? {
        Some(m) => {
            rules::can_edit(status_of(&m)?)?;
            let version = m.version;
            let mut am: ActiveModel = m.into();
            am.kind = Set(r.kind.as_str().into());
            am.title = Set(r.title);
            if let Some(s) = r.summary {
                am.summary = Set(s);
            }
            am.version = Set(version + 1);
            am.updated_at = Set(now);
            (am.update(db).await?, false)
        }
        None => {
            let m = ActiveModel {
                id: Set(Uuid::now_v7()),
                participation_id: Set(participation_id),
                kind: Set(r.kind.as_str().into()),
                title: Set(r.title),
                summary: Set(r.summary.unwrap_or_default()),
                status: Set(RoadmapStatus::Draft.as_str().into()),
                submitted_at: Set(None),
                adopted_on: Set(None),
                adoption_reference: Set(None),
                version: Set(1),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(db)
            .await?;
            (m, true)
        }
    };
    let out = whole(db, m, p.p.fabrique_id).await?;
    let name = if created {
        "roadmap.created"
    } else {
        "roadmap.updated"
    };
    journal_roadmap(db, actor, name, &out).await?;
    Ok((out.for_view(actor.access.view(scope_of(&p))), created))
}

async fn journal_action(
    db: &impl ConnectionTrait,
    actor: &Actor,
    name: &str,
    fabrique_id: Uuid,
    a: &Action,
) -> StoreResult<()> {
    journal::record(db, actor, name, a.id, Some(fabrique_id), a).await
}

pub async fn add_action(
    db: &impl ConnectionTrait,
    actor: &Actor,
    participation_id: Uuid,
    r: NewAction,
) -> StoreResult<Action> {
    let p = writable(
        db,
        &actor.access,
        participation_id,
        Permission::WriteRoadmaps,
    )
    .await?;
    let m = find(db, participation_id).await?.ok_or_else(not_found)?;
    rules::can_edit(status_of(&m)?)?;
    let position = actions_of(db, m.id)
        .await?
        .iter()
        .map(|a| a.position)
        .max()
        .unwrap_or(0)
        + 1;
    let now = Utc::now();
    let a = action::ActiveModel {
        id: Set(Uuid::now_v7()),
        roadmap_id: Set(m.id),
        position: Set(position),
        title: Set(r.title),
        description: Set(r.description),
        lead: Set(r.lead),
        horizon: Set(r.horizon),
        due_on: Set(r.due_on),
        estimated_cost_cents: Set(r.estimated_cost_cents),
        status: Set(r.status.as_str().into()),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    let out = action_view(a)?;
    journal_action(db, actor, "roadmap_action.created", p.p.fabrique_id, &out).await?;
    Ok(out)
}

/// An action, its roadmap and participation, if the caller may see them.
/// An action with its roadmap and participation, once the caller may see them: one statement.
async fn action_of(
    db: &impl ConnectionTrait,
    access: &Access,
    id: Uuid,
) -> StoreResult<(action::Model, Model, Row)> {
    let missing = || StoreError::NotFound("roadmap action");
    let mut q = with_roadmap(parts::joined()).join(
        JoinType::InnerJoin,
        Entity::belongs_to(action::Entity)
            .from(Column::Id)
            .to(action::Column::RoadmapId)
            .into(),
    );
    for c in <action::Column as sea_orm::Iterable>::iter() {
        q = q.column_as(c, format!("action_{}", c.as_str()));
    }
    let q = q.filter(action::Column::Id.eq(id));
    let row = db.query_one(q.as_query()).await?.ok_or_else(missing)?;
    let (p, m) = seen(access, &row).map_err(|e| match e {
        StoreError::NotFound(_) => missing(),
        other => other,
    })?;
    Ok((action::Model::from_query_result(&row, "action_")?, m, p))
}

pub async fn get_action(
    db: &impl ConnectionTrait,
    access: &Access,
    id: Uuid,
) -> StoreResult<Action> {
    let (a, _, p) = action_of(db, access, id).await?;
    let mut out = action_view(a)?;
    out.redact(access.view(scope_of(&p)));
    Ok(out)
}

pub async fn update_action(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
    r: ActionChanges,
) -> StoreResult<Action> {
    let (a, m, p) = action_of(db, &actor.access, id).await?;
    actor
        .access
        .authorize(Permission::WriteRoadmaps, scope_of(&p))?;
    if r.changes_content() {
        rules::can_edit(status_of(&m)?)?;
    }
    let version = a.version;
    let mut am: action::ActiveModel = a.into();
    if let Some(v) = r.title {
        am.title = Set(v);
    }
    if let Some(v) = r.description {
        am.description = Set(v);
    }
    if let Some(v) = r.lead {
        am.lead = Set(v);
    }
    if let Some(v) = r.horizon {
        am.horizon = Set(v);
    }
    if let Some(v) = r.due_on {
        am.due_on = Set(v);
    }
    if let Some(v) = r.estimated_cost_cents {
        am.estimated_cost_cents = Set(v);
    }
    if let Some(v) = r.status {
        am.status = Set(v.as_str().into());
    }
    am.version = Set(version + 1);
    am.updated_at = Set(Utc::now());
    let out = action_view(am.update(db).await?)?;
    journal_action(db, actor, "roadmap_action.updated", p.p.fabrique_id, &out).await?;
    Ok(out)
}

pub async fn delete_action(db: &impl ConnectionTrait, actor: &Actor, id: Uuid) -> StoreResult<()> {
    let (a, m, p) = action_of(db, &actor.access, id).await?;
    actor
        .access
        .authorize(Permission::WriteRoadmaps, scope_of(&p))?;
    rules::can_edit(status_of(&m)?)?;
    action::Entity::delete_by_id(id).exec(db).await?;
    journal_action(
        db,
        actor,
        "roadmap_action.deleted",
        p.p.fabrique_id,
        &action_view(a)?,
    )
    .await
}

async fn facts(db: &impl ConnectionTrait, m: &Model, p: &Row) -> StoreResult<RoadmapFacts> {
    Ok(RoadmapFacts {
        status: status_of(m)?,
        participation_status: parts::status_of(&p.p)?,
        action_count: count(actions_of(db, m.id).await?.len() as i64),
    })
}

pub async fn transitions(
    db: &impl ConnectionTrait,
    access: &Access,
    participation_id: Uuid,
) -> StoreResult<Transitions<RoadmapAction, RoadmapStatus>> {
    let (p, m) = visible(db, access, participation_id).await?;
    let facts = facts(db, &m, &p).await?;
    // The adoption's date and reference come with the request: assume them given here.
    let today = Utc::now().date_naive();
    let assumed = Adoption {
        date: Some(today),
        reference: Some("given with the request".into()),
    };
    Ok(Transitions {
        status: facts.status,
        actions: RoadmapAction::ALL
            .iter()
            .map(|&action| {
                (
                    action,
                    action.target(),
                    rules::blockers(&facts, action, &assumed, today),
                )
            })
            .collect(),
    })
}

/// Submitting and returning to draft are the roadmap's writers'; adopting is recorded by
/// ANCT or the Fabrique's co-animators and contractor.
pub fn permission_of(action: RoadmapAction) -> Permission {
    if action == RoadmapAction::Adopt {
        Permission::AdoptRoadmaps
    } else {
        Permission::WriteRoadmaps
    }
}

pub async fn transition(
    db: &impl ConnectionTrait,
    actor: &Actor,
    participation_id: Uuid,
    action: RoadmapAction,
    adoption: Adoption,
) -> StoreResult<Roadmap> {
    let p = writable(db, &actor.access, participation_id, permission_of(action)).await?;
    fabs::for_update(db, p.p.fabrique_id).await?;
    let m = find(db, participation_id).await?.ok_or_else(not_found)?;
    let facts = facts(db, &m, &p).await?;
    let to = rules::decide(&facts, action, &adoption, Utc::now().date_naive())?;
    let now = Utc::now();
    let mut upd = Entity::update_many()
        .col_expr(Column::Status, Expr::value(to.as_str()))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .col_expr(Column::Version, Expr::col(Column::Version).add(1));
    match action {
        RoadmapAction::Submit => upd = upd.col_expr(Column::SubmittedAt, Expr::value(now)),
        RoadmapAction::Adopt => {
            upd = upd
                .col_expr(Column::AdoptedOn, Expr::value(adoption.date))
                .col_expr(Column::AdoptionReference, Expr::value(adoption.reference));
        }
        RoadmapAction::ReturnToDraft => {}
    }
    let res = upd
        .filter(Column::Id.eq(m.id))
        .filter(Column::Status.eq(facts.status.as_str()))
        .exec(db)
        .await?;
    if res.rows_affected == 0 {
        return Err(StoreError::concurrent("roadmap"));
    }
    if to == RoadmapStatus::Adopted {
        parts::complete(db, actor, participation_id).await?;
    }
    let m = Entity::find_by_id(m.id)
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    let out = whole(db, m, p.p.fabrique_id).await?;
    journal_roadmap(db, actor, &format!("roadmap.{}", action.as_str()), &out).await?;
    Ok(out.for_view(actor.access.view(scope_of(&p))))
}

/// The roadmap's row id, for the version an `If-Match` claims.
pub async fn row_id(db: &impl ConnectionTrait, participation_id: Uuid) -> StoreResult<Uuid> {
    Ok(find(db, participation_id).await?.ok_or_else(not_found)?.id)
}

impl crate::journal::Journalled for Roadmap {
    const ENTITY_TYPE: EntityType = EntityType::Roadmap;
}

impl crate::journal::Journalled for Action {
    const ENTITY_TYPE: EntityType = EntityType::RoadmapAction;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tiers::{declared_hidden, removed_keys};

    #[test]
    fn redaction_clears_exactly_the_declared_fields() {
        let now = Utc::now();
        let a = Action {
            id: Uuid::nil(),
            roadmap_id: Uuid::nil(),
            position: 1,
            title: "x".into(),
            description: "x".into(),
            lead: Some("x".into()),
            horizon: Some("x".into()),
            due_on: Some(now.date_naive()),
            estimated_cost_cents: Some(1),
            status: ActionStatus::Done,
            created_at: now,
            updated_at: now,
        };
        for view in [View::PUBLIC, View::new(true, false, false), View::ALL] {
            assert_eq!(removed_keys(&a, view), declared_hidden::<Action>(view));
        }
    }
}
