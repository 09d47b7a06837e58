//! `/territories`: collectivités, identified by their official code.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use domain::TerritoryKind;
use sea_orm::{DatabaseConnection, TransactionTrait};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::auth::{Caller, Permission};
use crate::error::{ApiResult, Problem};
use crate::extract::{Json, Query, double_option};
use crate::journal::Actor;
use crate::problems::{CreateProblems, ListProblems, ReadProblems, WriteProblems};
use crate::store::territories as store;

/// A territory (collectivité): commune, EPCI, department, region, PETR...
#[derive(Debug, Serialize, ToSchema)]
pub struct TerritoryResponse {
    pub id: Uuid,
    #[schema(example = "Lorient")]
    pub name: String,
    pub kind: TerritoryKind,
    /// Official code: INSEE (COG) code for a commune, SIREN for an EPCI or PETR, department or
    /// region code; null for `other`.
    #[schema(example = "56121")]
    pub code: Option<String>,
    #[schema(example = "56")]
    pub department: Option<String>,
    #[schema(example = "53")]
    pub region: Option<String>,
    pub population: Option<i64>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<entity::territory::Model> for TerritoryResponse {
    fn from(m: entity::territory::Model) -> Self {
        TerritoryResponse {
            id: m.id,
            name: m.name,
            kind: m.kind.parse().unwrap_or(TerritoryKind::Other),
            code: m.code,
            department: m.department,
            region: m.region,
            population: m.population,
            latitude: m.latitude,
            longitude: m.longitude,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

crate::page_schema!(TerritoryPage, TerritoryResponse);

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTerritoryRequest {
    /// Filled from the official geography (COG 2026) for communes, EPCI, departments and
    /// regions: leave it out, or give the official name (compared without case, accents or
    /// punctuation); another name is refused. Required for a PETR or `other`.
    #[validate(length(min = 1, max = 200))]
    #[schema(example = "Lorient", min_length = 1, max_length = 200)]
    pub name: Option<String>,
    pub kind: TerritoryKind,
    /// Required for every kind but `other` (which must not have one); checked against the kind.
    #[schema(example = "56121")]
    pub code: Option<String>,
    /// Department code; from the official geography when absent (for an EPCI, only when all
    /// its communes are in one department). A contradicting value is refused.
    #[schema(example = "56")]
    pub department: Option<String>,
    #[schema(example = "53")]
    pub region: Option<String>,
    #[validate(range(min = 0, max = 100_000_000))]
    #[schema(minimum = 0, maximum = 100_000_000)]
    pub population: Option<i64>,
    #[validate(range(min = -90.0, max = 90.0))]
    #[schema(minimum = -90.0, maximum = 90.0)]
    pub latitude: Option<f64>,
    #[validate(range(min = -180.0, max = 180.0))]
    #[schema(minimum = -180.0, maximum = 180.0)]
    pub longitude: Option<f64>,
}

/// Fields to change (the kind and code cannot change: create another territory).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTerritoryRequest {
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(nullable)]
    pub department: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(nullable)]
    pub region: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[validate(range(min = 0, max = 100_000_000))]
    #[schema(nullable, minimum = 0, maximum = 100_000_000)]
    pub population: Option<Option<i64>>,
    #[serde(default, deserialize_with = "double_option")]
    #[validate(range(min = -90.0, max = 90.0))]
    #[schema(nullable, minimum = -90.0, maximum = 90.0)]
    pub latitude: Option<Option<f64>>,
    #[serde(default, deserialize_with = "double_option")]
    #[validate(range(min = -180.0, max = 180.0))]
    #[schema(nullable, minimum = -180.0, maximum = 180.0)]
    pub longitude: Option<Option<f64>>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TerritoryListParams {
    /// Only what changed at or after this instant (RFC 3339), for synchronisation.
    #[param(value_type = Option<String>, format = DateTime, example = "2026-11-28T09:00:00Z")]
    pub updated_since: Option<chrono::DateTime<chrono::Utc>>,
    /// Kinds, comma-separated or repeated.
    #[param(example = "commune,metropole")]
    pub kind: Option<String>,
    /// Department codes, comma-separated or repeated.
    #[param(example = "56,2A")]
    pub department: Option<String>,
    /// Region codes, comma-separated or repeated.
    #[param(example = "53")]
    pub region: Option<String>,
    /// Official codes, comma-separated or repeated.
    pub code: Option<String>,
    /// Text search in the name (case-insensitive).
    pub q: Option<String>,
    /// `name`, `-name`, `created_at` (default), `-created_at`.
    pub sort: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    /// Opaque cursor from `next_cursor`.
    pub cursor: Option<String>,
    /// Also return the number of matching items as `total`.
    pub count: Option<bool>,
}

/// List territories.
#[utoipa::path(
    tag = "territories", operation_id = "list_territories",
    params(TerritoryListParams),
    responses(
        (status = 200, body = TerritoryPage),
        ListProblems,
    ),
    security(("bearer" = []))
)]
#[get("/territories")]
pub async fn list_territories(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    params: Query<TerritoryListParams>,
) -> ApiResult<HttpResponse> {
    caller.require(Permission::ReadDirectory)?;
    let page = store::list(db.get_ref(), &params.0).await?;
    Ok(crate::pagination::respond(
        &req,
        page.items
            .into_iter()
            .map(TerritoryResponse::from)
            .collect(),
        page.next,
        page.total,
    ))
}

/// Read a territory.
#[utoipa::path(
    tag = "territories", operation_id = "get_territory",
    params(("id" = Uuid, Path, description = "Territory id")),
    responses(
        (status = 200, body = TerritoryResponse),
        ReadProblems,
    ),
    security(("bearer" = []))
)]
#[get("/territories/{id}")]
pub async fn get_territory(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    caller.require(Permission::ReadDirectory)?;
    Ok(crate::etag::respond(
        &req,
        &TerritoryResponse::from(store::get(db.get_ref(), *id).await?),
    ))
}

/// Create a territory. Its code is checked against its kind; a duplicate code is a 409.
#[utoipa::path(
    tag = "territories", operation_id = "create_territory",
    request_body = CreateTerritoryRequest,
    responses(
        (status = 201, body = TerritoryResponse, headers(("Location" = String, description = "URL of the new territory"))),
        (status = 409, description = "A territory with this code exists", body = Problem, content_type = "application/problem+json"),
        CreateProblems,
    ),
    security(("bearer" = []))
)]
#[post("/territories")]
pub async fn create_territory(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    body: Json<CreateTerritoryRequest>,
) -> ApiResult<HttpResponse> {
    caller.require(Permission::WriteTerritories)?;
    let actor = Actor::new(&caller, &req);
    let txn = db.begin().await?;
    let m = store::create(&txn, &actor, body.0).await?;
    txn.commit().await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/territories/{}", m.id)))
        .json(TerritoryResponse::from(m)))
}

/// Change a territory.
#[utoipa::path(
    tag = "territories", operation_id = "update_territory",
    params(("id" = Uuid, Path, description = "Territory id")),
    request_body = UpdateTerritoryRequest,
    responses(
        (status = 200, body = TerritoryResponse),
        WriteProblems,
    ),
    security(("bearer" = []))
)]
#[patch("/territories/{id}")]
pub async fn update_territory(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    if_match: crate::etag::IfMatch,
    id: web::Path<Uuid>,
    body: Json<UpdateTerritoryRequest>,
) -> ApiResult<web::Json<TerritoryResponse>> {
    caller.require(Permission::WriteTerritories)?;
    let actor = Actor::new(&caller, &req);
    let txn = db.begin().await?;
    crate::etag::claim(
        &txn,
        &caller,
        crate::etag::Resource::Territory(*id),
        &if_match,
    )
    .await?;
    let m = store::update(&txn, &actor, *id, body.0).await?;
    txn.commit().await?;
    Ok(web::Json(m.into()))
}

/// Delete a territory (refused while it takes part in a Fabrique).
#[utoipa::path(
    tag = "territories", operation_id = "delete_territory",
    params(("id" = Uuid, Path, description = "Territory id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 409, description = "Still referenced", body = Problem, content_type = "application/problem+json"),
        ReadProblems,
    ),
    security(("bearer" = []))
)]
#[delete("/territories/{id}")]
pub async fn delete_territory(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    if_match: crate::etag::IfMatch,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    caller.require(Permission::WriteTerritories)?;
    let actor = Actor::new(&caller, &req);
    let txn = db.begin().await?;
    crate::etag::claim(
        &txn,
        &caller,
        crate::etag::Resource::Territory(*id),
        &if_match,
    )
    .await?;
    store::delete(&txn, &actor, *id).await?;
    txn.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}
