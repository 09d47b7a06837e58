//! National lessons (enseignements nationaux) and programme proposals of a Fabrique.

use ::store::lessons::{self as store, Lesson};
use actix_web::{HttpResponse, delete, get, patch, post, web};
use domain::lesson::{LessonChanges, NewLesson};
use domain::query::LessonFilter;
use domain::{LessonKind, Permission};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::edge::context::{Signed, Write};
use crate::edge::error::{ApiResult, Problem};
use crate::edge::etag::{IfMatchHeader, IfNoneMatchHeader};
use crate::edge::extract::{Json, Query, double_option};
use crate::edge::params::CreationSort;
use crate::edge::problems::{
    CachedLookupProblems, ConditionalDeleteProblems, ConditionalWriteProblems, ListProblems,
    LookupProblems, WriteProblems,
};

crate::page_schema!(LessonPage, Lesson);

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"title": "Le foncier économique se prépare dix ans à l'avance", "body": "…", "kind": "programme_proposal", "target_body": "DGALN"}))]
pub struct CreateLessonRequest {
    #[validate(
        length(min = 1, max = 300),
        custom(function = "crate::edge::extract::not_blank")
    )]
    #[schema(min_length = 1, max_length = 300)]
    pub title: String,
    #[validate(length(max = 50000))]
    #[schema(max_length = 50000)]
    pub body: Option<String>,
    pub kind: LessonKind,
    pub target_programme_id: Option<Uuid>,
    #[validate(
        length(min = 1, max = 200),
        custom(function = "crate::edge::extract::not_blank")
    )]
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

impl From<CreateLessonRequest> for NewLesson {
    fn from(r: CreateLessonRequest) -> Self {
        NewLesson {
            title: r.title.trim().to_owned(),
            body: r.body.unwrap_or_default(),
            kind: r.kind,
            target_programme_id: r.target_programme_id,
            target_body: r.target_body,
            seminar_ids: r.seminar_ids,
            participation_ids: r.participation_ids,
        }
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateLessonRequest {
    #[validate(
        length(min = 1, max = 300),
        custom(function = "crate::edge::extract::not_blank")
    )]
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
    #[validate(
        length(min = 1, max = 200),
        custom(function = "crate::edge::extract::not_blank")
    )]
    #[schema(nullable, min_length = 1, max_length = 200)]
    pub target_body: Option<Option<String>>,
    #[validate(length(max = 100))]
    #[schema(max_items = 100)]
    pub seminar_ids: Option<Vec<Uuid>>,
    #[validate(length(max = 100))]
    #[schema(max_items = 100)]
    pub participation_ids: Option<Vec<Uuid>>,
}

impl From<UpdateLessonRequest> for LessonChanges {
    fn from(r: UpdateLessonRequest) -> Self {
        LessonChanges {
            title: r.title.map(|t| t.trim().to_owned()),
            body: r.body,
            kind: r.kind,
            target_programme_id: r.target_programme_id,
            target_body: r.target_body,
            seminar_ids: r.seminar_ids,
            participation_ids: r.participation_ids,
        }
    }
}

crate::list_params! {
    LessonListParams sort CreationSort = CreationSort::CreatedAt;
    {
        /// Only what changed at or after this instant, for synchronisation.
        #[param(value_type = Option<String>, format = DateTime, example = "2026-11-28T09:00:00Z")]
        updated_since: Option<crate::edge::extract::Instant>,
        /// Kinds, comma-separated or repeated.
        #[serde(default, deserialize_with = "crate::edge::params::list")]
        #[param(style = Form, explode)]
        kind: Option<Vec<LessonKind>>,
        /// Fabrique ids (on `/lessons`), comma-separated or repeated.
        #[serde(default, deserialize_with = "crate::edge::params::list")]
        #[param(style = Form, explode)]
        fabrique: Option<Vec<Uuid>>,
        /// Lessons of Fabriques of these programmes, comma-separated or repeated.
        #[serde(default, deserialize_with = "crate::edge::params::list")]
        #[param(style = Form, explode)]
        programme: Option<Vec<Uuid>>,
        /// Proposals for these programmes (`target_programme_id`), comma-separated or repeated.
        #[serde(default, deserialize_with = "crate::edge::params::list")]
        #[param(style = Form, explode)]
        target_programme: Option<Vec<Uuid>>,
        /// Words searched in the title and body, without case or accents (`resilience` finds
        /// « Résilience »): a lesson matches when it contains every one.
        #[serde(default, deserialize_with = "crate::edge::params::text::<_, 300>")]
        #[param(max_length = 300)]
        q: Option<String>,
    }
}

impl LessonListParams {
    fn filter(&self) -> LessonFilter {
        LessonFilter {
            kinds: self.kind.clone().unwrap_or_default(),
            fabriques: self.fabrique.clone().unwrap_or_default(),
            programmes: self.programme.clone().unwrap_or_default(),
            target_programmes: self.target_programme.clone().unwrap_or_default(),
            q: self.q.clone(),
            updated_since: self.updated_since.map(Into::into),
        }
    }
}

const CLOSED: &str = "The Fabrique neither recruits nor runs (see `blockers`)";

/// List a Fabrique's lessons.
#[utoipa::path(
    tag = "lessons", operation_id = "list_lessons",
    params(("id" = Uuid, Path, description = "Fabrique id"), LessonListParams),
    responses((status = 200, body = LessonPage), LookupProblems),
    security(("bearer" = []))
)]
#[get("/fabriques/{id}/lessons")]
pub async fn list_lessons(
    r: Signed,
    id: web::Path<Uuid>,
    Query(p): Query<LessonListParams>,
) -> ApiResult<HttpResponse> {
    let page = store::list(r.db(), r.access(), Some(*id), &p.filter(), &p.page()?).await?;
    Ok(r.page(page))
}

/// List lessons across the Fabriques the caller may see, by kind, Fabrique, programme (of
/// their Fabrique, or the one a proposal is for) and words of their text.
#[utoipa::path(
    tag = "lessons", operation_id = "list_all_lessons",
    params(LessonListParams),
    responses((status = 200, body = LessonPage), ListProblems),
    security(("bearer" = []))
)]
#[get("/lessons")]
pub async fn list_all_lessons(
    r: Signed,
    Query(p): Query<LessonListParams>,
) -> ApiResult<HttpResponse> {
    Ok(r.page(store::list(r.db(), r.access(), None, &p.filter(), &p.page()?).await?))
}

/// Record a lesson (ANCT), while the Fabrique recruits or runs.
#[utoipa::path(
    tag = "lessons", operation_id = "create_lesson",
    params(("id" = Uuid, Path, description = "Fabrique id")),
    request_body = CreateLessonRequest,
    responses(
        (status = 201, body = Lesson, headers(("Location" = String, description = "URL of the new lesson"))),
        (status = 409, description = CLOSED, body = Problem, content_type = "application/problem+json"),
        WriteProblems,
    ),
    security(("bearer" = []))
)]
#[post("/fabriques/{id}/lessons")]
pub async fn create_lesson(
    w: Write,
    id: web::Path<Uuid>,
    body: Json<CreateLessonRequest>,
) -> ApiResult<HttpResponse> {
    let (id, new) = (*id, NewLesson::from(body.0));
    let l = w
        .run(Permission::WriteLessons, move |tx, actor| {
            Box::pin(store::create(tx, actor, id, new))
        })
        .await?;
    Ok(crate::edge::created(
        format!("/api/v1/lessons/{}", l.id),
        &l,
    ))
}

/// Read a lesson.
#[utoipa::path(
    tag = "lessons", operation_id = "get_lesson",
    params(("id" = Uuid, Path, description = "Lesson id"), IfNoneMatchHeader),
    responses(
        (status = 200, body = Lesson, headers(("ETag" = String, description = "Strong ETag of this representation"))),
        CachedLookupProblems,
    ),
    security(("bearer" = []))
)]
#[get("/lessons/{id}")]
pub async fn get_lesson(r: Signed, id: web::Path<Uuid>) -> ApiResult<HttpResponse> {
    Ok(r.etagged(&store::get(r.db(), r.access(), *id).await?))
}

/// Change a lesson (ANCT).
#[utoipa::path(
    tag = "lessons", operation_id = "update_lesson",
    params(("id" = Uuid, Path, description = "Lesson id"), IfMatchHeader),
    request_body = UpdateLessonRequest,
    responses(
        (status = 200, body = Lesson),
        (status = 409, description = CLOSED, body = Problem, content_type = "application/problem+json"),
        ConditionalWriteProblems,
    ),
    security(("bearer" = []))
)]
#[patch("/lessons/{id}")]
pub async fn update_lesson(
    w: Write,
    id: web::Path<Uuid>,
    body: Json<UpdateLessonRequest>,
) -> ApiResult<web::Json<Lesson>> {
    let (id, changes) = (*id, LessonChanges::from(body.0));
    w.run_on::<Lesson, _, _>(Permission::WriteLessons, id, move |tx, actor| {
        Box::pin(store::update(tx, actor, id, changes))
    })
    .await
    .map(web::Json)
}

/// Delete a lesson (ANCT).
#[utoipa::path(
    tag = "lessons", operation_id = "delete_lesson",
    params(("id" = Uuid, Path, description = "Lesson id"), IfMatchHeader),
    responses(
        (status = 204, description = "Deleted"),
        (status = 409, description = CLOSED, body = Problem, content_type = "application/problem+json"),
        ConditionalDeleteProblems,
    ),
    security(("bearer" = []))
)]
#[delete("/lessons/{id}")]
pub async fn delete_lesson(w: Write, id: web::Path<Uuid>) -> ApiResult<HttpResponse> {
    let id = *id;
    w.run_on::<Lesson, _, _>(Permission::WriteLessons, id, move |tx, actor| {
        Box::pin(store::delete(tx, actor, id))
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
