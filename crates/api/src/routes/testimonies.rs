//! Testimonies (témoignages d'élus). Published ones are public; unpublished ones are seen by
//! those who may write them.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::NaiveDate;
use sea_orm::{DatabaseConnection, TransactionTrait};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::auth::{Caller, MaybeCaller};
use crate::error::ApiResult;
use crate::extract::{Json, Query, double_option};
use crate::journal::Actor;
use crate::problems::{LookupProblems, PublicListProblems, ReadProblems, WriteProblems};
use crate::store::testimonies as store;

/// A testimony of an elected official, often a video.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TestimonyResponse {
    pub id: Uuid,
    pub fabrique_id: Uuid,
    pub territory_id: Option<Uuid>,
    #[schema(example = "Guillaume Fauvet")]
    pub speaker: String,
    #[schema(example = "vice-président")]
    pub role: Option<String>,
    pub media_url: Option<String>,
    pub quote: Option<String>,
    pub given_on: Option<NaiveDate>,
    pub published: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

crate::page_schema!(TestimonyPage, TestimonyResponse);

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"speaker": "Brigitte Henri", "role": "adjointe au maire", "quote": "…", "published": false}))]
pub struct CreateTestimonyRequest {
    /// A territory taking part in the Fabrique.
    pub territory_id: Option<Uuid>,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub speaker: String,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub role: Option<String>,
    #[validate(url, length(max = 500))]
    #[schema(max_length = 500)]
    pub media_url: Option<String>,
    #[validate(length(max = 5000))]
    #[schema(max_length = 5000)]
    pub quote: Option<String>,
    pub given_on: Option<NaiveDate>,
    /// Default false.
    pub published: Option<bool>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTestimonyRequest {
    #[serde(default, deserialize_with = "double_option")]
    #[schema(nullable)]
    pub territory_id: Option<Option<Uuid>>,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub speaker: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[validate(length(min = 1, max = 200))]
    #[schema(nullable, min_length = 1, max_length = 200)]
    pub role: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[validate(url, length(max = 500))]
    #[schema(nullable, max_length = 500)]
    pub media_url: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[validate(length(max = 5000))]
    #[schema(nullable, max_length = 5000)]
    pub quote: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(nullable)]
    pub given_on: Option<Option<NaiveDate>>,
    pub published: Option<bool>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TestimonyListParams {
    /// Only what changed at or after this instant (RFC 3339), for synchronisation.
    #[param(value_type = Option<String>, format = DateTime, example = "2026-11-28T09:00:00Z")]
    pub updated_since: Option<chrono::DateTime<chrono::Utc>>,
    /// Fabrique ids (on `/testimonies`).
    pub fabrique: Option<String>,
    /// Only published (true) or unpublished (false) ones; the public sees published ones only.
    pub published: Option<bool>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    pub cursor: Option<String>,
    pub count: Option<bool>,
}

/// List testimonies across Fabriques (the public sees published ones).
#[utoipa::path(
    tag = "testimonies", operation_id = "list_testimonies",
    params(TestimonyListParams),
    responses((status = 200, body = TestimonyPage), PublicListProblems),
    security((), ("bearer" = []))
)]
#[get("/testimonies")]
pub async fn list_testimonies(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    caller: MaybeCaller,
    params: Query<TestimonyListParams>,
) -> ApiResult<HttpResponse> {
    let page = store::list(db.get_ref(), caller.0.as_ref(), None, &params.0).await?;
    Ok(crate::pagination::respond(
        &req, page.items, page.next, page.total,
    ))
}

/// List a Fabrique's testimonies (the public sees published ones).
#[utoipa::path(
    tag = "testimonies", operation_id = "list_fabrique_testimonies",
    params(("id" = Uuid, Path, description = "Fabrique id"), TestimonyListParams),
    responses((status = 200, body = TestimonyPage), LookupProblems),
    security((), ("bearer" = []))
)]
#[get("/fabriques/{id}/testimonies")]
pub async fn list_fabrique_testimonies(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    caller: MaybeCaller,
    id: web::Path<Uuid>,
    params: Query<TestimonyListParams>,
) -> ApiResult<HttpResponse> {
    let page = store::list(db.get_ref(), caller.0.as_ref(), Some(*id), &params.0).await?;
    Ok(crate::pagination::respond(
        &req, page.items, page.next, page.total,
    ))
}

/// Record a testimony.
#[utoipa::path(
    tag = "testimonies", operation_id = "create_testimony",
    params(("id" = Uuid, Path, description = "Fabrique id")),
    request_body = CreateTestimonyRequest,
    responses(
        (status = 201, body = TestimonyResponse, headers(("Location" = String, description = "URL of the new testimony"))),
        WriteProblems,
    ),
    security(("bearer" = []))
)]
#[post("/fabriques/{id}/testimonies")]
pub async fn create_testimony(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: Json<CreateTestimonyRequest>,
) -> ApiResult<HttpResponse> {
    let actor = Actor::new(&caller, &req);
    let txn = db.begin().await?;
    let t = store::create(&txn, &actor, *id, body.0).await?;
    txn.commit().await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/testimonies/{}", t.id)))
        .json(t))
}

/// Read a testimony (the public reads published ones).
#[utoipa::path(
    tag = "testimonies", operation_id = "get_testimony",
    params(("id" = Uuid, Path, description = "Testimony id")),
    responses((status = 200, body = TestimonyResponse), LookupProblems),
    security((), ("bearer" = []))
)]
#[get("/testimonies/{id}")]
pub async fn get_testimony(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    caller: MaybeCaller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    Ok(crate::etag::respond(
        &req,
        &store::get(db.get_ref(), caller.0.as_ref(), *id).await?,
    ))
}

/// Change or publish a testimony.
#[utoipa::path(
    tag = "testimonies", operation_id = "update_testimony",
    params(("id" = Uuid, Path, description = "Testimony id")),
    request_body = UpdateTestimonyRequest,
    responses((status = 200, body = TestimonyResponse), WriteProblems),
    security(("bearer" = []))
)]
#[patch("/testimonies/{id}")]
pub async fn update_testimony(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    if_match: crate::etag::IfMatch,
    id: web::Path<Uuid>,
    body: Json<UpdateTestimonyRequest>,
) -> ApiResult<web::Json<TestimonyResponse>> {
    let actor = Actor::new(&caller, &req);
    let txn = db.begin().await?;
    crate::etag::claim(
        &txn,
        &caller,
        crate::etag::Resource::Testimony(*id),
        &if_match,
    )
    .await?;
    let t = store::update(&txn, &actor, *id, body.0).await?;
    txn.commit().await?;
    Ok(web::Json(t))
}

/// Delete a testimony.
#[utoipa::path(
    tag = "testimonies", operation_id = "delete_testimony",
    params(("id" = Uuid, Path, description = "Testimony id")),
    responses((status = 204, description = "Deleted"), ReadProblems),
    security(("bearer" = []))
)]
#[delete("/testimonies/{id}")]
pub async fn delete_testimony(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    if_match: crate::etag::IfMatch,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let actor = Actor::new(&caller, &req);
    let txn = db.begin().await?;
    crate::etag::claim(
        &txn,
        &caller,
        crate::etag::Resource::Testimony(*id),
        &if_match,
    )
    .await?;
    store::delete(&txn, &actor, *id).await?;
    txn.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}
