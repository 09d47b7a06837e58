//! `/reference`: the official geography (COG 2026, from `@etalab/decoupage-administratif`
//! 6.0.0: Insee, DGCL; Licence Ouverte) for autocompletion. Public.

use actix_web::{HttpRequest, HttpResponse, get, web};
use entity::{ref_commune, ref_department, ref_epci, ref_region};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Select};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::MaybeCaller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Query, split_list};
use crate::problems::{LookupProblems, PublicListProblems};
use crate::store::reference::{matches, page};

fn list(v: &str) -> Vec<String> {
    v.split_whitespace().map(str::to_owned).collect()
}

/// A current commune (`commune-actuelle`).
#[derive(Debug, Serialize, ToSchema)]
pub struct CommuneRef {
    /// INSEE code.
    #[schema(example = "2A004")]
    pub code: String,
    #[schema(example = "Ajaccio")]
    pub name: String,
    #[schema(example = "2A")]
    pub department: String,
    #[schema(example = "94")]
    pub region: String,
    /// SIREN of its EPCI; null for the few communes outside any.
    #[schema(example = "242010056")]
    pub epci_siren: Option<String>,
    pub population: Option<i64>,
    pub postal_codes: Vec<String>,
}

impl From<ref_commune::Model> for CommuneRef {
    fn from(c: ref_commune::Model) -> Self {
        CommuneRef {
            postal_codes: list(&c.postal_codes),
            code: c.code,
            name: c.name,
            department: c.department,
            region: c.region,
            epci_siren: c.epci_siren,
            population: c.population,
        }
    }
}

/// An EPCI à fiscalité propre.
#[derive(Debug, Serialize, ToSchema)]
pub struct EpciRef {
    #[schema(example = "242900314")]
    pub siren: String,
    #[schema(example = "Brest Métropole")]
    pub name: String,
    /// `CC`, `CA`, `CU`, `METRO` or `MET69` (Métropole de Lyon).
    #[schema(example = "METRO")]
    pub kind: String,
    /// Municipal population (population municipale).
    pub population: Option<i64>,
    pub departments: Vec<String>,
    pub regions: Vec<String>,
    pub member_count: i32,
}

impl From<ref_epci::Model> for EpciRef {
    fn from(e: ref_epci::Model) -> Self {
        EpciRef {
            departments: list(&e.departments),
            regions: list(&e.regions),
            siren: e.siren,
            name: e.name,
            kind: e.kind,
            population: e.population,
            member_count: e.member_count,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DepartmentRef {
    #[schema(example = "56")]
    pub code: String,
    #[schema(example = "Morbihan")]
    pub name: String,
    #[schema(example = "53")]
    pub region: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RegionRef {
    #[schema(example = "53")]
    pub code: String,
    #[schema(example = "Bretagne")]
    pub name: String,
}

impl From<ref_department::Model> for DepartmentRef {
    fn from(d: ref_department::Model) -> Self {
        DepartmentRef {
            code: d.code,
            name: d.name,
            region: d.region,
        }
    }
}

impl From<ref_region::Model> for RegionRef {
    fn from(r: ref_region::Model) -> Self {
        RegionRef {
            code: r.code,
            name: r.name,
        }
    }
}

crate::page_schema!(CommuneRefPage, CommuneRef);
crate::page_schema!(EpciRefPage, EpciRef);
crate::page_schema!(DepartmentRefPage, DepartmentRef);
crate::page_schema!(RegionRefPage, RegionRef);

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CommuneParams {
    /// Words of the name (any case, with or without accents), or the start of the code.
    #[param(example = "saint etienne")]
    pub q: Option<String>,
    /// Department codes, comma-separated or repeated.
    #[param(example = "2A,2B")]
    pub department: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RefParams {
    /// Words of the name (any case, with or without accents), or the start of the code.
    pub q: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

fn q_of(q: &Option<String>) -> Option<&str> {
    q.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// A reference table's search column, code column, and the code of a row.
type Keys<E> = (
    <E as EntityTrait>::Column,
    <E as EntityTrait>::Column,
    fn(&<E as EntityTrait>::Model) -> String,
);

/// One page of a reference table: `q` narrowed by the search words (name words or the start
/// of the code), ordered by the code after the cursor, as the API's page of `T`.
async fn search_page<E, T>(
    req: &HttpRequest,
    db: &DatabaseConnection,
    mut q: Select<E>,
    (search, code, key): Keys<E>,
    (text, cursor, limit): (&Option<String>, &Option<String>, Option<u64>),
) -> ApiResult<HttpResponse>
where
    E: EntityTrait,
    E::Column: ColumnTrait + sea_orm::sea_query::IntoColumnRef + Copy,
    T: Serialize + From<E::Model>,
{
    if let Some(text) = q_of(text) {
        q = q.filter(matches(text, search, code));
    }
    let page = page(db, q, code, key, cursor, limit).await?;
    let items: Vec<T> = page.items.into_iter().map(T::from).collect();
    Ok(crate::pagination::respond(req, items, page.next, None))
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
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    _caller: MaybeCaller,
    Query(p): Query<CommuneParams>,
) -> ApiResult<HttpResponse> {
    use ref_commune::Column as C;
    let departments = split_list(&p.department);
    let mut q = ref_commune::Entity::find();
    if !departments.is_empty() {
        q = q.filter(C::Department.is_in(departments));
    }
    search_page::<_, CommuneRef>(
        &req,
        db.get_ref(),
        q,
        (C::Search, C::Code, |m| m.code.clone()),
        (&p.q, &p.cursor, p.limit),
    )
    .await
}

/// Read a current commune by its INSEE code.
#[utoipa::path(
    tag = "reference", operation_id = "get_reference_commune",
    params(("code" = String, Path, description = "INSEE code", example = "97361")),
    responses((status = 200, body = CommuneRef), LookupProblems),
    security((), ("bearer" = []))
)]
#[get("/reference/communes/{code}")]
pub async fn get_reference_commune(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    _caller: MaybeCaller,
    code: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let c = ref_commune::Entity::find_by_id(code.to_ascii_uppercase())
        .one(db.get_ref())
        .await?
        .ok_or(ApiError::NotFound("commune"))?;
    Ok(crate::etag::respond(&req, &CommuneRef::from(c)))
}

/// Search the EPCI (communautés de communes, d'agglomération, urbaines, métropoles).
#[utoipa::path(
    tag = "reference", operation_id = "list_reference_epci",
    params(RefParams),
    responses((status = 200, body = EpciRefPage), PublicListProblems),
    security((), ("bearer" = []))
)]
#[get("/reference/epci")]
pub async fn list_reference_epci(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    _caller: MaybeCaller,
    Query(p): Query<RefParams>,
) -> ApiResult<HttpResponse> {
    use ref_epci::Column as C;
    search_page::<_, EpciRef>(
        &req,
        db.get_ref(),
        ref_epci::Entity::find(),
        (C::Search, C::Siren, |m| m.siren.clone()),
        (&p.q, &p.cursor, p.limit),
    )
    .await
}

/// Read an EPCI by its SIREN.
#[utoipa::path(
    tag = "reference", operation_id = "get_reference_epci",
    params(("siren" = String, Path, description = "SIREN", example = "242900314")),
    responses((status = 200, body = EpciRef), LookupProblems),
    security((), ("bearer" = []))
)]
#[get("/reference/epci/{siren}")]
pub async fn get_reference_epci(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    _caller: MaybeCaller,
    siren: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let e = ref_epci::Entity::find_by_id(siren.into_inner())
        .one(db.get_ref())
        .await?
        .ok_or(ApiError::NotFound("EPCI"))?;
    Ok(crate::etag::respond(&req, &EpciRef::from(e)))
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
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    _caller: MaybeCaller,
    Query(p): Query<RefParams>,
) -> ApiResult<HttpResponse> {
    use ref_department::Column as C;
    search_page::<_, DepartmentRef>(
        &req,
        db.get_ref(),
        ref_department::Entity::find(),
        (C::Search, C::Code, |m| m.code.clone()),
        (&p.q, &p.cursor, p.limit),
    )
    .await
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
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    _caller: MaybeCaller,
    Query(p): Query<RefParams>,
) -> ApiResult<HttpResponse> {
    use ref_region::Column as C;
    search_page::<_, RegionRef>(
        &req,
        db.get_ref(),
        ref_region::Entity::find(),
        (C::Search, C::Code, |m| m.code.clone()),
        (&p.q, &p.cursor, p.limit),
    )
    .await
}
