//! The journal read back: a Fabrique's history, and the change feed (also the source of
//! webhooks), with the same rows and redaction for both.
//!
//! Policy: an event is shown to a caller who may see its entity: its Fabrique (drafts only
//! for those who see drafts), funding only where the caller sees funding, external ids only
//! to their organization and ANCT, participations by the participation rule. Its state is
//! redacted by the entity's declared tiers ([`crate::tiers`]) for the caller's view of that
//! Fabrique and territory; who made it (`actor.sub`) is internal.

use domain::query::{Cursor, CursorKey, FeedRequest, PageRequest};
use domain::{Access, EntityType, ParticipationStatus, Scope, Tier, View};
use entity::event::{Column, Entity, Model};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseBackend, EntityTrait, FromQueryResult,
    QueryFilter, QueryOrder, QuerySelect, Statement,
};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::decode::decode;
use crate::error::StoreResult;
use crate::page::{self, KeyColumn, Page};
use crate::tiers::{Tiered, redact_state};

/// Who made a change.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = EventActor)]
pub struct Actor {
    /// The token subject (internal: admins and ANCT staff only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    pub role: domain::Role,
    pub organization_id: Option<Uuid>,
    pub territory_id: Option<Uuid>,
}

impl Tiered for Actor {
    const SCHEMA: &'static str = "EventActor";
    const TIERS: &'static [(&'static str, Tier)] = &[("sub", Tier::Internal)];

    fn redact(&mut self, view: View) {
        if !view.shows(Tier::Internal) {
            self.sub = None;
        }
    }
}

/// One journal entry, as a Fabrique's history shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = EventResponse)]
pub struct Event {
    pub id: Uuid,
    pub occurred_at: chrono::DateTime<chrono::Utc>,
    pub actor: Actor,
    #[schema(example = "fabrique.launch")]
    pub action: String,
    pub entity_type: EntityType,
    pub entity_id: Uuid,
    pub request_id: Option<String>,
    /// Why, for a correction (`<entity>.corrected`); null otherwise.
    pub reason: Option<String>,
    /// The entity's state after the change (personal data removed unless the caller may see it).
    #[schema(value_type = Object)]
    pub state: serde_json::Value,
}

/// One change of the feed. `deleted` events are tombstones: the entity is gone, `state` is
/// its last state.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = FeedEventResponse)]
pub struct FeedEvent {
    /// Resume the feed after this event with `after=<cursor>`.
    pub cursor: String,
    pub id: Uuid,
    pub occurred_at: chrono::DateTime<chrono::Utc>,
    pub actor: Actor,
    #[schema(example = "seminar.held")]
    pub action: String,
    pub entity_type: EntityType,
    pub entity_id: Uuid,
    pub fabrique_id: Option<Uuid>,
    /// True for a deletion.
    pub deleted: bool,
    pub request_id: Option<String>,
    /// Why, for a correction (`<entity>.corrected`: a held seminar, a Fabrique's dates);
    /// null otherwise.
    pub reason: Option<String>,
    /// The entity's state after the change (personal data removed unless the caller may see it).
    #[schema(value_type = Object)]
    pub state: serde_json::Value,
}

/// A page of the feed, and where to resume.
#[derive(Debug, Clone)]
pub struct FeedPage {
    pub items: Vec<FeedEvent>,
    /// The last event of this page, or the `after` given when none came.
    pub next: Option<Cursor>,
}

/// The events a caller may see, as a condition on `events`.
fn visible(access: &Access) -> Condition {
    let fabriques = match crate::access::visible_fabrique_ids(access) {
        None => Condition::all(),
        Some(ids) => Condition::any()
            .add(Column::FabriqueId.is_null())
            .add(Column::FabriqueId.in_subquery(ids)),
    };
    let funding = Condition::any()
        .add(Column::EntityType.ne(EntityType::FundingLine.as_str()))
        .add(crate::access::funding(access, Column::FabriqueId));
    Condition::all()
        .add(fabriques)
        .add(funding)
        .add(crate::access::external_id_events(access))
        .add(crate::access::administration_events(access))
}

/// The event, as `access` may see it; `None` when it may not.
fn shown(access: &Access, e: &Model) -> StoreResult<Option<(Actor, serde_json::Value)>> {
    let entity_type: EntityType = decode("events", "entity_type", &e.entity_type)?;
    let mut state: serde_json::Value = serde_json::from_str(&e.state)?;
    let territory = state
        .get("territory_id")
        .and_then(|v| v.as_str())
        .and_then(|s| s.parse::<Uuid>().ok());
    if entity_type == EntityType::Participation
        && let (Some(t), Some(status)) = (
            territory,
            state
                .get("status")
                .and_then(|v| v.as_str())
                .and_then(|s| s.parse::<ParticipationStatus>().ok()),
        )
        && !access.sees_participation(status, t)
    {
        return Ok(None);
    }
    let view = match e.fabrique_id {
        Some(fabrique) => access.view(Scope {
            fabrique,
            territory: territory.filter(|_| entity_type == EntityType::Participation),
        }),
        None => access.view_outside_fabriques(),
    };
    // An unpublished testimony is a row the public does not know: its events are left out
    // for whoever may not read it, like any invisible row's.
    if entity_type == EntityType::Testimony
        && state.get("published") != Some(&serde_json::Value::Bool(true))
        && !e
            .fabrique_id
            .is_some_and(|f| access.sees_testimony(false, f))
    {
        return Ok(None);
    }
    redact_state(entity_type, &mut state, view);
    let mut actor = Actor {
        sub: Some(e.actor_sub.clone()),
        role: decode("events", "actor_role", &e.actor_role)?,
        organization_id: e.actor_organization,
        territory_id: e.actor_territory,
    };
    actor.redact(view);
    Ok(Some((actor, state)))
}

/// A Fabrique's history: every change to it and what belongs to it, oldest first.
pub async fn history(
    db: &impl ConnectionTrait,
    access: &Access,
    fabrique_id: Uuid,
    p: &PageRequest,
) -> StoreResult<Page<Event>> {
    crate::fabriques::visible(db, access, fabrique_id).await?;
    let q = Entity::find()
        .filter(Column::FabriqueId.eq(fabrique_id))
        .filter(visible(access));
    let page = page::fetch(
        db,
        q,
        Column::Id,
        KeyColumn::Created,
        p,
        |_: &Model| None,
        |e| e.id,
    )
    .await?;
    let mut items = Vec::with_capacity(page.items.len());
    for e in page.items {
        if let Some((actor, state)) = shown(access, &e)? {
            items.push(Event {
                id: e.id,
                occurred_at: e.occurred_at,
                actor,
                entity_type: decode("events", "entity_type", &e.entity_type)?,
                action: e.action,
                entity_id: e.entity_id,
                request_id: e.request_id,
                reason: e.reason,
                state,
            });
        }
    }
    Ok(Page {
        items,
        next: page.next,
        total: None,
    })
}

#[derive(FromQueryResult)]
struct Horizon {
    horizon: i64,
}

/// The oldest transaction still running: every event of an older one is final.
async fn horizon(db: &impl ConnectionTrait) -> StoreResult<Option<i64>> {
    if db.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(None);
    }
    let stmt = Statement::from_string(
        DatabaseBackend::Postgres,
        "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS horizon",
    );
    Ok(Horizon::find_by_statement(stmt)
        .one(db)
        .await?
        .map(|h| h.horizon))
}

fn cursor_of(e: &Model) -> Cursor {
    Cursor {
        key: Some(CursorKey::Number(e.txid)),
        id: e.id,
    }
}

/// A page of the change feed: every change the caller may see, in an order that never skips
/// an event, even while writers commit concurrently.
pub async fn feed(
    db: &impl ConnectionTrait,
    access: &Access,
    r: &FeedRequest,
) -> StoreResult<FeedPage> {
    if r.now {
        return Ok(FeedPage {
            items: Vec::new(),
            next: head(db).await?,
        });
    }
    // The horizon first: whatever is older is committed before the page is read.
    let horizon = horizon(db).await?;
    let mut q = Entity::find().filter(visible(access));
    if let Some((txid, id)) = r.after {
        q = q.filter(
            Condition::any().add(Column::Txid.gt(txid)).add(
                Condition::all()
                    .add(Column::Txid.eq(txid))
                    .add(Column::Id.gt(id)),
            ),
        );
    }
    if let Some(h) = horizon {
        q = q.filter(Column::Txid.lt(h));
    }
    if !r.types.is_empty() {
        q = q.filter(Column::EntityType.is_in(r.types.iter().map(|t| t.as_str())));
    }
    let rows = q
        .order_by_asc(Column::Txid)
        .order_by_asc(Column::Id)
        .limit(u64::from(r.limit))
        .all(db)
        .await?;
    let next = rows.last().map(cursor_of).or_else(|| {
        r.after.map(|(txid, id)| Cursor {
            key: Some(CursorKey::Number(txid)),
            id,
        })
    });
    let mut items = Vec::with_capacity(rows.len());
    for e in rows {
        let Some((actor, state)) = shown(access, &e)? else {
            continue;
        };
        items.push(FeedEvent {
            cursor: crate::cursor::encode(&cursor_of(&e)),
            deleted: e.action.ends_with(".deleted"),
            id: e.id,
            occurred_at: e.occurred_at,
            actor,
            entity_type: decode("events", "entity_type", &e.entity_type)?,
            action: e.action,
            entity_id: e.entity_id,
            fabrique_id: e.fabrique_id,
            request_id: e.request_id,
            reason: e.reason,
            state,
        });
    }
    Ok(FeedPage { items, next })
}

/// The position of the last event a feed reader could see now: where a new webhook starts.
pub async fn head(db: &impl ConnectionTrait) -> StoreResult<Option<Cursor>> {
    let horizon = horizon(db).await?;
    let mut q = Entity::find();
    if let Some(h) = horizon {
        q = q.filter(Column::Txid.lt(h));
    }
    Ok(q.order_by_desc(Column::Txid)
        .order_by_desc(Column::Id)
        .one(db)
        .await?
        .as_ref()
        .map(cursor_of))
}

/// A value that changes when a write is committed through the API: the latest journal entry,
/// by (txid, id), one read of the feed's index. Read before computing something cached, it
/// tells whether the cached value may have been overtaken. What it cannot see: rows written
/// without a journal entry, and, on PostgreSQL, a transaction that commits after a later one
/// (its txid is lower, so the latest entry stays the same) until the next write. The figures
/// cache bounds both with a time to live.
pub async fn data_version(db: &impl ConnectionTrait) -> StoreResult<String> {
    let head: Option<(i64, Uuid)> = Entity::find()
        .select_only()
        .column(Column::Txid)
        .column(Column::Id)
        .order_by_desc(Column::Txid)
        .order_by_desc(Column::Id)
        .into_tuple()
        .one(db)
        .await?;
    Ok(head.map(|(t, id)| format!("{t}.{id}")).unwrap_or_default())
}
