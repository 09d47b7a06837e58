//! National lessons (enseignements nationaux) and programme proposals of a Fabrique.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use sea_orm::{DatabaseConnection, TransactionTrait};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::auth::{Caller, Permission};
use crate::error::{ApiResult, Problem};
use crate::extract::{Json, Query, double_option};
use crate::journal::Actor;
use crate::problems::{LookupProblems, ReadProblems, WriteProblems};
use crate::store::lessons as store;

/// What kind of lesson: a methodological lesson, or a proposal for an ANCT programme or a
/// public body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LessonKind {
    Lesson,
    ProgrammeProposal,
}

impl LessonKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LessonKind::Lesson => "lesson",
            LessonKind::ProgrammeProposal => "programme_proposal",
        }
    }
}

/// A national lesson drawn from a Fabrique.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LessonResponse {
    pub id: Uuid,
    pub fabrique_id: Uuid,
    #[schema(example = "Associer les habitants dès le diagnostic")]
    pub title: String,
    pub body: String,
    pub kind: LessonKind,
    /// The ANCT programme a proposal is for.
    pub target_programme_id: Option<Uuid>,
    /// Another public body a proposal is for.
    pub target_body: Option<String>,
    /// Seminars it came from.
    pub seminar_ids: Vec<Uuid>,
    /// Participations it came from.
    pub participation_ids: Vec<Uuid>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

crate::page_schema!(LessonPage, LessonResponse);

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"title": "Le foncier économique se prépare dix ans à l'avance", "body": "…", "kind": "programme_proposal", "target_body": "DGALN"}))]
pub struct CreateLessonRequest {
    #[validate(length(min = 1, max = 300))]
    #[schema(min_length = 1, max_length = 300)]
    pub title: String,
    #[validate(length(max = 50000))]
    #[schema(max_length = 50000)]
    pub body: Option<String>,
    pub kind: LessonKind,
    pub target_programme_id: Option<Uuid>,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub target_body: Option<String>,
    /// Seminars of this Fabrique it came from.
    #[validate(length(max = 100))]
    #[schema(max_items = 100)]
    pub seminar_ids: Option<Vec<Uuid>>,
    /// Participations of this Fabrique it came from.
    #[validate(length(max = 100))]
    #[schema(max_items = 100)]
    pub participation_ids: Option<Vec<Uuid>>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateLessonRequest {
    #[validate(length(min = 1, max = 300))]
    #[schema(min_length = 1, max_length = 300)]
    pub title: Option<String>,
    #[validate(length(max = 50000))]
    #[schema(max_length = 50000)]
    pub body: Option<String>,
    pub kind: Option<LessonKind>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(nullable)]
    pub target_programme_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "double_option")]
    #[validate(length(min = 1, max = 200))]
    #[schema(nullable, min_length = 1, max_length = 200)]
    pub target_body: Option<Option<String>>,
    #[validate(length(max = 100))]
    #[schema(max_items = 100)]
    pub seminar_ids: Option<Vec<Uuid>>,
    #[validate(length(max = 100))]
    #[schema(max_items = 100)]
    pub participation_ids: Option<Vec<Uuid>>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LessonListParams {
    /// Only what changed at or after this instant (RFC 3339), for synchronisation.
    #[param(value_type = Option<String>, format = DateTime, example = "2026-11-28T09:00:00Z")]
    pub updated_since: Option<chrono::DateTime<chrono::Utc>>,
    /// `lesson`, `programme_proposal`.
    pub kind: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    pub cursor: Option<String>,
    pub count: Option<bool>,
}

/// List a Fabrique's lessons.
#[utoipa::path(
    tag = "lessons", operation_id = "list_lessons",
    params(("id" = Uuid, Path, description = "Fabrique id"), LessonListParams),
    responses((status = 200, body = LessonPage), LookupProblems),
    security(("bearer" = []))
)]
#[get("/fabriques/{id}/lessons")]
pub async fn list_lessons(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    id: web::Path<Uuid>,
    params: Query<LessonListParams>,
) -> ApiResult<HttpResponse> {
    let page = store::list(db.get_ref(), &caller, *id, &params.0).await?;
    Ok(crate::pagination::respond(
        &req, page.items, page.next, page.total,
    ))
}

/// Record a lesson (ANCT), while the Fabrique recruits or runs.
#[utoipa::path(
    tag = "lessons", operation_id = "create_lesson",
    params(("id" = Uuid, Path, description = "Fabrique id")),
    request_body = CreateLessonRequest,
    responses(
        (status = 201, body = LessonResponse, headers(("Location" = String, description = "URL of the new lesson"))),
        (status = 409, description = "The Fabrique is a draft or closed", body = Problem, content_type = "application/problem+json"),
        WriteProblems,
    ),
    security(("bearer" = []))
)]
#[post("/fabriques/{id}/lessons")]
pub async fn create_lesson(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: Json<CreateLessonRequest>,
) -> ApiResult<HttpResponse> {
    caller.require(Permission::WriteLessons)?;
    let actor = Actor::new(&caller, &req);
    let txn = db.begin().await?;
    let l = store::create(&txn, &actor, *id, body.0).await?;
    txn.commit().await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/lessons/{}", l.id)))
        .json(l))
}

/// Read a lesson.
#[utoipa::path(
    tag = "lessons", operation_id = "get_lesson",
    params(("id" = Uuid, Path, description = "Lesson id")),
    responses((status = 200, body = LessonResponse), LookupProblems),
    security(("bearer" = []))
)]
#[get("/lessons/{id}")]
pub async fn get_lesson(
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

/// Change a lesson (ANCT).
#[utoipa::path(
    tag = "lessons", operation_id = "update_lesson",
    params(("id" = Uuid, Path, description = "Lesson id")),
    request_body = UpdateLessonRequest,
    responses(
        (status = 200, body = LessonResponse),
        (status = 409, description = "The Fabrique is closed", body = Problem, content_type = "application/problem+json"),
        WriteProblems,
    ),
    security(("bearer" = []))
)]
#[patch("/lessons/{id}")]
pub async fn update_lesson(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    if_match: crate::etag::IfMatch,
    id: web::Path<Uuid>,
    body: Json<UpdateLessonRequest>,
) -> ApiResult<web::Json<LessonResponse>> {
    caller.require(Permission::WriteLessons)?;
    let actor = Actor::new(&caller, &req);
    let txn = db.begin().await?;
    crate::etag::claim(&txn, &caller, crate::etag::Resource::Lesson(*id), &if_match).await?;
    let l = store::update(&txn, &actor, *id, body.0).await?;
    txn.commit().await?;
    Ok(web::Json(l))
}

/// Delete a lesson (ANCT).
#[utoipa::path(
    tag = "lessons", operation_id = "delete_lesson",
    params(("id" = Uuid, Path, description = "Lesson id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 409, description = "The Fabrique is closed", body = Problem, content_type = "application/problem+json"),
        ReadProblems,
    ),
    security(("bearer" = []))
)]
#[delete("/lessons/{id}")]
pub async fn delete_lesson(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    if_match: crate::etag::IfMatch,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    caller.require(Permission::WriteLessons)?;
    let actor = Actor::new(&caller, &req);
    let txn = db.begin().await?;
    crate::etag::claim(&txn, &caller, crate::etag::Resource::Lesson(*id), &if_match).await?;
    store::delete(&txn, &actor, *id).await?;
    txn.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}
