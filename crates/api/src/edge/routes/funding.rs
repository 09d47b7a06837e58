//! Funding lines (financements) of a Fabrique: ANCT's own and partners' co-funding. Seen by
//! ANCT, analysts and the Fabrique's partner organizations (`funding:read`).

use ::store::funding::{self as store, FundingLine, FundingSummary};
use actix_web::{HttpResponse, delete, get, patch, post, web};
use domain::funding::{FundingLineChanges, NewFundingLine};
use domain::query::FundingFilter;
use domain::{FundingKind, Permission};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::edge::context::{Signed, Write};
use crate::edge::error::{ApiResult, Problem};
use crate::edge::etag::{IfMatchHeader, IfNoneMatchHeader};
use crate::edge::extract::{Json, Query, double_option};
use crate::edge::params::CreationSort;
use crate::edge::problems::{
    CachedLookupProblems, ConditionalDeleteProblems, ConditionalWriteProblems, ReadProblems,
    WriteProblems,
};

crate::page_schema!(FundingLinePage, FundingLine);

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"organization_id": "01a2219c-5371-7673-aff7-8ea72af0ffd9", "kind": "co_funding", "amount_cents": 5000000, "label": "Convention 2027"}))]
pub struct CreateFundingLineRequest {
    pub organization_id: Uuid,
    pub kind: FundingKind,
    #[validate(range(min = 1, max = 100_000_000_000_000i64))]
    #[schema(minimum = 1, maximum = 100_000_000_000_000i64)]
    pub amount_cents: i64,
    #[validate(
        length(min = 1, max = 300),
        custom(function = "crate::edge::extract::not_blank")
    )]
    #[schema(min_length = 1, max_length = 300)]
    pub label: Option<String>,
}

impl From<CreateFundingLineRequest> for NewFundingLine {
    fn from(r: CreateFundingLineRequest) -> Self {
        NewFundingLine {
            organization_id: r.organization_id,
            kind: r.kind,
            amount_cents: r.amount_cents,
            label: r.label,
        }
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateFundingLineRequest {
    #[validate(range(min = 1, max = 100_000_000_000_000i64))]
    #[schema(minimum = 1, maximum = 100_000_000_000_000i64)]
    pub amount_cents: Option<i64>,
    #[serde(default, deserialize_with = "double_option")]
    #[validate(
        length(min = 1, max = 300),
        custom(function = "crate::edge::extract::not_blank")
    )]
    #[schema(nullable, min_length = 1, max_length = 300)]
    pub label: Option<Option<String>>,
}

impl From<UpdateFundingLineRequest> for FundingLineChanges {
    fn from(r: UpdateFundingLineRequest) -> Self {
        FundingLineChanges {
            amount_cents: r.amount_cents,
            label: r.label,
        }
    }
}

crate::list_params! {
    FundingListParams sort CreationSort = CreationSort::CreatedAt;
    {
        /// Only what changed at or after this instant, for synchronisation.
        #[param(value_type = Option<String>, format = DateTime, example = "2026-11-28T09:00:00Z")]
        updated_since: Option<crate::edge::extract::Instant>,
        /// Kinds, comma-separated or repeated.
        #[serde(default, deserialize_with = "crate::edge::params::list")]
        #[param(style = Form, explode)]
        kind: Option<Vec<FundingKind>>,
    }
}

const CLOSED: &str = "The Fabrique is closed, or the funder does not fit the kind (see `blockers`)";

/// List a Fabrique's funding lines.
#[utoipa::path(
    tag = "funding", operation_id = "list_funding_lines",
    params(("id" = Uuid, Path, description = "Fabrique id"), FundingListParams),
    responses((status = 200, body = FundingLinePage), ReadProblems),
    security(("bearer" = []))
)]
#[get("/fabriques/{id}/funding-lines")]
pub async fn list_funding_lines(
    r: Signed,
    id: web::Path<Uuid>,
    Query(p): Query<FundingListParams>,
) -> ApiResult<HttpResponse> {
    r.access().require(Permission::ReadFunding)?;
    let filter = FundingFilter {
        kinds: p.kind.clone().unwrap_or_default(),
        updated_since: p.updated_since.map(Into::into),
    };
    Ok(r.page(store::list(r.db(), r.access(), *id, &filter, &p.page()?).await?))
}

/// A Fabrique's funding totals: by kind and by organization.
#[utoipa::path(
    tag = "funding", operation_id = "get_funding_summary",
    params(("id" = Uuid, Path, description = "Fabrique id")),
    responses((status = 200, body = FundingSummary), ReadProblems),
    security(("bearer" = []))
)]
#[get("/fabriques/{id}/funding-summary")]
pub async fn get_funding_summary(
    r: Signed,
    id: web::Path<Uuid>,
) -> ApiResult<web::Json<FundingSummary>> {
    r.access().require(Permission::ReadFunding)?;
    Ok(web::Json(store::summary(r.db(), r.access(), *id).await?))
}

/// Record a funding line (ANCT).
#[utoipa::path(
    tag = "funding", operation_id = "create_funding_line",
    params(("id" = Uuid, Path, description = "Fabrique id")),
    request_body = CreateFundingLineRequest,
    responses(
        (status = 201, body = FundingLine, headers(("Location" = String, description = "URL of the new line"))),
        (status = 409, description = CLOSED, body = Problem, content_type = "application/problem+json"),
        WriteProblems,
    ),
    security(("bearer" = []))
)]
#[post("/fabriques/{id}/funding-lines")]
pub async fn create_funding_line(
    w: Write,
    id: web::Path<Uuid>,
    body: Json<CreateFundingLineRequest>,
) -> ApiResult<HttpResponse> {
    let (id, new) = (*id, NewFundingLine::from(body.0));
    let l = w
        .run(Permission::WriteFunding, move |tx, actor| {
            Box::pin(store::create(tx, actor, id, new))
        })
        .await?;
    Ok(crate::edge::created(
        format!("/api/v1/funding-lines/{}", l.id),
        &l,
    ))
}

/// Read a funding line.
#[utoipa::path(
    tag = "funding", operation_id = "get_funding_line",
    params(("id" = Uuid, Path, description = "Funding line id"), IfNoneMatchHeader),
    responses(
        (status = 200, body = FundingLine, headers(("ETag" = String, description = "Strong ETag of this representation"))),
        CachedLookupProblems,
    ),
    security(("bearer" = []))
)]
#[get("/funding-lines/{id}")]
pub async fn get_funding_line(r: Signed, id: web::Path<Uuid>) -> ApiResult<HttpResponse> {
    Ok(r.etagged(&store::get(r.db(), r.access(), *id).await?))
}

/// Change a funding line (ANCT).
#[utoipa::path(
    tag = "funding", operation_id = "update_funding_line",
    params(("id" = Uuid, Path, description = "Funding line id"), IfMatchHeader),
    request_body = UpdateFundingLineRequest,
    responses(
        (status = 200, body = FundingLine),
        (status = 409, description = CLOSED, body = Problem, content_type = "application/problem+json"),
        ConditionalWriteProblems,
    ),
    security(("bearer" = []))
)]
#[patch("/funding-lines/{id}")]
pub async fn update_funding_line(
    w: Write,
    id: web::Path<Uuid>,
    body: Json<UpdateFundingLineRequest>,
) -> ApiResult<web::Json<FundingLine>> {
    let (id, changes) = (*id, FundingLineChanges::from(body.0));
    w.run_on::<FundingLine, _, _>(Permission::WriteFunding, id, move |tx, actor| {
        Box::pin(store::update(tx, actor, id, changes))
    })
    .await
    .map(web::Json)
}

/// Delete a funding line (ANCT).
#[utoipa::path(
    tag = "funding", operation_id = "delete_funding_line",
    params(("id" = Uuid, Path, description = "Funding line id"), IfMatchHeader),
    responses(
        (status = 204, description = "Deleted"),
        (status = 409, description = CLOSED, body = Problem, content_type = "application/problem+json"),
        ConditionalDeleteProblems,
    ),
    security(("bearer" = []))
)]
#[delete("/funding-lines/{id}")]
pub async fn delete_funding_line(w: Write, id: web::Path<Uuid>) -> ApiResult<HttpResponse> {
    let id = *id;
    w.run_on::<FundingLine, _, _>(Permission::WriteFunding, id, move |tx, actor| {
        Box::pin(store::delete(tx, actor, id))
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
