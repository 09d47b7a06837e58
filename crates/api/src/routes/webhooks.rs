//! `/webhooks`: a machine client's signed webhooks and their delivery log.
//!
//! Each subscription receives, from its creation on, the events its client may read in the
//! change feed, one POST per event, signed with its secret (see `crate::webhooks`).

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use sea_orm::{DatabaseConnection, TransactionTrait};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::auth::{Caller, Permission};
use crate::config::ServiceOptions;
use crate::error::ApiResult;
use crate::etag::{IfMatch, Resource};
use crate::extract::{Json, Query};
use crate::problems::{CreateProblems, ListProblems, ReadProblems, WriteProblems};
use crate::store::webhooks as store;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WebhookStatus {
    Active,
    /// Disabled by its client, or by the server after too many failed attempts in a row.
    Disabled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Waiting for its first attempt or for a retry.
    Pending,
    Delivered,
    /// Given up after the last attempt; can be redelivered by hand.
    Failed,
}

/// A webhook subscription. The secret is shown only when it is created.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WebhookResponse {
    pub id: Uuid,
    /// The machine client it belongs to.
    pub client_id: Uuid,
    #[schema(example = "https://sig.example.org/hooks/fabriques")]
    pub url: String,
    /// Entity types delivered (`fabrique`, `participation`, `seminar`...); empty for all.
    pub types: Vec<String>,
    pub status: WebhookStatus,
    /// Failed attempts since the last success.
    pub consecutive_failures: i32,
    pub disabled_reason: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

/// A new subscription with its signing secret: the only time the secret is shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookWithSecret {
    pub webhook: WebhookResponse,
    /// The HMAC-SHA256 key of the `Fabriques-Signature` header. Store it now.
    #[schema(example = "whsec_Q2VyZW1hIGV4YW1wbGUgb25seSBub3QgYSByZWFsIGtleQ")]
    pub secret: String,
}

crate::page_schema!(WebhookPage, WebhookResponse);

/// One event for one subscription, with the outcome of its last attempt.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeliveryResponse {
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

crate::page_schema!(DeliveryPage, DeliveryResponse);

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhookRequest {
    /// Where to POST the events: https, on a public address.
    #[validate(length(min = 1, max = 2000))]
    #[schema(
        example = "https://sig.example.org/hooks/fabriques",
        min_length = 1,
        max_length = 2000
    )]
    pub url: String,
    /// Entity types to deliver; all when absent or empty.
    #[validate(length(max = 20))]
    #[schema(max_items = 20)]
    pub types: Option<Vec<String>>,
    /// The machine client it is for: only an admin sets it; a client's token subscribes itself.
    pub client_id: Option<Uuid>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWebhookRequest {
    #[validate(length(min = 1, max = 2000))]
    #[schema(min_length = 1, max_length = 2000)]
    pub url: Option<String>,
    #[validate(length(max = 20))]
    #[schema(max_items = 20)]
    pub types: Option<Vec<String>>,
    /// `active` re-enables a disabled subscription (its failure count starts again at 0);
    /// `disabled` pauses it. Events keep being recorded for it while it is disabled.
    pub status: Option<WebhookStatus>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct WebhookListParams {
    pub status: Option<WebhookStatus>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    pub cursor: Option<String>,
    pub count: Option<bool>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeliveryListParams {
    pub status: Option<DeliveryStatus>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    pub cursor: Option<String>,
    pub count: Option<bool>,
}

/// List webhook subscriptions: a client's own, or all for an admin.
#[utoipa::path(
    tag = "webhooks", operation_id = "list_webhooks",
    params(WebhookListParams),
    responses((status = 200, body = WebhookPage), ListProblems),
    security(("bearer" = []))
)]
#[get("/webhooks")]
pub async fn list_webhooks(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    params: Query<WebhookListParams>,
) -> ApiResult<HttpResponse> {
    caller.require(Permission::ManageWebhooks)?;
    let page = store::list(db.get_ref(), &caller, &params.0).await?;
    Ok(crate::pagination::respond(
        &req, page.items, page.next, page.total,
    ))
}

/// Subscribe to webhooks. Only a machine client's token (from `POST /oauth/token`) subscribes
/// itself; an admin may subscribe a client by naming it. The answer holds the signing secret,
/// shown this once. Events are delivered from now on.
#[utoipa::path(
    tag = "webhooks", operation_id = "create_webhook",
    request_body = CreateWebhookRequest,
    responses(
        (status = 201, body = WebhookWithSecret, headers(("Location" = String, description = "URL of the new subscription"))),
        CreateProblems,
    ),
    security(("bearer" = []))
)]
#[post("/webhooks")]
pub async fn create_webhook(
    db: web::Data<DatabaseConnection>,
    options: web::Data<ServiceOptions>,
    caller: Caller,
    body: Json<CreateWebhookRequest>,
) -> ApiResult<HttpResponse> {
    caller.require(Permission::ManageWebhooks)?;
    let txn = db.begin().await?;
    let (m, secret) = store::create(&txn, &caller, options.get_ref(), body.0).await?;
    txn.commit().await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/webhooks/{}", m.id)))
        .insert_header(("Cache-Control", "no-store"))
        .json(WebhookWithSecret {
            webhook: m.into(),
            secret,
        }))
}

/// Read a webhook subscription.
#[utoipa::path(
    tag = "webhooks", operation_id = "get_webhook",
    params(("id" = Uuid, Path, description = "Subscription id")),
    responses((status = 200, body = WebhookResponse), ReadProblems),
    security(("bearer" = []))
)]
#[get("/webhooks/{id}")]
pub async fn get_webhook(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    caller.require(Permission::ManageWebhooks)?;
    Ok(crate::etag::respond(
        &req,
        &store::get(db.get_ref(), &caller, *id).await?,
    ))
}

/// Change a subscription's URL or types, pause it, or re-enable it after it was disabled.
#[utoipa::path(
    tag = "webhooks", operation_id = "update_webhook",
    params(("id" = Uuid, Path, description = "Subscription id")),
    request_body = UpdateWebhookRequest,
    responses((status = 200, body = WebhookResponse), WriteProblems),
    security(("bearer" = []))
)]
#[patch("/webhooks/{id}")]
pub async fn update_webhook(
    db: web::Data<DatabaseConnection>,
    options: web::Data<ServiceOptions>,
    caller: Caller,
    if_match: IfMatch,
    id: web::Path<Uuid>,
    body: Json<UpdateWebhookRequest>,
) -> ApiResult<web::Json<WebhookResponse>> {
    caller.require(Permission::ManageWebhooks)?;
    let txn = db.begin().await?;
    crate::etag::claim(&txn, &caller, Resource::Webhook(*id), &if_match).await?;
    let m = store::update(&txn, &caller, options.get_ref(), *id, body.0).await?;
    txn.commit().await?;
    Ok(web::Json(m))
}

/// Delete a subscription and its delivery log.
#[utoipa::path(
    tag = "webhooks", operation_id = "delete_webhook",
    params(("id" = Uuid, Path, description = "Subscription id")),
    responses((status = 204, description = "Deleted"), ReadProblems),
    security(("bearer" = []))
)]
#[delete("/webhooks/{id}")]
pub async fn delete_webhook(
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    if_match: IfMatch,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    caller.require(Permission::ManageWebhooks)?;
    let txn = db.begin().await?;
    crate::etag::claim(&txn, &caller, Resource::Webhook(*id), &if_match).await?;
    store::delete(&txn, &caller, *id).await?;
    txn.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The delivery log of a subscription, newest first.
#[utoipa::path(
    tag = "webhooks", operation_id = "list_webhook_deliveries",
    params(("id" = Uuid, Path, description = "Subscription id"), DeliveryListParams),
    responses((status = 200, body = DeliveryPage), ReadProblems),
    security(("bearer" = []))
)]
#[get("/webhooks/{id}/deliveries")]
pub async fn list_webhook_deliveries(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    id: web::Path<Uuid>,
    params: Query<DeliveryListParams>,
) -> ApiResult<HttpResponse> {
    caller.require(Permission::ManageWebhooks)?;
    let page = store::deliveries(db.get_ref(), &caller, *id, &params.0).await?;
    Ok(crate::pagination::respond(
        &req, page.items, page.next, page.total,
    ))
}

/// Deliver an event again, now (the same body, freshly signed). Works on any delivery:
/// failed, delivered or still pending.
#[utoipa::path(
    tag = "webhooks", operation_id = "redeliver_webhook_delivery",
    params(
        ("id" = Uuid, Path, description = "Subscription id"),
        ("delivery_id" = Uuid, Path, description = "Delivery id"),
    ),
    responses((status = 202, description = "Queued for delivery", body = DeliveryResponse), ReadProblems),
    security(("bearer" = []))
)]
#[post("/webhooks/{id}/deliveries/{delivery_id}/redeliver")]
pub async fn redeliver_webhook_delivery(
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    caller.require(Permission::ManageWebhooks)?;
    let (id, delivery) = path.into_inner();
    let txn = db.begin().await?;
    let d = store::redeliver(&txn, &caller, id, delivery).await?;
    txn.commit().await?;
    Ok(HttpResponse::Accepted().json(d))
}
