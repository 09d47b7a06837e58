//! `/reference`: the official geography (COG 2026, from `@etalab/decoupage-administratif`
//! 6.0.0: Insee, DGCL; Licence Ouverte) for autocompletion. Public.

use actix_web::{HttpResponse, get, web};
use domain::query::PageRequest;
use serde::Deserialize;
use store::reference::{CommuneRef, DepartmentRef, EpciRef, RegionRef};
use utoipa::IntoParams;

use crate::edge::context::Public;
use crate::edge::error::ApiResult;
use crate::edge::extract::Query;
use crate::edge::params::DepartmentParam;
use crate::edge::problems::{CachedLookupProblems, PublicListProblems};

crate::page_schema!(CommuneRefPage, CommuneRef);
crate::page_schema!(EpciRefPage, EpciRef);
crate::page_schema!(DepartmentRefPage, DepartmentRef);
crate::page_schema!(RegionRefPage, RegionRef);

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CommuneParams {
    /// Words of the name (any case, with or without accents; the 6 longest distinct ones are
    /// matched), or the start of the code.
    #[serde(default, deserialize_with = "crate::edge::params::text::<_, 200>")]
    #[param(example = "saint etienne", max_length = 200)]
    pub q: Option<String>,
    /// Department codes, comma-separated or repeated.
    #[serde(default, deserialize_with = "crate::edge::params::list")]
    #[param(style = Form, explode, example = json!(["2A", "2B"]))]
    pub department: Option<Vec<DepartmentParam>>,
    #[param(minimum = 1, maximum = 200, example = 50)]
    pub limit: Option<u32>,
    #[param(min_length = 1, max_length = 2000, pattern = "^[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RefParams {
    /// Words of the name (any case, with or without accents; the 6 longest distinct ones are
    /// matched), or the start of the code.
    #[serde(default, deserialize_with = "crate::edge::params::text::<_, 200>")]
    #[param(max_length = 200)]
    pub q: Option<String>,
    #[param(minimum = 1, maximum = 200, example = 50)]
    pub limit: Option<u32>,
    #[param(min_length = 1, max_length = 2000, pattern = "^[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
}

/// A page of a reference table: ordered by code, the cursor carrying the last code.
fn page(limit: Option<u32>, cursor: Option<&str>) -> ApiResult<PageRequest> {
    let mut p = crate::edge::params::page(
        limit,
        None,
        None,
        None,
        crate::edge::params::CreationSort::CreatedAt,
    )?;
    p.after = crate::edge::params::cursor(cursor, ::store::cursor::KeyKind::Text)?;
    Ok(p)
}

/// Search the current communes.
#[utoipa::path(
    tag = "reference", operation_id = "list_reference_communes",
    params(CommuneParams),
    responses((status = 200, body = CommuneRefPage), PublicListProblems),
    security((), ("bearer" = []))
)]
#[get("/reference/communes")]
pub async fn list_reference_communes(
    r: Public,
    Query(p): Query<CommuneParams>,
) -> ApiResult<HttpResponse> {
    let departments: Vec<String> = p.department.iter().flatten().map(|d| d.0.clone()).collect();
    let page = store::reference::communes(
        r.db(),
        p.q.as_deref(),
        &departments,
        &page(p.limit, p.cursor.as_deref())?,
    )
    .await?;
    Ok(r.page(page))
}

/// Read a current commune by its INSEE code.
#[utoipa::path(
    tag = "reference", operation_id = "get_reference_commune",
    params(("code" = String, Path, description = "INSEE code", example = "97361", pattern = "^[0-9AB]{5}$"), crate::edge::etag::IfNoneMatchHeader),
    responses(
        (status = 200, body = CommuneRef, headers(("ETag" = String, description = "Strong ETag of this representation"))),
        CachedLookupProblems,
    ),
    security((), ("bearer" = []))
)]
#[get("/reference/communes/{code}")]
pub async fn get_reference_commune(r: Public, code: web::Path<String>) -> ApiResult<HttpResponse> {
    Ok(r.etagged(&store::reference::commune(r.db(), &code).await?))
}

/// Search the EPCI (communautés de communes, d'agglomération, urbaines, métropoles).
#[utoipa::path(
    tag = "reference", operation_id = "list_reference_epci",
    params(RefParams),
    responses((status = 200, body = EpciRefPage), PublicListProblems),
    security((), ("bearer" = []))
)]
#[get("/reference/epci")]
pub async fn list_reference_epci(r: Public, Query(p): Query<RefParams>) -> ApiResult<HttpResponse> {
    let page =
        store::reference::epcis(r.db(), p.q.as_deref(), &page(p.limit, p.cursor.as_deref())?)
            .await?;
    Ok(r.page(page))
}

/// Read an EPCI by its SIREN.
#[utoipa::path(
    tag = "reference", operation_id = "get_reference_epci",
    params(("siren" = String, Path, description = "SIREN", example = "242900314", pattern = "^[0-9]{9}$"), crate::edge::etag::IfNoneMatchHeader),
    responses(
        (status = 200, body = EpciRef, headers(("ETag" = String, description = "Strong ETag of this representation"))),
        CachedLookupProblems,
    ),
    security((), ("bearer" = []))
)]
#[get("/reference/epci/{siren}")]
pub async fn get_reference_epci(r: Public, siren: web::Path<String>) -> ApiResult<HttpResponse> {
    Ok(r.etagged(&store::reference::epci(r.db(), &siren).await?))
}

/// List or search the departments.
#[utoipa::path(
    tag = "reference", operation_id = "list_reference_departments",
    params(RefParams),
    responses((status = 200, body = DepartmentRefPage), PublicListProblems),
    security((), ("bearer" = []))
)]
#[get("/reference/departments")]
pub async fn list_reference_departments(
    r: Public,
    Query(p): Query<RefParams>,
) -> ApiResult<HttpResponse> {
    let page =
        store::reference::departments(r.db(), p.q.as_deref(), &page(p.limit, p.cursor.as_deref())?)
            .await?;
    Ok(r.page(page))
}

/// List or search the regions.
#[utoipa::path(
    tag = "reference", operation_id = "list_reference_regions",
    params(RefParams),
    responses((status = 200, body = RegionRefPage), PublicListProblems),
    security((), ("bearer" = []))
)]
#[get("/reference/regions")]
pub async fn list_reference_regions(
    r: Public,
    Query(p): Query<RefParams>,
) -> ApiResult<HttpResponse> {
    let page =
        store::reference::regions(r.db(), p.q.as_deref(), &page(p.limit, p.cursor.as_deref())?)
            .await?;
    Ok(r.page(page))
}
