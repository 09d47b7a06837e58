//! `/organizations`: partner organizations (partenaires).

use ::store::organizations::{self as store, Organization};
use actix_web::{HttpResponse, delete, get, patch, post, web};
use domain::directory::{NewOrganization, OrganizationChanges};
use domain::query::OrganizationFilter;
use domain::{OrganizationKind, Permission};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::edge::context::{Signed, Write};
use crate::edge::error::{ApiResult, Problem};
use crate::edge::etag::{IfMatchHeader, IfNoneMatchHeader};
use crate::edge::extract::{Json, Query, double_option};
use crate::edge::params::NameSort;
use crate::edge::problems::{
    CachedReadProblems, ConditionalDeleteProblems, ConditionalWriteProblems, CreateProblems,
    ListProblems,
};

crate::page_schema!(OrganizationPage, Organization);

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrganizationRequest {
    #[validate(
        length(min = 1, max = 200),
        custom(function = "crate::edge::extract::not_blank")
    )]
    #[schema(
        example = "Association des maires de France",
        min_length = 1,
        max_length = 200
    )]
    pub name: String,
    #[validate(
        length(min = 1, max = 40),
        custom(function = "crate::edge::extract::not_blank")
    )]
    #[schema(example = "AMF", min_length = 1, max_length = 40)]
    pub acronym: Option<String>,
    pub kind: OrganizationKind,
    #[validate(
        custom(function = "crate::edge::extract::https_url"),
        length(max = 500)
    )]
    #[schema(
        example = "https://www.amf.asso.fr",
        max_length = 500,
        format = "uri",
        pattern = r"^https://[A-Za-z0-9.-]+(:[0-9]{1,4})?(/([A-Za-z0-9._~!$&'()*+,;=:@-]|%[0-9A-Fa-f]{2})*)*(\?([A-Za-z0-9._~!$&'()*+,;=:@/?-]|%[0-9A-Fa-f]{2})*)?(#([A-Za-z0-9._~!$&'()*+,;=:@/?-]|%[0-9A-Fa-f]{2})*)?$"
    )]
    pub website: Option<String>,
}

impl From<CreateOrganizationRequest> for NewOrganization {
    fn from(r: CreateOrganizationRequest) -> Self {
        NewOrganization {
            name: r.name.trim().to_owned(),
            acronym: r.acronym,
            kind: r.kind,
            website: r.website,
        }
    }
}

/// Fields to change; absent fields are left as they are, `null` clears an optional one.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateOrganizationRequest {
    #[validate(
        length(min = 1, max = 200),
        custom(function = "crate::edge::extract::not_blank")
    )]
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[validate(
        length(min = 1, max = 40),
        custom(function = "crate::edge::extract::not_blank")
    )]
    #[schema(nullable, min_length = 1, max_length = 40)]
    pub acronym: Option<Option<String>>,
    pub kind: Option<OrganizationKind>,
    #[serde(default, deserialize_with = "double_option")]
    #[validate(
        custom(function = "crate::edge::extract::https_url"),
        length(max = 500)
    )]
    #[schema(
        nullable,
        max_length = 500,
        format = "uri",
        pattern = r"^https://[A-Za-z0-9.-]+(:[0-9]{1,4})?(/([A-Za-z0-9._~!$&'()*+,;=:@-]|%[0-9A-Fa-f]{2})*)*(\?([A-Za-z0-9._~!$&'()*+,;=:@/?-]|%[0-9A-Fa-f]{2})*)?(#([A-Za-z0-9._~!$&'()*+,;=:@/?-]|%[0-9A-Fa-f]{2})*)?$"
    )]
    pub website: Option<Option<String>>,
}

impl From<UpdateOrganizationRequest> for OrganizationChanges {
    fn from(r: UpdateOrganizationRequest) -> Self {
        OrganizationChanges {
            name: r.name.map(|n| n.trim().to_owned()),
            acronym: r.acronym,
            kind: r.kind,
            website: r.website,
        }
    }
}

crate::list_params! {
    OrganizationListParams sort NameSort = NameSort::CreatedAt;
    {
        /// Only what changed at or after this instant, for synchronisation.
        #[param(value_type = Option<String>, format = DateTime, example = "2026-11-28T09:00:00Z")]
        updated_since: Option<crate::edge::extract::Instant>,
        /// Kinds, comma-separated or repeated.
        #[serde(default, deserialize_with = "crate::edge::params::list")]
        #[param(style = Form, explode)]
        kind: Option<Vec<OrganizationKind>>,
        /// Text search in the name and acronym (case-insensitive).
        #[serde(default, deserialize_with = "crate::edge::params::text::<_, 200>")]
        #[param(max_length = 200)]
        q: Option<String>,
    }
}

/// List organizations.
#[utoipa::path(
    tag = "organizations", operation_id = "list_organizations",
    params(OrganizationListParams),
    responses(
        (status = 200, description = "A page of organizations", body = OrganizationPage),
        ListProblems,
    ),
    security(("bearer" = []))
)]
#[get("/organizations")]
pub async fn list_organizations(
    r: Signed,
    Query(p): Query<OrganizationListParams>,
) -> ApiResult<HttpResponse> {
    r.access().require(Permission::ReadDirectory)?;
    let filter = OrganizationFilter {
        kinds: p.kind.clone().unwrap_or_default(),
        q: p.q.clone(),
        updated_since: p.updated_since.map(Into::into),
    };
    Ok(r.page(store::list(r.db(), &filter, &p.page()?).await?))
}

/// Read an organization.
#[utoipa::path(
    tag = "organizations", operation_id = "get_organization",
    params(("id" = Uuid, Path, description = "Organization id"), IfNoneMatchHeader),
    responses(
        (status = 200, body = Organization, headers(("ETag" = String, description = "Strong ETag of this representation"))),
        CachedReadProblems,
    ),
    security(("bearer" = []))
)]
#[get("/organizations/{id}")]
pub async fn get_organization(r: Signed, id: web::Path<Uuid>) -> ApiResult<HttpResponse> {
    r.access().require(Permission::ReadDirectory)?;
    Ok(r.etagged(&store::get(r.db(), *id).await?))
}

/// Create an organization.
#[utoipa::path(
    tag = "organizations", operation_id = "create_organization",
    request_body = CreateOrganizationRequest,
    responses(
        (status = 201, body = Organization, headers(("Location" = String, description = "URL of the new organization"))),
        CreateProblems,
    ),
    security(("bearer" = []))
)]
#[post("/organizations")]
pub async fn create_organization(
    w: Write,
    body: Json<CreateOrganizationRequest>,
) -> ApiResult<HttpResponse> {
    let new = NewOrganization::from(body.0);
    let o = w
        .run(Permission::WriteOrganizations, |tx, actor| {
            Box::pin(store::create(tx, actor, new))
        })
        .await?;
    Ok(crate::edge::created(
        format!("/api/v1/organizations/{}", o.id),
        &o,
    ))
}

/// Change an organization.
#[utoipa::path(
    tag = "organizations", operation_id = "update_organization",
    params(("id" = Uuid, Path, description = "Organization id"), IfMatchHeader),
    request_body = UpdateOrganizationRequest,
    responses(
        (status = 200, body = Organization),
        ConditionalWriteProblems,
    ),
    security(("bearer" = []))
)]
#[patch("/organizations/{id}")]
pub async fn update_organization(
    w: Write,
    id: web::Path<Uuid>,
    body: Json<UpdateOrganizationRequest>,
) -> ApiResult<web::Json<Organization>> {
    let (id, changes) = (*id, OrganizationChanges::from(body.0));
    w.run_on::<Organization, _, _>(Permission::WriteOrganizations, id, move |tx, actor| {
        Box::pin(store::update(tx, actor, id, changes))
    })
    .await
    .map(web::Json)
}

/// Delete an organization (refused while a Fabrique references it).
#[utoipa::path(
    tag = "organizations", operation_id = "delete_organization",
    params(("id" = Uuid, Path, description = "Organization id"), IfMatchHeader),
    responses(
        (status = 204, description = "Deleted"),
        (status = 409, description = "Still referenced: see `blockers`", body = Problem, content_type = "application/problem+json"),
        ConditionalDeleteProblems,
    ),
    security(("bearer" = []))
)]
#[delete("/organizations/{id}")]
pub async fn delete_organization(w: Write, id: web::Path<Uuid>) -> ApiResult<HttpResponse> {
    let id = *id;
    w.run_on::<Organization, _, _>(Permission::WriteOrganizations, id, move |tx, actor| {
        Box::pin(store::delete(tx, actor, id))
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
