//! Testimonies of elected officials (témoignages d'élus): the public reads published ones.

use ::store::testimonies::{self as store, Testimony};
use actix_web::{HttpResponse, delete, get, patch, post, web};
use domain::Permission;
use domain::query::TestimonyFilter;
use domain::testimony::{NewTestimony, TestimonyChanges};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::edge::context::{Public, Write};
use crate::edge::error::ApiResult;
use crate::edge::etag::{IfMatchHeader, IfNoneMatchHeader};
use crate::edge::extract::{Day, Json, Query, double_option};
use crate::edge::params::CreationSort;
use crate::edge::problems::{
    CachedLookupProblems, ConditionalDeleteProblems, ConditionalWriteProblems, LookupProblems,
    PublicListProblems, WriteProblems,
};

crate::page_schema!(TestimonyPage, Testimony);

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"speaker": "Brigitte Henri", "role": "adjointe au maire", "quote": "…", "published": false}))]
pub struct CreateTestimonyRequest {
    /// A territory taking part in the Fabrique.
    pub territory_id: Option<Uuid>,
    #[validate(
        length(min = 1, max = 200),
        custom(function = "crate::edge::extract::not_blank")
    )]
    #[schema(min_length = 1, max_length = 200)]
    pub speaker: String,
    #[validate(
        length(min = 1, max = 200),
        custom(function = "crate::edge::extract::not_blank")
    )]
    #[schema(min_length = 1, max_length = 200)]
    pub role: Option<String>,
    #[validate(
        custom(function = "crate::edge::extract::https_url"),
        length(max = 500)
    )]
    #[schema(
        max_length = 500,
        format = "uri",
        pattern = r"^https://[A-Za-z0-9.-]+(:[0-9]{1,4})?(/([A-Za-z0-9._~!$&'()*+,;=:@-]|%[0-9A-Fa-f]{2})*)*(\?([A-Za-z0-9._~!$&'()*+,;=:@/?-]|%[0-9A-Fa-f]{2})*)?(#([A-Za-z0-9._~!$&'()*+,;=:@/?-]|%[0-9A-Fa-f]{2})*)?$"
    )]
    pub media_url: Option<String>,
    #[validate(length(max = 5000))]
    #[schema(max_length = 5000)]
    pub quote: Option<String>,
    #[schema(value_type = Option<String>, format = Date)]
    pub given_on: Option<Day>,
    /// Default false.
    pub published: Option<bool>,
}

impl From<CreateTestimonyRequest> for NewTestimony {
    fn from(r: CreateTestimonyRequest) -> Self {
        NewTestimony {
            territory_id: r.territory_id,
            speaker: r.speaker.trim().to_owned(),
            role: r.role,
            media_url: r.media_url,
            quote: r.quote,
            given_on: r.given_on.map(Into::into),
            published: r.published.unwrap_or(false),
        }
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTestimonyRequest {
    #[serde(default, deserialize_with = "double_option")]
    #[schema(nullable)]
    pub territory_id: Option<Option<Uuid>>,
    #[validate(
        length(min = 1, max = 200),
        custom(function = "crate::edge::extract::not_blank")
    )]
    #[schema(min_length = 1, max_length = 200)]
    pub speaker: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[validate(
        length(min = 1, max = 200),
        custom(function = "crate::edge::extract::not_blank")
    )]
    #[schema(nullable, min_length = 1, max_length = 200)]
    pub role: Option<Option<String>>,
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
    pub media_url: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[validate(length(max = 5000))]
    #[schema(nullable, max_length = 5000)]
    pub quote: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, format = Date)]
    pub given_on: Option<Option<Day>>,
    pub published: Option<bool>,
}

impl From<UpdateTestimonyRequest> for TestimonyChanges {
    fn from(r: UpdateTestimonyRequest) -> Self {
        TestimonyChanges {
            territory_id: r.territory_id,
            speaker: r.speaker.map(|s| s.trim().to_owned()),
            role: r.role,
            media_url: r.media_url,
            quote: r.quote,
            given_on: r.given_on.map(|d| d.map(Into::into)),
            published: r.published,
        }
    }
}

crate::list_params! {
    TestimonyListParams sort CreationSort = CreationSort::CreatedAt;
    {
        /// Only what changed at or after this instant, for synchronisation.
        #[param(value_type = Option<String>, format = DateTime, example = "2026-11-28T09:00:00Z")]
        updated_since: Option<crate::edge::extract::Instant>,
        /// Fabrique ids (on `/testimonies`).
        #[serde(default, deserialize_with = "crate::edge::params::list")]
        #[param(style = Form, explode)]
        fabrique: Option<Vec<Uuid>>,
        /// Only published (true) or unpublished (false) ones; the public sees published ones only.
        published: Option<bool>,
        /// Words searched in the quote and the speaker's role (never the speaker's name),
        /// without case or accents: a testimony matches when it contains every one.
        #[serde(default, deserialize_with = "crate::edge::params::text::<_, 300>")]
        #[param(max_length = 300)]
        q: Option<String>,
    }
}

impl TestimonyListParams {
    fn filter(&self) -> TestimonyFilter {
        TestimonyFilter {
            fabriques: self.fabrique.clone().unwrap_or_default(),
            published: self.published,
            q: self.q.clone(),
            updated_since: self.updated_since.map(Into::into),
        }
    }
}

/// List testimonies across Fabriques (the public sees published ones).
#[utoipa::path(
    tag = "testimonies", operation_id = "list_testimonies",
    params(TestimonyListParams),
    responses((status = 200, body = TestimonyPage), PublicListProblems),
    security((), ("bearer" = []))
)]
#[get("/testimonies")]
pub async fn list_testimonies(
    r: Public,
    Query(p): Query<TestimonyListParams>,
) -> ApiResult<HttpResponse> {
    Ok(r.page(store::list(r.db(), r.access(), None, &p.filter(), &p.page()?).await?))
}

/// List a Fabrique's testimonies (the public sees published ones).
#[utoipa::path(
    tag = "testimonies", operation_id = "list_fabrique_testimonies",
    params(("id" = Uuid, Path, description = "Fabrique id"), TestimonyListParams),
    responses((status = 200, body = TestimonyPage), LookupProblems),
    security((), ("bearer" = []))
)]
#[get("/fabriques/{id}/testimonies")]
pub async fn list_fabrique_testimonies(
    r: Public,
    id: web::Path<Uuid>,
    Query(p): Query<TestimonyListParams>,
) -> ApiResult<HttpResponse> {
    let page = store::list(r.db(), r.access(), Some(*id), &p.filter(), &p.page()?).await?;
    Ok(r.page(page))
}

/// Record a testimony.
#[utoipa::path(
    tag = "testimonies", operation_id = "create_testimony",
    params(("id" = Uuid, Path, description = "Fabrique id")),
    request_body = CreateTestimonyRequest,
    responses(
        (status = 201, body = Testimony, headers(("Location" = String, description = "URL of the new testimony"))),
        WriteProblems,
    ),
    security(("bearer" = []))
)]
#[post("/fabriques/{id}/testimonies")]
pub async fn create_testimony(
    w: Write,
    id: web::Path<Uuid>,
    body: Json<CreateTestimonyRequest>,
) -> ApiResult<HttpResponse> {
    let (id, new) = (*id, NewTestimony::from(body.0));
    let t = w
        .run(Permission::WriteTestimonies, move |tx, actor| {
            Box::pin(store::create(tx, actor, id, new))
        })
        .await?;
    Ok(crate::edge::created(
        format!("/api/v1/testimonies/{}", t.id),
        &t,
    ))
}

/// Read a testimony (the public reads published ones).
#[utoipa::path(
    tag = "testimonies", operation_id = "get_testimony",
    params(("id" = Uuid, Path, description = "Testimony id"), IfNoneMatchHeader),
    responses(
        (status = 200, body = Testimony, headers(("ETag" = String, description = "Strong ETag of this representation"))),
        CachedLookupProblems,
    ),
    security((), ("bearer" = []))
)]
#[get("/testimonies/{id}")]
pub async fn get_testimony(r: Public, id: web::Path<Uuid>) -> ApiResult<HttpResponse> {
    Ok(r.etagged(&store::get(r.db(), r.access(), *id).await?))
}

/// Change or publish a testimony.
#[utoipa::path(
    tag = "testimonies", operation_id = "update_testimony",
    params(("id" = Uuid, Path, description = "Testimony id"), IfMatchHeader),
    request_body = UpdateTestimonyRequest,
    responses(
        (status = 200, body = Testimony),
        ConditionalWriteProblems,
    ),
    security(("bearer" = []))
)]
#[patch("/testimonies/{id}")]
pub async fn update_testimony(
    w: Write,
    id: web::Path<Uuid>,
    body: Json<UpdateTestimonyRequest>,
) -> ApiResult<web::Json<Testimony>> {
    let (id, changes) = (*id, TestimonyChanges::from(body.0));
    w.run_on::<Testimony, _, _>(Permission::WriteTestimonies, id, move |tx, actor| {
        Box::pin(store::update(tx, actor, id, changes))
    })
    .await
    .map(web::Json)
}

/// Delete a testimony.
#[utoipa::path(
    tag = "testimonies", operation_id = "delete_testimony",
    params(("id" = Uuid, Path, description = "Testimony id"), IfMatchHeader),
    responses(
        (status = 204, description = "Deleted"),
        ConditionalDeleteProblems,
    ),
    security(("bearer" = []))
)]
#[delete("/testimonies/{id}")]
pub async fn delete_testimony(w: Write, id: web::Path<Uuid>) -> ApiResult<HttpResponse> {
    let id = *id;
    w.run_on::<Testimony, _, _>(Permission::WriteTestimonies, id, move |tx, actor| {
        Box::pin(store::delete(tx, actor, id))
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
