//! `GET /map/territories`: the territories accompanied, as GeoJSON (RFC 7946), for the map of
//! the Fabriques.

use actix_web::{HttpResponse, get};
use serde::Deserialize;
use store::map::MapCollection;
use utoipa::IntoParams;
use uuid::Uuid;

use crate::edge::context::Public;
use crate::edge::error::ApiResult;
use crate::edge::extract::Query;
use crate::edge::problems::PublicListProblems;

pub const GEO_JSON: &str = "application/geo+json";

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MapParams {
    /// Fabrique ids, comma-separated or repeated.
    #[serde(default, deserialize_with = "crate::edge::params::list")]
    #[param(style = Form, explode)]
    pub fabrique: Option<Vec<Uuid>>,
    /// Year of the Fabrique's start (actual, else planned).
    #[param(minimum = 2000, maximum = 2100)]
    pub year: Option<i32>,
    #[param(minimum = 2000, maximum = 2100)]
    pub year_from: Option<i32>,
    #[param(minimum = 2000, maximum = 2100)]
    pub year_to: Option<i32>,
    /// Text contained in the theme (case-insensitive).
    #[serde(default, deserialize_with = "crate::edge::params::text::<_, 300>")]
    #[param(max_length = 300)]
    pub theme: Option<String>,
    /// Fabrique statuses, comma-separated or repeated.
    #[serde(default, deserialize_with = "crate::edge::params::list")]
    #[param(style = Form, explode)]
    pub status: Option<Vec<domain::FabriqueStatus>>,
    /// Programme ids, comma-separated or repeated.
    #[serde(default, deserialize_with = "crate::edge::params::list")]
    #[param(style = Form, explode)]
    pub programme: Option<Vec<Uuid>>,
}

/// The territories with an accepted, active or completed participation in the selected
/// Fabriques (drafts only for ANCT and analysts), as GeoJSON points with the Fabriques each
/// took part in. Territories without coordinates are counted, not silently dropped.
#[utoipa::path(
    tag = "map", operation_id = "get_map_territories",
    params(MapParams),
    responses(
        (status = 200, body = MapCollection, content_type = "application/geo+json"),
        PublicListProblems
    ),
    security((), ("bearer" = []))
)]
#[get("/map/territories")]
pub async fn get_map_territories(r: Public, Query(p): Query<MapParams>) -> ApiResult<HttpResponse> {
    let filter = domain::query::FabriqueFilter {
        ids: p.fabrique.clone().unwrap_or_default(),
        statuses: p.status.clone().unwrap_or_default(),
        theme: p.theme.clone(),
        programmes: p.programme.clone().unwrap_or_default(),
        years: crate::edge::params::years(p.year, p.year_from, p.year_to)?,
        ..Default::default()
    };
    let map = store::map::territories(r.db(), r.access(), &filter).await?;
    Ok(HttpResponse::Ok().content_type(GEO_JSON).json(map))
}
