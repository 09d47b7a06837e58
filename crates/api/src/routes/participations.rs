//! Participations (candidatures / territoires accompagnés): a territory in a Fabrique.

use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use domain::{ParticipationAction, ParticipationStatus};
use sea_orm::{DatabaseConnection, TransactionTrait};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::auth::{Caller, Permission};
use crate::error::{ApiResult, FieldProblem, Problem};
use crate::extract::{Json, Query, double_option};
use crate::journal::Actor;
use crate::problems::{ListProblems, ReadProblems, WriteProblems};
use crate::store::participations as store;

/// One territory in one Fabrique. Personal data (sponsor, motivation) is present only for
/// ANCT, the Fabrique's co-animators and contractor, and the territory itself.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ParticipationResponse {
    pub id: Uuid,
    pub fabrique_id: Uuid,
    pub territory_id: Uuid,
    #[schema(example = "Lorient")]
    pub territory_name: String,
    pub status: ParticipationStatus,
    /// Elected official sponsoring the application (personal data).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sponsor_name: Option<String>,
    /// The sponsor's mandate, e.g. "maire" (personal data).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sponsor_mandate: Option<String>,
    /// Why the territory volunteers (personal data).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub motivation: Option<String>,
    /// Focus or sub-theme of the territory in this Fabrique.
    #[schema(example = "urban logistics")]
    pub focus: Option<String>,
    /// Reason of a withdrawal.
    pub status_reason: Option<String>,
    pub applied_at: chrono::DateTime<chrono::Utc>,
    pub accepted_at: Option<chrono::DateTime<chrono::Utc>>,
    pub rejected_at: Option<chrono::DateTime<chrono::Utc>>,
    pub activated_at: Option<chrono::DateTime<chrono::Utc>>,
    pub completed_at: Option<chrono::DateTime<chrono::Utc>>,
    pub withdrawn_at: Option<chrono::DateTime<chrono::Utc>>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

crate::page_schema!(ParticipationPage, ParticipationResponse);

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"territory_id": "01936f7e-0000-7000-8000-000000000001", "sponsor_name": "Jeanne Martin", "sponsor_mandate": "maire", "motivation": "Préparer la transition de nos zones d'activité", "focus": "foncier économique"}))]
pub struct CreateParticipationRequest {
    pub territory_id: Uuid,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub sponsor_name: Option<String>,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub sponsor_mandate: Option<String>,
    #[validate(length(max = 10000))]
    #[schema(max_length = 10000)]
    pub motivation: Option<String>,
    #[validate(length(min = 1, max = 300))]
    #[schema(min_length = 1, max_length = 300)]
    pub focus: Option<String>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateParticipationRequest {
    #[serde(default, deserialize_with = "double_option")]
    #[validate(length(min = 1, max = 200))]
    #[schema(nullable, min_length = 1, max_length = 200)]
    pub sponsor_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[validate(length(min = 1, max = 200))]
    #[schema(nullable, min_length = 1, max_length = 200)]
    pub sponsor_mandate: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[validate(length(max = 10000))]
    #[schema(nullable, max_length = 10000)]
    pub motivation: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[validate(length(min = 1, max = 300))]
    #[schema(nullable, min_length = 1, max_length = 300)]
    pub focus: Option<Option<String>>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ParticipationListParams {
    /// Only what changed at or after this instant (RFC 3339), for synchronisation.
    #[param(value_type = Option<String>, format = DateTime, example = "2026-11-28T09:00:00Z")]
    pub updated_since: Option<chrono::DateTime<chrono::Utc>>,
    /// Statuses, comma-separated or repeated.
    #[param(example = "applied,accepted")]
    pub status: Option<String>,
    /// Fabrique ids (on `/participations` only).
    pub fabrique: Option<String>,
    /// Territory ids.
    pub territory: Option<String>,
    /// `created_at` (default) or `-created_at`.
    pub sort: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    pub cursor: Option<String>,
    pub count: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ParticipationTransitionResponse {
    pub action: ParticipationAction,
    pub to: ParticipationStatus,
    pub allowed: bool,
    pub blockers: Vec<FieldProblem>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ParticipationTransitionsResponse {
    pub status: ParticipationStatus,
    pub transitions: Vec<ParticipationTransitionResponse>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"action": "accept"}))]
pub struct ParticipationTransitionRequest {
    pub action: ParticipationAction,
    /// Required to withdraw.
    #[validate(length(max = 2000))]
    #[schema(max_length = 2000)]
    pub reason: Option<String>,
}

/// List the participations of a Fabrique (a territory token sees its own only).
#[utoipa::path(
    tag = "participations", operation_id = "list_fabrique_participations",
    params(("id" = Uuid, Path, description = "Fabrique id"), ParticipationListParams),
    responses(
        (status = 200, body = ParticipationPage),
        ReadProblems,
    ),
    security(("bearer" = []))
)]
#[get("/fabriques/{id}/participations")]
pub async fn list_fabrique_participations(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    id: web::Path<Uuid>,
    params: Query<ParticipationListParams>,
) -> ApiResult<HttpResponse> {
    caller.require(Permission::ReadParticipations)?;
    let page = store::list(db.get_ref(), &caller, Some(*id), &params.0).await?;
    Ok(crate::pagination::respond(
        &req, page.items, page.next, page.total,
    ))
}

/// Apply: a territory volunteers for a recruiting Fabrique.
#[utoipa::path(
    tag = "participations", operation_id = "create_participation",
    params(("id" = Uuid, Path, description = "Fabrique id")),
    request_body = CreateParticipationRequest,
    responses(
        (status = 201, body = ParticipationResponse, headers(("Location" = String, description = "URL of the new participation"))),
        (status = 409, description = "Not recruiting, or already applied: see `blockers`", body = Problem, content_type = "application/problem+json"),
        WriteProblems,
    ),
    security(("bearer" = []))
)]
#[post("/fabriques/{id}/participations")]
pub async fn create_participation(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: Json<CreateParticipationRequest>,
) -> ApiResult<HttpResponse> {
    caller.require(Permission::Apply)?;
    let actor = Actor::new(&caller, &req);
    let txn = db.begin().await?;
    let p = store::apply(&txn, &actor, *id, body.0).await?;
    txn.commit().await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/participations/{}", p.id)))
        .json(p))
}

/// List participations across Fabriques.
#[utoipa::path(
    tag = "participations", operation_id = "list_participations",
    params(ParticipationListParams),
    responses(
        (status = 200, body = ParticipationPage),
        ListProblems,
    ),
    security(("bearer" = []))
)]
#[get("/participations")]
pub async fn list_participations(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    params: Query<ParticipationListParams>,
) -> ApiResult<HttpResponse> {
    caller.require(Permission::ReadParticipations)?;
    let page = store::list(db.get_ref(), &caller, None, &params.0).await?;
    Ok(crate::pagination::respond(
        &req, page.items, page.next, page.total,
    ))
}

/// Read a participation.
#[utoipa::path(
    tag = "participations", operation_id = "get_participation",
    params(("id" = Uuid, Path, description = "Participation id")),
    responses(
        (status = 200, body = ParticipationResponse),
        ReadProblems,
    ),
    security(("bearer" = []))
)]
#[get("/participations/{id}")]
pub async fn get_participation(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    caller.require(Permission::ReadParticipations)?;
    Ok(crate::etag::respond(
        &req,
        &store::get(db.get_ref(), &caller, *id).await?,
    ))
}

/// Change a participation's sponsor, motivation or focus.
#[utoipa::path(
    tag = "participations", operation_id = "update_participation",
    params(("id" = Uuid, Path, description = "Participation id")),
    request_body = UpdateParticipationRequest,
    responses(
        (status = 200, body = ParticipationResponse),
        (status = 409, description = "The participation is closed", body = Problem, content_type = "application/problem+json"),
        WriteProblems,
    ),
    security(("bearer" = []))
)]
#[patch("/participations/{id}")]
pub async fn update_participation(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    if_match: crate::etag::IfMatch,
    id: web::Path<Uuid>,
    body: Json<UpdateParticipationRequest>,
) -> ApiResult<web::Json<ParticipationResponse>> {
    caller.require(Permission::UpdateParticipations)?;
    let actor = Actor::new(&caller, &req);
    let txn = db.begin().await?;
    crate::etag::claim(
        &txn,
        &caller,
        crate::etag::Resource::Participation(*id),
        &if_match,
    )
    .await?;
    let p = store::update(&txn, &actor, *id, body.0).await?;
    txn.commit().await?;
    Ok(web::Json(p))
}

/// Which decisions are possible now, and what blocks the others.
#[utoipa::path(
    tag = "participations", operation_id = "list_participation_transitions",
    params(("id" = Uuid, Path, description = "Participation id")),
    responses(
        (status = 200, body = ParticipationTransitionsResponse),
        ReadProblems,
    ),
    security(("bearer" = []))
)]
#[get("/participations/{id}/transitions")]
pub async fn list_participation_transitions(
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<web::Json<ParticipationTransitionsResponse>> {
    caller.require(Permission::ReadParticipations)?;
    Ok(web::Json(
        store::transitions(db.get_ref(), &caller, *id).await?,
    ))
}

/// Decide a participation: accept, reject (ANCT), or withdraw (ANCT or the territory, with a reason).
#[utoipa::path(
    tag = "participations", operation_id = "create_participation_transition",
    params(("id" = Uuid, Path, description = "Participation id")),
    request_body = ParticipationTransitionRequest,
    responses(
        (status = 200, description = "Done; the participation as it is now", body = ParticipationResponse),
        (status = 409, description = "Refused: every unmet condition in `blockers`", body = Problem, content_type = "application/problem+json"),
        WriteProblems,
    ),
    security(("bearer" = []))
)]
#[post("/participations/{id}/transitions")]
pub async fn create_participation_transition(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    if_match: crate::etag::IfMatch,
    id: web::Path<Uuid>,
    body: Json<ParticipationTransitionRequest>,
) -> ApiResult<web::Json<ParticipationResponse>> {
    let perm = match body.0.action {
        ParticipationAction::Withdraw => Permission::Withdraw,
        ParticipationAction::Accept | ParticipationAction::Reject => {
            Permission::DecideParticipations
        }
    };
    caller.require(perm)?;
    let actor = Actor::new(&caller, &req);
    let txn = db.begin().await?;
    crate::etag::claim(
        &txn,
        &caller,
        crate::etag::Resource::Participation(*id),
        &if_match,
    )
    .await?;
    let p = store::transition(&txn, &actor, *id, body.0.action, body.0.reason.as_deref()).await?;
    txn.commit().await?;
    Ok(web::Json(p))
}
