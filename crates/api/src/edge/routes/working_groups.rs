//! Local working groups (groupes de travail locaux): personal data as a whole.

use ::store::working_groups::{self as store, Member};
use actix_web::{HttpResponse, delete, get, patch, post, web};
use domain::query::MemberFilter;
use domain::working_group::{MemberChanges, NewMember};
use domain::{MemberCategory, Permission};
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
    CachedReadProblems, ConditionalDeleteProblems, ConditionalWriteProblems, ReadProblems,
    WriteProblems,
};

crate::page_schema!(WorkingGroupMemberPage, Member);

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Jeanne Martin", "organization": "CCI", "function": "chargée de mission", "category": "business"}))]
pub struct CreateWorkingGroupMemberRequest {
    #[validate(
        length(min = 1, max = 200),
        custom(function = "crate::edge::extract::not_blank")
    )]
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    #[validate(
        length(min = 1, max = 200),
        custom(function = "crate::edge::extract::not_blank")
    )]
    #[schema(min_length = 1, max_length = 200)]
    pub organization: Option<String>,
    #[validate(
        length(min = 1, max = 200),
        custom(function = "crate::edge::extract::not_blank")
    )]
    #[schema(min_length = 1, max_length = 200)]
    pub function: Option<String>,
    pub category: MemberCategory,
}

impl From<CreateWorkingGroupMemberRequest> for NewMember {
    fn from(r: CreateWorkingGroupMemberRequest) -> Self {
        NewMember {
            name: r.name.trim().to_owned(),
            organization: r.organization,
            function: r.function,
            category: r.category,
        }
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWorkingGroupMemberRequest {
    #[validate(
        length(min = 1, max = 200),
        custom(function = "crate::edge::extract::not_blank")
    )]
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[validate(
        length(min = 1, max = 200),
        custom(function = "crate::edge::extract::not_blank")
    )]
    #[schema(nullable, min_length = 1, max_length = 200)]
    pub organization: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[validate(
        length(min = 1, max = 200),
        custom(function = "crate::edge::extract::not_blank")
    )]
    #[schema(nullable, min_length = 1, max_length = 200)]
    pub function: Option<Option<String>>,
    pub category: Option<MemberCategory>,
}

impl From<UpdateWorkingGroupMemberRequest> for MemberChanges {
    fn from(r: UpdateWorkingGroupMemberRequest) -> Self {
        MemberChanges {
            name: r.name.map(|n| n.trim().to_owned()),
            organization: r.organization,
            function: r.function,
            category: r.category,
        }
    }
}

crate::list_params! {
    WorkingGroupListParams sort CreationSort = CreationSort::CreatedAt;
    {
        /// Only what changed at or after this instant, for synchronisation.
        #[param(value_type = Option<String>, format = DateTime, example = "2026-11-28T09:00:00Z")]
        updated_since: Option<crate::edge::extract::Instant>,
        /// Categories, comma-separated or repeated.
        #[serde(default, deserialize_with = "crate::edge::params::list")]
        #[param(style = Form, explode)]
        category: Option<Vec<MemberCategory>>,
    }
}

const CLOSED: &str =
    "The participation is closed: rejected, withdrawn or completed (see `blockers`)";

/// List a participation's working group.
#[utoipa::path(
    tag = "working groups", operation_id = "list_working_group_members",
    params(("id" = Uuid, Path, description = "Participation id"), WorkingGroupListParams),
    responses((status = 200, body = WorkingGroupMemberPage), ReadProblems),
    security(("bearer" = []))
)]
#[get("/participations/{id}/working-group-members")]
pub async fn list_working_group_members(
    r: Signed,
    id: web::Path<Uuid>,
    Query(p): Query<WorkingGroupListParams>,
) -> ApiResult<HttpResponse> {
    let filter = MemberFilter {
        categories: p.category.clone().unwrap_or_default(),
        updated_since: p.updated_since.map(Into::into),
    };
    Ok(r.page(store::list(r.db(), r.access(), *id, &filter, &p.page()?).await?))
}

/// Add a member to a participation's working group.
#[utoipa::path(
    tag = "working groups", operation_id = "create_working_group_member",
    params(("id" = Uuid, Path, description = "Participation id")),
    request_body = CreateWorkingGroupMemberRequest,
    responses(
        (status = 201, body = Member, headers(("Location" = String, description = "URL of the new member"))),
        (status = 409, description = CLOSED, body = Problem, content_type = "application/problem+json"),
        WriteProblems,
    ),
    security(("bearer" = []))
)]
#[post("/participations/{id}/working-group-members")]
pub async fn create_working_group_member(
    w: Write,
    id: web::Path<Uuid>,
    body: Json<CreateWorkingGroupMemberRequest>,
) -> ApiResult<HttpResponse> {
    let (id, new) = (*id, NewMember::from(body.0));
    let m = w
        .run(Permission::WriteWorkingGroups, move |tx, actor| {
            Box::pin(store::create(tx, actor, id, new))
        })
        .await?;
    Ok(crate::edge::created(
        format!("/api/v1/working-group-members/{}", m.id),
        &m,
    ))
}

/// Read a working group member.
#[utoipa::path(
    tag = "working groups", operation_id = "get_working_group_member",
    params(("id" = Uuid, Path, description = "Member id"), IfNoneMatchHeader),
    responses(
        (status = 200, body = Member, headers(("ETag" = String, description = "Strong ETag of this representation"))),
        CachedReadProblems,
    ),
    security(("bearer" = []))
)]
#[get("/working-group-members/{id}")]
pub async fn get_working_group_member(r: Signed, id: web::Path<Uuid>) -> ApiResult<HttpResponse> {
    Ok(r.etagged(&store::get(r.db(), r.access(), *id).await?))
}

/// Change a working group member.
#[utoipa::path(
    tag = "working groups", operation_id = "update_working_group_member",
    params(("id" = Uuid, Path, description = "Member id"), IfMatchHeader),
    request_body = UpdateWorkingGroupMemberRequest,
    responses(
        (status = 200, body = Member),
        (status = 409, description = CLOSED, body = Problem, content_type = "application/problem+json"),
        ConditionalWriteProblems,
    ),
    security(("bearer" = []))
)]
#[patch("/working-group-members/{id}")]
pub async fn update_working_group_member(
    w: Write,
    id: web::Path<Uuid>,
    body: Json<UpdateWorkingGroupMemberRequest>,
) -> ApiResult<web::Json<Member>> {
    let (id, changes) = (*id, MemberChanges::from(body.0));
    w.run_on::<Member, _, _>(Permission::WriteWorkingGroups, id, move |tx, actor| {
        Box::pin(store::update(tx, actor, id, changes))
    })
    .await
    .map(web::Json)
}

/// Remove a member from a working group.
#[utoipa::path(
    tag = "working groups", operation_id = "delete_working_group_member",
    params(("id" = Uuid, Path, description = "Member id"), IfMatchHeader),
    responses(
        (status = 204, description = "Removed"),
        (status = 409, description = CLOSED, body = Problem, content_type = "application/problem+json"),
        ConditionalDeleteProblems,
    ),
    security(("bearer" = []))
)]
#[delete("/working-group-members/{id}")]
pub async fn delete_working_group_member(w: Write, id: web::Path<Uuid>) -> ApiResult<HttpResponse> {
    let id = *id;
    w.run_on::<Member, _, _>(Permission::WriteWorkingGroups, id, move |tx, actor| {
        Box::pin(store::delete(tx, actor, id))
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
