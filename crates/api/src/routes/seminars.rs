//! Seminars: intersite seminars under `/fabriques/{id}/seminars`, local ones under
//! `/participations/{id}/seminars`, each with its transitions (hold, cancel).

use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use chrono::NaiveDate;
use domain::seminar::{SeminarAction, SeminarKind, SeminarMode, SeminarStatus};
use sea_orm::{DatabaseConnection, TransactionTrait};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::auth::Caller;
use crate::error::{ApiResult, FieldProblem, Problem};
use crate::extract::{Json, Query, double_option};
use crate::journal::Actor;
use crate::problems::{LookupProblems, WriteProblems};
use crate::store::seminars as store;

/// A seminar: local (séminaire local, one territory) or intersite (séminaire intersite).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SeminarResponse {
    pub id: Uuid,
    pub fabrique_id: Uuid,
    /// The participation of a local seminar; null for an intersite one.
    pub participation_id: Option<Uuid>,
    pub kind: SeminarKind,
    /// 1 to 4 within its kind and owner.
    #[schema(example = 1, minimum = 1, maximum = 4)]
    pub number: i32,
    pub scheduled_on: NaiveDate,
    #[schema(example = "ANCT, Paris")]
    pub place: Option<String>,
    pub mode: SeminarMode,
    pub status: SeminarStatus,
    /// How many attended (held seminars).
    pub attendance: Option<i32>,
    /// Organizations that attended.
    pub attending_organization_ids: Vec<Uuid>,
    pub summary: Option<String>,
    /// Why it was cancelled.
    pub status_reason: Option<String>,
    pub held_at: Option<chrono::DateTime<chrono::Utc>>,
    pub cancelled_at: Option<chrono::DateTime<chrono::Utc>>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

crate::page_schema!(SeminarPage, SeminarResponse);

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"number": 1, "scheduled_on": "2027-03-15", "mode": "in_person"}))]
pub struct CreateSeminarRequest {
    #[validate(range(min = 1, max = 4))]
    #[schema(minimum = 1, maximum = 4)]
    pub number: u32,
    pub scheduled_on: NaiveDate,
    /// Defaults to "ANCT, Paris" for an intersite seminar.
    #[validate(length(min = 1, max = 300))]
    #[schema(min_length = 1, max_length = 300)]
    pub place: Option<String>,
    /// Defaults to in_person.
    pub mode: Option<SeminarMode>,
}

/// Rescheduling (date, place, mode) is possible while planned; the summary at any time.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateSeminarRequest {
    pub scheduled_on: Option<NaiveDate>,
    #[serde(default, deserialize_with = "double_option")]
    #[validate(length(min = 1, max = 300))]
    #[schema(nullable, min_length = 1, max_length = 300)]
    pub place: Option<Option<String>>,
    pub mode: Option<SeminarMode>,
    #[serde(default, deserialize_with = "double_option")]
    #[validate(length(max = 20000))]
    #[schema(nullable, max_length = 20000)]
    pub summary: Option<Option<String>>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SeminarListParams {
    /// Only what changed at or after this instant (RFC 3339), for synchronisation.
    #[param(value_type = Option<String>, format = DateTime, example = "2026-11-28T09:00:00Z")]
    pub updated_since: Option<chrono::DateTime<chrono::Utc>>,
    /// `local`, `intersite` (comma-separated or repeated).
    pub kind: Option<String>,
    /// `planned`, `held`, `cancelled` (comma-separated or repeated).
    pub status: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    pub cursor: Option<String>,
    pub count: Option<bool>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"action": "hold", "attendance": 24, "summary": "Diagnostic partagé"}))]
pub struct SeminarTransitionRequest {
    pub action: SeminarAction,
    /// Required to hold.
    #[validate(range(max = 100000))]
    #[schema(maximum = 100000)]
    pub attendance: Option<u32>,
    /// Organizations that attended (hold).
    #[validate(length(max = 200))]
    #[schema(max_items = 200)]
    pub attending_organization_ids: Option<Vec<Uuid>>,
    #[validate(length(max = 20000))]
    #[schema(max_length = 20000)]
    pub summary: Option<String>,
    /// Why it is cancelled.
    #[validate(length(max = 2000))]
    #[schema(max_length = 2000)]
    pub reason: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SeminarTransitionResponse {
    pub action: SeminarAction,
    pub to: SeminarStatus,
    pub allowed: bool,
    pub blockers: Vec<FieldProblem>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SeminarTransitionsResponse {
    pub status: SeminarStatus,
    pub transitions: Vec<SeminarTransitionResponse>,
}

const CREATE_409: &str = "Refused: a fifth seminar, a number taken, a closed Fabrique or an inactive participation (see `blockers`)";

/// List a Fabrique's seminars (intersite and local).
#[utoipa::path(
    tag = "seminars", operation_id = "list_fabrique_seminars",
    params(("id" = Uuid, Path, description = "Fabrique id"), SeminarListParams),
    responses((status = 200, body = SeminarPage), LookupProblems),
    security(("bearer" = []))
)]
#[get("/fabriques/{id}/seminars")]
pub async fn list_fabrique_seminars(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    id: web::Path<Uuid>,
    params: Query<SeminarListParams>,
) -> ApiResult<HttpResponse> {
    let page = store::list(
        db.get_ref(),
        &caller,
        store::Owner::Fabrique(*id),
        &params.0,
    )
    .await?;
    Ok(crate::pagination::respond(
        &req, page.items, page.next, page.total,
    ))
}

/// Plan an intersite seminar (4 per Fabrique; at ANCT, Paris by default).
#[utoipa::path(
    tag = "seminars", operation_id = "create_intersite_seminar",
    params(("id" = Uuid, Path, description = "Fabrique id")),
    request_body = CreateSeminarRequest,
    responses(
        (status = 201, body = SeminarResponse, headers(("Location" = String, description = "URL of the new seminar"))),
        (status = 409, description = CREATE_409, body = Problem, content_type = "application/problem+json"),
        WriteProblems,
    ),
    security(("bearer" = []))
)]
#[post("/fabriques/{id}/seminars")]
pub async fn create_intersite_seminar(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: Json<CreateSeminarRequest>,
) -> ApiResult<HttpResponse> {
    plan(req, db, caller, store::Owner::Fabrique(*id), body.0).await
}

/// List a participation's local seminars.
#[utoipa::path(
    tag = "seminars", operation_id = "list_participation_seminars",
    params(("id" = Uuid, Path, description = "Participation id"), SeminarListParams),
    responses((status = 200, body = SeminarPage), LookupProblems),
    security(("bearer" = []))
)]
#[get("/participations/{id}/seminars")]
pub async fn list_participation_seminars(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    id: web::Path<Uuid>,
    params: Query<SeminarListParams>,
) -> ApiResult<HttpResponse> {
    let page = store::list(
        db.get_ref(),
        &caller,
        store::Owner::Participation(*id),
        &params.0,
    )
    .await?;
    Ok(crate::pagination::respond(
        &req, page.items, page.next, page.total,
    ))
}

/// Plan a local seminar of an active participation (4 per territory).
#[utoipa::path(
    tag = "seminars", operation_id = "create_local_seminar",
    params(("id" = Uuid, Path, description = "Participation id")),
    request_body = CreateSeminarRequest,
    responses(
        (status = 201, body = SeminarResponse, headers(("Location" = String, description = "URL of the new seminar"))),
        (status = 409, description = CREATE_409, body = Problem, content_type = "application/problem+json"),
        WriteProblems,
    ),
    security(("bearer" = []))
)]
#[post("/participations/{id}/seminars")]
pub async fn create_local_seminar(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: Json<CreateSeminarRequest>,
) -> ApiResult<HttpResponse> {
    plan(req, db, caller, store::Owner::Participation(*id), body.0).await
}

async fn plan(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    owner: store::Owner,
    body: CreateSeminarRequest,
) -> ApiResult<HttpResponse> {
    let actor = Actor::new(&caller, &req);
    let txn = db.begin().await?;
    let s = store::plan(&txn, &actor, owner, body).await?;
    txn.commit().await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/seminars/{}", s.id)))
        .json(s))
}

/// Read a seminar.
#[utoipa::path(
    tag = "seminars", operation_id = "get_seminar",
    params(("id" = Uuid, Path, description = "Seminar id")),
    responses((status = 200, body = SeminarResponse), LookupProblems),
    security(("bearer" = []))
)]
#[get("/seminars/{id}")]
pub async fn get_seminar(
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

/// Reschedule a planned seminar, or write its summary.
#[utoipa::path(
    tag = "seminars", operation_id = "update_seminar",
    params(("id" = Uuid, Path, description = "Seminar id")),
    request_body = UpdateSeminarRequest,
    responses(
        (status = 200, body = SeminarResponse),
        (status = 409, description = "Only a planned seminar can be rescheduled", body = Problem, content_type = "application/problem+json"),
        WriteProblems,
    ),
    security(("bearer" = []))
)]
#[patch("/seminars/{id}")]
pub async fn update_seminar(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    if_match: crate::etag::IfMatch,
    id: web::Path<Uuid>,
    body: Json<UpdateSeminarRequest>,
) -> ApiResult<web::Json<SeminarResponse>> {
    let actor = Actor::new(&caller, &req);
    let txn = db.begin().await?;
    crate::etag::claim(
        &txn,
        &caller,
        crate::etag::Resource::Seminar(*id),
        &if_match,
    )
    .await?;
    let s = store::update(&txn, &actor, *id, body.0).await?;
    txn.commit().await?;
    Ok(web::Json(s))
}

/// Which transitions are possible now (hold, cancel), and what blocks the others.
#[utoipa::path(
    tag = "seminars", operation_id = "list_seminar_transitions",
    params(("id" = Uuid, Path, description = "Seminar id")),
    responses((status = 200, body = SeminarTransitionsResponse), LookupProblems),
    security(("bearer" = []))
)]
#[get("/seminars/{id}/transitions")]
pub async fn list_seminar_transitions(
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<web::Json<SeminarTransitionsResponse>> {
    Ok(web::Json(
        store::transitions(db.get_ref(), &caller, *id).await?,
    ))
}

/// Hold (with the attendance) or cancel a planned seminar.
#[utoipa::path(
    tag = "seminars", operation_id = "create_seminar_transition",
    params(("id" = Uuid, Path, description = "Seminar id")),
    request_body = SeminarTransitionRequest,
    responses(
        (status = 200, description = "Done; the seminar as it is now", body = SeminarResponse),
        (status = 409, description = "Refused: every unmet condition in `blockers`", body = Problem, content_type = "application/problem+json"),
        WriteProblems,
    ),
    security(("bearer" = []))
)]
#[post("/seminars/{id}/transitions")]
pub async fn create_seminar_transition(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    if_match: crate::etag::IfMatch,
    id: web::Path<Uuid>,
    body: Json<SeminarTransitionRequest>,
) -> ApiResult<web::Json<SeminarResponse>> {
    let actor = Actor::new(&caller, &req);
    let txn = db.begin().await?;
    crate::etag::claim(
        &txn,
        &caller,
        crate::etag::Resource::Seminar(*id),
        &if_match,
    )
    .await?;
    let s = store::transition(&txn, &actor, *id, body.0).await?;
    txn.commit().await?;
    Ok(web::Json(s))
}
