//! `/programmes`: the ANCT programmes a Fabrique can be tied to (Territoires d'industrie,
//! Agenda rural...). Public to read; admin only to manage.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use sea_orm::{DatabaseConnection, TransactionTrait};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::auth::{Caller, MaybeCaller, Permission};
use crate::error::{ApiResult, Problem};
use crate::extract::{Json, Query};
use crate::journal::Actor;
use crate::problems::{
    CreateProblems, LookupProblems, PublicListProblems, ReadProblems, WriteProblems,
};
use crate::store::programmes as store;

/// An ANCT programme (programme de l'Agence).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProgrammeResponse {
    pub id: Uuid,
    #[schema(example = "Territoires d'industrie")]
    pub name: String,
    pub description: String,
    /// Whether new Fabriques may still be tied to it.
    pub active: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<entity::programme::Model> for ProgrammeResponse {
    fn from(m: entity::programme::Model) -> Self {
        ProgrammeResponse {
            id: m.id,
            name: m.name,
            description: m.description,
            active: m.active,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

crate::page_schema!(ProgrammePage, ProgrammeResponse);

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateProgrammeRequest {
    #[validate(length(min = 1, max = 200))]
    #[schema(example = "Villages d'avenir", min_length = 1, max_length = 200)]
    pub name: String,
    #[validate(length(max = 5000))]
    #[schema(max_length = 5000)]
    pub description: Option<String>,
    pub active: Option<bool>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateProgrammeRequest {
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    #[validate(length(max = 5000))]
    #[schema(max_length = 5000)]
    pub description: Option<String>,
    pub active: Option<bool>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ProgrammeListParams {
    /// Only what changed at or after this instant (RFC 3339), for synchronisation.
    #[param(value_type = Option<String>, format = DateTime, example = "2026-11-28T09:00:00Z")]
    pub updated_since: Option<chrono::DateTime<chrono::Utc>>,
    /// Only active (true) or inactive (false) programmes.
    pub active: Option<bool>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    pub cursor: Option<String>,
    pub count: Option<bool>,
}

/// List the ANCT programmes.
#[utoipa::path(
    tag = "programmes", operation_id = "list_programmes",
    params(ProgrammeListParams),
    responses((status = 200, body = ProgrammePage), PublicListProblems),
    security((), ("bearer" = []))
)]
#[get("/programmes")]
pub async fn list_programmes(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    _caller: MaybeCaller,
    params: Query<ProgrammeListParams>,
) -> ApiResult<HttpResponse> {
    let page = store::list(db.get_ref(), &params.0).await?;
    Ok(crate::pagination::respond(
        &req, page.items, page.next, page.total,
    ))
}

/// Read a programme.
#[utoipa::path(
    tag = "programmes", operation_id = "get_programme",
    params(("id" = Uuid, Path, description = "Programme id")),
    responses((status = 200, body = ProgrammeResponse), LookupProblems),
    security((), ("bearer" = []))
)]
#[get("/programmes/{id}")]
pub async fn get_programme(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    _caller: MaybeCaller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    Ok(crate::etag::respond(
        &req,
        &ProgrammeResponse::from(store::get(db.get_ref(), *id).await?),
    ))
}

/// Create a programme (admin).
#[utoipa::path(
    tag = "programmes", operation_id = "create_programme",
    request_body = CreateProgrammeRequest,
    responses(
        (status = 201, body = ProgrammeResponse, headers(("Location" = String, description = "URL of the new programme"))),
        (status = 409, description = "A programme has this name", body = Problem, content_type = "application/problem+json"),
        CreateProblems,
    ),
    security(("bearer" = []))
)]
#[post("/programmes")]
pub async fn create_programme(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    body: Json<CreateProgrammeRequest>,
) -> ApiResult<HttpResponse> {
    caller.require(Permission::ManageProgrammes)?;
    let actor = Actor::new(&caller, &req);
    let txn = db.begin().await?;
    let m = store::create(&txn, &actor, body.0).await?;
    txn.commit().await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/programmes/{}", m.id)))
        .json(ProgrammeResponse::from(m)))
}

/// Change a programme (admin).
#[utoipa::path(
    tag = "programmes", operation_id = "update_programme",
    params(("id" = Uuid, Path, description = "Programme id")),
    request_body = UpdateProgrammeRequest,
    responses(
        (status = 200, body = ProgrammeResponse),
        (status = 409, description = "A programme has this name", body = Problem, content_type = "application/problem+json"),
        WriteProblems,
    ),
    security(("bearer" = []))
)]
#[patch("/programmes/{id}")]
pub async fn update_programme(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    if_match: crate::etag::IfMatch,
    id: web::Path<Uuid>,
    body: Json<UpdateProgrammeRequest>,
) -> ApiResult<web::Json<ProgrammeResponse>> {
    caller.require(Permission::ManageProgrammes)?;
    let actor = Actor::new(&caller, &req);
    let txn = db.begin().await?;
    crate::etag::claim(
        &txn,
        &caller,
        crate::etag::Resource::Programme(*id),
        &if_match,
    )
    .await?;
    let m = store::update(&txn, &actor, *id, body.0).await?;
    txn.commit().await?;
    Ok(web::Json(m.into()))
}

/// Delete a programme (admin; refused while a Fabrique or a lesson refers to it).
#[utoipa::path(
    tag = "programmes", operation_id = "delete_programme",
    params(("id" = Uuid, Path, description = "Programme id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 409, description = "Still referenced", body = Problem, content_type = "application/problem+json"),
        ReadProblems,
    ),
    security(("bearer" = []))
)]
#[delete("/programmes/{id}")]
pub async fn delete_programme(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    if_match: crate::etag::IfMatch,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    caller.require(Permission::ManageProgrammes)?;
    let actor = Actor::new(&caller, &req);
    let txn = db.begin().await?;
    crate::etag::claim(
        &txn,
        &caller,
        crate::etag::Resource::Programme(*id),
        &if_match,
    )
    .await?;
    store::delete(&txn, &actor, *id).await?;
    txn.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}
