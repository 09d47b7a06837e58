//! The open data as a Frictionless Data Package (`GET /api/v1/exports/datapackage.json`): each
//! public CSV export as a tabular resource with its Table Schema (types, formats, allowed
//! values, primary and foreign keys), the Licence Ouverte 2.0 and the sources, so that
//! data.gouv.fr and any Frictionless tool can validate and join the files. The fields are the
//! export's public columns, in order (a test holds them to it); their descriptions are the
//! data dictionary's.

use domain::query::Dataset;
use serde_json::{Value, json};

/// The datasets of the package: every export the public may read (not the funding lines).
pub const PUBLIC: [Dataset; 8] = [
    Dataset::Fabriques,
    Dataset::Territories,
    Dataset::Participations,
    Dataset::Seminars,
    Dataset::Roadmaps,
    Dataset::RoadmapActions,
    Dataset::Partners,
    Dataset::Testimonies,
];

fn names<T: Copy>(all: &[T], name: fn(T) -> &'static str) -> Value {
    json!(all.iter().map(|&v| name(v)).collect::<Vec<_>>())
}

/// The Table Schema field of a column: its type and format, and the values it may take.
fn field(dataset: Dataset, column: &str) -> Value {
    use domain::*;
    let day = [
        "planned_start",
        "actual_start",
        "end_date",
        "scheduled_on",
        "due_on",
        "adopted_on",
        "given_on",
    ];
    let integer = [
        "min_territories",
        "max_territories",
        "number",
        "attendance",
        "position",
        "estimated_cost_cents",
        "amount_cents",
        "population",
    ];
    let mut f = if column == "id" || column.ends_with("_id") {
        json!({"type": "string", "format": "uuid"})
    } else if column.ends_with("_at") {
        json!({"type": "datetime"})
    } else if day.contains(&column) {
        json!({"type": "date"})
    } else if integer.contains(&column) {
        json!({"type": "integer", "constraints": {"minimum": 0}})
    } else if column == "latitude" || column == "longitude" {
        json!({"type": "number"})
    } else if column == "published" {
        json!({"type": "boolean"})
    } else {
        json!({"type": "string"})
    };
    let values = match (dataset, column) {
        (Dataset::Fabriques, "status") => Some(names(&FabriqueStatus::ALL, FabriqueStatus::as_str)),
        (Dataset::Participations, "status") => Some(names(
            &ParticipationStatus::ALL,
            ParticipationStatus::as_str,
        )),
        (Dataset::Territories, "kind") => Some(names(&TerritoryKind::ALL, TerritoryKind::as_str)),
        (Dataset::Seminars, "kind") => Some(names(
            seminar::SeminarKind::ALL,
            seminar::SeminarKind::as_str,
        )),
        (Dataset::Seminars, "status") => Some(names(
            seminar::SeminarStatus::ALL,
            seminar::SeminarStatus::as_str,
        )),
        (Dataset::Seminars, "mode") => Some(names(
            seminar::SeminarMode::ALL,
            seminar::SeminarMode::as_str,
        )),
        (Dataset::Roadmaps, "kind") => Some(names(
            roadmap::RoadmapKind::ALL,
            roadmap::RoadmapKind::as_str,
        )),
        (Dataset::Roadmaps, "status") => Some(names(RoadmapStatus::ALL, RoadmapStatus::as_str)),
        (Dataset::RoadmapActions, "status") => Some(names(
            roadmap::ActionStatus::ALL,
            roadmap::ActionStatus::as_str,
        )),
        (Dataset::Partners, "role") => Some(names(&PartnerRole::ALL, PartnerRole::as_str)),
        (Dataset::Partners, "organization_kind") => {
            Some(names(&OrganizationKind::ALL, OrganizationKind::as_str))
        }
        _ => None,
    };
    if let Some(v) = values {
        f["constraints"] = json!({"enum": v});
    }
    let key = primary_key(dataset);
    if key.contains(&column) {
        f["constraints"]["required"] = json!(true);
    }
    if let Some(d) = crate::dictionary::COLUMNS
        .iter()
        .find(|d| d.name == format!("exports.{}.{column}", dataset.as_str()))
    {
        f["description"] = json!(d.definition);
    }
    f["name"] = json!(column);
    f
}

fn primary_key(dataset: Dataset) -> &'static [&'static str] {
    match dataset {
        Dataset::Partners => &["fabrique_id", "organization_id", "role"],
        _ => &["id"],
    }
}

/// The columns of `dataset` that point at another resource of the package.
fn foreign_keys(dataset: Dataset) -> Vec<Value> {
    let fk = |field: &str, resource: &str| json!({"fields": [field], "reference": {"resource": resource, "fields": ["id"]}});
    match dataset {
        Dataset::Participations => vec![
            fk("fabrique_id", "fabriques"),
            fk("territory_id", "territories"),
        ],
        Dataset::Seminars => vec![
            fk("fabrique_id", "fabriques"),
            fk("participation_id", "participations"),
        ],
        Dataset::Roadmaps => vec![
            fk("participation_id", "participations"),
            fk("fabrique_id", "fabriques"),
            fk("territory_id", "territories"),
        ],
        Dataset::RoadmapActions => vec![fk("roadmap_id", "roadmaps")],
        Dataset::Partners => vec![fk("fabrique_id", "fabriques")],
        Dataset::Testimonies => vec![
            fk("fabrique_id", "fabriques"),
            fk("territory_id", "territories"),
        ],
        _ => Vec::new(),
    }
}

fn title(dataset: Dataset) -> &'static str {
    match dataset {
        Dataset::Fabriques => "Fabriques prospectives",
        Dataset::Territories => "Territoires",
        Dataset::Participations => "Territoires accompagnés (participations)",
        Dataset::Seminars => "Séminaires locaux et intersites",
        Dataset::Roadmaps => "Feuilles de route adoptées",
        Dataset::RoadmapActions => "Actions des feuilles de route adoptées",
        Dataset::Partners => "Partenaires des Fabriques",
        Dataset::Testimonies => "Témoignages publiés",
        Dataset::FundingLines => "Financements",
    }
}

/// The package, its resources' paths relative to where it is served (`/api/v1/exports/`).
pub fn package() -> Value {
    let licence = json!({
        "name": "etalab-2.0",
        "title": "Licence Ouverte / Open Licence version 2.0",
        "path": crate::edge::routes::exports::LICENCE_URL,
    });
    let resources: Vec<Value> = PUBLIC
        .iter()
        .map(|&d| {
            let columns = store::exports::columns(d, &domain::Access::public());
            let mut schema = json!({
                "fields": columns.iter().map(|c| field(d, c)).collect::<Vec<_>>(),
                "primaryKey": primary_key(d),
                "missingValues": [""],
            });
            let fks = foreign_keys(d);
            if !fks.is_empty() {
                schema["foreignKeys"] = json!(fks);
            }
            json!({
                "name": d.as_str(),
                "title": title(d),
                "path": format!("{}.csv", d.as_str()),
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "profile": "tabular-data-resource",
                "dialect": {"delimiter": ",", "header": true},
                "licenses": [licence.clone()],
                "schema": schema,
            })
        })
        .collect();
    json!({
        "profile": "tabular-data-package",
        "name": "fabriques-prospectives",
        "title": "Fabriques prospectives de l'ANCT",
        "description": "Les Fabriques prospectives de l'Agence nationale de la cohésion des territoires : programmes d'un an où l'ANCT accompagne de 4 à 8 territoires sur un thème, avec des partenaires, un prestataire, des séminaires et une feuille de route par territoire. Ce que le catalogue public montre : les Fabriques après leur brouillon, les territoires accompagnés, leurs séminaires, les feuilles de route adoptées et leurs actions, les partenaires, les témoignages publiés ; aucune donnée personnelle.",
        "homepage": "https://agence-cohesion-territoires.gouv.fr/",
        "licenses": [licence],
        "sources": [
            {"title": "Agence nationale de la cohésion des territoires (ANCT), API Fabriques prospectives", "path": "/api/v1/exports/datapackage.json"},
            {"title": store::reference::SOURCE, "path": "https://github.com/etalab/decoupage-administratif"}
        ],
        "resources": resources,
    })
}
