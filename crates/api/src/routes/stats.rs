//! `/stats`: figures for ANCT's data team, computed by the database.

use std::collections::BTreeMap;

use actix_web::{get, web};
use sea_orm::DatabaseConnection;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::{MaybeCaller, Permission, role_allows};
use crate::error::ApiResult;
use crate::extract::Query;
use crate::problems::PublicListProblems;
use crate::store::fabriques::Filters;

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

/// The filters of the Fabriques list that select what is counted.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StatsParams {
    /// Fabrique statuses, comma-separated or repeated.
    pub status: Option<String>,
    /// Text contained in the theme (case-insensitive).
    pub theme: Option<String>,
    /// Programme ids, comma-separated or repeated.
    pub programme: Option<String>,
    /// Year of the start (actual, else planned).
    #[param(minimum = 2000, maximum = 2100)]
    pub year: Option<i32>,
    #[param(minimum = 2000, maximum = 2100)]
    pub year_from: Option<i32>,
    #[param(minimum = 2000, maximum = 2100)]
    pub year_to: Option<i32>,
    /// Region codes: Fabriques with a territory of one of them.
    pub region: Option<String>,
}

impl StatsParams {
    pub fn filters(&self) -> Filters<'_> {
        Filters {
            status: &self.status,
            theme: self.theme.as_deref(),
            programme: &self.programme,
            year: self.year,
            year_from: self.year_from,
            year_to: self.year_to,
            region: &self.region,
            ..Filters::none()
        }
    }
}

/// Headline figures: Fabriques, territories accompanied, participations, seminars, roadmaps.
/// Public (no personal data); funding is added for analysts, ANCT staff and admins.
#[utoipa::path(
    tag = "stats", operation_id = "get_stats_overview",
    params(StatsParams),
    responses((status = 200, body = Overview), PublicListProblems),
    security((), ("bearer" = []))
)]
#[get("/stats/overview")]
pub async fn get_stats_overview(
    db: web::Data<DatabaseConnection>,
    caller: MaybeCaller,
    Query(p): Query<StatsParams>,
) -> ApiResult<web::Json<Overview>> {
    let caller = caller.0;
    let with_funding = caller
        .as_ref()
        .is_some_and(|c| role_allows(c.role, Permission::ReadStats));
    Ok(web::Json(
        crate::store::stats::overview(db.get_ref(), caller.as_ref(), &p.filters(), with_funding)
            .await?,
    ))
}

/// The data dictionary: how every figure is defined.
#[derive(Debug, Serialize, ToSchema)]
pub struct Dictionary {
    /// What "the selected Fabriques" means.
    pub selection: &'static str,
    pub figures: Vec<crate::dictionary::Definition>,
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
    })
}
