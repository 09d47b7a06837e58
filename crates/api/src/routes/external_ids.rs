//! External ids: a partner organization attaches its own ids to Fabriques, territories,
//! participations and seminars, and looks our resources up by them.

use actix_web::{HttpRequest, HttpResponse, delete, get, put, web};
use sea_orm::{DatabaseConnection, TransactionTrait};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::auth::{Caller, Permission};
use crate::error::{ApiResult, Problem};
use crate::extract::{Json, Query};
use crate::journal::Actor;
use crate::problems::{ListProblems, ReadProblems, WriteProblems};
use crate::store::external_ids as store;

/// What an external id may point to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExternalEntityType {
    Fabrique,
    Territory,
    Participation,
    Seminar,
}

impl ExternalEntityType {
    pub fn as_str(self) -> &'static str {
        match self {
            ExternalEntityType::Fabrique => "fabrique",
            ExternalEntityType::Territory => "territory",
            ExternalEntityType::Participation => "participation",
            ExternalEntityType::Seminar => "seminar",
        }
    }

    /// The path of the resource under /api/v1.
    pub fn collection(self) -> &'static str {
        match self {
            ExternalEntityType::Fabrique => "fabriques",
            ExternalEntityType::Territory => "territories",
            ExternalEntityType::Participation => "participations",
            ExternalEntityType::Seminar => "seminars",
        }
    }
}

/// One of your organization's ids, and the resource it names.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExternalIdResponse {
    pub organization_id: Uuid,
    pub entity_type: ExternalEntityType,
    #[schema(example = "AMF-2027-0042")]
    pub external_id: String,
    pub entity_id: Uuid,
    /// The resource's URL.
    #[schema(example = "/api/v1/fabriques/01a2219c-5371-7673-aff7-8ea72af0ffd9")]
    pub href: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

crate::page_schema!(ExternalIdPage, ExternalIdResponse);

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutExternalIdRequest {
    /// Our id of the resource your id names.
    pub entity_id: Uuid,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExternalIdListParams {
    /// `fabrique`, `territory`, `participation`, `seminar`.
    pub entity_type: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    pub cursor: Option<String>,
    pub count: Option<bool>,
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
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    params: Query<ExternalIdListParams>,
) -> ApiResult<HttpResponse> {
    caller.require(Permission::ManageExternalIds)?;
    let page = store::list(db.get_ref(), &caller, &params.0).await?;
    Ok(crate::pagination::respond(
        &req, page.items, page.next, page.total,
    ))
}

/// Look a resource up by your organization's id for it.
#[utoipa::path(
    tag = "external ids", operation_id = "get_external_id",
    params(
        ("entity_type" = ExternalEntityType, Path, description = "fabrique, territory, participation or seminar"),
        ("external_id" = String, Path, description = "Your id (1 to 200 characters)"),
    ),
    responses((status = 200, body = ExternalIdResponse), ReadProblems),
    security(("bearer" = []))
)]
#[get("/external-ids/{entity_type}/{external_id}")]
pub async fn get_external_id(
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    path: web::Path<(ExternalEntityType, String)>,
) -> ApiResult<web::Json<ExternalIdResponse>> {
    caller.require(Permission::ManageExternalIds)?;
    let (kind, external) = path.into_inner();
    Ok(web::Json(
        store::get(db.get_ref(), &caller, kind, &external).await?,
    ))
}

/// Attach your organization's id to one of our resources.
#[utoipa::path(
    tag = "external ids", operation_id = "put_external_id",
    params(
        ("entity_type" = ExternalEntityType, Path, description = "fabrique, territory, participation or seminar"),
        ("external_id" = String, Path, description = "Your id (1 to 200 characters)"),
    ),
    request_body = PutExternalIdRequest,
    responses(
        (status = 200, description = "Already attached to this resource", body = ExternalIdResponse),
        (status = 201, description = "Attached", body = ExternalIdResponse),
        (status = 409, description = "Your id names another resource, or this resource has another id of yours", body = Problem, content_type = "application/problem+json"),
        WriteProblems,
    ),
    security(("bearer" = []))
)]
#[put("/external-ids/{entity_type}/{external_id}")]
pub async fn put_external_id(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    path: web::Path<(ExternalEntityType, String)>,
    body: Json<PutExternalIdRequest>,
) -> ApiResult<HttpResponse> {
    caller.require(Permission::ManageExternalIds)?;
    let (kind, external) = path.into_inner();
    let actor = Actor::new(&caller, &req);
    let txn = db.begin().await?;
    let (mapping, created) = store::put(&txn, &actor, kind, &external, body.0.entity_id).await?;
    txn.commit().await?;
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
        ("external_id" = String, Path, description = "Your id"),
    ),
    responses((status = 204, description = "Detached"), ReadProblems),
    security(("bearer" = []))
)]
#[delete("/external-ids/{entity_type}/{external_id}")]
pub async fn delete_external_id(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    path: web::Path<(ExternalEntityType, String)>,
) -> ApiResult<HttpResponse> {
    caller.require(Permission::ManageExternalIds)?;
    let (kind, external) = path.into_inner();
    let actor = Actor::new(&caller, &req);
    let txn = db.begin().await?;
    store::delete(&txn, &actor, kind, &external).await?;
    txn.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}
