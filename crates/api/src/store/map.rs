//! The territories of the map and the Fabriques each took part in.

use std::collections::BTreeMap;

use chrono::Datelike;
use entity::{fabrique, participation as part, territory};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use super::fabriques::Filters;
use super::stats::{ACCOMPANIED, selected};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::routes::map::{MapCollection, MapFabrique, MapFeature, MapProperties, PointGeometry};

pub async fn territories(
    db: &impl ConnectionTrait,
    caller: Option<&Caller>,
    filters: &Filters<'_>,
    only: &[Uuid],
) -> Result<MapCollection, ApiError> {
    let ids = selected(caller, filters)?;
    let mut q = part::Entity::find()
        .filter(part::Column::FabriqueId.in_subquery(ids))
        .filter(part::Column::Status.is_in(ACCOMPANIED.map(|s| s.as_str())));
    if !only.is_empty() {
        q = q.filter(part::Column::FabriqueId.is_in(only.to_vec()));
    }
    let participations = q.order_by_asc(part::Column::Id).all(db).await?;
    let territory_ids: Vec<Uuid> = participations.iter().map(|p| p.territory_id).collect();
    let fabrique_ids: Vec<Uuid> = participations.iter().map(|p| p.fabrique_id).collect();
    let territories: BTreeMap<Uuid, territory::Model> = territory::Entity::find()
        .filter(territory::Column::Id.is_in(territory_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.id, t))
        .collect();
    let fabriques: BTreeMap<Uuid, fabrique::Model> = fabrique::Entity::find()
        .filter(fabrique::Column::Id.is_in(fabrique_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|f| (f.id, f))
        .collect();
    let mut by_territory: BTreeMap<Uuid, Vec<MapFabrique>> = BTreeMap::new();
    for p in &participations {
        if let Some(f) = fabriques.get(&p.fabrique_id) {
            by_territory
                .entry(p.territory_id)
                .or_default()
                .push(MapFabrique {
                    id: f.id,
                    title: f.title.clone(),
                    year: f.actual_start.or(f.planned_start).map(|d| d.year()),
                    status: f.status.clone(),
                });
        }
    }
    let mut features = Vec::new();
    let mut without = Vec::new();
    let mut ordered: Vec<&territory::Model> = territories.values().collect();
    ordered.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
    for t in ordered {
        let fabriques = by_territory.remove(&t.id).unwrap_or_default();
        match (t.latitude, t.longitude) {
            (Some(lat), Some(lon)) => features.push(MapFeature {
                type_: "Feature",
                id: t.id,
                geometry: PointGeometry {
                    type_: "Point",
                    coordinates: [lon, lat],
                },
                properties: MapProperties {
                    territory_id: t.id,
                    name: t.name.clone(),
                    kind: t.kind.clone(),
                    code: t.code.clone(),
                    fabriques,
                },
            }),
            _ => without.push(t.id),
        }
    }
    Ok(MapCollection {
        type_: "FeatureCollection",
        territories: features.len() + without.len(),
        without_coordinates: without.len(),
        without_coordinates_ids: without,
        features,
    })
}
