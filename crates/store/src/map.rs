//! The territories of the map and the Fabriques each took part in: one statement joining
//! the accompanied participations of the selected Fabriques to their territories.

use std::collections::BTreeMap;

use chrono::Datelike;
use domain::access::ACCOMPANIED;
use domain::query::FabriqueFilter;
use domain::{Access, FabriqueStatus, TerritoryKind};
use entity::{fabrique, participation as part, territory};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, JoinType, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::decode::decode;
use crate::error::StoreResult;

/// A Fabrique a territory took part in.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MapFabrique {
    pub id: Uuid,
    pub title: String,
    /// Year of its start (actual, else planned).
    pub year: Option<i32>,
    pub status: FabriqueStatus,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MapProperties {
    pub territory_id: Uuid,
    pub name: String,
    pub kind: TerritoryKind,
    pub code: Option<String>,
    pub fabriques: Vec<MapFabrique>,
}

/// GeoJSON geometry type of the map's features.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub enum PointType {
    Point,
}

/// GeoJSON type of a feature.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub enum FeatureType {
    Feature,
}

/// GeoJSON type of the collection.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub enum FeatureCollectionType {
    FeatureCollection,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PointGeometry {
    #[serde(rename = "type")]
    pub type_: PointType,
    /// `[longitude, latitude]` (WGS84), in that order.
    #[schema(min_items = 2, max_items = 2)]
    pub coordinates: [f64; 2],
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MapFeature {
    #[serde(rename = "type")]
    pub type_: FeatureType,
    pub id: Uuid,
    pub geometry: PointGeometry,
    pub properties: MapProperties,
}

/// A GeoJSON FeatureCollection of points, one per territory with coordinates.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MapCollection {
    #[serde(rename = "type")]
    pub type_: FeatureCollectionType,
    pub features: Vec<MapFeature>,
    /// Territories selected in all, with or without coordinates.
    pub territories: usize,
    /// Selected territories left off the map because they have no coordinates.
    pub without_coordinates: usize,
    /// Their ids, so they can be given coordinates.
    pub without_coordinates_ids: Vec<Uuid>,
}

#[derive(Debug, FromQueryResult)]
struct Row {
    territory_id: Uuid,
    fabrique_id: Uuid,
    title: String,
    actual_start: Option<chrono::NaiveDate>,
    planned_start: Option<chrono::NaiveDate>,
    status: String,
    name: String,
    kind: String,
    code: Option<String>,
    latitude: Option<f64>,
    longitude: Option<f64>,
}

/// The territories with an accompanied participation in the selected Fabriques.
pub async fn territories(
    db: &impl ConnectionTrait,
    access: &Access,
    filter: &FabriqueFilter,
) -> StoreResult<MapCollection> {
    let ids = crate::fabriques::selected_ids(access, filter);
    let rows = part::Entity::find()
        .select_only()
        .column(part::Column::TerritoryId)
        .column(part::Column::FabriqueId)
        .column(fabrique::Column::Title)
        .column(fabrique::Column::ActualStart)
        .column(fabrique::Column::PlannedStart)
        .column(fabrique::Column::Status)
        .column(territory::Column::Name)
        .column(territory::Column::Kind)
        .column(territory::Column::Code)
        .column(territory::Column::Latitude)
        .column(territory::Column::Longitude)
        .join(
            JoinType::InnerJoin,
            part::Entity::belongs_to(fabrique::Entity)
                .from(part::Column::FabriqueId)
                .to(fabrique::Column::Id)
                .into(),
        )
        .join(
            JoinType::InnerJoin,
            part::Entity::belongs_to(territory::Entity)
                .from(part::Column::TerritoryId)
                .to(territory::Column::Id)
                .into(),
        )
        .filter(part::Column::FabriqueId.in_subquery(ids))
        .filter(part::Column::Status.is_in(ACCOMPANIED.map(|s| s.as_str())))
        .order_by_asc(territory::Column::Name)
        .order_by_asc(part::Column::TerritoryId)
        .order_by_asc(part::Column::Id)
        .into_model::<Row>()
        .all(db)
        .await?;
    // Territories in name order, each with its Fabriques in participation order.
    let mut order: Vec<Uuid> = Vec::new();
    let mut by_territory: BTreeMap<Uuid, (Row, Vec<MapFabrique>)> = BTreeMap::new();
    for r in rows {
        let f = MapFabrique {
            id: r.fabrique_id,
            title: r.title.clone(),
            year: r.actual_start.or(r.planned_start).map(|d| d.year()),
            status: decode("fabriques", "status", &r.status)?,
        };
        match by_territory.get_mut(&r.territory_id) {
            Some((_, fabriques)) => fabriques.push(f),
            None => {
                order.push(r.territory_id);
                by_territory.insert(r.territory_id, (r, vec![f]));
            }
        }
    }
    let mut features = Vec::new();
    let mut without = Vec::new();
    for id in order {
        let Some((t, fabriques)) = by_territory.remove(&id) else {
            continue;
        };
        match (t.latitude, t.longitude) {
            (Some(lat), Some(lon)) => features.push(MapFeature {
                type_: FeatureType::Feature,
                id,
                geometry: PointGeometry {
                    type_: PointType::Point,
                    coordinates: [lon, lat],
                },
                properties: MapProperties {
                    territory_id: id,
                    kind: decode("territories", "kind", &t.kind)?,
                    name: t.name,
                    code: t.code,
                    fabriques,
                },
            }),
            _ => without.push(id),
        }
    }
    Ok(MapCollection {
        type_: FeatureCollectionType::FeatureCollection,
        territories: features.len() + without.len(),
        without_coordinates: without.len(),
        without_coordinates_ids: without,
        features,
    })
}
