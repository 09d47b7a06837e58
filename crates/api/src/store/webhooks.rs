//! Webhook subscriptions and their deliveries (the worker is `crate::webhooks`).

use base64::Engine;
use chrono::Utc;
use entity::webhook_delivery as delivery;
use entity::webhook_subscription::{ActiveModel, Column, Entity, Model};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, ModelTrait, QueryFilter, Set,
};
use uuid::Uuid;

use super::{Page, PageRequest, fetch_page};
use crate::auth::Caller;
use crate::config::ServiceOptions;
use crate::error::{ApiError, FieldProblem};
use crate::routes::webhooks::{
    CreateWebhookRequest, DeliveryListParams, DeliveryResponse, DeliveryStatus,
    UpdateWebhookRequest, WebhookListParams, WebhookResponse, WebhookStatus,
};

pub const ACTIVE: &str = "active";
pub const DISABLED: &str = "disabled";
pub const PENDING: &str = "pending";
pub const DELIVERED: &str = "delivered";
pub const FAILED: &str = "failed";

/// The entity types of the journal, which a subscription may select.
pub const TYPES: &[&str] = &[
    "external_id",
    "fabrique",
    "fabrique_partner",
    "funding_line",
    "lesson",
    "organization",
    "participation",
    "programme",
    "roadmap",
    "roadmap_action",
    "seminar",
    "territory",
    "testimony",
    "working_group_member",
];

fn not_found() -> ApiError {
    ApiError::NotFound("webhook")
}

impl From<Model> for WebhookResponse {
    fn from(m: Model) -> Self {
        WebhookResponse {
            id: m.id,
            client_id: m.client_id,
            url: m.url,
            types: m
                .event_types
                .split(',')
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .collect(),
            status: if m.status == ACTIVE {
                WebhookStatus::Active
            } else {
                WebhookStatus::Disabled
            },
            consecutive_failures: m.consecutive_failures,
            disabled_reason: m.disabled_reason,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

impl From<delivery::Model> for DeliveryResponse {
    fn from(d: delivery::Model) -> Self {
        let status = match d.status.as_str() {
            DELIVERED => DeliveryStatus::Delivered,
            FAILED => DeliveryStatus::Failed,
            _ => DeliveryStatus::Pending,
        };
        DeliveryResponse {
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
        }
    }
}

fn checked_types(types: Option<Vec<String>>) -> Result<String, ApiError> {
    let mut out: Vec<String> = Vec::new();
    let mut errors = Vec::new();
    for (i, t) in types.unwrap_or_default().into_iter().enumerate() {
        if !TYPES.contains(&t.as_str()) {
            errors.push(FieldProblem::new(
                format!("/types/{i}"),
                "unknown_type",
                format!("unknown type `{t}`; one of {}", TYPES.join(", ")),
            ));
        } else if !out.contains(&t) {
            out.push(t);
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    out.sort();
    Ok(out.join(","))
}

fn checked_url(url: &str, options: &ServiceOptions) -> Result<String, ApiError> {
    crate::webhooks::check_url(url, options.webhook_allow_private_targets)
        .map(|u| u.to_string())
        .map_err(|why| ApiError::invalid("/url", "url_not_allowed", why))
}

/// The subscription if the caller may see it: its own client's, or any for an admin.
async fn visible(db: &impl ConnectionTrait, caller: &Caller, id: Uuid) -> Result<Model, ApiError> {
    let m = Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    if caller.is_admin() || caller.client_id == Some(m.client_id) {
        Ok(m)
    } else {
        Err(not_found())
    }
}

pub async fn get(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: Uuid,
) -> Result<WebhookResponse, ApiError> {
    Ok(visible(db, caller, id).await?.into())
}

pub async fn list(
    db: &impl ConnectionTrait,
    caller: &Caller,
    p: &WebhookListParams,
) -> Result<Page<WebhookResponse>, ApiError> {
    let mut q = Entity::find();
    if !caller.is_admin() {
        // A person's token owns no subscription: the list is empty.
        q = q.filter(Column::ClientId.eq(caller.client_id.unwrap_or(Uuid::nil())));
    }
    if let Some(s) = p.status {
        q = q.filter(Column::Status.eq(if s == WebhookStatus::Active {
            ACTIVE
        } else {
            DISABLED
        }));
    }
    let sort = super::by_creation(false);
    let req = PageRequest::of(&p.cursor, p.limit, p.count);
    Ok(
        fetch_page(db, q, Column::Id, sort, req, |m: &Model| (None, m.id))
            .await?
            .map(WebhookResponse::from),
    )
}

fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    format!(
        "whsec_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// Creates a subscription starting at the head of the change feed; returns it with its secret.
pub async fn create(
    db: &impl ConnectionTrait,
    caller: &Caller,
    options: &ServiceOptions,
    req: CreateWebhookRequest,
) -> Result<(Model, String), ApiError> {
    let client_id = match (caller.client_id, req.client_id, caller.is_admin()) {
        (Some(own), None, _) => own,
        (Some(own), Some(named), _) if own == named => own,
        (_, Some(named), true) => named,
        (Some(_), Some(_), false) => {
            return Err(ApiError::invalid(
                "/client_id",
                "not_allowed",
                "a client subscribes itself: leave client_id out",
            ));
        }
        (None, None, true) => {
            return Err(ApiError::invalid(
                "/client_id",
                "required",
                "name the machine client the subscription is for",
            ));
        }
        (None, _, false) => {
            return Err(ApiError::Unprocessable {
                code: "machine_client_required",
                detail: "webhooks belong to machine clients: use a token from POST /oauth/token"
                    .into(),
            });
        }
    };
    let client = entity::api_client::Entity::find_by_id(client_id)
        .one(db)
        .await?;
    if client.is_none_or(|c| c.status != super::clients::ACTIVE) {
        return Err(ApiError::invalid(
            "/client_id",
            "unknown_client",
            format!("no active client {client_id}"),
        ));
    }
    let url = checked_url(&req.url, options)?;
    let types = checked_types(req.types)?;
    let secret = new_secret();
    let now = Utc::now();
    let m = ActiveModel {
        id: Set(Uuid::now_v7()),
        client_id: Set(client_id),
        url: Set(url),
        event_types: Set(types),
        secret: Set(secret.clone()),
        status: Set(ACTIVE.into()),
        consecutive_failures: Set(0),
        disabled_reason: Set(None),
        cursor: Set(super::events::head_cursor(db).await?),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(0),
    }
    .insert(db)
    .await?;
    tracing::info!(webhook = %m.id, client = %client_id, "webhook subscribed");
    Ok((m, secret))
}

pub async fn update(
    db: &impl ConnectionTrait,
    caller: &Caller,
    options: &ServiceOptions,
    id: Uuid,
    req: UpdateWebhookRequest,
) -> Result<WebhookResponse, ApiError> {
    let m = visible(db, caller, id).await?;
    let mut a: ActiveModel = m.into();
    if let Some(url) = req.url {
        a.url = Set(checked_url(&url, options)?);
    }
    if req.types.is_some() {
        a.event_types = Set(checked_types(req.types)?);
    }
    match req.status {
        Some(WebhookStatus::Active) => {
            a.status = Set(ACTIVE.into());
            a.consecutive_failures = Set(0);
            a.disabled_reason = Set(None);
        }
        Some(WebhookStatus::Disabled) => {
            a.status = Set(DISABLED.into());
            a.disabled_reason = Set(Some("disabled by its client".into()));
        }
        None => {}
    }
    a.updated_at = Set(Utc::now());
    Ok(a.update(db).await?.into())
}

pub async fn delete(db: &impl ConnectionTrait, caller: &Caller, id: Uuid) -> Result<(), ApiError> {
    let m = visible(db, caller, id).await?;
    delivery::Entity::delete_many()
        .filter(delivery::Column::SubscriptionId.eq(id))
        .exec(db)
        .await?;
    m.delete(db).await?;
    Ok(())
}

pub async fn deliveries(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: Uuid,
    p: &DeliveryListParams,
) -> Result<Page<DeliveryResponse>, ApiError> {
    visible(db, caller, id).await?;
    let mut q = delivery::Entity::find().filter(delivery::Column::SubscriptionId.eq(id));
    if let Some(s) = p.status {
        q = q.filter(delivery::Column::Status.eq(match s {
            DeliveryStatus::Pending => PENDING,
            DeliveryStatus::Delivered => DELIVERED,
            DeliveryStatus::Failed => FAILED,
        }));
    }
    let sort = super::by_creation(true);
    let req = PageRequest::of(&p.cursor, p.limit, p.count);
    Ok(fetch_page(
        db,
        q,
        delivery::Column::Id,
        sort,
        req,
        |d: &delivery::Model| (None, d.id),
    )
    .await?
    .map(DeliveryResponse::from))
}

/// Queues a delivery again, due now, with a fresh run of attempts.
pub async fn redeliver(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: Uuid,
    delivery_id: Uuid,
) -> Result<DeliveryResponse, ApiError> {
    visible(db, caller, id).await?;
    let d = delivery::Entity::find_by_id(delivery_id)
        .filter(delivery::Column::SubscriptionId.eq(id))
        .one(db)
        .await?
        .ok_or(ApiError::NotFound("delivery"))?;
    let mut a: delivery::ActiveModel = d.into();
    a.status = Set(PENDING.into());
    a.attempts = Set(0);
    a.next_attempt_at = Set(Utc::now());
    Ok(a.update(db).await?.into())
}
