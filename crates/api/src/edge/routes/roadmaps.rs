//! Roadmaps (feuilles de route) and action programmes, one per participation, with their
//! actions.

use ::store::roadmaps::{self as store, Action, Roadmap};
use actix_web::{HttpResponse, delete, get, patch, post, put, web};
use domain::Permission;
use domain::roadmap::{
    ActionChanges, ActionStatus, Adoption, NewAction, RoadmapAction, RoadmapDraft, RoadmapKind,
    RoadmapStatus,
};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::edge::context::{Public, Signed, Write};
use crate::edge::error::{ApiResult, Problem};
use crate::edge::etag::{IfMatchHeader, IfNoneMatchHeader};
use crate::edge::extract::{Day, Json, double_option};
use crate::edge::problems::{
    CachedLookupProblems, ConditionalDeleteProblems, ConditionalWriteProblems, ReadProblems,
    WriteProblems,
};

/// Creates the roadmap, or changes it while it is a draft.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"kind": "roadmap", "title": "Feuille de route 2030", "summary": "Trois axes…"}))]
pub struct PutRoadmapRequest {
    pub kind: RoadmapKind,
    #[validate(
        length(min = 1, max = 300),
        custom(function = "crate::edge::extract::not_blank")
    )]
    #[schema(min_length = 1, max_length = 300)]
    pub title: String,
    #[validate(length(max = 50000))]
    #[schema(max_length = 50000)]
    pub summary: Option<String>,
}

impl From<PutRoadmapRequest> for RoadmapDraft {
    fn from(r: PutRoadmapRequest) -> Self {
        RoadmapDraft {
            kind: r.kind,
            title: r.title.trim().to_owned(),
            summary: r.summary,
        }
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"title": "Requalifier la zone d'activité", "lead": "Service économie", "horizon": "2028", "estimated_cost_cents": 150000000}))]
pub struct CreateRoadmapActionRequest {
    #[validate(
        length(min = 1, max = 300),
        custom(function = "crate::edge::extract::not_blank")
    )]
    #[schema(min_length = 1, max_length = 300)]
    pub title: String,
    #[validate(length(max = 20000))]
    #[schema(max_length = 20000)]
    pub description: Option<String>,
    #[validate(
        length(min = 1, max = 200),
        custom(function = "crate::edge::extract::not_blank")
    )]
    #[schema(min_length = 1, max_length = 200)]
    pub lead: Option<String>,
    #[validate(
        length(min = 1, max = 100),
        custom(function = "crate::edge::extract::not_blank")
    )]
    #[schema(min_length = 1, max_length = 100)]
    pub horizon: Option<String>,
    #[schema(value_type = Option<String>, format = Date)]
    pub due_on: Option<Day>,
    /// In euro cents, 0 or more.
    #[validate(range(min = 0, max = 100_000_000_000_000i64))]
    #[schema(minimum = 0, maximum = 100_000_000_000_000i64)]
    pub estimated_cost_cents: Option<i64>,
    pub status: Option<ActionStatus>,
}

impl From<CreateRoadmapActionRequest> for NewAction {
    fn from(r: CreateRoadmapActionRequest) -> Self {
        NewAction {
            title: r.title.trim().to_owned(),
            description: r.description.unwrap_or_default(),
            lead: r.lead,
            horizon: r.horizon,
            due_on: r.due_on.map(Into::into),
            estimated_cost_cents: r.estimated_cost_cents,
            status: r.status.unwrap_or(ActionStatus::Planned),
        }
    }
}

/// Any field while the roadmap is a draft; only `status` once submitted or adopted.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateRoadmapActionRequest {
    #[validate(
        length(min = 1, max = 300),
        custom(function = "crate::edge::extract::not_blank")
    )]
    #[schema(min_length = 1, max_length = 300)]
    pub title: Option<String>,
    #[validate(length(max = 20000))]
    #[schema(max_length = 20000)]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[validate(
        length(min = 1, max = 200),
        custom(function = "crate::edge::extract::not_blank")
    )]
    #[schema(nullable, min_length = 1, max_length = 200)]
    pub lead: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[validate(
        length(min = 1, max = 100),
        custom(function = "crate::edge::extract::not_blank")
    )]
    #[schema(nullable, min_length = 1, max_length = 100)]
    pub horizon: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, format = Date)]
    pub due_on: Option<Option<Day>>,
    #[serde(default, deserialize_with = "double_option")]
    #[validate(range(min = 0, max = 100_000_000_000_000i64))]
    #[schema(nullable, minimum = 0, maximum = 100_000_000_000_000i64)]
    pub estimated_cost_cents: Option<Option<i64>>,
    pub status: Option<ActionStatus>,
}

impl From<UpdateRoadmapActionRequest> for ActionChanges {
    fn from(r: UpdateRoadmapActionRequest) -> Self {
        ActionChanges {
            title: r.title.map(|t| t.trim().to_owned()),
            description: r.description,
            lead: r.lead,
            horizon: r.horizon,
            due_on: r.due_on.map(|d| d.map(Into::into)),
            estimated_cost_cents: r.estimated_cost_cents,
            status: r.status,
        }
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"action": "adopt", "adoption_date": "2027-11-20", "adoption_reference": "Délibération du conseil communautaire n° 2027-112"}))]
pub struct RoadmapTransitionRequest {
    pub action: RoadmapAction,
    /// Required to adopt; not in the future.
    #[schema(value_type = Option<String>, format = Date)]
    pub adoption_date: Option<Day>,
    /// Required to adopt.
    #[validate(
        length(min = 1, max = 300),
        custom(function = "crate::edge::extract::not_blank")
    )]
    #[schema(min_length = 1, max_length = 300)]
    pub adoption_reference: Option<String>,
}

crate::transitions_schema!(
    RoadmapTransitionsResponse,
    RoadmapTransitionResponse,
    RoadmapAction,
    RoadmapStatus
);

const NOT_DRAFT: &str =
    "The roadmap is no longer a draft, or the participation is not active (see `blockers`)";

/// Read a participation's roadmap with its actions.
#[utoipa::path(
    tag = "roadmaps", operation_id = "get_roadmap",
    params(("id" = Uuid, Path, description = "Participation id"), IfNoneMatchHeader),
    responses(
        (status = 200, body = Roadmap, headers(("ETag" = String, description = "Strong ETag of this representation"))),
        CachedLookupProblems,
    ),
    security((), ("bearer" = []))
)]
#[get("/participations/{id}/roadmap")]
pub async fn get_roadmap(r: Public, id: web::Path<Uuid>) -> ApiResult<HttpResponse> {
    Ok(r.etagged(&store::get(r.db(), r.access(), *id).await?))
}

/// Create the roadmap of an active participation, or change it while it is a draft.
#[utoipa::path(
    tag = "roadmaps", operation_id = "put_roadmap",
    params(("id" = Uuid, Path, description = "Participation id"), IfMatchHeader),
    request_body = PutRoadmapRequest,
    responses(
        (status = 200, description = "Changed", body = Roadmap),
        (status = 201, description = "Created", body = Roadmap, headers(("Location" = String, description = "URL of the roadmap"))),
        (status = 409, description = NOT_DRAFT, body = Problem, content_type = "application/problem+json"),
        ConditionalWriteProblems,
    ),
    security(("bearer" = []))
)]
#[put("/participations/{id}/roadmap")]
pub async fn put_roadmap(
    w: Write,
    id: web::Path<Uuid>,
    body: Json<PutRoadmapRequest>,
) -> ApiResult<HttpResponse> {
    let (id, draft) = (*id, RoadmapDraft::from(body.0));
    // Without If-Match nothing is claimed, so a first PUT creates the roadmap.
    let (roadmap, created) = w
        .run_on::<Roadmap, _, _>(Permission::WriteRoadmaps, id, move |tx, actor| {
            Box::pin(store::put(tx, actor, id, draft))
        })
        .await?;
    Ok(if created {
        crate::edge::created(format!("/api/v1/participations/{id}/roadmap"), &roadmap)
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
        (status = 201, body = Action, headers(("Location" = String, description = "URL of the new action"))),
        (status = 409, description = NOT_DRAFT, body = Problem, content_type = "application/problem+json"),
        WriteProblems,
    ),
    security(("bearer" = []))
)]
#[post("/participations/{id}/roadmap/actions")]
pub async fn create_roadmap_action(
    w: Write,
    id: web::Path<Uuid>,
    body: Json<CreateRoadmapActionRequest>,
) -> ApiResult<HttpResponse> {
    let (id, new) = (*id, NewAction::from(body.0));
    let a = w
        .run(Permission::WriteRoadmaps, move |tx, actor| {
            Box::pin(store::add_action(tx, actor, id, new))
        })
        .await?;
    Ok(crate::edge::created(
        format!("/api/v1/roadmap-actions/{}", a.id),
        &a,
    ))
}

/// Read a roadmap action.
#[utoipa::path(
    tag = "roadmaps", operation_id = "get_roadmap_action",
    params(("id" = Uuid, Path, description = "Action id"), IfNoneMatchHeader),
    responses(
        (status = 200, body = Action, headers(("ETag" = String, description = "Strong ETag of this representation"))),
        CachedLookupProblems,
    ),
    security((), ("bearer" = []))
)]
#[get("/roadmap-actions/{id}")]
pub async fn get_roadmap_action(r: Public, id: web::Path<Uuid>) -> ApiResult<HttpResponse> {
    Ok(r.etagged(&store::get_action(r.db(), r.access(), *id).await?))
}

/// Change a roadmap action (only its status once the roadmap is submitted).
#[utoipa::path(
    tag = "roadmaps", operation_id = "update_roadmap_action",
    params(("id" = Uuid, Path, description = "Action id"), IfMatchHeader),
    request_body = UpdateRoadmapActionRequest,
    responses(
        (status = 200, body = Action),
        (status = 409, description = NOT_DRAFT, body = Problem, content_type = "application/problem+json"),
        ConditionalWriteProblems,
    ),
    security(("bearer" = []))
)]
#[patch("/roadmap-actions/{id}")]
pub async fn update_roadmap_action(
    w: Write,
    id: web::Path<Uuid>,
    body: Json<UpdateRoadmapActionRequest>,
) -> ApiResult<web::Json<Action>> {
    let (id, changes) = (*id, ActionChanges::from(body.0));
    w.run_on::<Action, _, _>(Permission::WriteRoadmaps, id, move |tx, actor| {
        Box::pin(store::update_action(tx, actor, id, changes))
    })
    .await
    .map(web::Json)
}

/// Remove an action from a draft roadmap.
#[utoipa::path(
    tag = "roadmaps", operation_id = "delete_roadmap_action",
    params(("id" = Uuid, Path, description = "Action id"), IfMatchHeader),
    responses(
        (status = 204, description = "Removed"),
        (status = 409, description = NOT_DRAFT, body = Problem, content_type = "application/problem+json"),
        ConditionalDeleteProblems,
    ),
    security(("bearer" = []))
)]
#[delete("/roadmap-actions/{id}")]
pub async fn delete_roadmap_action(w: Write, id: web::Path<Uuid>) -> ApiResult<HttpResponse> {
    let id = *id;
    w.run_on::<Action, _, _>(Permission::WriteRoadmaps, id, move |tx, actor| {
        Box::pin(store::delete_action(tx, actor, id))
    })
    .await?;
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
    r: Signed,
    id: web::Path<Uuid>,
) -> ApiResult<web::Json<RoadmapTransitionsResponse>> {
    let t = store::transitions(r.db(), r.access(), *id).await?;
    Ok(web::Json(t.into()))
}

/// Submit, return to draft, or adopt (with the date and reference of the decision) a roadmap.
/// Adoption completes the participation.
#[utoipa::path(
    tag = "roadmaps", operation_id = "create_roadmap_transition",
    params(("id" = Uuid, Path, description = "Participation id"), IfMatchHeader),
    request_body = RoadmapTransitionRequest,
    responses(
        (status = 200, description = "Done; the roadmap as it is now", body = Roadmap),
        (status = 409, description = "Refused: every unmet condition in `blockers`", body = Problem, content_type = "application/problem+json"),
        ConditionalWriteProblems,
    ),
    security(("bearer" = []))
)]
#[post("/participations/{id}/roadmap/transitions")]
pub async fn create_roadmap_transition(
    w: Write,
    id: web::Path<Uuid>,
    body: Json<RoadmapTransitionRequest>,
) -> ApiResult<web::Json<Roadmap>> {
    let (id, action) = (*id, body.0.action);
    let adoption = Adoption {
        date: body.0.adoption_date.map(Into::into),
        reference: body.0.adoption_reference.map(|r| r.trim().to_owned()),
    };
    w.run_on::<Roadmap, _, _>(store::permission_of(action), id, move |tx, actor| {
        Box::pin(store::transition(tx, actor, id, action, adoption))
    })
    .await
    .map(web::Json)
}
