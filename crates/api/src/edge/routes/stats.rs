//! `/stats`: figures for ANCT's data team, computed by the database.

use actix_web::{HttpResponse, get, web};
use domain::Permission;
use domain::query::BreakdownBy;
use serde::Serialize;
use store::stats::{Breakdown, Overview};
use utoipa::ToSchema;

use crate::edge::context::{Public, Signed};
use crate::edge::error::ApiResult;
use crate::edge::extract::Query;
use crate::edge::figures_cache::FiguresCache;
use crate::edge::problems::{ListProblems, PublicListProblems};

crate::selection_params!(
    /// The filters of the Fabriques list that select what is counted.
    StatsParams {}
);

/// What the figures depend on: the figures asked for, the selection as parsed (so a query
/// written another way hits the same entry), and what the caller may see.
fn cache_key(
    r: &crate::edge::context::Ctx,
    figures: &str,
    filter: &domain::query::FabriqueFilter,
) -> String {
    format!(
        "{figures} {} {}",
        filter.canonical(),
        store::stats::audience(r.access()),
    )
}

/// Headline figures: Fabriques, territories accompanied, participations, seminars, roadmaps,
/// over what the caller may see (for the public: the catalogue). Funding is added for those
/// who see every Fabrique's funding (analysts, ANCT staff and admins).
#[utoipa::path(
    tag = "stats", operation_id = "get_stats_overview",
    params(StatsParams),
    responses((status = 200, body = Overview, headers(("Cache-Status" = String, description = "RFC 9211: `fabriques; hit` when served from the instance's cache (no write changed a figure since), else `fabriques; fwd=miss` or `fwd=stale`; absent when the cache is off"))), PublicListProblems),
    security((), ("bearer" = []))
)]
#[get("/stats/overview")]
pub async fn get_stats_overview(
    r: Public,
    cache: web::Data<FiguresCache>,
    Query(p): Query<StatsParams>,
) -> ApiResult<HttpResponse> {
    let filter = p.filter()?;
    cache
        .json(r.db(), cache_key(&r, "overview", &filter), || async {
            Ok(store::stats::overview(r.db(), r.access(), &filter).await?)
        })
        .await
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
pub async fn get_stats_dictionary(_r: Public) -> web::Json<Dictionary> {
    web::Json(Dictionary {
        selection: crate::dictionary::SELECTION,
        figures: crate::dictionary::FIGURES.to_vec(),
        columns: crate::dictionary::COLUMNS.to_vec(),
    })
}

crate::selection_params!(BreakdownParams {
    /// What to group by.
    #[param(example = "region")]
    by: BreakdownBy,
});

/// The figures of the selected Fabriques by year, theme, programme, status, region,
/// department or territory kind (analysts, ANCT staff and admins). By region, department or
/// territory kind, a Fabrique counts in each group one of its territories belongs to, and the
/// seminars counted are the local ones.
#[utoipa::path(
    tag = "stats", operation_id = "get_stats_breakdown",
    params(BreakdownParams),
    responses((status = 200, body = Breakdown, headers(("Cache-Status" = String, description = "RFC 9211: `fabriques; hit` when served from the instance's cache (no write changed a figure since), else `fabriques; fwd=miss` or `fwd=stale`; absent when the cache is off"))), ListProblems),
    security(("bearer" = []))
)]
#[get("/stats/breakdown")]
pub async fn get_stats_breakdown(
    r: Signed,
    cache: web::Data<FiguresCache>,
    Query(p): Query<BreakdownParams>,
) -> ApiResult<HttpResponse> {
    r.access().require(Permission::ReadStats)?;
    let filter = p.filter()?;
    cache
        .json(
            r.db(),
            cache_key(&r, &format!("breakdown by {:?}", p.by), &filter),
            || async { Ok(store::stats::breakdown(r.db(), r.access(), &filter, p.by).await?) },
        )
        .await
}
