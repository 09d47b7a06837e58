//! Participations (candidatures / territoires accompagnés): a territory in a Fabrique.

use ::store::participations::{self as store, Participation};
use actix_web::{HttpResponse, get, patch, post, web};
use domain::participation::{NewParticipation, ParticipationChanges};
use domain::query::ParticipationFilter;
use domain::{ParticipationAction, ParticipationStatus, Permission};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::edge::context::{Public, Signed, Write};
use crate::edge::error::{ApiResult, Problem};
use crate::edge::etag::{IfMatchHeader, IfNoneMatchHeader};
use crate::edge::extract::{Json, Query, double_option};
use crate::edge::params::CreationSort;
use crate::edge::problems::{
    CachedLookupProblems, ConditionalWriteProblems, LookupProblems, PublicListProblems,
    ReadProblems, WriteProblems,
};

crate::page_schema!(ParticipationPage, Participation);

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"territory_id": "01936f7e-0000-7000-8000-000000000001", "sponsor_name": "Jeanne Martin", "sponsor_mandate": "maire", "motivation": "Préparer la transition de nos zones d'activité", "focus": "foncier économique"}))]
pub struct CreateParticipationRequest {
    pub territory_id: Uuid,
    #[validate(
        length(min = 1, max = 200),
        custom(function = "crate::edge::extract::not_blank")
    )]
    #[schema(min_length = 1, max_length = 200)]
    pub sponsor_name: Option<String>,
    #[validate(
        length(min = 1, max = 200),
        custom(function = "crate::edge::extract::not_blank")
    )]
    #[schema(min_length = 1, max_length = 200)]
    pub sponsor_mandate: Option<String>,
    #[validate(length(max = 10000))]
    #[schema(max_length = 10000)]
    pub motivation: Option<String>,
    #[validate(
        length(min = 1, max = 300),
        custom(function = "crate::edge::extract::not_blank")
    )]
    #[schema(min_length = 1, max_length = 300)]
    pub focus: Option<String>,
}

impl From<CreateParticipationRequest> for NewParticipation {
    fn from(r: CreateParticipationRequest) -> Self {
        NewParticipation {
            territory_id: r.territory_id,
            sponsor_name: r.sponsor_name,
            sponsor_mandate: r.sponsor_mandate,
            motivation: r.motivation,
            focus: r.focus,
        }
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateParticipationRequest {
    #[serde(default, deserialize_with = "double_option")]
    #[validate(
        length(min = 1, max = 200),
        custom(function = "crate::edge::extract::not_blank")
    )]
    #[schema(nullable, min_length = 1, max_length = 200)]
    pub sponsor_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[validate(
        length(min = 1, max = 200),
        custom(function = "crate::edge::extract::not_blank")
    )]
    #[schema(nullable, min_length = 1, max_length = 200)]
    pub sponsor_mandate: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[validate(length(max = 10000))]
    #[schema(nullable, max_length = 10000)]
    pub motivation: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[validate(
        length(min = 1, max = 300),
        custom(function = "crate::edge::extract::not_blank")
    )]
    #[schema(nullable, min_length = 1, max_length = 300)]
    pub focus: Option<Option<String>>,
}

impl From<UpdateParticipationRequest> for ParticipationChanges {
    fn from(r: UpdateParticipationRequest) -> Self {
        ParticipationChanges {
            sponsor_name: r.sponsor_name,
            sponsor_mandate: r.sponsor_mandate,
            motivation: r.motivation,
            focus: r.focus,
        }
    }
}

crate::list_params! {
    ParticipationListParams sort CreationSort = CreationSort::CreatedAt;
    {
        /// Only what changed at or after this instant, for synchronisation.
        #[param(value_type = Option<String>, format = DateTime, example = "2026-11-28T09:00:00Z")]
        updated_since: Option<crate::edge::extract::Instant>,
        /// Statuses, comma-separated or repeated.
        #[serde(default, deserialize_with = "crate::edge::params::list")]
        #[param(style = Form, explode, example = json!(["applied", "accepted"]))]
        status: Option<Vec<ParticipationStatus>>,
        /// Fabrique ids.
        #[serde(default, deserialize_with = "crate::edge::params::list")]
        #[param(style = Form, explode)]
        fabrique: Option<Vec<Uuid>>,
        /// Territory ids.
        #[serde(default, deserialize_with = "crate::edge::params::list")]
        #[param(style = Form, explode)]
        territory: Option<Vec<Uuid>>,
    }
}

impl ParticipationListParams {
    fn filter(&self) -> ParticipationFilter {
        ParticipationFilter {
            fabriques: self.fabrique.clone().unwrap_or_default(),
            territories: self.territory.clone().unwrap_or_default(),
            statuses: self.status.clone().unwrap_or_default(),
            updated_since: self.updated_since.map(Into::into),
        }
    }
}

crate::transitions_schema!(
    ParticipationTransitionsResponse,
    ParticipationTransitionResponse,
    ParticipationAction,
    ParticipationStatus
);

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

/// List the participations of a Fabrique the caller may see: every status for ANCT,
/// analysts and partners; a territory sees its own, and the others' accompanied ones.
#[utoipa::path(
    tag = "participations", operation_id = "list_fabrique_participations",
    params(("id" = Uuid, Path, description = "Fabrique id"), ParticipationListParams),
    responses(
        (status = 200, body = ParticipationPage),
        LookupProblems,
    ),
    security((), ("bearer" = []))
)]
#[get("/fabriques/{id}/participations")]
pub async fn list_fabrique_participations(
    r: Public,
    id: web::Path<Uuid>,
    Query(p): Query<ParticipationListParams>,
) -> ApiResult<HttpResponse> {
    let page = store::list(r.db(), r.access(), Some(*id), &p.filter(), &p.page()?).await?;
    Ok(r.page(page))
}

/// Apply for a territory (while the Fabrique recruits).
#[utoipa::path(
    tag = "participations", operation_id = "create_participation",
    params(("id" = Uuid, Path, description = "Fabrique id")),
    request_body = CreateParticipationRequest,
    responses(
        (status = 201, body = Participation, headers(("Location" = String, description = "URL of the new participation"))),
        (status = 409, description = "Not recruiting, or already applied: see `blockers`", body = Problem, content_type = "application/problem+json"),
        WriteProblems,
    ),
    security(("bearer" = []))
)]
#[post("/fabriques/{id}/participations")]
pub async fn create_participation(
    w: Write,
    id: web::Path<Uuid>,
    body: Json<CreateParticipationRequest>,
) -> ApiResult<HttpResponse> {
    let (id, new) = (*id, NewParticipation::from(body.0));
    let p = w
        .run(Permission::Apply, move |tx, actor| {
            Box::pin(store::apply(tx, actor, id, new))
        })
        .await?;
    Ok(crate::edge::created(
        format!("/api/v1/participations/{}", p.id),
        &p,
    ))
}

/// List participations across Fabriques, as the caller may see them.
#[utoipa::path(
    tag = "participations", operation_id = "list_participations",
    params(ParticipationListParams),
    responses(
        (status = 200, body = ParticipationPage),
        PublicListProblems,
    ),
    security((), ("bearer" = []))
)]
#[get("/participations")]
pub async fn list_participations(
    r: Public,
    Query(p): Query<ParticipationListParams>,
) -> ApiResult<HttpResponse> {
    let page = store::list(r.db(), r.access(), None, &p.filter(), &p.page()?).await?;
    Ok(r.page(page))
}

/// Read a participation.
#[utoipa::path(
    tag = "participations", operation_id = "get_participation",
    params(("id" = Uuid, Path, description = "Participation id"), IfNoneMatchHeader),
    responses(
        (status = 200, body = Participation, headers(("ETag" = String, description = "Strong ETag of this representation"))),
        CachedLookupProblems,
    ),
    security((), ("bearer" = []))
)]
#[get("/participations/{id}")]
pub async fn get_participation(r: Public, id: web::Path<Uuid>) -> ApiResult<HttpResponse> {
    Ok(r.etagged(&store::get(r.db(), r.access(), *id).await?))
}

/// Change a participation's sponsor, motivation or focus.
#[utoipa::path(
    tag = "participations", operation_id = "update_participation",
    params(("id" = Uuid, Path, description = "Participation id"), IfMatchHeader),
    request_body = UpdateParticipationRequest,
    responses(
        (status = 200, body = Participation),
        (status = 409, description = "The participation is closed (see `blockers`)", body = Problem, content_type = "application/problem+json"),
        ConditionalWriteProblems,
    ),
    security(("bearer" = []))
)]
#[patch("/participations/{id}")]
pub async fn update_participation(
    w: Write,
    id: web::Path<Uuid>,
    body: Json<UpdateParticipationRequest>,
) -> ApiResult<web::Json<Participation>> {
    let (id, changes) = (*id, ParticipationChanges::from(body.0));
    w.run_on::<Participation, _, _>(Permission::UpdateParticipations, id, move |tx, actor| {
        Box::pin(store::update(tx, actor, id, changes))
    })
    .await
    .map(web::Json)
}

/// Which transitions are possible now, and what blocks the others.
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
    r: Signed,
    id: web::Path<Uuid>,
) -> ApiResult<web::Json<ParticipationTransitionsResponse>> {
    r.access().require(Permission::ReadParticipations)?;
    let t = store::transitions(r.db(), r.access(), *id).await?;
    Ok(web::Json(t.into()))
}

/// Accept or reject an application (ANCT), or withdraw (with a reason).
#[utoipa::path(
    tag = "participations", operation_id = "create_participation_transition",
    params(("id" = Uuid, Path, description = "Participation id"), IfMatchHeader),
    request_body = ParticipationTransitionRequest,
    responses(
        (status = 200, description = "Done; the participation as it is now", body = Participation),
        (status = 409, description = "Refused: every unmet condition in `blockers`", body = Problem, content_type = "application/problem+json"),
        ConditionalWriteProblems,
    ),
    security(("bearer" = []))
)]
#[post("/participations/{id}/transitions")]
pub async fn create_participation_transition(
    w: Write,
    id: web::Path<Uuid>,
    body: Json<ParticipationTransitionRequest>,
) -> ApiResult<web::Json<Participation>> {
    let (id, action) = (*id, body.0.action);
    let reason = body.0.reason.map(|r| r.trim().to_owned());
    let perm = store::permission_of(action);
    w.run_on::<Participation, _, _>(perm, id, move |tx, actor| {
        Box::pin(async move { store::transition(tx, actor, id, action, reason.as_deref()).await })
    })
    .await
    .map(web::Json)
}
