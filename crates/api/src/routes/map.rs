//! `GET /map/territories`: the territories accompanied, as GeoJSON (RFC 7946), for the map of
//! the Fabriques.

use actix_web::{HttpResponse, get, web};
use sea_orm::DatabaseConnection;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::MaybeCaller;
use crate::error::ApiResult;
use crate::extract::Query;
use crate::problems::PublicListProblems;
use crate::store::fabriques::Filters;

pub const GEO_JSON: &str = "application/geo+json";

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MapParams {
    /// Fabrique ids, comma-separated or repeated.
    pub fabrique: Option<String>,
    /// Year of the Fabrique's start (actual, else planned).
    #[param(minimum = 2000, maximum = 2100)]
    pub year: Option<i32>,
    #[param(minimum = 2000, maximum = 2100)]
    pub year_from: Option<i32>,
    #[param(minimum = 2000, maximum = 2100)]
    pub year_to: Option<i32>,
    /// Text contained in the theme (case-insensitive).
    pub theme: Option<String>,
    /// Fabrique statuses, comma-separated or repeated.
    pub status: Option<String>,
    /// Programme ids, comma-separated or repeated.
    pub programme: Option<String>,
}

/// A Fabrique a territory took part in.
#[derive(Debug, Serialize, ToSchema)]
pub struct MapFabrique {
    pub id: Uuid,
    pub title: String,
    /// Year of its start (actual, else planned).
    pub year: Option<i32>,
    pub status: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MapProperties {
    pub territory_id: Uuid,
    pub name: String,
    pub kind: String,
    pub code: Option<String>,
    pub fabriques: Vec<MapFabrique>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PointGeometry {
    /// Always `Point`.
    #[serde(rename = "type")]
    #[schema(example = "Point")]
    pub type_: &'static str,
    /// `[longitude, latitude]` (WGS84), in that order.
    pub coordinates: [f64; 2],
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MapFeature {
    /// Always `Feature`.
    #[serde(rename = "type")]
    #[schema(example = "Feature")]
    pub type_: &'static str,
    pub id: Uuid,
    pub geometry: PointGeometry,
    pub properties: MapProperties,
}

/// A GeoJSON FeatureCollection of points, one per territory with coordinates.
#[derive(Debug, Serialize, ToSchema)]
pub struct MapCollection {
    /// Always `FeatureCollection`.
    #[serde(rename = "type")]
    #[schema(example = "FeatureCollection")]
    pub type_: &'static str,
    pub features: Vec<MapFeature>,
    /// Territories selected in all, with or without coordinates.
    pub territories: usize,
    /// Selected territories left off the map because they have no coordinates.
    pub without_coordinates: usize,
    /// Their ids, so they can be given coordinates.
    pub without_coordinates_ids: Vec<Uuid>,
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
pub async fn get_map_territories(
    db: web::Data<DatabaseConnection>,
    caller: MaybeCaller,
    Query(p): Query<MapParams>,
) -> ApiResult<HttpResponse> {
    let filters = Filters {
        status: &p.status,
        theme: p.theme.as_deref(),
        programme: &p.programme,
        year: p.year,
        year_from: p.year_from,
        year_to: p.year_to,
        ..Filters::none()
    };
    let fabriques = crate::extract::parse_id_list(&p.fabrique, "fabrique")?;
    let map = crate::store::map::territories(db.get_ref(), caller.0.as_ref(), &filters, &fabriques)
        .await?;
    Ok(HttpResponse::Ok().content_type(GEO_JSON).json(map))
}
