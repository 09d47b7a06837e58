//! `/fabriques`: the Fabriques prospectives, their partners, transitions and history.

use ::store::events::Event;
use ::store::fabriques::{self as store, Fabrique, Partner};
use actix_web::{HttpResponse, delete, get, patch, post, put, web};
use domain::fabrique::{FabriqueChanges, NewFabrique, check_bounds, check_dates};
use domain::query::FabriqueFilter;
use domain::{FabriqueAction, FabriqueStatus, PartnerRole, Permission, TerritoryBounds};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::edge::context::{Public, Signed, Write};
use crate::edge::error::{ApiError, ApiResult, Problem, invalid};
use crate::edge::etag::{IfMatchHeader, IfNoneMatchHeader};
use crate::edge::extract::{Day, Json, Query, double_option};
use crate::edge::params::{CreationSort, FabriqueSort, RegionParam};
use crate::edge::problems::{
    CachedLookupProblems, ConditionalDeleteProblems, ConditionalWriteProblems, CreateProblems,
    LookupProblems, PublicListProblems, ReadProblems,
};

crate::page_schema!(FabriquePage, Fabrique);
crate::page_schema!(PartnerPage, Partner);
crate::page_schema!(EventPage, Event);

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"title": "Sites industriels de demain", "theme": "Industrie", "programme_id": "01a2219c-5371-7673-aff7-8ea72af0ffd9", "planned_start": "2027-02-01"}))]
pub struct CreateFabriqueRequest {
    #[validate(
        length(min = 1, max = 300),
        custom(function = "crate::edge::extract::not_blank")
    )]
    #[schema(min_length = 1, max_length = 300)]
    pub title: String,
    #[validate(
        length(min = 1, max = 300),
        custom(function = "crate::edge::extract::not_blank")
    )]
    #[schema(min_length = 1, max_length = 300)]
    pub theme: Option<String>,
    #[validate(length(max = 20000))]
    #[schema(max_length = 20000)]
    pub description: Option<String>,
    /// ANCT programme (see `/programmes`).
    pub programme_id: Option<Uuid>,
    /// Default 4; at most `max_territories`.
    #[validate(range(min = 1, max = 100))]
    #[schema(minimum = 1, maximum = 100)]
    pub min_territories: Option<u32>,
    /// Default 8; at least `min_territories`.
    #[validate(range(min = 1, max = 100))]
    #[schema(minimum = 1, maximum = 100)]
    pub max_territories: Option<u32>,
    #[schema(value_type = Option<String>, format = Date)]
    pub planned_start: Option<Day>,
    /// Planned end, after the planned start; defaults to 12 months after the actual start.
    #[schema(value_type = Option<String>, format = Date)]
    pub end_date: Option<Day>,
}

impl TryFrom<CreateFabriqueRequest> for NewFabrique {
    type Error = ApiError;
    fn try_from(r: CreateFabriqueRequest) -> ApiResult<Self> {
        let mut errors = Vec::new();
        let bounds = check_bounds(
            r.min_territories.unwrap_or(TerritoryBounds::DEFAULT_MIN),
            r.max_territories.unwrap_or(TerritoryBounds::DEFAULT_MAX),
        )
        .map_err(|e| errors.push(e))
        .ok();
        let planned_start = r.planned_start.map(Into::into);
        let end_date = r.end_date.map(Into::into);
        if let Err(e) = check_dates(planned_start, end_date) {
            errors.push(e);
        }
        match bounds {
            Some(bounds) if errors.is_empty() => Ok(NewFabrique {
                title: r.title.trim().to_owned(),
                theme: r.theme.map(|t| t.trim().to_owned()),
                description: r.description.unwrap_or_default(),
                programme_id: r.programme_id,
                bounds,
                planned_start,
                end_date,
            }),
            _ => Err(invalid(errors)),
        }
    }
}

/// Fields to change; absent fields stay, `null` clears an optional one. Territory bounds
/// change only before launch; nothing changes once completed or cancelled.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateFabriqueRequest {
    #[validate(
        length(min = 1, max = 300),
        custom(function = "crate::edge::extract::not_blank")
    )]
    #[schema(min_length = 1, max_length = 300)]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[validate(
        length(min = 1, max = 300),
        custom(function = "crate::edge::extract::not_blank")
    )]
    #[schema(nullable, min_length = 1, max_length = 300)]
    pub theme: Option<Option<String>>,
    #[validate(length(max = 20000))]
    #[schema(max_length = 20000)]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(nullable)]
    pub programme_id: Option<Option<Uuid>>,
    #[validate(range(min = 1, max = 100))]
    #[schema(minimum = 1, maximum = 100)]
    pub min_territories: Option<u32>,
    #[validate(range(min = 1, max = 100))]
    #[schema(minimum = 1, maximum = 100)]
    pub max_territories: Option<u32>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, format = Date)]
    pub planned_start: Option<Option<Day>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, format = Date)]
    pub end_date: Option<Option<Day>>,
}

impl From<UpdateFabriqueRequest> for FabriqueChanges {
    fn from(r: UpdateFabriqueRequest) -> Self {
        FabriqueChanges {
            title: r.title.map(|t| t.trim().to_owned()),
            theme: r.theme.map(|t| t.map(|t| t.trim().to_owned())),
            description: r.description,
            programme_id: r.programme_id,
            min_territories: r.min_territories,
            max_territories: r.max_territories,
            planned_start: r.planned_start.map(|d| d.map(Into::into)),
            end_date: r.end_date.map(|d| d.map(Into::into)),
        }
    }
}

crate::list_params! {
    FabriqueListParams sort FabriqueSort = FabriqueSort::CreatedAt;
    {
        /// Only what changed at or after this instant, for synchronisation.
        #[param(value_type = Option<String>, format = DateTime, example = "2026-11-28T09:00:00Z")]
        updated_since: Option<crate::edge::extract::Instant>,
        /// Statuses, comma-separated or repeated. Drafts only for ANCT and analysts.
        #[serde(default, deserialize_with = "crate::edge::params::list")]
        #[param(style = Form, explode, example = json!(["running", "completed"]))]
        status: Option<Vec<FabriqueStatus>>,
        /// Text contained in the theme (case-insensitive).
        #[serde(default, deserialize_with = "crate::edge::params::text::<_, 300>")]
        #[param(max_length = 300)]
        theme: Option<String>,
        /// Programme ids, comma-separated or repeated.
        #[serde(default, deserialize_with = "crate::edge::params::list")]
        #[param(style = Form, explode)]
        programme: Option<Vec<Uuid>>,
        /// Year of the start (actual, else planned).
        #[param(minimum = 2000, maximum = 2100)]
        year: Option<i32>,
        #[param(minimum = 2000, maximum = 2100)]
        year_from: Option<i32>,
        #[param(minimum = 2000, maximum = 2100)]
        year_to: Option<i32>,
        /// Fabriques a territory takes part in (territory ids): among the participations the
        /// caller may see (for the public, the territories accompanied).
        #[serde(default, deserialize_with = "crate::edge::params::list")]
        #[param(style = Form, explode)]
        territory: Option<Vec<Uuid>>,
        /// Fabriques an organization is a partner of (organization ids).
        #[serde(default, deserialize_with = "crate::edge::params::list")]
        #[param(style = Form, explode)]
        organization: Option<Vec<Uuid>>,
        /// Fabriques with a territory of these regions (region codes), among the
        /// participations the caller may see.
        #[serde(default, deserialize_with = "crate::edge::params::list")]
        #[param(style = Form, explode)]
        region: Option<Vec<RegionParam>>,
        /// Words searched in the title and theme, without case or accents (`resilience` finds
        /// « Résilience »): a Fabrique matches when it contains every one.
        #[serde(default, deserialize_with = "crate::edge::params::text::<_, 300>")]
        #[param(max_length = 300)]
        q: Option<String>,
    }
}

impl FabriqueListParams {
    fn filter(&self) -> ApiResult<FabriqueFilter> {
        Ok(FabriqueFilter {
            ids: Vec::new(),
            statuses: self.status.clone().unwrap_or_default(),
            theme: self.theme.clone(),
            programmes: self.programme.clone().unwrap_or_default(),
            years: crate::edge::params::years(self.year, self.year_from, self.year_to)?,
            territories: self.territory.clone().unwrap_or_default(),
            organizations: self.organization.clone().unwrap_or_default(),
            regions: crate::edge::params::regions(&self.region),
            q: self.q.clone(),
            updated_since: self.updated_since.map(Into::into),
        })
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"roles": ["pilot"]}))]
pub struct PutPartnerRequest {
    /// The organization's roles in this Fabrique (replaces the current ones).
    #[validate(length(min = 1, max = 4))]
    #[schema(min_items = 1, max_items = 4)]
    pub roles: Vec<PartnerRole>,
}

crate::transitions_schema!(
    FabriqueTransitionsResponse,
    FabriqueTransitionResponse,
    FabriqueAction,
    FabriqueStatus
);

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"action": "launch"}))]
pub struct FabriqueTransitionRequest {
    pub action: FabriqueAction,
    /// Required to cancel.
    #[validate(length(max = 2000))]
    #[schema(max_length = 2000)]
    pub reason: Option<String>,
}

crate::list_params! {
    HistoryParams sort CreationSort = CreationSort::CreatedAt;
    {}
}

/// List Fabriques. Without a token: those past draft, no personal data.
#[utoipa::path(
    tag = "fabriques", operation_id = "list_fabriques",
    params(FabriqueListParams),
    responses(
        (status = 200, body = FabriquePage),
        PublicListProblems,
    ),
    security((), ("bearer" = []))
)]
#[get("/fabriques")]
pub async fn list_fabriques(
    r: Public,
    Query(p): Query<FabriqueListParams>,
) -> ApiResult<HttpResponse> {
    let page = store::list(r.db(), r.access(), &p.filter()?, &p.page()?).await?;
    Ok(r.page(page))
}

/// Read a Fabrique. Drafts are visible to ANCT and analysts only.
#[utoipa::path(
    tag = "fabriques", operation_id = "get_fabrique",
    params(("id" = Uuid, Path, description = "Fabrique id"), IfNoneMatchHeader),
    responses(
        (status = 200, body = Fabrique, headers(("ETag" = String, description = "Strong ETag of this representation"))),
        CachedLookupProblems,
    ),
    security((), ("bearer" = []))
)]
#[get("/fabriques/{id}")]
pub async fn get_fabrique(r: Public, id: web::Path<Uuid>) -> ApiResult<HttpResponse> {
    Ok(r.etagged(&store::get(r.db(), r.access(), *id).await?))
}

/// Create a Fabrique (as a draft).
#[utoipa::path(
    tag = "fabriques", operation_id = "create_fabrique",
    request_body = CreateFabriqueRequest,
    responses(
        (status = 201, body = Fabrique, headers(("Location" = String, description = "URL of the new Fabrique"))),
        CreateProblems,
    ),
    security(("bearer" = []))
)]
#[post("/fabriques")]
pub async fn create_fabrique(
    w: Write,
    body: Json<CreateFabriqueRequest>,
) -> ApiResult<HttpResponse> {
    let new = NewFabrique::try_from(body.0)?;
    let f = w
        .run(Permission::WriteFabriques, |tx, actor| {
            Box::pin(store::create(tx, actor, new))
        })
        .await?;
    Ok(crate::edge::created(
        format!("/api/v1/fabriques/{}", f.id),
        &f,
    ))
}

/// Change a Fabrique.
#[utoipa::path(
    tag = "fabriques", operation_id = "update_fabrique",
    params(("id" = Uuid, Path, description = "Fabrique id"), IfMatchHeader),
    request_body = UpdateFabriqueRequest,
    responses(
        (status = 200, body = Fabrique),
        (status = 409, description = "Refused: closed, bounds frozen after launch or below the accepted count (see `blockers`)", body = Problem, content_type = "application/problem+json"),
        ConditionalWriteProblems,
    ),
    security(("bearer" = []))
)]
#[patch("/fabriques/{id}")]
pub async fn update_fabrique(
    w: Write,
    id: web::Path<Uuid>,
    body: Json<UpdateFabriqueRequest>,
) -> ApiResult<web::Json<Fabrique>> {
    let (id, changes) = (*id, FabriqueChanges::from(body.0));
    w.run_on::<Fabrique, _, _>(Permission::WriteFabriques, id, move |tx, actor| {
        Box::pin(store::update(tx, actor, id, changes))
    })
    .await
    .map(web::Json)
}

/// Delete a draft Fabrique.
#[utoipa::path(
    tag = "fabriques", operation_id = "delete_fabrique",
    params(("id" = Uuid, Path, description = "Fabrique id"), IfMatchHeader),
    responses(
        (status = 204, description = "Deleted"),
        (status = 409, description = "Not a draft (see `blockers`)", body = Problem, content_type = "application/problem+json"),
        ConditionalDeleteProblems,
    ),
    security(("bearer" = []))
)]
#[delete("/fabriques/{id}")]
pub async fn delete_fabrique(w: Write, id: web::Path<Uuid>) -> ApiResult<HttpResponse> {
    let id = *id;
    w.run_on::<Fabrique, _, _>(Permission::WriteFabriques, id, move |tx, actor| {
        Box::pin(store::delete(tx, actor, id))
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// List the partners of a Fabrique and their roles.
#[utoipa::path(
    tag = "fabriques", operation_id = "list_partners",
    params(("id" = Uuid, Path, description = "Fabrique id")),
    responses(
        (status = 200, body = PartnerPage),
        LookupProblems,
    ),
    security((), ("bearer" = []))
)]
#[get("/fabriques/{id}/partners")]
pub async fn list_partners(r: Public, id: web::Path<Uuid>) -> ApiResult<HttpResponse> {
    let partners = store::partners(r.db(), r.access(), *id).await?;
    Ok(r.page(::store::Page {
        items: partners,
        next: None,
        total: None,
    }))
}

/// Set an organization's roles in a Fabrique (pilot, co_animator, co_funder, contractor).
#[utoipa::path(
    tag = "fabriques", operation_id = "put_partner",
    params(("id" = Uuid, Path, description = "Fabrique id"), ("organization_id" = Uuid, Path, description = "Organization id"), IfMatchHeader),
    request_body = PutPartnerRequest,
    responses(
        (status = 200, body = Partner),
        (status = 409, description = "The Fabrique is closed (see `blockers`)", body = Problem, content_type = "application/problem+json"),
        ConditionalWriteProblems,
    ),
    security(("bearer" = []))
)]
#[put("/fabriques/{id}/partners/{organization_id}")]
pub async fn put_partner(
    w: Write,
    path: web::Path<(Uuid, Uuid)>,
    body: Json<PutPartnerRequest>,
) -> ApiResult<web::Json<Partner>> {
    let ((id, org), roles) = (path.into_inner(), body.0.roles);
    w.run_on::<Fabrique, _, _>(Permission::WritePartners, id, move |tx, actor| {
        Box::pin(store::put_partner(tx, actor, id, org, roles))
    })
    .await
    .map(web::Json)
}

/// Remove an organization from a Fabrique's partners.
#[utoipa::path(
    tag = "fabriques", operation_id = "delete_partner",
    params(("id" = Uuid, Path, description = "Fabrique id"), ("organization_id" = Uuid, Path, description = "Organization id"), IfMatchHeader),
    responses(
        (status = 204, description = "Removed"),
        (status = 409, description = "The Fabrique is closed (see `blockers`)", body = Problem, content_type = "application/problem+json"),
        ConditionalDeleteProblems,
    ),
    security(("bearer" = []))
)]
#[delete("/fabriques/{id}/partners/{organization_id}")]
pub async fn delete_partner(w: Write, path: web::Path<(Uuid, Uuid)>) -> ApiResult<HttpResponse> {
    let (id, org) = path.into_inner();
    w.run_on::<Fabrique, _, _>(Permission::WritePartners, id, move |tx, actor| {
        Box::pin(store::delete_partner(tx, actor, id, org))
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Which transitions are possible now, and what blocks the others (any caller who may see
/// the Fabrique may ask; performing them is ANCT's).
#[utoipa::path(
    tag = "fabriques", operation_id = "list_fabrique_transitions",
    params(("id" = Uuid, Path, description = "Fabrique id")),
    responses(
        (status = 200, body = FabriqueTransitionsResponse),
        LookupProblems,
    ),
    security(("bearer" = []))
)]
#[get("/fabriques/{id}/transitions")]
pub async fn list_fabrique_transitions(
    r: Signed,
    id: web::Path<Uuid>,
) -> ApiResult<web::Json<FabriqueTransitionsResponse>> {
    let t = store::transitions(r.db(), r.access(), *id).await?;
    Ok(web::Json(t.into()))
}

/// Perform a transition: open_recruitment, launch, complete or cancel (with a reason).
#[utoipa::path(
    tag = "fabriques", operation_id = "create_fabrique_transition",
    params(("id" = Uuid, Path, description = "Fabrique id"), IfMatchHeader),
    request_body = FabriqueTransitionRequest,
    responses(
        (status = 200, description = "Done; the Fabrique as it is now", body = Fabrique),
        (status = 409, description = "Refused: every unmet condition in `blockers`", body = Problem, content_type = "application/problem+json"),
        ConditionalWriteProblems,
    ),
    security(("bearer" = []))
)]
#[post("/fabriques/{id}/transitions")]
pub async fn create_fabrique_transition(
    w: Write,
    id: web::Path<Uuid>,
    body: Json<FabriqueTransitionRequest>,
) -> ApiResult<web::Json<Fabrique>> {
    let (id, action) = (*id, body.0.action);
    let reason = body.0.reason.map(|r| r.trim().to_owned());
    w.run_on::<Fabrique, _, _>(Permission::TransitionFabriques, id, move |tx, actor| {
        Box::pin(async move { store::transition(tx, actor, id, action, reason.as_deref()).await })
    })
    .await
    .map(web::Json)
}

/// A correction of a started Fabrique's dates, and why.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"actual_start": "2027-01-15", "reason": "Lancement tenu le 15 janvier"}))]
pub struct FabriqueCorrectionRequest {
    /// When it actually started (not after today).
    #[schema(value_type = Option<String>, format = Date)]
    pub actual_start: Option<crate::edge::extract::Day>,
    /// When it ends or ended (after the start).
    #[schema(value_type = Option<String>, format = Date)]
    pub end_date: Option<crate::edge::extract::Day>,
    /// Why the correction is made (journalled with it).
    #[validate(
        length(min = 1, max = 2000),
        custom(function = "crate::edge::extract::not_blank")
    )]
    #[schema(min_length = 1, max_length = 2000)]
    pub reason: String,
}

/// Correct a running or completed Fabrique's actual start or end (ANCT), with a reason: the
/// change is journalled as `fabrique.corrected`, the reason beside it in the history and the
/// feed.
#[utoipa::path(
    tag = "fabriques", operation_id = "create_fabrique_correction",
    params(("id" = Uuid, Path, description = "Fabrique id"), IfMatchHeader),
    request_body = FabriqueCorrectionRequest,
    responses(
        (status = 200, description = "Corrected; the Fabrique as it is now", body = Fabrique),
        (status = 409, description = "Not started yet (`fabrique_not_started` in `blockers`)", body = Problem, content_type = "application/problem+json"),
        ConditionalWriteProblems,
    ),
    security(("bearer" = []))
)]
#[post("/fabriques/{id}/corrections")]
pub async fn create_fabrique_correction(
    w: Write,
    id: web::Path<Uuid>,
    body: Json<FabriqueCorrectionRequest>,
) -> ApiResult<web::Json<Fabrique>> {
    let r = body.0;
    let (id, c) = (
        *id,
        domain::correction::FabriqueCorrection {
            actual_start: r.actual_start.map(Into::into),
            end_date: r.end_date.map(Into::into),
            reason: r.reason.trim().to_owned(),
        },
    );
    w.run_on::<Fabrique, _, _>(Permission::CorrectRecords, id, move |tx, actor| {
        Box::pin(store::correct(tx, actor, id, c))
    })
    .await
    .map(web::Json)
}

/// The journal of a Fabrique: every change to it and what belongs to it, oldest first, as
/// the caller may see it.
#[utoipa::path(
    tag = "fabriques", operation_id = "get_fabrique_history",
    params(("id" = Uuid, Path, description = "Fabrique id"), HistoryParams),
    responses(
        (status = 200, body = EventPage),
        ReadProblems,
    ),
    security(("bearer" = []))
)]
#[get("/fabriques/{id}/history")]
pub async fn get_fabrique_history(
    r: Signed,
    id: web::Path<Uuid>,
    Query(p): Query<HistoryParams>,
) -> ApiResult<HttpResponse> {
    r.access().require(Permission::ReadHistory)?;
    let page = ::store::events::history(r.db(), r.access(), *id, &p.page()?).await?;
    Ok(r.page(page))
}
