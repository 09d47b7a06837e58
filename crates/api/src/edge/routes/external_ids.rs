//! `/external-ids`: a partner organization's own ids for our resources, unique per
//! organization in both directions.

use ::store::external_ids::{self as store, ExternalId};
use actix_web::{HttpResponse, delete, get, put, web};
use domain::query::ExternalIdFilter;
use domain::{ExternalEntityType, Permission};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::edge::context::{Signed, Write};
use crate::edge::error::{ApiError, ApiResult, Problem};
use crate::edge::extract::{Json, Query};
use crate::edge::params::CreationSort;
use crate::edge::problems::{ListProblems, ReadProblems, WriteProblems};

crate::page_schema!(ExternalIdPage, ExternalId);

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutExternalIdRequest {
    /// Our id of the resource your id names.
    pub entity_id: Uuid,
}

crate::list_params! {
    ExternalIdListParams sort CreationSort = CreationSort::CreatedAt;
    {
        /// Entity types, comma-separated or repeated.
        #[serde(default, deserialize_with = "crate::edge::params::list")]
        #[param(style = Form, explode)]
        entity_type: Option<Vec<ExternalEntityType>>,
    }
}

/// An external id: 1 to 200 characters, no NUL.
fn external(s: String) -> ApiResult<String> {
    if s.is_empty() || s.chars().count() > 200 || s.contains('\0') {
        return Err(ApiError::bad_request(
            "invalid_path_parameter",
            "an external id has 1 to 200 characters",
        ));
    }
    Ok(s)
}

/// Your organization's external ids.
#[utoipa::path(
    tag = "external ids", operation_id = "list_external_ids",
    params(ExternalIdListParams),
    responses((status = 200, body = ExternalIdPage), ListProblems),
    security(("bearer" = []))
)]
#[get("/external-ids")]
pub async fn list_external_ids(
    r: Signed,
    Query(p): Query<ExternalIdListParams>,
) -> ApiResult<HttpResponse> {
    r.access().require(Permission::ManageExternalIds)?;
    let filter = ExternalIdFilter {
        entity_types: p.entity_type.clone().unwrap_or_default(),
    };
    Ok(r.page(store::list(r.db(), r.access(), &filter, &p.page()?).await?))
}

/// Look a resource up by your organization's id for it.
#[utoipa::path(
    tag = "external ids", operation_id = "get_external_id",
    params(
        ("entity_type" = ExternalEntityType, Path, description = "fabrique, territory, participation or seminar"),
        ("external_id" = String, Path, description = "Your id (1 to 200 characters)", min_length = 1, max_length = 200),
    ),
    responses((status = 200, body = ExternalId), ReadProblems),
    security(("bearer" = []))
)]
#[get("/external-ids/{entity_type}/{external_id}")]
pub async fn get_external_id(
    r: Signed,
    path: web::Path<(ExternalEntityType, String)>,
) -> ApiResult<web::Json<ExternalId>> {
    r.access().require(Permission::ManageExternalIds)?;
    let (kind, id) = path.into_inner();
    let id = external(id)?;
    Ok(web::Json(store::get(r.db(), r.access(), kind, &id).await?))
}

/// Attach your organization's id to one of our resources.
#[utoipa::path(
    tag = "external ids", operation_id = "put_external_id",
    params(
        ("entity_type" = ExternalEntityType, Path, description = "fabrique, territory, participation or seminar"),
        ("external_id" = String, Path, description = "Your id (1 to 200 characters)", min_length = 1, max_length = 200),
    ),
    request_body = PutExternalIdRequest,
    responses(
        (status = 200, description = "Already attached to this resource", body = ExternalId),
        (status = 201, description = "Attached", body = ExternalId),
        (status = 409, description = "Your id names another resource (`external_id_taken`), or this resource has another id of yours (`entity_already_mapped`)", body = Problem, content_type = "application/problem+json"),
        WriteProblems,
    ),
    security(("bearer" = []))
)]
#[put("/external-ids/{entity_type}/{external_id}")]
pub async fn put_external_id(
    w: Write,
    path: web::Path<(ExternalEntityType, String)>,
    body: Json<PutExternalIdRequest>,
) -> ApiResult<HttpResponse> {
    let (kind, id) = path.into_inner();
    let (id, entity) = (external(id)?, body.0.entity_id);
    let (mapping, created) = w
        .run(Permission::ManageExternalIds, move |tx, actor| {
            Box::pin(async move { store::put(tx, actor, kind, &id, entity).await })
        })
        .await?;
    Ok(if created {
        HttpResponse::Created().json(mapping)
    } else {
        HttpResponse::Ok().json(mapping)
    })
}

/// Detach one of your organization's ids.
#[utoipa::path(
    tag = "external ids", operation_id = "delete_external_id",
    params(
        ("entity_type" = ExternalEntityType, Path, description = "fabrique, territory, participation or seminar"),
        ("external_id" = String, Path, description = "Your id", min_length = 1, max_length = 200),
    ),
    responses((status = 204, description = "Detached"), ReadProblems),
    security(("bearer" = []))
)]
#[delete("/external-ids/{entity_type}/{external_id}")]
pub async fn delete_external_id(
    w: Write,
    path: web::Path<(ExternalEntityType, String)>,
) -> ApiResult<HttpResponse> {
    let (kind, id) = path.into_inner();
    let id = external(id)?;
    w.run(Permission::ManageExternalIds, move |tx, actor| {
        Box::pin(async move { store::delete(tx, actor, kind, &id).await })
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
