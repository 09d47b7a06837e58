//! `/stats`: figures for ANCT's data team, computed by the database.

use std::collections::BTreeMap;

use actix_web::{HttpRequest, HttpResponse, get, web};

use crate::figures_cache::FiguresCache;
use sea_orm::DatabaseConnection;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::{MaybeCaller, Permission, role_allows};
use crate::error::ApiResult;
use crate::extract::Query;
use crate::problems::PublicListProblems;

/// Seminars of one kind by status.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct SeminarFigures {
    pub planned: i64,
    pub held: i64,
    pub cancelled: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FundingByOrganization {
    pub organization_id: Uuid,
    pub name: String,
    pub amount_cents: i64,
}

/// Funding of the selected Fabriques (analysts, ANCT staff and admins only).
#[derive(Debug, Serialize, ToSchema)]
pub struct FundingFigures {
    pub total_cents: i64,
    /// `anct` and `co_funding`.
    pub by_kind_cents: BTreeMap<String, i64>,
    /// Largest first.
    pub by_organization: Vec<FundingByOrganization>,
}

/// The headline figures of the selected Fabriques (see the data dictionary).
#[derive(Debug, Serialize, ToSchema)]
pub struct Overview {
    pub fabriques: i64,
    /// Keyed by status (`draft` only for those who may see drafts).
    pub fabriques_by_status: BTreeMap<String, i64>,
    /// Distinct territories with an accepted, active or completed participation.
    pub territories_accompanied: i64,
    pub participations: i64,
    pub participations_by_status: BTreeMap<String, i64>,
    /// Keyed by kind (`local`, `intersite`).
    pub seminars: BTreeMap<String, SeminarFigures>,
    pub roadmaps_adopted: i64,
    pub roadmap_actions: i64,
    /// Only for analysts, ANCT staff and admins; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub funding: Option<FundingFigures>,
}

crate::selection_params!(
    /// The filters of the Fabriques list that select what is counted.
    StatsParams {}
);

/// Headline figures: Fabriques, territories accompanied, participations, seminars, roadmaps.
/// Public (no personal data); funding is added for analysts, ANCT staff and admins.
#[utoipa::path(
    tag = "stats", operation_id = "get_stats_overview",
    params(StatsParams),
    responses((status = 200, body = Overview, headers(("Cache-Status" = String, description = "RFC 9211: `fabriques; hit` when served from the instance's cache (no write since), else `fabriques; fwd=miss` or `fwd=stale`; absent when the cache is off"))), PublicListProblems),
    security((), ("bearer" = []))
)]
#[get("/stats/overview")]
pub async fn get_stats_overview(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    cache: web::Data<FiguresCache>,
    caller: MaybeCaller,
    Query(p): Query<StatsParams>,
) -> ApiResult<HttpResponse> {
    let caller = caller.0;
    let with_funding = caller
        .as_ref()
        .is_some_and(|c| role_allows(c.role, Permission::ReadStats));
    let key = cache_key(&req, caller.as_ref(), with_funding);
    let filters = p.filters();
    cache
        .json(db.get_ref(), key, || {
            crate::store::stats::overview(db.get_ref(), caller.as_ref(), &filters, with_funding)
        })
        .await
}

/// What the figures depend on: the request, and what the caller may see.
fn cache_key(req: &HttpRequest, caller: Option<&crate::auth::Caller>, funding: bool) -> String {
    format!(
        "{}?{} drafts={} funding={funding}",
        req.path(),
        req.query_string(),
        crate::store::fabriques::may_read_drafts(caller),
    )
}

/// The data dictionary: how every figure is defined.
#[derive(Debug, Serialize, ToSchema)]
pub struct Dictionary {
    /// What "the selected Fabriques" means.
    pub selection: &'static str,
    pub figures: Vec<crate::dictionary::Definition>,
    /// The columns of the CSV exports.
    pub columns: Vec<crate::dictionary::Definition>,
}

/// The data dictionary (also `docs/data-dictionary.md`). Public.
#[utoipa::path(
    tag = "stats", operation_id = "get_stats_dictionary",
    responses((status = 200, body = Dictionary), PublicListProblems),
    security((), ("bearer" = []))
)]
#[get("/stats/dictionary")]
pub async fn get_stats_dictionary(_caller: MaybeCaller) -> web::Json<Dictionary> {
    web::Json(Dictionary {
        selection: crate::dictionary::SELECTION,
        figures: crate::dictionary::FIGURES.to_vec(),
        columns: crate::dictionary::COLUMNS.to_vec(),
    })
}

/// One group of a breakdown.
#[derive(Debug, Serialize, ToSchema)]
pub struct BreakdownGroup {
    /// The value grouped on (a year, a theme, a programme id, a status, a region or
    /// department code, a territory kind); null for "not set".
    pub key: Option<String>,
    /// Its name where it has one (region, department, programme).
    pub label: Option<String>,
    pub fabriques: i64,
    pub participations: i64,
    pub territories_accompanied: i64,
    pub seminars_held: i64,
    pub roadmaps_adopted: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Breakdown {
    pub by: String,
    /// Ordered by key; the null key last.
    pub groups: Vec<BreakdownGroup>,
}

crate::selection_params!(BreakdownParams {
    /// `year`, `theme`, `programme`, `status`, `region`, `department` or `territory_kind`.
    #[param(example = "region")]
    by: String,
});

/// The figures of the selected Fabriques by year, theme, programme, status, region,
/// department or territory kind (analysts, ANCT staff and admins). By region, department or
/// territory kind, a Fabrique counts in each group one of its territories belongs to, and the
/// seminars counted are the local ones.
#[utoipa::path(
    tag = "stats", operation_id = "get_stats_breakdown",
    params(BreakdownParams),
    responses((status = 200, body = Breakdown, headers(("Cache-Status" = String, description = "RFC 9211: `fabriques; hit` when served from the instance's cache (no write since), else `fabriques; fwd=miss` or `fwd=stale`; absent when the cache is off"))), crate::problems::ListProblems),
    security(("bearer" = []))
)]
#[get("/stats/breakdown")]
pub async fn get_stats_breakdown(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    cache: web::Data<FiguresCache>,
    caller: crate::auth::Caller,
    Query(p): Query<BreakdownParams>,
) -> ApiResult<HttpResponse> {
    use crate::store::stats::By;
    caller.require(Permission::ReadStats)?;
    let by = By::parse(&p.by).ok_or_else(|| {
        crate::error::ApiError::bad_request(
            "invalid_query",
            "by must be one of year, theme, programme, status, region, department, territory_kind",
        )
    })?;
    let filters = p.filters();
    let key = cache_key(&req, Some(&caller), true);
    cache
        .json(db.get_ref(), key, || async {
            let groups =
                crate::store::stats::breakdown(db.get_ref(), Some(&caller), &filters, by).await?;
            let labels = crate::store::stats::labels(db.get_ref(), by).await?;
            let mut out: Vec<BreakdownGroup> = groups
                .into_iter()
                .map(
                    |(key, [fabriques, participations, territories, seminars, roadmaps])| {
                        BreakdownGroup {
                            label: key.as_ref().and_then(|k| labels.get(k).cloned()),
                            key,
                            fabriques,
                            participations,
                            territories_accompanied: territories,
                            seminars_held: seminars,
                            roadmaps_adopted: roadmaps,
                        }
                    },
                )
                .collect();
            // BTreeMap puts None first: move it last.
            out.sort_by(|a, b| match (&a.key, &b.key) {
                (None, None) => std::cmp::Ordering::Equal,
                (None, _) => std::cmp::Ordering::Greater,
                (_, None) => std::cmp::Ordering::Less,
                (x, y) => x.cmp(y),
            });
            Ok(Breakdown {
                by: p.by.clone(),
                groups: out,
            })
        })
        .await
}
