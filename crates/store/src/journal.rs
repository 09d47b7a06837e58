//! The journal: one event row per write, in the same transaction as the write. It is the
//! audit trail, the history of each Fabrique, the change feed and the source of webhooks.

use domain::{Access, EntityType, Role};
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};
use serde::Serialize;
use uuid::Uuid;

use std::sync::{Arc, Mutex, MutexGuard};

use crate::error::StoreResult;
use crate::figures::Touched;

/// Who is writing, with what rights, under which request.
#[derive(Debug, Clone)]
pub struct Actor {
    pub access: Access,
    pub request_id: Option<String>,
    /// What its writes touched, for [`crate::figures::refresh_touched`].
    touched: Arc<Mutex<Touched>>,
}

impl Actor {
    pub fn new(access: Access, request_id: Option<String>) -> Self {
        Actor {
            access,
            request_id,
            touched: Default::default(),
        }
    }

    /// The service itself (seeds, the command line).
    pub fn system() -> Self {
        Actor::new(Access::system(), None)
    }

    pub(crate) fn touched(&self) -> MutexGuard<'_, Touched> {
        self.touched.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A read model the journal records as the state of an entity: its type says which entity
/// type it is, so the state of each entity type has one schema ([`state_schemas`]).
pub trait Journalled: Serialize + utoipa::ToSchema {
    const ENTITY_TYPE: EntityType;
}

/// The schema of the journalled state of each entity type (the history and the change feed
/// type their `state` with it).
pub fn state_schemas() -> Vec<(EntityType, String)> {
    fn of<S: Journalled>() -> (EntityType, String) {
        (S::ENTITY_TYPE, S::name().into_owned())
    }
    use crate::*;
    vec![
        of::<fabriques::Fabrique>(),
        of::<fabriques::Partner>(),
        of::<participations::Participation>(),
        of::<seminars::Seminar>(),
        of::<working_groups::Member>(),
        of::<roadmaps::Roadmap>(),
        of::<roadmaps::Action>(),
        of::<lessons::Lesson>(),
        of::<testimonies::Testimony>(),
        of::<funding::FundingLine>(),
        of::<organizations::Organization>(),
        of::<territories::Territory>(),
        of::<programmes::Programme>(),
        of::<external_ids::ExternalId>(),
        of::<clients::Client>(),
        of::<webhooks::Webhook>(),
    ]
}

/// Journals one write: `action` done to the entity `entity_id` (of the Fabrique
/// `fabrique_id`, if it belongs to one), with its whole state after the change (readers get it
/// redacted to what they may see).
pub async fn record<S: Journalled>(
    db: &impl ConnectionTrait,
    actor: &Actor,
    action: &str,
    entity_id: Uuid,
    fabrique_id: Option<Uuid>,
    state: &S,
) -> StoreResult<()> {
    let figures = crate::figures::changes_figures(S::ENTITY_TYPE, action);
    record_as(db, actor, action, entity_id, fabrique_id, state, figures).await
}

/// [`record`], saying whether the write may have changed a figure (see
/// [`crate::figures::changes_figures`]) when its caller knows better than its kind.
pub(crate) async fn record_as<S: Journalled>(
    db: &impl ConnectionTrait,
    actor: &Actor,
    action: &str,
    entity_id: Uuid,
    fabrique_id: Option<Uuid>,
    state: &S,
    changes_figures: bool,
) -> StoreResult<()> {
    insert(
        db,
        actor,
        action,
        entity_id,
        fabrique_id,
        state,
        changes_figures,
        None,
    )
    .await
}

/// Journals a correction (`<entity>.corrected`) with its reason, which the feed and the
/// history show beside the state.
pub async fn record_correction<S: Journalled>(
    db: &impl ConnectionTrait,
    actor: &Actor,
    entity_id: Uuid,
    fabrique_id: Option<Uuid>,
    state: &S,
    reason: &str,
) -> StoreResult<()> {
    let action = format!("{}.corrected", S::ENTITY_TYPE.as_str());
    let figures = crate::figures::changes_figures(S::ENTITY_TYPE, &action);
    insert(
        db,
        actor,
        &action,
        entity_id,
        fabrique_id,
        state,
        figures,
        Some(reason),
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn insert<S: Journalled>(
    db: &impl ConnectionTrait,
    actor: &Actor,
    action: &str,
    entity_id: Uuid,
    fabrique_id: Option<Uuid>,
    state: &S,
    changes_figures: bool,
    reason: Option<&str>,
) -> StoreResult<()> {
    let state = serde_json::to_string(state)?;
    actor
        .touched()
        .note(S::ENTITY_TYPE, entity_id, fabrique_id, changes_figures);
    let caller = actor.access.caller();
    entity::event::ActiveModel {
        id: Set(Uuid::now_v7()),
        occurred_at: Set(chrono::Utc::now()),
        actor_sub: Set(caller
            .map(|c| c.subject.chars().take(200).collect())
            .unwrap_or_else(|| "anonymous".into())),
        actor_role: Set(caller.map_or(Role::Admin, |c| c.role).as_str().into()),
        actor_organization: Set(caller.and_then(|c| c.organization)),
        actor_territory: Set(caller.and_then(|c| c.territory)),
        action: Set(action.into()),
        entity_type: Set(S::ENTITY_TYPE.as_str().into()),
        entity_id: Set(entity_id),
        fabrique_id: Set(fabrique_id),
        request_id: Set(actor.request_id.clone()),
        state: Set(state),
        reason: Set(reason.map(str::to_owned)),
        // Left to the database's default: the writing transaction's id.
        txid: sea_orm::ActiveValue::NotSet,
    }
    .insert(db)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_entity_type_has_one_state_schema() {
        let mut types: Vec<_> = super::state_schemas().into_iter().map(|(t, _)| t).collect();
        types.sort_by_key(|t| t.as_str());
        let mut all = domain::EntityType::ALL.to_vec();
        all.sort_by_key(|t| t.as_str());
        assert_eq!(types, all);
    }
}
