//! The local working group (groupe de travail local) of a participation. Personal data:
//! visible to ANCT, the Fabrique's co-animators and contractor, and the territory itself.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use sea_orm::{DatabaseConnection, TransactionTrait};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::auth::Caller;
use crate::error::{ApiResult, Problem};
use crate::extract::{Json, Query, double_option};
use crate::journal::Actor;
use crate::problems::{ReadProblems, WriteProblems};
use crate::store::working_groups as store;

/// Who a member is, for the figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MemberCategory {
    ElectedOfficial,
    LocalGovernmentStaff,
    Business,
    Association,
    Resident,
    StateService,
    Partner,
}

impl MemberCategory {
    pub const ALL: [MemberCategory; 7] = [
        MemberCategory::ElectedOfficial,
        MemberCategory::LocalGovernmentStaff,
        MemberCategory::Business,
        MemberCategory::Association,
        MemberCategory::Resident,
        MemberCategory::StateService,
        MemberCategory::Partner,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MemberCategory::ElectedOfficial => "elected_official",
            MemberCategory::LocalGovernmentStaff => "local_government_staff",
            MemberCategory::Business => "business",
            MemberCategory::Association => "association",
            MemberCategory::Resident => "resident",
            MemberCategory::StateService => "state_service",
            MemberCategory::Partner => "partner",
        }
    }
}

/// A member of a local working group (personal data).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WorkingGroupMemberResponse {
    pub id: Uuid,
    pub participation_id: Uuid,
    #[schema(example = "Jeanne Martin")]
    pub name: String,
    #[schema(example = "Chambre de commerce et d'industrie")]
    pub organization: Option<String>,
    #[schema(example = "chargée de mission")]
    pub function: Option<String>,
    pub category: MemberCategory,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

crate::page_schema!(WorkingGroupMemberPage, WorkingGroupMemberResponse);

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Jeanne Martin", "organization": "CCI", "function": "chargée de mission", "category": "business"}))]
pub struct CreateWorkingGroupMemberRequest {
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub organization: Option<String>,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub function: Option<String>,
    pub category: MemberCategory,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWorkingGroupMemberRequest {
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[validate(length(min = 1, max = 200))]
    #[schema(nullable, min_length = 1, max_length = 200)]
    pub organization: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[validate(length(min = 1, max = 200))]
    #[schema(nullable, min_length = 1, max_length = 200)]
    pub function: Option<Option<String>>,
    pub category: Option<MemberCategory>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct WorkingGroupListParams {
    /// Only what changed at or after this instant (RFC 3339), for synchronisation.
    #[param(value_type = Option<String>, format = DateTime, example = "2026-11-28T09:00:00Z")]
    pub updated_since: Option<chrono::DateTime<chrono::Utc>>,
    /// Categories, comma-separated or repeated.
    pub category: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    pub cursor: Option<String>,
    pub count: Option<bool>,
}

const CLOSED: &str = "The participation is closed (rejected, withdrawn or completed)";

/// List a participation's working group.
#[utoipa::path(
    tag = "working groups", operation_id = "list_working_group_members",
    params(("id" = Uuid, Path, description = "Participation id"), WorkingGroupListParams),
    responses((status = 200, body = WorkingGroupMemberPage), ReadProblems),
    security(("bearer" = []))
)]
#[get("/participations/{id}/working-group-members")]
pub async fn list_working_group_members(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    id: web::Path<Uuid>,
    params: Query<WorkingGroupListParams>,
) -> ApiResult<HttpResponse> {
    let page = store::list(db.get_ref(), &caller, *id, &params.0).await?;
    Ok(crate::pagination::respond(
        &req, page.items, page.next, page.total,
    ))
}

/// Add a member to a participation's working group.
#[utoipa::path(
    tag = "working groups", operation_id = "create_working_group_member",
    params(("id" = Uuid, Path, description = "Participation id")),
    request_body = CreateWorkingGroupMemberRequest,
    responses(
        (status = 201, body = WorkingGroupMemberResponse, headers(("Location" = String, description = "URL of the new member"))),
        (status = 409, description = CLOSED, body = Problem, content_type = "application/problem+json"),
        WriteProblems,
    ),
    security(("bearer" = []))
)]
#[post("/participations/{id}/working-group-members")]
pub async fn create_working_group_member(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: Json<CreateWorkingGroupMemberRequest>,
) -> ApiResult<HttpResponse> {
    let actor = Actor::new(&caller, &req);
    let txn = db.begin().await?;
    let m = store::create(&txn, &actor, *id, body.0).await?;
    txn.commit().await?;
    Ok(HttpResponse::Created()
        .insert_header((
            "Location",
            format!("/api/v1/working-group-members/{}", m.id),
        ))
        .json(m))
}

/// Read a working group member.
#[utoipa::path(
    tag = "working groups", operation_id = "get_working_group_member",
    params(("id" = Uuid, Path, description = "Member id")),
    responses((status = 200, body = WorkingGroupMemberResponse), ReadProblems),
    security(("bearer" = []))
)]
#[get("/working-group-members/{id}")]
pub async fn get_working_group_member(
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

/// Change a working group member.
#[utoipa::path(
    tag = "working groups", operation_id = "update_working_group_member",
    params(("id" = Uuid, Path, description = "Member id")),
    request_body = UpdateWorkingGroupMemberRequest,
    responses(
        (status = 200, body = WorkingGroupMemberResponse),
        (status = 409, description = CLOSED, body = Problem, content_type = "application/problem+json"),
        WriteProblems,
    ),
    security(("bearer" = []))
)]
#[patch("/working-group-members/{id}")]
pub async fn update_working_group_member(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    if_match: crate::etag::IfMatch,
    id: web::Path<Uuid>,
    body: Json<UpdateWorkingGroupMemberRequest>,
) -> ApiResult<web::Json<WorkingGroupMemberResponse>> {
    let actor = Actor::new(&caller, &req);
    let txn = db.begin().await?;
    crate::etag::claim(
        &txn,
        &caller,
        crate::etag::Resource::WorkingGroupMember(*id),
        &if_match,
    )
    .await?;
    let m = store::update(&txn, &actor, *id, body.0).await?;
    txn.commit().await?;
    Ok(web::Json(m))
}

/// Remove a member from a working group.
#[utoipa::path(
    tag = "working groups", operation_id = "delete_working_group_member",
    params(("id" = Uuid, Path, description = "Member id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 409, description = CLOSED, body = Problem, content_type = "application/problem+json"),
        ReadProblems,
    ),
    security(("bearer" = []))
)]
#[delete("/working-group-members/{id}")]
pub async fn delete_working_group_member(
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
        crate::etag::Resource::WorkingGroupMember(*id),
        &if_match,
    )
    .await?;
    store::delete(&txn, &actor, *id).await?;
    txn.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}
