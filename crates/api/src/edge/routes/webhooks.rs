//! `/webhooks`: a machine client's signed webhooks and their delivery log.
//!
//! Each subscription receives, from its creation on, the events its client may read in the
//! change feed, one POST per event, signed with its secret (see `crate::jobs::webhooks`).

use ::store::webhooks::{self as store, Delivery, NewWebhook, Webhook, WebhookChanges};
use actix_web::{HttpResponse, delete, get, patch, post, web};
use domain::{DeliveryStatus, EntityType, Permission, WebhookStatus};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::config::ServiceOptions;
use crate::edge::context::{Signed, Write};
use crate::edge::error::{ApiError, ApiResult, Problem};
use crate::edge::etag::{IfMatchHeader, IfNoneMatchHeader};
use crate::edge::extract::{Json, Query};
use crate::edge::params::CreationSort;
use crate::edge::problems::{
    CachedReadProblems, ConditionalDeleteProblems, ConditionalWriteProblems, CreateProblems,
    ListProblems, ReadProblems,
};

/// A new subscription with its signing secret: the only time the secret is shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookWithSecret {
    pub webhook: Webhook,
    /// The HMAC-SHA256 key of the `Fabriques-Signature` header. Store it now.
    #[schema(example = "whsec_Q2VyZW1hIGV4YW1wbGUgb25seSBub3QgYSByZWFsIGtleQ")]
    pub secret: String,
}

crate::page_schema!(WebhookPage, Webhook);
crate::page_schema!(DeliveryPage, Delivery);

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhookRequest {
    /// Where to POST the events: https, on a public address.
    #[validate(
        length(min = 1, max = 2000),
        custom(function = "crate::edge::extract::not_blank")
    )]
    #[schema(
        example = "https://sig.example.org/hooks/fabriques",
        min_length = 1,
        max_length = 2000,
        format = "uri"
    )]
    pub url: String,
    /// Entity types to deliver; all when absent or empty.
    #[validate(length(max = 20))]
    #[schema(max_items = 20)]
    pub types: Option<Vec<EntityType>>,
    /// The machine client it is for: only an admin sets it; a client's token subscribes itself.
    pub client_id: Option<Uuid>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWebhookRequest {
    #[validate(
        length(min = 1, max = 2000),
        custom(function = "crate::edge::extract::not_blank")
    )]
    #[schema(min_length = 1, max_length = 2000, format = "uri")]
    pub url: Option<String>,
    #[validate(length(max = 20))]
    #[schema(max_items = 20)]
    pub types: Option<Vec<EntityType>>,
    /// `active` re-enables a disabled subscription (its failure count starts again at 0);
    /// `disabled` pauses it. Events keep being recorded for it while it is disabled.
    pub status: Option<WebhookStatus>,
}

crate::list_params! {
    WebhookListParams sort CreationSort = CreationSort::CreatedAt;
    {
        status: Option<WebhookStatus>,
    }
}

crate::list_params! {
    DeliveryListParams sort CreationSort = CreationSort::CreatedAtDesc;
    {
        status: Option<DeliveryStatus>,
    }
}

/// A target the worker may deliver to (https on a public address, unless configured).
fn checked_url(url: &str, options: &ServiceOptions) -> ApiResult<String> {
    crate::jobs::webhooks::check_url(url, options.webhook_allow_private_targets)
        .map(|u| u.to_string())
        .map_err(|why| ApiError::invalid("/url", "url_not_allowed", why))
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
    r: Signed,
    Query(p): Query<WebhookListParams>,
) -> ApiResult<HttpResponse> {
    r.access().require(Permission::ManageWebhooks)?;
    Ok(r.page(store::list(r.db(), r.access(), p.status, &p.page()?).await?))
}

/// Subscribe to webhooks. Only a machine client's token (from `POST /oauth/token`) subscribes
/// itself; an admin may subscribe a client by naming it. The answer holds the signing secret,
/// shown this once. Events are delivered from now on.
///
/// The answer is not kept with an `Idempotency-Key`: a retry with the same key does not
/// subscribe again and does not show the secret again; it is 409 `not_replayable`, naming the
/// subscription (delete it and subscribe again if its secret was not stored).
#[utoipa::path(
    tag = "webhooks", operation_id = "create_webhook",
    request_body = CreateWebhookRequest,
    responses(
        (status = 201, body = WebhookWithSecret, headers(("Location" = String, description = "URL of the new subscription"))),
        (status = 409, description = "A retry with the `Idempotency-Key` of a subscription already made (`not_replayable`): its secret is not shown again; delete the subscription and subscribe again if it was not stored", body = Problem, content_type = "application/problem+json"),
        CreateProblems,
    ),
    security(("bearer" = []))
)]
#[post("/webhooks")]
pub async fn create_webhook(
    w: Write,
    options: web::Data<ServiceOptions>,
    body: Json<CreateWebhookRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.0;
    let new = NewWebhook {
        client_id: body.client_id,
        url: checked_url(&body.url, options.get_ref())?,
        types: body.types.unwrap_or_default(),
        secret: crate::auth::secrets::new_webhook_secret(),
    };
    let secret = new.secret.clone();
    let m = w
        .run(Permission::ManageWebhooks, move |tx, actor| {
            Box::pin(async move { store::create(tx, actor, new).await })
        })
        .await?;
    let advice = format!(
        "Subscription {id} exists (/api/v1/webhooks/{id}): if its signing secret was not stored, delete it (DELETE /api/v1/webhooks/{id}) and subscribe again with a new key.",
        id = m.id
    );
    let res = HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/webhooks/{}", m.id)))
        .json(WebhookWithSecret { webhook: m, secret });
    Ok(crate::edge::idempotency::carrying_secret(res, advice))
}

/// Read a webhook subscription.
#[utoipa::path(
    tag = "webhooks", operation_id = "get_webhook",
    params(("id" = Uuid, Path, description = "Subscription id"), IfNoneMatchHeader),
    responses(
        (status = 200, body = Webhook, headers(("ETag" = String, description = "Strong ETag of this representation"))),
        CachedReadProblems,
    ),
    security(("bearer" = []))
)]
#[get("/webhooks/{id}")]
pub async fn get_webhook(r: Signed, id: web::Path<Uuid>) -> ApiResult<HttpResponse> {
    r.access().require(Permission::ManageWebhooks)?;
    Ok(r.etagged(&store::get(r.db(), r.access(), *id).await?))
}

/// Change a subscription's URL or types, pause it, or re-enable it after it was disabled.
#[utoipa::path(
    tag = "webhooks", operation_id = "update_webhook",
    params(("id" = Uuid, Path, description = "Subscription id"), IfMatchHeader),
    request_body = UpdateWebhookRequest,
    responses((status = 200, body = Webhook), ConditionalWriteProblems),
    security(("bearer" = []))
)]
#[patch("/webhooks/{id}")]
pub async fn update_webhook(
    w: Write,
    options: web::Data<ServiceOptions>,
    id: web::Path<Uuid>,
    body: Json<UpdateWebhookRequest>,
) -> ApiResult<web::Json<Webhook>> {
    let (id, body) = (*id, body.0);
    let changes = WebhookChanges {
        url: body
            .url
            .map(|u| checked_url(&u, options.get_ref()))
            .transpose()?,
        types: body.types,
        status: body.status,
    };
    w.run_on::<Webhook, _, _>(Permission::ManageWebhooks, id, move |tx, actor| {
        Box::pin(async move { store::update(tx, actor, id, changes).await })
    })
    .await
    .map(web::Json)
}

/// Delete a subscription and its delivery log.
#[utoipa::path(
    tag = "webhooks", operation_id = "delete_webhook",
    params(("id" = Uuid, Path, description = "Subscription id"), IfMatchHeader),
    responses((status = 204, description = "Deleted"), ConditionalDeleteProblems),
    security(("bearer" = []))
)]
#[delete("/webhooks/{id}")]
pub async fn delete_webhook(w: Write, id: web::Path<Uuid>) -> ApiResult<HttpResponse> {
    let id = *id;
    w.run_on::<Webhook, _, _>(Permission::ManageWebhooks, id, move |tx, actor| {
        Box::pin(async move { store::delete(tx, actor, id).await })
    })
    .await?;
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
    r: Signed,
    id: web::Path<Uuid>,
    Query(p): Query<DeliveryListParams>,
) -> ApiResult<HttpResponse> {
    r.access().require(Permission::ManageWebhooks)?;
    Ok(r.page(store::deliveries(r.db(), r.access(), *id, p.status, &p.page()?).await?))
}

/// Deliver an event again, now (the same body, freshly signed). Works on any delivery:
/// failed, delivered or still pending.
#[utoipa::path(
    tag = "webhooks", operation_id = "redeliver_webhook_delivery",
    params(
        ("id" = Uuid, Path, description = "Subscription id"),
        ("delivery_id" = Uuid, Path, description = "Delivery id"),
    ),
    responses((status = 202, description = "Queued for delivery", body = Delivery), ReadProblems),
    security(("bearer" = []))
)]
#[post("/webhooks/{id}/deliveries/{delivery_id}/redeliver")]
pub async fn redeliver_webhook_delivery(
    w: Write,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (id, delivery) = path.into_inner();
    let d = w
        .run(Permission::ManageWebhooks, move |tx, actor| {
            Box::pin(async move { store::redeliver(tx, &actor.access, id, delivery).await })
        })
        .await?;
    Ok(HttpResponse::Accepted().json(d))
}
