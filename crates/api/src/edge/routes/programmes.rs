//! `/programmes`: the ANCT programmes a Fabrique can be tied to (Territoires d'industrie,
//! Agenda rural...). Public to read; admin only to manage.

use ::store::programmes::{self as store, Programme};
use actix_web::{HttpResponse, delete, get, patch, post, web};
use domain::Permission;
use domain::directory::{NewProgramme, ProgrammeChanges};
use domain::query::ProgrammeFilter;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::edge::context::{Public, Write};
use crate::edge::error::{ApiResult, Problem};
use crate::edge::etag::{IfMatchHeader, IfNoneMatchHeader};
use crate::edge::extract::{Json, Query};
use crate::edge::params::CreationSort;
use crate::edge::problems::{
    CachedLookupProblems, ConditionalDeleteProblems, ConditionalWriteProblems, CreateProblems,
    PublicListProblems,
};

crate::page_schema!(ProgrammePage, Programme);

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateProgrammeRequest {
    #[validate(
        length(min = 1, max = 200),
        custom(function = "crate::edge::extract::not_blank")
    )]
    #[schema(example = "Villages d'avenir", min_length = 1, max_length = 200)]
    pub name: String,
    #[validate(length(max = 5000))]
    #[schema(max_length = 5000)]
    pub description: Option<String>,
    pub active: Option<bool>,
}

impl From<CreateProgrammeRequest> for NewProgramme {
    fn from(r: CreateProgrammeRequest) -> Self {
        NewProgramme {
            name: r.name.trim().to_owned(),
            description: r.description.unwrap_or_default(),
            active: r.active.unwrap_or(true),
        }
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateProgrammeRequest {
    #[validate(
        length(min = 1, max = 200),
        custom(function = "crate::edge::extract::not_blank")
    )]
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    #[validate(length(max = 5000))]
    #[schema(max_length = 5000)]
    pub description: Option<String>,
    pub active: Option<bool>,
}

impl From<UpdateProgrammeRequest> for ProgrammeChanges {
    fn from(r: UpdateProgrammeRequest) -> Self {
        ProgrammeChanges {
            name: r.name.map(|n| n.trim().to_owned()),
            description: r.description,
            active: r.active,
        }
    }
}

crate::list_params! {
    ProgrammeListParams sort CreationSort = CreationSort::CreatedAt;
    {
        /// Only what changed at or after this instant, for synchronisation.
        #[param(value_type = Option<String>, format = DateTime, example = "2026-11-28T09:00:00Z")]
        updated_since: Option<crate::edge::extract::Instant>,
        /// Only active (true) or inactive (false) programmes.
        active: Option<bool>,
    }
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
    r: Public,
    Query(p): Query<ProgrammeListParams>,
) -> ApiResult<HttpResponse> {
    let filter = ProgrammeFilter {
        active: p.active,
        updated_since: p.updated_since.map(Into::into),
    };
    Ok(r.page(store::list(r.db(), &filter, &p.page()?).await?))
}

/// Read a programme.
#[utoipa::path(
    tag = "programmes", operation_id = "get_programme",
    params(("id" = Uuid, Path, description = "Programme id"), IfNoneMatchHeader),
    responses(
        (status = 200, body = Programme, headers(("ETag" = String, description = "Strong ETag of this representation"))),
        CachedLookupProblems,
    ),
    security((), ("bearer" = []))
)]
#[get("/programmes/{id}")]
pub async fn get_programme(r: Public, id: web::Path<Uuid>) -> ApiResult<HttpResponse> {
    Ok(r.etagged(&store::get(r.db(), *id).await?))
}

/// Create a programme (admin).
#[utoipa::path(
    tag = "programmes", operation_id = "create_programme",
    request_body = CreateProgrammeRequest,
    responses(
        (status = 201, body = Programme, headers(("Location" = String, description = "URL of the new programme"))),
        (status = 409, description = "A programme has this name (`duplicate_name`)", body = Problem, content_type = "application/problem+json"),
        CreateProblems,
    ),
    security(("bearer" = []))
)]
#[post("/programmes")]
pub async fn create_programme(
    w: Write,
    body: Json<CreateProgrammeRequest>,
) -> ApiResult<HttpResponse> {
    let new = NewProgramme::from(body.0);
    let p = w
        .run(Permission::ManageProgrammes, |tx, actor| {
            Box::pin(store::create(tx, actor, new))
        })
        .await?;
    Ok(crate::edge::created(
        format!("/api/v1/programmes/{}", p.id),
        &p,
    ))
}

/// Change a programme (admin).
#[utoipa::path(
    tag = "programmes", operation_id = "update_programme",
    params(("id" = Uuid, Path, description = "Programme id"), IfMatchHeader),
    request_body = UpdateProgrammeRequest,
    responses(
        (status = 200, body = Programme),
        (status = 409, description = "A programme has this name (`duplicate_name`)", body = Problem, content_type = "application/problem+json"),
        ConditionalWriteProblems,
    ),
    security(("bearer" = []))
)]
#[patch("/programmes/{id}")]
pub async fn update_programme(
    w: Write,
    id: web::Path<Uuid>,
    body: Json<UpdateProgrammeRequest>,
) -> ApiResult<web::Json<Programme>> {
    let (id, changes) = (*id, ProgrammeChanges::from(body.0));
    w.run_on::<Programme, _, _>(Permission::ManageProgrammes, id, move |tx, actor| {
        Box::pin(store::update(tx, actor, id, changes))
    })
    .await
    .map(web::Json)
}

/// Delete a programme (admin; refused while a Fabrique or a lesson refers to it).
#[utoipa::path(
    tag = "programmes", operation_id = "delete_programme",
    params(("id" = Uuid, Path, description = "Programme id"), IfMatchHeader),
    responses(
        (status = 204, description = "Deleted"),
        (status = 409, description = "Still referenced: see `blockers`", body = Problem, content_type = "application/problem+json"),
        ConditionalDeleteProblems,
    ),
    security(("bearer" = []))
)]
#[delete("/programmes/{id}")]
pub async fn delete_programme(w: Write, id: web::Path<Uuid>) -> ApiResult<HttpResponse> {
    let id = *id;
    w.run_on::<Programme, _, _>(Permission::ManageProgrammes, id, move |tx, actor| {
        Box::pin(store::delete(tx, actor, id))
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
