//! The journal: one event row per write, in the same transaction as the write.

use sea_orm::{ActiveModelTrait, ConnectionTrait, DbErr, Set};
use serde::Serialize;
use uuid::Uuid;

use crate::auth::Caller;

/// Who is writing, and under which request.
#[derive(Debug, Clone)]
pub struct Actor {
    pub caller: Caller,
    pub request_id: Option<String>,
}

impl Actor {
    pub fn new(caller: &Caller, req: &actix_web::HttpRequest) -> Self {
        Actor {
            caller: caller.clone(),
            request_id: crate::middleware::request_id(req),
        }
    }
}

/// What was written.
pub struct Change<'a, S: Serialize> {
    pub action: &'a str,
    pub entity_type: &'a str,
    pub entity_id: Uuid,
    pub fabrique_id: Option<Uuid>,
    pub state: &'a S,
}

pub async fn record<S: Serialize>(
    db: &impl ConnectionTrait,
    actor: &Actor,
    change: Change<'_, S>,
) -> Result<(), DbErr> {
    let state = serde_json::to_string(change.state).map_err(|e| DbErr::Custom(e.to_string()))?;
    entity::event::ActiveModel {
        id: Set(Uuid::now_v7()),
        occurred_at: Set(chrono::Utc::now()),
        actor_sub: Set(actor.caller.sub.chars().take(200).collect()),
        actor_role: Set(actor.caller.role.as_str().into()),
        actor_organization: Set(actor.caller.org),
        actor_territory: Set(actor.caller.territory),
        action: Set(change.action.into()),
        entity_type: Set(change.entity_type.into()),
        entity_id: Set(change.entity_id),
        fabrique_id: Set(change.fabrique_id),
        request_id: Set(actor.request_id.clone()),
        state: Set(state),
        // Left to the database's default: the writing transaction's id.
        txid: sea_orm::ActiveValue::NotSet,
    }
    .insert(db)
    .await?;
    Ok(())
}
