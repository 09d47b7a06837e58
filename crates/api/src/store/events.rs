use std::collections::HashMap;

use entity::event::{Column, Entity, Model};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseBackend, EntityTrait, FromQueryResult,
    QueryFilter, QueryOrder, QuerySelect, Statement,
};
use uuid::Uuid;

use super::fabriques::{redact_state, sees_personal};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::split_list;
use crate::pagination::{decode_cursor, encode, parse_limit};
use crate::routes::events::{FeedEventResponse, FeedPage, FeedParams};
use crate::routes::fabriques::EventActor;

#[derive(FromQueryResult)]
struct Horizon {
    horizon: i64,
}

/// The oldest transaction still running: every event of an older one is final.
async fn horizon(db: &impl ConnectionTrait) -> Result<Option<i64>, ApiError> {
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

fn cursor_of(e: &Model) -> String {
    encode(Some(e.txid.to_string()), e.id)
}

pub async fn feed(
    db: &impl ConnectionTrait,
    caller: &Caller,
    p: &FeedParams,
) -> Result<FeedPage, ApiError> {
    let limit = parse_limit(p.limit)?;
    let after = match p.after.as_deref() {
        Some(c) => {
            let (k, id) = decode_cursor(c)?;
            let txid = k.and_then(|k| k.parse::<i64>().ok()).ok_or_else(|| {
                ApiError::bad_request("invalid_query", "the cursor is not one of the feed's")
            })?;
            Some((txid, id))
        }
        None => None,
    };
    // The horizon first: whatever is older is committed before the page is read.
    let horizon = horizon(db).await?;
    let mut q = Entity::find();
    if let Some((txid, id)) = after {
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
    let types = split_list(&p.types);
    if !types.is_empty() {
        q = q.filter(Column::EntityType.is_in(types));
    }
    if !super::fabriques::may_read_drafts(Some(caller)) {
        q = q.filter(
            Condition::any()
                .add(Column::FabriqueId.is_null())
                .add(Column::FabriqueId.in_subquery(super::fabriques::past_draft_ids())),
        );
    }
    let rows = q
        .order_by_asc(Column::Txid)
        .order_by_asc(Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    let next_cursor = rows.last().map(cursor_of).or_else(|| p.after.clone());
    let mut personal: HashMap<Uuid, bool> = HashMap::new();
    let mut items = Vec::with_capacity(rows.len());
    for e in rows {
        let sees = match e.fabrique_id {
            None => true,
            Some(f) => match personal.get(&f) {
                Some(v) => *v,
                None => {
                    let v = sees_personal(db, caller, f).await?;
                    personal.insert(f, v);
                    v
                }
            },
        };
        let mut state: serde_json::Value =
            serde_json::from_str(&e.state).unwrap_or(serde_json::Value::Null);
        if !sees {
            redact_state(&e.entity_type, &mut state);
        }
        items.push(FeedEventResponse {
            cursor: cursor_of(&e),
            deleted: e.action.ends_with(".deleted"),
            id: e.id,
            occurred_at: e.occurred_at,
            actor: EventActor {
                sub: caller.is_anct().then_some(e.actor_sub),
                role: e.actor_role,
                organization_id: e.actor_organization,
                territory_id: e.actor_territory,
            },
            action: e.action,
            entity_type: e.entity_type,
            entity_id: e.entity_id,
            fabrique_id: e.fabrique_id,
            request_id: e.request_id,
            state,
        });
    }
    Ok(FeedPage { items, next_cursor })
}

/// The cursor of the last event a feed reader could see now: where a new webhook starts.
pub async fn head_cursor(db: &impl ConnectionTrait) -> Result<Option<String>, ApiError> {
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
pub async fn data_version(db: &impl ConnectionTrait) -> Result<String, ApiError> {
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
