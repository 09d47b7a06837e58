//! `/fabriques`: the Fabriques prospectives, their partners, transitions and history.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, put, web};
use chrono::NaiveDate;
use domain::{FabriqueAction, FabriqueStatus, OrganizationKind, PartnerRole};
use sea_orm::{DatabaseConnection, TransactionTrait};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::auth::{Caller, MaybeCaller, Permission};
use crate::error::{ApiResult, FieldProblem, Problem};
use crate::extract::{Json, Query, double_option};
use crate::journal::Actor;
use crate::problems::{
    CreateProblems, LookupProblems, PublicListProblems, ReadProblems, WriteProblems,
};
use crate::store::fabriques as store;

/// An organization's roles in one Fabrique.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PartnerResponse {
    pub organization_id: Uuid,
    #[schema(example = "Association des maires de France")]
    pub name: String,
    pub acronym: Option<String>,
    pub kind: OrganizationKind,
    pub roles: Vec<PartnerRole>,
}

/// A Fabrique prospective.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FabriqueResponse {
    pub id: Uuid,
    #[schema(example = "Sites industriels de demain")]
    pub title: String,
    #[schema(example = "Industrie")]
    pub theme: Option<String>,
    pub description: String,
    /// ANCT programme the Fabrique is tied to (see `/programmes`).
    pub programme_id: Option<Uuid>,
    /// The programme's name (read-only).
    #[schema(example = "Territoires d'industrie")]
    pub programme: Option<String>,
    #[schema(example = 4)]
    pub min_territories: i32,
    #[schema(example = 8)]
    pub max_territories: i32,
    pub planned_start: Option<NaiveDate>,
    /// Set at launch.
    pub actual_start: Option<NaiveDate>,
    /// Set at launch to 12 months after the start unless given.
    pub end_date: Option<NaiveDate>,
    pub status: FabriqueStatus,
    /// Why it was cancelled.
    pub status_reason: Option<String>,
    pub status_changed_at: chrono::DateTime<chrono::Utc>,
    pub partners: Vec<PartnerResponse>,
    /// Provenance of demo or imported data (which facts are unverified).
    pub source: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

crate::page_schema!(FabriquePage, FabriqueResponse);

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"title": "Sites industriels de demain", "theme": "Industrie", "programme_id": "01a2219c-5371-7673-aff7-8ea72af0ffd9", "planned_start": "2027-02-01"}))]
pub struct CreateFabriqueRequest {
    #[validate(length(min = 1, max = 300))]
    #[schema(min_length = 1, max_length = 300)]
    pub title: String,
    #[validate(length(min = 1, max = 300))]
    #[schema(min_length = 1, max_length = 300)]
    pub theme: Option<String>,
    #[validate(length(max = 20000))]
    #[schema(max_length = 20000)]
    pub description: Option<String>,
    /// ANCT programme (see `/programmes`).
    pub programme_id: Option<Uuid>,
    /// Default 4.
    #[validate(range(min = 1, max = 100))]
    #[schema(minimum = 1, maximum = 100)]
    pub min_territories: Option<i32>,
    /// Default 8.
    #[validate(range(min = 1, max = 100))]
    #[schema(minimum = 1, maximum = 100)]
    pub max_territories: Option<i32>,
    pub planned_start: Option<NaiveDate>,
    /// Planned end; defaults to 12 months after the actual start.
    pub end_date: Option<NaiveDate>,
}

/// Fields to change; absent fields stay, `null` clears an optional one. Territory bounds
/// change only before launch; nothing changes once completed or cancelled.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateFabriqueRequest {
    #[validate(length(min = 1, max = 300))]
    #[schema(min_length = 1, max_length = 300)]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[validate(length(min = 1, max = 300))]
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
    pub min_territories: Option<i32>,
    #[validate(range(min = 1, max = 100))]
    #[schema(minimum = 1, maximum = 100)]
    pub max_territories: Option<i32>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(nullable)]
    pub planned_start: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(nullable)]
    pub end_date: Option<Option<NaiveDate>>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FabriqueListParams {
    /// Only what changed at or after this instant (RFC 3339), for synchronisation.
    #[param(value_type = Option<String>, format = DateTime, example = "2026-11-28T09:00:00Z")]
    pub updated_since: Option<chrono::DateTime<chrono::Utc>>,
    /// Statuses, comma-separated or repeated. Drafts only for ANCT and analysts.
    #[param(example = "running,completed")]
    pub status: Option<String>,
    /// Text contained in the theme (case-insensitive).
    pub theme: Option<String>,
    /// Programme ids, comma-separated or repeated.
    pub programme: Option<String>,
    /// Year of the start (actual, else planned).
    #[param(minimum = 2000, maximum = 2100)]
    pub year: Option<i32>,
    #[param(minimum = 2000, maximum = 2100)]
    pub year_from: Option<i32>,
    #[param(minimum = 2000, maximum = 2100)]
    pub year_to: Option<i32>,
    /// Fabriques a territory took part in (territory ids, comma-separated or repeated).
    pub territory: Option<String>,
    /// Fabriques an organization is a partner of (organization ids).
    pub organization: Option<String>,
    /// Fabriques with a territory of these regions (region codes, comma-separated or repeated).
    #[param(example = "53,28")]
    pub region: Option<String>,
    /// Text search in the title and theme.
    pub q: Option<String>,
    /// `created_at` (default), `title`, `updated_at`, each with `-` for descending.
    pub sort: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    pub cursor: Option<String>,
    pub count: Option<bool>,
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

crate::page_schema!(PartnerPage, PartnerResponse);

/// One possible action and what blocks it now.
#[derive(Debug, Serialize, ToSchema)]
pub struct FabriqueTransitionResponse {
    pub action: FabriqueAction,
    pub to: FabriqueStatus,
    pub allowed: bool,
    /// Every unmet condition (empty when allowed).
    pub blockers: Vec<FieldProblem>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FabriqueTransitionsResponse {
    pub status: FabriqueStatus,
    pub transitions: Vec<FabriqueTransitionResponse>,
}

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

/// Who made a change.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventActor {
    /// The token subject; shown to ANCT only.
    pub sub: Option<String>,
    pub role: String,
    pub organization_id: Option<Uuid>,
    pub territory_id: Option<Uuid>,
}

/// One journal entry.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventResponse {
    pub id: Uuid,
    pub occurred_at: chrono::DateTime<chrono::Utc>,
    pub actor: EventActor,
    #[schema(example = "fabrique.launch")]
    pub action: String,
    #[schema(example = "fabrique")]
    pub entity_type: String,
    pub entity_id: Uuid,
    pub request_id: Option<String>,
    /// The entity's state after the change (personal data removed unless the caller may see it).
    #[schema(value_type = Object)]
    pub state: serde_json::Value,
}

crate::page_schema!(EventPage, EventResponse);

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct HistoryParams {
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    pub cursor: Option<String>,
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
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    caller: MaybeCaller,
    params: Query<FabriqueListParams>,
) -> ApiResult<HttpResponse> {
    let page = store::list(db.get_ref(), caller.0.as_ref(), &params.0).await?;
    Ok(crate::pagination::respond(
        &req, page.items, page.next, page.total,
    ))
}

/// Read a Fabrique. Drafts are visible to ANCT and analysts only.
#[utoipa::path(
    tag = "fabriques", operation_id = "get_fabrique",
    params(("id" = Uuid, Path, description = "Fabrique id")),
    responses(
        (status = 200, body = FabriqueResponse),
        LookupProblems,
    ),
    security((), ("bearer" = []))
)]
#[get("/fabriques/{id}")]
pub async fn get_fabrique(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    caller: MaybeCaller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let f = store::get_visible(db.get_ref(), caller.0.as_ref(), *id).await?;
    Ok(crate::etag::respond(
        &req,
        &store::to_response(db.get_ref(), f).await?,
    ))
}

/// Create a Fabrique (as a draft).
#[utoipa::path(
    tag = "fabriques", operation_id = "create_fabrique",
    request_body = CreateFabriqueRequest,
    responses(
        (status = 201, body = FabriqueResponse, headers(("Location" = String, description = "URL of the new Fabrique"))),
        CreateProblems,
    ),
    security(("bearer" = []))
)]
#[post("/fabriques")]
pub async fn create_fabrique(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    body: Json<CreateFabriqueRequest>,
) -> ApiResult<HttpResponse> {
    caller.require(Permission::WriteFabriques)?;
    let actor = Actor::new(&caller, &req);
    let txn = db.begin().await?;
    let f = store::create(&txn, &actor, body.0).await?;
    txn.commit().await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/fabriques/{}", f.id)))
        .json(f))
}

/// Change a Fabrique.
#[utoipa::path(
    tag = "fabriques", operation_id = "update_fabrique",
    params(("id" = Uuid, Path, description = "Fabrique id")),
    request_body = UpdateFabriqueRequest,
    responses(
        (status = 200, body = FabriqueResponse),
        (status = 409, description = "Closed, or bounds below the accepted count", body = Problem, content_type = "application/problem+json"),
        WriteProblems,
    ),
    security(("bearer" = []))
)]
#[patch("/fabriques/{id}")]
pub async fn update_fabrique(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    if_match: crate::etag::IfMatch,
    id: web::Path<Uuid>,
    body: Json<UpdateFabriqueRequest>,
) -> ApiResult<web::Json<FabriqueResponse>> {
    caller.require(Permission::WriteFabriques)?;
    let actor = Actor::new(&caller, &req);
    let txn = db.begin().await?;
    crate::etag::claim(
        &txn,
        &caller,
        crate::etag::Resource::Fabrique(*id),
        &if_match,
    )
    .await?;
    let f = store::update(&txn, &actor, *id, body.0).await?;
    txn.commit().await?;
    Ok(web::Json(f))
}

/// Delete a draft Fabrique.
#[utoipa::path(
    tag = "fabriques", operation_id = "delete_fabrique",
    params(("id" = Uuid, Path, description = "Fabrique id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 409, description = "Not a draft", body = Problem, content_type = "application/problem+json"),
        ReadProblems,
    ),
    security(("bearer" = []))
)]
#[delete("/fabriques/{id}")]
pub async fn delete_fabrique(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    if_match: crate::etag::IfMatch,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    caller.require(Permission::WriteFabriques)?;
    let actor = Actor::new(&caller, &req);
    let txn = db.begin().await?;
    crate::etag::claim(
        &txn,
        &caller,
        crate::etag::Resource::Fabrique(*id),
        &if_match,
    )
    .await?;
    store::delete(&txn, &actor, *id).await?;
    txn.commit().await?;
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
pub async fn list_partners(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    caller: MaybeCaller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let f = store::get_visible(db.get_ref(), caller.0.as_ref(), *id).await?;
    let partners = store::partners_of(db.get_ref(), &[f.id])
        .await?
        .remove(&f.id)
        .unwrap_or_default();
    Ok(crate::pagination::respond(&req, partners, None, None))
}

/// Set an organization's roles in a Fabrique (pilot, co_animator, co_funder, contractor).
#[utoipa::path(
    tag = "fabriques", operation_id = "put_partner",
    params(("id" = Uuid, Path, description = "Fabrique id"), ("organization_id" = Uuid, Path, description = "Organization id")),
    request_body = PutPartnerRequest,
    responses(
        (status = 200, body = PartnerResponse),
        (status = 409, description = "The Fabrique is closed", body = Problem, content_type = "application/problem+json"),
        WriteProblems,
    ),
    security(("bearer" = []))
)]
#[put("/fabriques/{id}/partners/{organization_id}")]
pub async fn put_partner(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    if_match: crate::etag::IfMatch,
    path: web::Path<(Uuid, Uuid)>,
    body: Json<PutPartnerRequest>,
) -> ApiResult<web::Json<PartnerResponse>> {
    caller.require(Permission::WritePartners)?;
    let (id, org) = path.into_inner();
    let actor = Actor::new(&caller, &req);
    let txn = db.begin().await?;
    crate::etag::claim(
        &txn,
        &caller,
        crate::etag::Resource::Fabrique(id),
        &if_match,
    )
    .await?;
    let p = store::put_partner(&txn, &actor, id, org, body.0.roles).await?;
    txn.commit().await?;
    Ok(web::Json(p))
}

/// Remove an organization from a Fabrique's partners.
#[utoipa::path(
    tag = "fabriques", operation_id = "delete_partner",
    params(("id" = Uuid, Path, description = "Fabrique id"), ("organization_id" = Uuid, Path, description = "Organization id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 409, description = "The Fabrique is closed", body = Problem, content_type = "application/problem+json"),
        ReadProblems,
    ),
    security(("bearer" = []))
)]
#[delete("/fabriques/{id}/partners/{organization_id}")]
pub async fn delete_partner(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    if_match: crate::etag::IfMatch,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    caller.require(Permission::WritePartners)?;
    let (id, org) = path.into_inner();
    let actor = Actor::new(&caller, &req);
    let txn = db.begin().await?;
    crate::etag::claim(
        &txn,
        &caller,
        crate::etag::Resource::Fabrique(id),
        &if_match,
    )
    .await?;
    store::delete_partner(&txn, &actor, id, org).await?;
    txn.commit().await?;
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
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<web::Json<FabriqueTransitionsResponse>> {
    Ok(web::Json(
        store::transitions(db.get_ref(), &caller, *id).await?,
    ))
}

/// Perform a transition: open_recruitment, launch, complete or cancel (with a reason).
#[utoipa::path(
    tag = "fabriques", operation_id = "create_fabrique_transition",
    params(("id" = Uuid, Path, description = "Fabrique id")),
    request_body = FabriqueTransitionRequest,
    responses(
        (status = 200, description = "Done; the Fabrique as it is now", body = FabriqueResponse),
        (status = 409, description = "Refused: every unmet condition in `blockers`", body = Problem, content_type = "application/problem+json"),
        WriteProblems,
    ),
    security(("bearer" = []))
)]
#[post("/fabriques/{id}/transitions")]
pub async fn create_fabrique_transition(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    if_match: crate::etag::IfMatch,
    id: web::Path<Uuid>,
    body: Json<FabriqueTransitionRequest>,
) -> ApiResult<web::Json<FabriqueResponse>> {
    caller.require(Permission::TransitionFabriques)?;
    let actor = Actor::new(&caller, &req);
    let txn = db.begin().await?;
    crate::etag::claim(
        &txn,
        &caller,
        crate::etag::Resource::Fabrique(*id),
        &if_match,
    )
    .await?;
    let f = store::transition(&txn, &actor, *id, body.0.action, body.0.reason.as_deref()).await?;
    txn.commit().await?;
    Ok(web::Json(f))
}

/// The journal of a Fabrique: every change to it and its participations, oldest first.
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
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    id: web::Path<Uuid>,
    params: Query<HistoryParams>,
) -> ApiResult<HttpResponse> {
    caller.require(Permission::ReadHistory)?;
    let page = store::history(db.get_ref(), &caller, *id, &params.0).await?;
    Ok(crate::pagination::respond(
        &req, page.items, page.next, None,
    ))
}
