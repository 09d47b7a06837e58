//! `/organizations`: partner organizations (partenaires).

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use domain::OrganizationKind;
use sea_orm::{DatabaseConnection, TransactionTrait};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::auth::{Caller, Permission};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Json, Query, double_option};
use crate::journal::Actor;
use crate::problems::{CreateProblems, ListProblems, ReadProblems, WriteProblems};
use crate::store::organizations as store;

/// A partner organization (partenaire): ANCT, an association of elected officials, an
/// operator, a directorate, a funder, a contractor (prestataire)...
#[derive(Debug, Serialize, ToSchema)]
pub struct OrganizationResponse {
    pub id: Uuid,
    #[schema(example = "Association des maires de France")]
    pub name: String,
    #[schema(example = "AMF")]
    pub acronym: Option<String>,
    pub kind: OrganizationKind,
    pub website: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<entity::organization::Model> for OrganizationResponse {
    fn from(m: entity::organization::Model) -> Self {
        OrganizationResponse {
            id: m.id,
            name: m.name,
            acronym: m.acronym,
            kind: m.kind.parse().unwrap_or(OrganizationKind::Other),
            website: m.website,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

crate::page_schema!(OrganizationPage, OrganizationResponse);

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrganizationRequest {
    #[validate(length(min = 1, max = 200))]
    #[schema(
        example = "Association des maires de France",
        min_length = 1,
        max_length = 200
    )]
    pub name: String,
    #[validate(length(min = 1, max = 40))]
    #[schema(example = "AMF", min_length = 1, max_length = 40)]
    pub acronym: Option<String>,
    pub kind: OrganizationKind,
    #[validate(url, length(max = 500))]
    #[schema(example = "https://www.amf.asso.fr", max_length = 500)]
    pub website: Option<String>,
}

/// Fields to change; absent fields are left as they are, `null` clears an optional one.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateOrganizationRequest {
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[validate(length(min = 1, max = 40))]
    #[schema(nullable, min_length = 1, max_length = 40)]
    pub acronym: Option<Option<String>>,
    pub kind: Option<OrganizationKind>,
    #[serde(default, deserialize_with = "double_option")]
    #[validate(url, length(max = 500))]
    #[schema(nullable, max_length = 500)]
    pub website: Option<Option<String>>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OrganizationListParams {
    /// Only what changed at or after this instant (RFC 3339), for synchronisation.
    #[param(value_type = Option<String>, format = DateTime, example = "2026-11-28T09:00:00Z")]
    pub updated_since: Option<chrono::DateTime<chrono::Utc>>,
    /// Kinds, comma-separated or repeated.
    #[param(value_type = Option<String>, example = "elected_officials_association,funder")]
    pub kind: Option<String>,
    /// Text search in the name and acronym (case-insensitive).
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

/// List organizations.
#[utoipa::path(
    tag = "organizations", operation_id = "list_organizations",
    params(OrganizationListParams),
    responses(
        (status = 200, description = "A page of organizations", body = OrganizationPage),
        ListProblems,
    ),
    security(("bearer" = []))
)]
#[get("/organizations")]
pub async fn list_organizations(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    params: Query<OrganizationListParams>,
) -> ApiResult<HttpResponse> {
    caller.require(Permission::ReadDirectory)?;
    let page = store::list(db.get_ref(), &params.0).await?;
    Ok(crate::pagination::respond(
        &req,
        page.items
            .into_iter()
            .map(OrganizationResponse::from)
            .collect(),
        page.next,
        page.total,
    ))
}

/// Read an organization.
#[utoipa::path(
    tag = "organizations", operation_id = "get_organization",
    params(("id" = Uuid, Path, description = "Organization id")),
    responses(
        (status = 200, body = OrganizationResponse),
        ReadProblems,
    ),
    security(("bearer" = []))
)]
#[get("/organizations/{id}")]
pub async fn get_organization(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    caller.require(Permission::ReadDirectory)?;
    Ok(crate::etag::respond(
        &req,
        &OrganizationResponse::from(store::get(db.get_ref(), *id).await?),
    ))
}

/// Create an organization.
#[utoipa::path(
    tag = "organizations", operation_id = "create_organization",
    request_body = CreateOrganizationRequest,
    responses(
        (status = 201, body = OrganizationResponse, headers(("Location" = String, description = "URL of the new organization"))),
        CreateProblems,
    ),
    security(("bearer" = []))
)]
#[post("/organizations")]
pub async fn create_organization(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    body: Json<CreateOrganizationRequest>,
) -> ApiResult<HttpResponse> {
    caller.require(Permission::WriteOrganizations)?;
    let actor = Actor::new(&caller, &req);
    let txn = db.begin().await?;
    let m = store::create(&txn, &actor, body.0).await?;
    txn.commit().await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/organizations/{}", m.id)))
        .json(OrganizationResponse::from(m)))
}

/// Change an organization.
#[utoipa::path(
    tag = "organizations", operation_id = "update_organization",
    params(("id" = Uuid, Path, description = "Organization id")),
    request_body = UpdateOrganizationRequest,
    responses(
        (status = 200, body = OrganizationResponse),
        WriteProblems,
    ),
    security(("bearer" = []))
)]
#[patch("/organizations/{id}")]
pub async fn update_organization(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    if_match: crate::etag::IfMatch,
    id: web::Path<Uuid>,
    body: Json<UpdateOrganizationRequest>,
) -> ApiResult<web::Json<OrganizationResponse>> {
    caller.require(Permission::WriteOrganizations)?;
    let actor = Actor::new(&caller, &req);
    let txn = db.begin().await?;
    crate::etag::claim(
        &txn,
        &caller,
        crate::etag::Resource::Organization(*id),
        &if_match,
    )
    .await?;
    let m = store::update(&txn, &actor, *id, body.0).await?;
    txn.commit().await?;
    Ok(web::Json(m.into()))
}

/// Delete an organization (refused while a Fabrique references it).
#[utoipa::path(
    tag = "organizations", operation_id = "delete_organization",
    params(("id" = Uuid, Path, description = "Organization id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 409, description = "Still referenced", body = Problem, content_type = "application/problem+json"),
        ReadProblems,
    ),
    security(("bearer" = []))
)]
#[delete("/organizations/{id}")]
pub async fn delete_organization(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    if_match: crate::etag::IfMatch,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    caller.require(Permission::WriteOrganizations)?;
    let actor = Actor::new(&caller, &req);
    let txn = db.begin().await?;
    crate::etag::claim(
        &txn,
        &caller,
        crate::etag::Resource::Organization(*id),
        &if_match,
    )
    .await?;
    store::delete(&txn, &actor, *id).await?;
    txn.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}

pub fn not_found() -> ApiError {
    ApiError::NotFound("organization")
}
