//! Webhook subscriptions of machine clients and their delivery log. (The worker that
//! delivers them is a background job of the api crate.)

use chrono::Utc;
use domain::query::PageRequest;
use domain::{Access, ClientStatus, DeliveryStatus, EntityType, WebhookStatus};
use entity::webhook_delivery as delivery;
use entity::webhook_subscription::{ActiveModel, Column, Entity, Model};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, ModelTrait, PaginatorTrait,
    QueryFilter, Set,
};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::decode::decode;
use crate::error::{StoreError, StoreResult};
use crate::journal::{self, Actor};
use crate::page::{self, KeyColumn, Page};

/// A webhook subscription. The secret is shown only when it is created.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = WebhookResponse)]
pub struct Webhook {
    pub id: Uuid,
    /// The machine client it belongs to.
    pub client_id: Uuid,
    #[schema(example = "https://sig.example.org/hooks/fabriques")]
    pub url: String,
    /// Entity types delivered; empty for all.
    pub types: Vec<EntityType>,
    pub status: WebhookStatus,
    /// Failed attempts since the last success.
    pub consecutive_failures: i32,
    pub disabled_reason: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

/// The entity types a subscription stores (comma-separated).
pub fn types_of(m: &Model) -> StoreResult<Vec<EntityType>> {
    m.event_types
        .split(',')
        .filter(|t| !t.is_empty())
        .map(|t| decode("webhook_subscriptions", "event_types", t))
        .collect()
}

impl TryFrom<Model> for Webhook {
    type Error = StoreError;
    fn try_from(m: Model) -> StoreResult<Self> {
        Ok(Webhook {
            types: types_of(&m)?,
            status: decode("webhook_subscriptions", "status", &m.status)?,
            id: m.id,
            client_id: m.client_id,
            url: m.url,
            consecutive_failures: m.consecutive_failures,
            disabled_reason: m.disabled_reason,
            created_at: m.created_at,
            updated_at: m.updated_at,
        })
    }
}

/// One event for one subscription, with the outcome of its last attempt.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = DeliveryResponse)]
pub struct Delivery {
    pub id: Uuid,
    pub webhook_id: Uuid,
    /// The change-feed event delivered (its `id`).
    pub event_id: Uuid,
    pub status: DeliveryStatus,
    pub attempts: i32,
    /// When the next attempt is due (pending deliveries).
    pub next_attempt_at: Option<chrono::DateTime<chrono::Utc>>,
    pub last_attempt_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The receiver's HTTP status at the last attempt.
    pub last_status_code: Option<i32>,
    /// Why the last attempt failed (timeout, refused connection, non-2xx status...).
    pub last_error: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub delivered_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl TryFrom<delivery::Model> for Delivery {
    type Error = StoreError;
    fn try_from(d: delivery::Model) -> StoreResult<Self> {
        let status: DeliveryStatus = decode("webhook_deliveries", "status", &d.status)?;
        Ok(Delivery {
            id: d.id,
            webhook_id: d.subscription_id,
            event_id: d.event_id,
            next_attempt_at: (status == DeliveryStatus::Pending).then_some(d.next_attempt_at),
            status,
            attempts: d.attempts,
            last_attempt_at: d.last_attempt_at,
            last_status_code: d.last_status_code,
            last_error: d.last_error,
            created_at: d.created_at,
            delivered_at: d.delivered_at,
        })
    }
}

/// A subscription to create; its url already checked, its secret already drawn.
#[derive(Debug, Clone)]
pub struct NewWebhook {
    pub client_id: Option<Uuid>,
    pub url: String,
    pub types: Vec<EntityType>,
    pub secret: String,
}

#[derive(Debug, Clone, Default)]
pub struct WebhookChanges {
    pub url: Option<String>,
    pub types: Option<Vec<EntityType>>,
    pub status: Option<WebhookStatus>,
}

fn not_found() -> StoreError {
    StoreError::NotFound("webhook")
}

fn stored_types(mut types: Vec<EntityType>) -> String {
    types.sort();
    types.dedup();
    types
        .iter()
        .map(|t| t.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// The subscription if the caller may see it: its own client's, or any for an admin.
async fn visible(db: &impl ConnectionTrait, access: &Access, id: Uuid) -> StoreResult<Model> {
    let m = Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    if access.is_admin() || access.client() == Some(m.client_id) {
        Ok(m)
    } else {
        Err(not_found())
    }
}

pub async fn get(db: &impl ConnectionTrait, access: &Access, id: Uuid) -> StoreResult<Webhook> {
    visible(db, access, id).await?.try_into()
}

pub async fn list(
    db: &impl ConnectionTrait,
    access: &Access,
    status: Option<WebhookStatus>,
    p: &PageRequest,
) -> StoreResult<Page<Webhook>> {
    let mut q = Entity::find();
    if !access.is_admin() {
        // A person's token owns no subscription: the list is empty.
        q = q.filter(Column::ClientId.eq(access.client().unwrap_or(Uuid::nil())));
    }
    if let Some(s) = status {
        q = q.filter(Column::Status.eq(s.as_str()));
    }
    page::fetch(
        db,
        q,
        Column::Id,
        KeyColumn::Created,
        p,
        |_: &Model| None,
        |m| m.id,
    )
    .await?
    .try_map(Webhook::try_from)
}

/// Which client a new subscription is for: a client's token subscribes itself; an admin
/// names the client.
fn client_of(access: &Access, named: Option<Uuid>) -> StoreResult<Uuid> {
    match (access.client(), named, access.is_admin()) {
        (Some(own), None, _) => Ok(own),
        (Some(own), Some(n), _) if own == n => Ok(own),
        (_, Some(n), true) => Ok(n),
        (Some(_), Some(_), false) => Err(StoreError::invalid(
            "/client_id",
            "not_allowed",
            "a client subscribes itself: leave client_id out",
        )),
        (None, None, true) => Err(StoreError::invalid(
            "/client_id",
            "required",
            "name the machine client the subscription is for",
        )),
        (None, _, false) => Err(StoreError::Unprocessable {
            code: "machine_client_required",
            detail: "webhooks belong to machine clients: use a token from POST /oauth/token".into(),
        }),
    }
}

/// Creates a subscription starting at the head of the change feed.
pub async fn create(
    db: &impl ConnectionTrait,
    actor: &Actor,
    r: NewWebhook,
) -> StoreResult<Webhook> {
    let client_id = client_of(&actor.access, r.client_id)?;
    let active = match crate::clients::row(db, client_id).await? {
        Some(c) => {
            decode::<ClientStatus>("api_clients", "status", &c.status)? == ClientStatus::Active
        }
        None => false,
    };
    if !active {
        return Err(StoreError::invalid(
            "/client_id",
            "unknown_client",
            format!("no active client {client_id}"),
        ));
    }
    let held = Entity::find()
        .filter(Column::ClientId.eq(client_id))
        .count(db)
        .await?;
    domain::directory::can_subscribe(u32::try_from(held).unwrap_or(u32::MAX))?;
    let now = Utc::now();
    let m = ActiveModel {
        id: Set(Uuid::now_v7()),
        client_id: Set(client_id),
        url: Set(r.url),
        event_types: Set(stored_types(r.types)),
        secret: Set(r.secret),
        status: Set(WebhookStatus::Active.as_str().into()),
        consecutive_failures: Set(0),
        disabled_reason: Set(None),
        cursor: Set(crate::events::head(db)
            .await?
            .map(|c| crate::cursor::encode(&c))),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(0),
    }
    .insert(db)
    .await?;
    tracing::info!(webhook = %m.id, client = %client_id, "webhook subscribed");
    journalled(db, actor, "webhook.created", m.try_into()?).await
}

/// Journals a change to a subscription (its URL and types; never its secret).
async fn journalled(
    db: &impl ConnectionTrait,
    actor: &Actor,
    action: &str,
    w: Webhook,
) -> StoreResult<Webhook> {
    journal::record(db, actor, action, w.id, None, &w).await?;
    Ok(w)
}

impl journal::Journalled for Webhook {
    const ENTITY_TYPE: EntityType = EntityType::Webhook;
}

pub async fn update(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
    r: WebhookChanges,
) -> StoreResult<Webhook> {
    let m = visible(db, &actor.access, id).await?;
    let mut a: ActiveModel = m.into();
    if let Some(url) = r.url {
        a.url = Set(url);
    }
    if let Some(types) = r.types {
        a.event_types = Set(stored_types(types));
    }
    match r.status {
        Some(WebhookStatus::Active) => {
            a.status = Set(WebhookStatus::Active.as_str().into());
            a.consecutive_failures = Set(0);
            a.disabled_reason = Set(None);
        }
        Some(WebhookStatus::Disabled) => {
            a.status = Set(WebhookStatus::Disabled.as_str().into());
            a.disabled_reason = Set(Some("disabled by its client".into()));
        }
        None => {}
    }
    a.updated_at = Set(Utc::now());
    let w = a.update(db).await?.try_into()?;
    journalled(db, actor, "webhook.updated", w).await
}

pub async fn delete(db: &impl ConnectionTrait, actor: &Actor, id: Uuid) -> StoreResult<()> {
    let m = visible(db, &actor.access, id).await?;
    let w: Webhook = m.clone().try_into()?;
    delivery::Entity::delete_many()
        .filter(delivery::Column::SubscriptionId.eq(id))
        .exec(db)
        .await?;
    m.delete(db).await?;
    journalled(db, actor, "webhook.deleted", w).await?;
    Ok(())
}

/// Removes the deliveries done with (delivered or failed) that were created before `before`:
/// the delivery log's retention. Pending ones stay whatever their age.
pub async fn purge_deliveries(
    db: &impl ConnectionTrait,
    before: chrono::DateTime<Utc>,
) -> StoreResult<u64> {
    Ok(delivery::Entity::delete_many()
        .filter(delivery::Column::Status.is_in([
            DeliveryStatus::Delivered.as_str(),
            DeliveryStatus::Failed.as_str(),
        ]))
        .filter(delivery::Column::CreatedAt.lt(before))
        .exec(db)
        .await?
        .rows_affected)
}

pub async fn deliveries(
    db: &impl ConnectionTrait,
    access: &Access,
    id: Uuid,
    status: Option<DeliveryStatus>,
    p: &PageRequest,
) -> StoreResult<Page<Delivery>> {
    visible(db, access, id).await?;
    let mut q = delivery::Entity::find().filter(delivery::Column::SubscriptionId.eq(id));
    if let Some(s) = status {
        q = q.filter(delivery::Column::Status.eq(s.as_str()));
    }
    page::fetch(
        db,
        q,
        delivery::Column::Id,
        KeyColumn::Created,
        p,
        |_: &delivery::Model| None,
        |d| d.id,
    )
    .await?
    .try_map(Delivery::try_from)
}

/// Queues a delivery again, due now, with a fresh run of attempts.
pub async fn redeliver(
    db: &impl ConnectionTrait,
    access: &Access,
    id: Uuid,
    delivery_id: Uuid,
) -> StoreResult<Delivery> {
    visible(db, access, id).await?;
    let d = delivery::Entity::find_by_id(delivery_id)
        .filter(delivery::Column::SubscriptionId.eq(id))
        .one(db)
        .await?
        .ok_or(StoreError::NotFound("delivery"))?;
    let mut a: delivery::ActiveModel = d.into();
    a.status = Set(DeliveryStatus::Pending.as_str().into());
    a.attempts = Set(0);
    a.next_attempt_at = Set(Utc::now());
    a.update(db).await?.try_into()
}
