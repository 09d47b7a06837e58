//! Funding lines (financements) of a Fabrique: ANCT's own and partners' co-funding.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use sea_orm::{DatabaseConnection, TransactionTrait};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::auth::{Caller, Permission};
use crate::error::{ApiResult, Problem};
use crate::extract::{Json, Query, double_option};
use crate::journal::Actor;
use crate::problems::{LookupProblems, ReadProblems, WriteProblems};
use crate::store::funding as store;

/// ANCT's own funding, or a partner's co-funding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FundingKind {
    Anct,
    CoFunding,
}

impl FundingKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FundingKind::Anct => "anct",
            FundingKind::CoFunding => "co_funding",
        }
    }
}

/// One funding line (financement).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FundingLineResponse {
    pub id: Uuid,
    pub fabrique_id: Uuid,
    pub organization_id: Uuid,
    pub kind: FundingKind,
    /// In euro cents.
    #[schema(example = 15000000)]
    pub amount_cents: i64,
    pub label: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

crate::page_schema!(FundingLinePage, FundingLineResponse);

/// What one organization puts in.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FunderTotal {
    pub organization_id: Uuid,
    pub name: String,
    pub kind: FundingKind,
    pub amount_cents: i64,
}

/// A Fabrique's funding totals.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FundingSummaryResponse {
    pub fabrique_id: Uuid,
    pub total_cents: i64,
    pub anct_cents: i64,
    pub co_funding_cents: i64,
    pub by_organization: Vec<FunderTotal>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"organization_id": "01a2219c-5371-7673-aff7-8ea72af0ffd9", "kind": "co_funding", "amount_cents": 5000000, "label": "Convention 2027"}))]
pub struct CreateFundingLineRequest {
    pub organization_id: Uuid,
    pub kind: FundingKind,
    /// In euro cents, more than 0.
    #[validate(range(min = 1, max = 100_000_000_000_000i64))]
    #[schema(minimum = 1, maximum = 100_000_000_000_000i64)]
    pub amount_cents: i64,
    #[validate(length(min = 1, max = 300))]
    #[schema(min_length = 1, max_length = 300)]
    pub label: Option<String>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateFundingLineRequest {
    #[validate(range(min = 1, max = 100_000_000_000_000i64))]
    #[schema(minimum = 1, maximum = 100_000_000_000_000i64)]
    pub amount_cents: Option<i64>,
    #[serde(default, deserialize_with = "double_option")]
    #[validate(length(min = 1, max = 300))]
    #[schema(nullable, min_length = 1, max_length = 300)]
    pub label: Option<Option<String>>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FundingListParams {
    /// Only what changed at or after this instant (RFC 3339), for synchronisation.
    #[param(value_type = Option<String>, format = DateTime, example = "2026-11-28T09:00:00Z")]
    pub updated_since: Option<chrono::DateTime<chrono::Utc>>,
    /// `anct`, `co_funding`.
    pub kind: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    pub cursor: Option<String>,
    pub count: Option<bool>,
}

const CONFLICT: &str = "The Fabrique is closed, or the organization cannot fund it this way (co-funding needs a co_funder partner; ANCT funding an ANCT organization)";

/// List a Fabrique's funding lines.
#[utoipa::path(
    tag = "funding", operation_id = "list_funding_lines",
    params(("id" = Uuid, Path, description = "Fabrique id"), FundingListParams),
    responses((status = 200, body = FundingLinePage), LookupProblems),
    security(("bearer" = []))
)]
#[get("/fabriques/{id}/funding-lines")]
pub async fn list_funding_lines(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    id: web::Path<Uuid>,
    params: Query<FundingListParams>,
) -> ApiResult<HttpResponse> {
    let page = store::list(db.get_ref(), &caller, *id, &params.0).await?;
    Ok(crate::pagination::respond(
        &req, page.items, page.next, page.total,
    ))
}

/// A Fabrique's funding totals, by kind and organization.
#[utoipa::path(
    tag = "funding", operation_id = "get_funding_summary",
    params(("id" = Uuid, Path, description = "Fabrique id")),
    responses((status = 200, body = FundingSummaryResponse), LookupProblems),
    security(("bearer" = []))
)]
#[get("/fabriques/{id}/funding-summary")]
pub async fn get_funding_summary(
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<web::Json<FundingSummaryResponse>> {
    Ok(web::Json(store::summary(db.get_ref(), &caller, *id).await?))
}

/// Record a funding line (ANCT).
#[utoipa::path(
    tag = "funding", operation_id = "create_funding_line",
    params(("id" = Uuid, Path, description = "Fabrique id")),
    request_body = CreateFundingLineRequest,
    responses(
        (status = 201, body = FundingLineResponse, headers(("Location" = String, description = "URL of the new line"))),
        (status = 409, description = CONFLICT, body = Problem, content_type = "application/problem+json"),
        WriteProblems,
    ),
    security(("bearer" = []))
)]
#[post("/fabriques/{id}/funding-lines")]
pub async fn create_funding_line(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: Json<CreateFundingLineRequest>,
) -> ApiResult<HttpResponse> {
    caller.require(Permission::WriteFunding)?;
    let actor = Actor::new(&caller, &req);
    let txn = db.begin().await?;
    let l = store::create(&txn, &actor, *id, body.0).await?;
    txn.commit().await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/funding-lines/{}", l.id)))
        .json(l))
}

/// Read a funding line.
#[utoipa::path(
    tag = "funding", operation_id = "get_funding_line",
    params(("id" = Uuid, Path, description = "Funding line id")),
    responses((status = 200, body = FundingLineResponse), LookupProblems),
    security(("bearer" = []))
)]
#[get("/funding-lines/{id}")]
pub async fn get_funding_line(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    Ok(crate::etag::respond(
        &req,
        &store::get(db.get_ref(), &caller, *id).await?,
    ))
}

/// Change a funding line (ANCT).
#[utoipa::path(
    tag = "funding", operation_id = "update_funding_line",
    params(("id" = Uuid, Path, description = "Funding line id")),
    request_body = UpdateFundingLineRequest,
    responses(
        (status = 200, body = FundingLineResponse),
        (status = 409, description = "The Fabrique is closed", body = Problem, content_type = "application/problem+json"),
        WriteProblems,
    ),
    security(("bearer" = []))
)]
#[patch("/funding-lines/{id}")]
pub async fn update_funding_line(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    if_match: crate::etag::IfMatch,
    id: web::Path<Uuid>,
    body: Json<UpdateFundingLineRequest>,
) -> ApiResult<web::Json<FundingLineResponse>> {
    caller.require(Permission::WriteFunding)?;
    let actor = Actor::new(&caller, &req);
    let txn = db.begin().await?;
    crate::etag::claim(
        &txn,
        &caller,
        crate::etag::Resource::FundingLine(*id),
        &if_match,
    )
    .await?;
    let l = store::update(&txn, &actor, *id, body.0).await?;
    txn.commit().await?;
    Ok(web::Json(l))
}

/// Delete a funding line (ANCT).
#[utoipa::path(
    tag = "funding", operation_id = "delete_funding_line",
    params(("id" = Uuid, Path, description = "Funding line id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 409, description = "The Fabrique is closed", body = Problem, content_type = "application/problem+json"),
        ReadProblems,
    ),
    security(("bearer" = []))
)]
#[delete("/funding-lines/{id}")]
pub async fn delete_funding_line(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    if_match: crate::etag::IfMatch,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    caller.require(Permission::WriteFunding)?;
    let actor = Actor::new(&caller, &req);
    let txn = db.begin().await?;
    crate::etag::claim(
        &txn,
        &caller,
        crate::etag::Resource::FundingLine(*id),
        &if_match,
    )
    .await?;
    store::delete(&txn, &actor, *id).await?;
    txn.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}
