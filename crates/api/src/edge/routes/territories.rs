//! `/territories`: collectivités, identified by their official code.

use ::store::territories::{self as store, Territory};
use actix_web::{HttpResponse, delete, get, patch, post, web};
use domain::query::TerritoryFilter;
use domain::territory::{NewTerritory, TerritoryChanges, check_coordinates};
use domain::{CodeError, DepartmentCode, FieldError, Permission, RegionCode, TerritoryKind};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::edge::context::{Public, Write};
use crate::edge::error::{ApiError, ApiResult, Problem, invalid};
use crate::edge::etag::{IfMatchHeader, IfNoneMatchHeader};
use crate::edge::extract::{Json, Query, double_option};
use crate::edge::params::{CodeParam, DepartmentParam, NameSort, RegionParam};
use crate::edge::problems::{
    CachedLookupProblems, ConditionalDeleteProblems, ConditionalWriteProblems, CreateProblems,
    PublicListProblems,
};

crate::page_schema!(TerritoryPage, Territory);

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTerritoryRequest {
    /// Filled from the official geography (COG 2026) for communes, EPCI, departments and
    /// regions: leave it out, or give the official name (compared without case, accents or
    /// punctuation); another name is refused. Required for a PETR or `other`.
    #[validate(
        length(min = 1, max = 200),
        custom(function = "crate::edge::extract::not_blank")
    )]
    #[schema(example = "Lorient", min_length = 1, max_length = 200)]
    pub name: Option<String>,
    /// Derived from the code when absent: an INSEE code is a commune, a 3-character or
    /// Corsican code a department, a SIREN the EPCI the official geography has under it. Needed
    /// for a PETR, `other`, and a two-digit code (every region code is also a department's).
    /// Absent or a kind, never `null`.
    #[serde(default, deserialize_with = "crate::edge::extract::present")]
    #[schema(nullable = false)]
    pub kind: Option<TerritoryKind>,
    /// Required for every kind but `other` (which must not have one); checked against the kind.
    #[schema(example = "56121", max_length = 9)]
    pub code: Option<String>,
    /// Department code; from the official geography when absent (for an EPCI, only when all
    /// its communes are in one department). A contradicting value is refused.
    #[schema(example = "56", max_length = 3)]
    pub department: Option<String>,
    #[schema(example = "53", max_length = 3)]
    pub region: Option<String>,
    #[validate(range(min = 0, max = 100_000_000))]
    #[schema(minimum = 0, maximum = 100_000_000)]
    pub population: Option<i64>,
    #[validate(range(min = -90.0, max = 90.0))]
    #[schema(minimum = -90.0, maximum = 90.0)]
    pub latitude: Option<f64>,
    #[validate(range(min = -180.0, max = 180.0))]
    #[schema(minimum = -180.0, maximum = 180.0)]
    pub longitude: Option<f64>,
}

fn code_error(pointer: &str, e: &CodeError) -> FieldError {
    FieldError::new(pointer, e.code(), e.to_string())
}

fn department(v: Option<&str>, errors: &mut Vec<FieldError>) -> Option<DepartmentCode> {
    v.and_then(|d| {
        DepartmentCode::parse(d)
            .map_err(|e| errors.push(code_error("/department", &e)))
            .ok()
    })
}

fn region(v: Option<&str>, errors: &mut Vec<FieldError>) -> Option<RegionCode> {
    v.and_then(|r| {
        RegionCode::parse(r)
            .map_err(|e| errors.push(code_error("/region", &e)))
            .ok()
    })
}

impl TryFrom<CreateTerritoryRequest> for NewTerritory {
    type Error = ApiError;
    fn try_from(r: CreateTerritoryRequest) -> ApiResult<Self> {
        let mut errors = Vec::new();
        let mut kind = r.kind;
        let code = match (r.kind, r.code.as_deref()) {
            (Some(TerritoryKind::Other), None) => None,
            (Some(TerritoryKind::Other), Some(_)) => {
                errors.push(code_error("/code", &CodeError::NoCodeForKind));
                None
            }
            (Some(k), None) => {
                errors.push(FieldError::new(
                    "/code",
                    "required",
                    format!("a {k} needs its official code"),
                ));
                None
            }
            (None, None) => {
                errors.push(FieldError::new(
                    "/kind",
                    "required",
                    "give the official code (the kind follows from it) or the kind",
                ));
                None
            }
            (Some(k), Some(c)) => k
                .parse_code(c)
                .map_err(|e| errors.push(code_error("/code", &e)))
                .ok(),
            (None, Some(c)) => match domain::codes::infer(c) {
                Ok((code, inferred)) => {
                    kind = inferred;
                    Some(code)
                }
                Err(e @ CodeError::KindAmbiguous) => {
                    errors.push(code_error("/kind", &e));
                    None
                }
                Err(e) => {
                    errors.push(code_error("/code", &e));
                    None
                }
            },
        };
        let department = department(r.department.as_deref(), &mut errors);
        let region = region(r.region.as_deref(), &mut errors);
        if let Err(e) = check_coordinates(r.latitude, r.longitude) {
            errors.push(e);
        }
        if !errors.is_empty() {
            return Err(invalid(errors));
        }
        Ok(NewTerritory {
            kind,
            code,
            name: r.name.map(|n| n.trim().to_owned()),
            department,
            region,
            population: r.population,
            latitude: r.latitude,
            longitude: r.longitude,
        })
    }
}

/// Fields to change (the kind and code cannot change: create another territory).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTerritoryRequest {
    #[validate(
        length(min = 1, max = 200),
        custom(function = "crate::edge::extract::not_blank")
    )]
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(nullable, max_length = 3)]
    pub department: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(nullable, max_length = 3)]
    pub region: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[validate(range(min = 0, max = 100_000_000))]
    #[schema(nullable, minimum = 0, maximum = 100_000_000)]
    pub population: Option<Option<i64>>,
    #[serde(default, deserialize_with = "double_option")]
    #[validate(range(min = -90.0, max = 90.0))]
    #[schema(nullable, minimum = -90.0, maximum = 90.0)]
    pub latitude: Option<Option<f64>>,
    #[serde(default, deserialize_with = "double_option")]
    #[validate(range(min = -180.0, max = 180.0))]
    #[schema(nullable, minimum = -180.0, maximum = 180.0)]
    pub longitude: Option<Option<f64>>,
}

impl TryFrom<UpdateTerritoryRequest> for TerritoryChanges {
    type Error = ApiError;
    fn try_from(r: UpdateTerritoryRequest) -> ApiResult<Self> {
        let mut errors = Vec::new();
        let dep = r.department.map(|d| department(d.as_deref(), &mut errors));
        let reg = r.region.map(|v| region(v.as_deref(), &mut errors));
        if !errors.is_empty() {
            return Err(invalid(errors));
        }
        Ok(TerritoryChanges {
            name: r.name.map(|n| n.trim().to_owned()),
            department: dep,
            region: reg,
            population: r.population,
            latitude: r.latitude,
            longitude: r.longitude,
        })
    }
}

crate::list_params! {
    TerritoryListParams sort NameSort = NameSort::CreatedAt;
    {
        /// Only what changed at or after this instant, for synchronisation.
        #[param(value_type = Option<String>, format = DateTime, example = "2026-11-28T09:00:00Z")]
        updated_since: Option<crate::edge::extract::Instant>,
        /// Kinds, comma-separated or repeated.
        #[serde(default, deserialize_with = "crate::edge::params::list")]
        #[param(style = Form, explode)]
        kind: Option<Vec<TerritoryKind>>,
        /// Department codes, comma-separated or repeated.
        #[serde(default, deserialize_with = "crate::edge::params::list")]
        #[param(style = Form, explode)]
        department: Option<Vec<DepartmentParam>>,
        /// Region codes, comma-separated or repeated.
        #[serde(default, deserialize_with = "crate::edge::params::list")]
        #[param(style = Form, explode)]
        region: Option<Vec<RegionParam>>,
        /// Official codes, comma-separated or repeated.
        #[serde(default, deserialize_with = "crate::edge::params::list")]
        #[param(style = Form, explode)]
        code: Option<Vec<CodeParam>>,
        /// Text search in the name (case-insensitive).
        #[serde(default, deserialize_with = "crate::edge::params::text::<_, 200>")]
        #[param(max_length = 200)]
        q: Option<String>,
    }
}

/// List territories.
#[utoipa::path(
    tag = "territories", operation_id = "list_territories",
    params(TerritoryListParams),
    responses(
        (status = 200, body = TerritoryPage),
        PublicListProblems,
    ),
    security((), ("bearer" = []))
)]
#[get("/territories")]
pub async fn list_territories(
    r: Public,
    Query(p): Query<TerritoryListParams>,
) -> ApiResult<HttpResponse> {
    let filter = TerritoryFilter {
        kinds: p.kind.clone().unwrap_or_default(),
        codes: p.code.iter().flatten().map(|c| c.0.clone()).collect(),
        departments: p.department.iter().flatten().map(|d| d.0.clone()).collect(),
        regions: crate::edge::params::regions(&p.region),
        q: p.q.clone(),
        updated_since: p.updated_since.map(Into::into),
    };
    Ok(r.page(store::list(r.db(), &filter, &p.page()?).await?))
}

/// Read a territory.
#[utoipa::path(
    tag = "territories", operation_id = "get_territory",
    params(("id" = Uuid, Path, description = "Territory id"), IfNoneMatchHeader),
    responses(
        (status = 200, body = Territory, headers(("ETag" = String, description = "Strong ETag of this representation"))),
        CachedLookupProblems,
    ),
    security((), ("bearer" = []))
)]
#[get("/territories/{id}")]
pub async fn get_territory(r: Public, id: web::Path<Uuid>) -> ApiResult<HttpResponse> {
    Ok(r.etagged(&store::get(r.db(), *id).await?))
}

/// Create a territory. Its code is checked against its kind; a duplicate code is a 409.
#[utoipa::path(
    tag = "territories", operation_id = "create_territory",
    request_body = CreateTerritoryRequest,
    responses(
        (status = 201, body = Territory, headers(("Location" = String, description = "URL of the new territory"))),
        (status = 409, description = "A territory with this code exists (`duplicate_code`)", body = Problem, content_type = "application/problem+json"),
        CreateProblems,
    ),
    security(("bearer" = []))
)]
#[post("/territories")]
pub async fn create_territory(
    w: Write,
    body: Json<CreateTerritoryRequest>,
) -> ApiResult<HttpResponse> {
    let new = NewTerritory::try_from(body.0)?;
    let t = w
        .run(Permission::WriteTerritories, |tx, actor| {
            Box::pin(store::create(tx, actor, new))
        })
        .await?;
    Ok(crate::edge::created(
        format!("/api/v1/territories/{}", t.id),
        &t,
    ))
}

/// Change a territory.
#[utoipa::path(
    tag = "territories", operation_id = "update_territory",
    params(("id" = Uuid, Path, description = "Territory id"), IfMatchHeader),
    request_body = UpdateTerritoryRequest,
    responses(
        (status = 200, body = Territory),
        ConditionalWriteProblems,
    ),
    security(("bearer" = []))
)]
#[patch("/territories/{id}")]
pub async fn update_territory(
    w: Write,
    id: web::Path<Uuid>,
    body: Json<UpdateTerritoryRequest>,
) -> ApiResult<web::Json<Territory>> {
    let (id, changes) = (*id, TerritoryChanges::try_from(body.0)?);
    w.run_on::<Territory, _, _>(Permission::WriteTerritories, id, move |tx, actor| {
        Box::pin(store::update(tx, actor, id, changes))
    })
    .await
    .map(web::Json)
}

/// Delete a territory (refused while it takes part in a Fabrique).
#[utoipa::path(
    tag = "territories", operation_id = "delete_territory",
    params(("id" = Uuid, Path, description = "Territory id"), IfMatchHeader),
    responses(
        (status = 204, description = "Deleted"),
        (status = 409, description = "Still referenced: see `blockers`", body = Problem, content_type = "application/problem+json"),
        ConditionalDeleteProblems,
    ),
    security(("bearer" = []))
)]
#[delete("/territories/{id}")]
pub async fn delete_territory(w: Write, id: web::Path<Uuid>) -> ApiResult<HttpResponse> {
    let id = *id;
    w.run_on::<Territory, _, _>(Permission::WriteTerritories, id, move |tx, actor| {
        Box::pin(store::delete(tx, actor, id))
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
