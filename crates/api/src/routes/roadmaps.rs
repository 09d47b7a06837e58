//! The roadmap (feuille de route) or action programme of a participation, its actions and its
//! transitions (submit, return_to_draft, adopt). Adopting it completes the participation.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, put, web};
use chrono::NaiveDate;
use domain::roadmap::{ActionStatus, RoadmapAction, RoadmapKind, RoadmapStatus};
use sea_orm::{DatabaseConnection, TransactionTrait};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::auth::Caller;
use crate::error::{ApiResult, FieldProblem, Problem};
use crate::extract::{Json, double_option};
use crate::journal::Actor;
use crate::problems::{ReadProblems, WriteProblems};
use crate::store::roadmaps as store;

/// One action of a roadmap.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RoadmapActionResponse {
    pub id: Uuid,
    pub roadmap_id: Uuid,
    /// Order in the roadmap, from 1.
    pub position: i32,
    #[schema(example = "Requalifier la zone d'activité des Landes")]
    pub title: String,
    pub description: String,
    /// Who leads it.
    #[schema(example = "Service développement économique")]
    pub lead: Option<String>,
    /// A horizon such as "2030" or "court terme".
    pub horizon: Option<String>,
    pub due_on: Option<NaiveDate>,
    pub estimated_cost_cents: Option<i64>,
    pub status: ActionStatus,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

/// The roadmap of a participation with its actions.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RoadmapResponse {
    pub id: Uuid,
    pub participation_id: Uuid,
    pub fabrique_id: Uuid,
    pub kind: RoadmapKind,
    pub title: String,
    pub summary: String,
    pub status: RoadmapStatus,
    pub submitted_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Date of the adopting decision.
    pub adopted_on: Option<NaiveDate>,
    /// Reference of the adopting decision (e.g. a council deliberation).
    pub adoption_reference: Option<String>,
    pub actions: Vec<RoadmapActionResponse>,
    /// Sum of the actions' estimated costs.
    pub total_estimated_cost_cents: i64,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

/// Creates the roadmap, or changes it while it is a draft.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"kind": "roadmap", "title": "Feuille de route 2030", "summary": "Trois axes…"}))]
pub struct PutRoadmapRequest {
    pub kind: RoadmapKind,
    #[validate(length(min = 1, max = 300))]
    #[schema(min_length = 1, max_length = 300)]
    pub title: String,
    #[validate(length(max = 50000))]
    #[schema(max_length = 50000)]
    pub summary: Option<String>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"title": "Requalifier la zone d'activité", "lead": "Service économie", "horizon": "2028", "estimated_cost_cents": 150000000}))]
pub struct CreateRoadmapActionRequest {
    #[validate(length(min = 1, max = 300))]
    #[schema(min_length = 1, max_length = 300)]
    pub title: String,
    #[validate(length(max = 20000))]
    #[schema(max_length = 20000)]
    pub description: Option<String>,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub lead: Option<String>,
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100)]
    pub horizon: Option<String>,
    pub due_on: Option<NaiveDate>,
    /// In euro cents, 0 or more.
    #[validate(range(min = 0, max = 100_000_000_000_000i64))]
    #[schema(minimum = 0, maximum = 100_000_000_000_000i64)]
    pub estimated_cost_cents: Option<i64>,
    pub status: Option<ActionStatus>,
}

/// Any field while the roadmap is a draft; only `status` once submitted or adopted.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateRoadmapActionRequest {
    #[validate(length(min = 1, max = 300))]
    #[schema(min_length = 1, max_length = 300)]
    pub title: Option<String>,
    #[validate(length(max = 20000))]
    #[schema(max_length = 20000)]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[validate(length(min = 1, max = 200))]
    #[schema(nullable, min_length = 1, max_length = 200)]
    pub lead: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[validate(length(min = 1, max = 100))]
    #[schema(nullable, min_length = 1, max_length = 100)]
    pub horizon: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(nullable)]
    pub due_on: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "double_option")]
    #[validate(range(min = 0, max = 100_000_000_000_000i64))]
    #[schema(nullable, minimum = 0, maximum = 100_000_000_000_000i64)]
    pub estimated_cost_cents: Option<Option<i64>>,
    pub status: Option<ActionStatus>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"action": "adopt", "adoption_date": "2027-11-20", "adoption_reference": "Délibération du conseil communautaire n° 2027-112"}))]
pub struct RoadmapTransitionRequest {
    pub action: RoadmapAction,
    /// Required to adopt; not in the future.
    pub adoption_date: Option<NaiveDate>,
    /// Required to adopt.
    #[validate(length(min = 1, max = 300))]
    #[schema(min_length = 1, max_length = 300)]
    pub adoption_reference: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RoadmapTransitionResponse {
    pub action: RoadmapAction,
    pub to: RoadmapStatus,
    pub allowed: bool,
    pub blockers: Vec<FieldProblem>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RoadmapTransitionsResponse {
    pub status: RoadmapStatus,
    pub transitions: Vec<RoadmapTransitionResponse>,
}

const NOT_DRAFT: &str = "The roadmap is no longer a draft, or the participation is not active";

/// Read a participation's roadmap with its actions.
#[utoipa::path(
    tag = "roadmaps", operation_id = "get_roadmap",
    params(("id" = Uuid, Path, description = "Participation id")),
    responses((status = 200, body = RoadmapResponse), ReadProblems),
    security(("bearer" = []))
)]
#[get("/participations/{id}/roadmap")]
pub async fn get_roadmap(
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

/// Create the roadmap of an active participation, or change it while it is a draft.
#[utoipa::path(
    tag = "roadmaps", operation_id = "put_roadmap",
    params(("id" = Uuid, Path, description = "Participation id")),
    request_body = PutRoadmapRequest,
    responses(
        (status = 200, description = "Changed", body = RoadmapResponse),
        (status = 201, description = "Created", body = RoadmapResponse, headers(("Location" = String, description = "URL of the roadmap"))),
        (status = 409, description = NOT_DRAFT, body = Problem, content_type = "application/problem+json"),
        WriteProblems,
    ),
    security(("bearer" = []))
)]
#[put("/participations/{id}/roadmap")]
pub async fn put_roadmap(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    if_match: crate::etag::IfMatch,
    id: web::Path<Uuid>,
    body: Json<PutRoadmapRequest>,
) -> ApiResult<HttpResponse> {
    let actor = Actor::new(&caller, &req);
    let txn = db.begin().await?;
    crate::etag::claim(
        &txn,
        &caller,
        crate::etag::Resource::Roadmap(*id),
        &if_match,
    )
    .await?;
    let (roadmap, created) = store::put(&txn, &actor, *id, body.0).await?;
    txn.commit().await?;
    Ok(if created {
        HttpResponse::Created()
            .insert_header(("Location", format!("/api/v1/participations/{id}/roadmap")))
            .json(roadmap)
    } else {
        HttpResponse::Ok().json(roadmap)
    })
}

/// Add an action to a draft roadmap.
#[utoipa::path(
    tag = "roadmaps", operation_id = "create_roadmap_action",
    params(("id" = Uuid, Path, description = "Participation id")),
    request_body = CreateRoadmapActionRequest,
    responses(
        (status = 201, body = RoadmapActionResponse, headers(("Location" = String, description = "URL of the new action"))),
        (status = 409, description = NOT_DRAFT, body = Problem, content_type = "application/problem+json"),
        WriteProblems,
    ),
    security(("bearer" = []))
)]
#[post("/participations/{id}/roadmap/actions")]
pub async fn create_roadmap_action(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: Json<CreateRoadmapActionRequest>,
) -> ApiResult<HttpResponse> {
    let actor = Actor::new(&caller, &req);
    let txn = db.begin().await?;
    let a = store::add_action(&txn, &actor, *id, body.0).await?;
    txn.commit().await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/roadmap-actions/{}", a.id)))
        .json(a))
}

/// Read a roadmap action.
#[utoipa::path(
    tag = "roadmaps", operation_id = "get_roadmap_action",
    params(("id" = Uuid, Path, description = "Action id")),
    responses((status = 200, body = RoadmapActionResponse), ReadProblems),
    security(("bearer" = []))
)]
#[get("/roadmap-actions/{id}")]
pub async fn get_roadmap_action(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    Ok(crate::etag::respond(
        &req,
        &store::get_action(db.get_ref(), &caller, *id).await?,
    ))
}

/// Change a roadmap action (only its status once the roadmap is submitted).
#[utoipa::path(
    tag = "roadmaps", operation_id = "update_roadmap_action",
    params(("id" = Uuid, Path, description = "Action id")),
    request_body = UpdateRoadmapActionRequest,
    responses(
        (status = 200, body = RoadmapActionResponse),
        (status = 409, description = NOT_DRAFT, body = Problem, content_type = "application/problem+json"),
        WriteProblems,
    ),
    security(("bearer" = []))
)]
#[patch("/roadmap-actions/{id}")]
pub async fn update_roadmap_action(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    if_match: crate::etag::IfMatch,
    id: web::Path<Uuid>,
    body: Json<UpdateRoadmapActionRequest>,
) -> ApiResult<web::Json<RoadmapActionResponse>> {
    let actor = Actor::new(&caller, &req);
    let txn = db.begin().await?;
    crate::etag::claim(
        &txn,
        &caller,
        crate::etag::Resource::RoadmapAction(*id),
        &if_match,
    )
    .await?;
    let a = store::update_action(&txn, &actor, *id, body.0).await?;
    txn.commit().await?;
    Ok(web::Json(a))
}

/// Remove an action from a draft roadmap.
#[utoipa::path(
    tag = "roadmaps", operation_id = "delete_roadmap_action",
    params(("id" = Uuid, Path, description = "Action id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 409, description = NOT_DRAFT, body = Problem, content_type = "application/problem+json"),
        ReadProblems,
    ),
    security(("bearer" = []))
)]
#[delete("/roadmap-actions/{id}")]
pub async fn delete_roadmap_action(
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
        crate::etag::Resource::RoadmapAction(*id),
        &if_match,
    )
    .await?;
    store::delete_action(&txn, &actor, *id).await?;
    txn.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Which roadmap transitions are possible now, and what blocks the others.
#[utoipa::path(
    tag = "roadmaps", operation_id = "list_roadmap_transitions",
    params(("id" = Uuid, Path, description = "Participation id")),
    responses((status = 200, body = RoadmapTransitionsResponse), ReadProblems),
    security(("bearer" = []))
)]
#[get("/participations/{id}/roadmap/transitions")]
pub async fn list_roadmap_transitions(
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<web::Json<RoadmapTransitionsResponse>> {
    Ok(web::Json(
        store::transitions(db.get_ref(), &caller, *id).await?,
    ))
}

/// Submit, return to draft, or adopt (with the date and reference of the decision) a roadmap.
/// Adoption completes the participation.
#[utoipa::path(
    tag = "roadmaps", operation_id = "create_roadmap_transition",
    params(("id" = Uuid, Path, description = "Participation id")),
    request_body = RoadmapTransitionRequest,
    responses(
        (status = 200, description = "Done; the roadmap as it is now", body = RoadmapResponse),
        (status = 409, description = "Refused: every unmet condition in `blockers`", body = Problem, content_type = "application/problem+json"),
        WriteProblems,
    ),
    security(("bearer" = []))
)]
#[post("/participations/{id}/roadmap/transitions")]
pub async fn create_roadmap_transition(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    if_match: crate::etag::IfMatch,
    id: web::Path<Uuid>,
    body: Json<RoadmapTransitionRequest>,
) -> ApiResult<web::Json<RoadmapResponse>> {
    let actor = Actor::new(&caller, &req);
    let txn = db.begin().await?;
    crate::etag::claim(
        &txn,
        &caller,
        crate::etag::Resource::Roadmap(*id),
        &if_match,
    )
    .await?;
    let r = store::transition(&txn, &actor, *id, body.0).await?;
    txn.commit().await?;
    Ok(web::Json(r))
}
