//! Seminars: intersite ones (séminaires intersites) under a Fabrique, local ones under a
//! participation.

use ::store::seminars::{self as store, Owner, Seminar};
use actix_web::{HttpResponse, get, patch, post, web};
use domain::Permission;
use domain::query::SeminarFilter;
use domain::seminar::{
    NewSeminar, SeminarAction, SeminarChanges, SeminarKind, SeminarMode, SeminarStatus,
    SeminarTransition,
};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::edge::context::{Public, Signed, Write};
use crate::edge::error::{ApiResult, Problem};
use crate::edge::etag::{IfMatchHeader, IfNoneMatchHeader};
use crate::edge::extract::{Day, Json, Query, double_option};
use crate::edge::params::{CreationSort, SeminarSort};
use crate::edge::problems::{
    CachedLookupProblems, ConditionalWriteProblems, LookupProblems, PublicListProblems,
    ReadProblems, WriteProblems,
};

crate::page_schema!(SeminarPage, Seminar);

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"number": 1, "scheduled_on": "2027-03-15", "mode": "in_person"}))]
pub struct CreateSeminarRequest {
    #[validate(range(min = 1, max = 4))]
    #[schema(minimum = 1, maximum = 4)]
    pub number: u32,
    #[schema(value_type = String, format = Date)]
    pub scheduled_on: Day,
    /// Defaults to "ANCT, Paris" for an intersite seminar.
    #[validate(
        length(min = 1, max = 300),
        custom(function = "crate::edge::extract::not_blank")
    )]
    #[schema(min_length = 1, max_length = 300)]
    pub place: Option<String>,
    /// Defaults to in_person.
    pub mode: Option<SeminarMode>,
}

impl From<CreateSeminarRequest> for NewSeminar {
    fn from(r: CreateSeminarRequest) -> Self {
        NewSeminar {
            number: r.number,
            scheduled_on: r.scheduled_on.into(),
            place: r.place,
            mode: r.mode.unwrap_or(SeminarMode::InPerson),
        }
    }
}

/// Rescheduling (date, place, mode) is possible while planned; the summary at any time.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateSeminarRequest {
    #[schema(value_type = Option<String>, format = Date)]
    pub scheduled_on: Option<Day>,
    #[serde(default, deserialize_with = "double_option")]
    #[validate(
        length(min = 1, max = 300),
        custom(function = "crate::edge::extract::not_blank")
    )]
    #[schema(nullable, min_length = 1, max_length = 300)]
    pub place: Option<Option<String>>,
    pub mode: Option<SeminarMode>,
    #[serde(default, deserialize_with = "double_option")]
    #[validate(length(max = 20000))]
    #[schema(nullable, max_length = 20000)]
    pub summary: Option<Option<String>>,
}

impl From<UpdateSeminarRequest> for SeminarChanges {
    fn from(r: UpdateSeminarRequest) -> Self {
        SeminarChanges {
            scheduled_on: r.scheduled_on.map(Into::into),
            place: r.place,
            mode: r.mode,
            summary: r.summary,
        }
    }
}

crate::list_params! {
    SeminarListParams sort CreationSort = CreationSort::CreatedAt;
    {
        /// Only what changed at or after this instant, for synchronisation.
        #[param(value_type = Option<String>, format = DateTime, example = "2026-11-28T09:00:00Z")]
        updated_since: Option<crate::edge::extract::Instant>,
        /// Kinds, comma-separated or repeated.
        #[serde(default, deserialize_with = "crate::edge::params::list")]
        #[param(style = Form, explode)]
        kind: Option<Vec<SeminarKind>>,
        /// Statuses, comma-separated or repeated.
        #[serde(default, deserialize_with = "crate::edge::params::list")]
        #[param(style = Form, explode)]
        status: Option<Vec<SeminarStatus>>,
    }
}

impl SeminarListParams {
    fn filter(&self) -> SeminarFilter {
        SeminarFilter {
            kinds: self.kind.clone().unwrap_or_default(),
            statuses: self.status.clone().unwrap_or_default(),
            updated_since: self.updated_since.map(Into::into),
            ..SeminarFilter::default()
        }
    }
}

crate::list_params! {
    SeminarAgendaParams sort SeminarSort = SeminarSort::CreatedAt;
    {
        /// Only what changed at or after this instant, for synchronisation.
        #[param(value_type = Option<String>, format = DateTime, example = "2026-11-28T09:00:00Z")]
        updated_since: Option<crate::edge::extract::Instant>,
        /// Kinds, comma-separated or repeated.
        #[serde(default, deserialize_with = "crate::edge::params::list")]
        #[param(style = Form, explode)]
        kind: Option<Vec<SeminarKind>>,
        /// Statuses, comma-separated or repeated.
        #[serde(default, deserialize_with = "crate::edge::params::list")]
        #[param(style = Form, explode)]
        status: Option<Vec<SeminarStatus>>,
        /// Fabrique ids, comma-separated or repeated.
        #[serde(default, deserialize_with = "crate::edge::params::list")]
        #[param(style = Form, explode)]
        fabrique: Option<Vec<Uuid>>,
        /// Territory ids, comma-separated or repeated: their local seminars.
        #[serde(default, deserialize_with = "crate::edge::params::list")]
        #[param(style = Form, explode)]
        territory: Option<Vec<Uuid>>,
        /// Scheduled on or after this day.
        #[param(value_type = Option<String>, format = Date, example = "2027-01-01")]
        from: Option<Day>,
        /// Scheduled on or before this day.
        #[param(value_type = Option<String>, format = Date, example = "2027-12-31")]
        to: Option<Day>,
    }
}

impl SeminarAgendaParams {
    /// (A `from` after `to` is a range that holds no day: an empty page, as with years.)
    fn filter(&self) -> ApiResult<SeminarFilter> {
        Ok(SeminarFilter {
            kinds: self.kind.clone().unwrap_or_default(),
            statuses: self.status.clone().unwrap_or_default(),
            fabriques: self.fabrique.clone().unwrap_or_default(),
            territories: self.territory.clone().unwrap_or_default(),
            from: self.from.map(Into::into),
            to: self.to.map(Into::into),
            updated_since: self.updated_since.map(Into::into),
        })
    }
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

impl From<SeminarTransitionRequest> for SeminarTransition {
    fn from(r: SeminarTransitionRequest) -> Self {
        SeminarTransition {
            action: r.action,
            attendance: r.attendance,
            attending_organization_ids: r.attending_organization_ids.unwrap_or_default(),
            summary: r.summary,
            reason: r.reason.map(|s| s.trim().to_owned()),
        }
    }
}

crate::transitions_schema!(
    SeminarTransitionsResponse,
    SeminarTransitionResponse,
    SeminarAction,
    SeminarStatus
);

const CREATE_409: &str = "Refused: a fifth seminar, a number taken, a closed Fabrique or an inactive participation (see `blockers`)";

/// The agenda: seminars across the Fabriques the caller may see, by date range, kind,
/// status, Fabrique and territory; `sort=scheduled_on` for the calendar. The public sees the
/// seminars of Fabriques past their draft (local ones of accompanied territories), without
/// their summary.
#[utoipa::path(
    tag = "seminars", operation_id = "list_seminars",
    params(SeminarAgendaParams),
    responses((status = 200, body = SeminarPage), PublicListProblems),
    security((), ("bearer" = []))
)]
#[get("/seminars")]
pub async fn list_seminars(
    r: Public,
    Query(p): Query<SeminarAgendaParams>,
) -> ApiResult<HttpResponse> {
    Ok(r.page(store::agenda(r.db(), r.access(), &p.filter()?, &p.page()?).await?))
}

/// List a Fabrique's seminars (intersite and local) the caller may see.
#[utoipa::path(
    tag = "seminars", operation_id = "list_fabrique_seminars",
    params(("id" = Uuid, Path, description = "Fabrique id"), SeminarListParams),
    responses((status = 200, body = SeminarPage), LookupProblems),
    security((), ("bearer" = []))
)]
#[get("/fabriques/{id}/seminars")]
pub async fn list_fabrique_seminars(
    r: Public,
    id: web::Path<Uuid>,
    Query(p): Query<SeminarListParams>,
) -> ApiResult<HttpResponse> {
    let page = store::list(
        r.db(),
        r.access(),
        Owner::Fabrique(*id),
        &p.filter(),
        &p.page()?,
    )
    .await?;
    Ok(r.page(page))
}

/// Plan an intersite seminar (at "ANCT, Paris" unless told otherwise).
#[utoipa::path(
    tag = "seminars", operation_id = "create_intersite_seminar",
    params(("id" = Uuid, Path, description = "Fabrique id")),
    request_body = CreateSeminarRequest,
    responses(
        (status = 201, body = Seminar, headers(("Location" = String, description = "URL of the new seminar"))),
        (status = 409, description = CREATE_409, body = Problem, content_type = "application/problem+json"),
        WriteProblems,
    ),
    security(("bearer" = []))
)]
#[post("/fabriques/{id}/seminars")]
pub async fn create_intersite_seminar(
    w: Write,
    id: web::Path<Uuid>,
    body: Json<CreateSeminarRequest>,
) -> ApiResult<HttpResponse> {
    plan(w, Owner::Fabrique(*id), body.0).await
}

/// List a participation's local seminars.
#[utoipa::path(
    tag = "seminars", operation_id = "list_participation_seminars",
    params(("id" = Uuid, Path, description = "Participation id"), SeminarListParams),
    responses((status = 200, body = SeminarPage), LookupProblems),
    security((), ("bearer" = []))
)]
#[get("/participations/{id}/seminars")]
pub async fn list_participation_seminars(
    r: Public,
    id: web::Path<Uuid>,
    Query(p): Query<SeminarListParams>,
) -> ApiResult<HttpResponse> {
    let owner = Owner::Participation(*id);
    let page = store::list(r.db(), r.access(), owner, &p.filter(), &p.page()?).await?;
    Ok(r.page(page))
}

/// Plan a local seminar of an active participation.
#[utoipa::path(
    tag = "seminars", operation_id = "create_local_seminar",
    params(("id" = Uuid, Path, description = "Participation id")),
    request_body = CreateSeminarRequest,
    responses(
        (status = 201, body = Seminar, headers(("Location" = String, description = "URL of the new seminar"))),
        (status = 409, description = CREATE_409, body = Problem, content_type = "application/problem+json"),
        WriteProblems,
    ),
    security(("bearer" = []))
)]
#[post("/participations/{id}/seminars")]
pub async fn create_local_seminar(
    w: Write,
    id: web::Path<Uuid>,
    body: Json<CreateSeminarRequest>,
) -> ApiResult<HttpResponse> {
    plan(w, Owner::Participation(*id), body.0).await
}

async fn plan(w: Write, owner: Owner, body: CreateSeminarRequest) -> ApiResult<HttpResponse> {
    let new = NewSeminar::from(body);
    let s = w
        .run(Permission::WriteSeminars, move |tx, actor| {
            Box::pin(store::plan(tx, actor, owner, new))
        })
        .await?;
    Ok(crate::edge::created(
        format!("/api/v1/seminars/{}", s.id),
        &s,
    ))
}

/// Read a seminar.
#[utoipa::path(
    tag = "seminars", operation_id = "get_seminar",
    params(("id" = Uuid, Path, description = "Seminar id"), IfNoneMatchHeader),
    responses(
        (status = 200, body = Seminar, headers(("ETag" = String, description = "Strong ETag of this representation"))),
        CachedLookupProblems,
    ),
    security((), ("bearer" = []))
)]
#[get("/seminars/{id}")]
pub async fn get_seminar(r: Public, id: web::Path<Uuid>) -> ApiResult<HttpResponse> {
    Ok(r.etagged(&store::get(r.db(), r.access(), *id).await?))
}

/// Reschedule a planned seminar, or change its summary.
#[utoipa::path(
    tag = "seminars", operation_id = "update_seminar",
    params(("id" = Uuid, Path, description = "Seminar id"), IfMatchHeader),
    request_body = UpdateSeminarRequest,
    responses(
        (status = 200, body = Seminar),
        (status = 409, description = "Rescheduling a seminar that is no longer planned (see `blockers`)", body = Problem, content_type = "application/problem+json"),
        ConditionalWriteProblems,
    ),
    security(("bearer" = []))
)]
#[patch("/seminars/{id}")]
pub async fn update_seminar(
    w: Write,
    id: web::Path<Uuid>,
    body: Json<UpdateSeminarRequest>,
) -> ApiResult<web::Json<Seminar>> {
    let (id, changes) = (*id, SeminarChanges::from(body.0));
    w.run_on::<Seminar, _, _>(Permission::WriteSeminars, id, move |tx, actor| {
        Box::pin(store::update(tx, actor, id, changes))
    })
    .await
    .map(web::Json)
}

/// Which transitions are possible now, and what blocks the others.
#[utoipa::path(
    tag = "seminars", operation_id = "list_seminar_transitions",
    params(("id" = Uuid, Path, description = "Seminar id")),
    responses((status = 200, body = SeminarTransitionsResponse), ReadProblems),
    security(("bearer" = []))
)]
#[get("/seminars/{id}/transitions")]
pub async fn list_seminar_transitions(
    r: Signed,
    id: web::Path<Uuid>,
) -> ApiResult<web::Json<SeminarTransitionsResponse>> {
    let t = store::transitions(r.db(), r.access(), *id).await?;
    Ok(web::Json(t.into()))
}

/// A correction of a held seminar: what was wrong, and why.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"attendance": 31, "reason": "Feuille d'émargement recomptée"}))]
pub struct SeminarCorrectionRequest {
    /// The day it was actually held (not after today).
    #[schema(value_type = Option<String>, format = Date)]
    pub scheduled_on: Option<Day>,
    #[validate(range(max = 100000))]
    #[schema(maximum = 100000)]
    pub attendance: Option<u32>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[validate(length(max = 20000))]
    #[schema(value_type = Option<String>, max_length = 20000)]
    pub summary: Option<Option<String>>,
    /// Why the correction is made (journalled with it).
    #[validate(
        length(min = 1, max = 2000),
        custom(function = "crate::edge::extract::not_blank")
    )]
    #[schema(min_length = 1, max_length = 2000)]
    pub reason: String,
}

/// Correct a held seminar (ANCT): its date, attendance or summary, with a reason. The change
/// is journalled as `seminar.corrected`, the reason beside it in the history and the feed.
#[utoipa::path(
    tag = "seminars", operation_id = "create_seminar_correction",
    params(("id" = Uuid, Path, description = "Seminar id"), IfMatchHeader),
    request_body = SeminarCorrectionRequest,
    responses(
        (status = 200, description = "Corrected; the seminar as it is now", body = Seminar),
        (status = 409, description = "Not a held seminar (`seminar_not_held` in `blockers`)", body = Problem, content_type = "application/problem+json"),
        ConditionalWriteProblems,
    ),
    security(("bearer" = []))
)]
#[post("/seminars/{id}/corrections")]
pub async fn create_seminar_correction(
    w: Write,
    id: web::Path<Uuid>,
    body: Json<SeminarCorrectionRequest>,
) -> ApiResult<web::Json<Seminar>> {
    let r = body.0;
    let (id, c) = (
        *id,
        domain::correction::SeminarCorrection {
            scheduled_on: r.scheduled_on.map(Into::into),
            attendance: r.attendance,
            summary: r.summary,
            reason: r.reason.trim().to_owned(),
        },
    );
    w.run_on::<Seminar, _, _>(Permission::CorrectRecords, id, move |tx, actor| {
        Box::pin(store::correct(tx, actor, id, c))
    })
    .await
    .map(web::Json)
}

/// Hold a seminar (with its attendance) or cancel it (with a reason).
#[utoipa::path(
    tag = "seminars", operation_id = "create_seminar_transition",
    params(("id" = Uuid, Path, description = "Seminar id"), IfMatchHeader),
    request_body = SeminarTransitionRequest,
    responses(
        (status = 200, description = "Done; the seminar as it is now", body = Seminar),
        (status = 409, description = "Refused: every unmet condition in `blockers`", body = Problem, content_type = "application/problem+json"),
        ConditionalWriteProblems,
    ),
    security(("bearer" = []))
)]
#[post("/seminars/{id}/transitions")]
pub async fn create_seminar_transition(
    w: Write,
    id: web::Path<Uuid>,
    body: Json<SeminarTransitionRequest>,
) -> ApiResult<web::Json<Seminar>> {
    let (id, t) = (*id, SeminarTransition::from(body.0));
    w.run_on::<Seminar, _, _>(Permission::WriteSeminars, id, move |tx, actor| {
        Box::pin(store::transition(tx, actor, id, t))
    })
    .await
    .map(web::Json)
}
