//! The official geography (COG 2026, from `@etalab/decoupage-administratif` 6.0.0): loading
//! the files of `reference/cog/` into the reference tables, and normalising names for search.
//!
//! Policy: the files are compiled into the binary. At start, if the tables do not hold this
//! exact dataset (`ref_meta`), they are replaced in one transaction (on PostgreSQL under an
//! advisory lock, so instances starting together load it once). Each table is inserted by one
//! statement carrying its rows as JSON, so loading takes a fraction of a second.

use std::io::Read;

use anyhow::Context;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{
    ConnectionTrait, DatabaseBackend, DatabaseConnection, Statement, TransactionTrait, Value,
};
use sha2::{Digest, Sha256};

const COMMUNES: &[u8] = include_bytes!("../../../reference/cog/communes.csv.gz");
const EPCI: &[u8] = include_bytes!("../../../reference/cog/epci.csv.gz");
const DEPARTMENTS: &[u8] = include_bytes!("../../../reference/cog/departments.csv.gz");
const REGIONS: &[u8] = include_bytes!("../../../reference/cog/regions.csv.gz");

/// Where the data comes from, as stated in the responses and the docs.
pub const SOURCE: &str =
    "COG 2026 from @etalab/decoupage-administratif 6.0.0 (Licence Ouverte; code MIT)";

/// Lower case, no accents, punctuation as single spaces: "Saint-Étienne" → "saint etienne".
pub fn normalize(s: &str) -> String {
    let plain = deunicode::deunicode(s).to_lowercase();
    plain
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Identifies the dataset compiled in: a hash of its files.
pub fn dataset_version() -> String {
    let mut h = Sha256::new();
    for f in [COMMUNES, EPCI, DEPARTMENTS, REGIONS] {
        h.update(f);
    }
    let hex: String = h
        .finalize()
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("cog-2026-decoupage-administratif-6.0.0-{hex}")
}

fn rows(gz: &[u8]) -> anyhow::Result<Vec<csv::StringRecord>> {
    let mut text = String::new();
    flate2::read::GzDecoder::new(gz)
        .read_to_string(&mut text)
        .context("decompressing reference data")?;
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    reader
        .records()
        .collect::<Result<Vec<_>, _>>()
        .context("reading reference CSV")
}

fn text(v: &str) -> serde_json::Value {
    v.into()
}

fn opt_text(v: &str) -> serde_json::Value {
    if v.is_empty() {
        serde_json::Value::Null
    } else {
        v.into()
    }
}

fn opt_int(v: &str) -> serde_json::Value {
    v.parse::<i64>()
        .map(Into::into)
        .unwrap_or(serde_json::Value::Null)
}

/// Inserts every row in one statement: the rows travel as one JSON parameter, unpacked by the
/// database (`json_populate_recordset` on PostgreSQL, `json_each` on SQLite).
async fn insert_all(
    db: &impl ConnectionTrait,
    table: &str,
    columns: &[&str],
    rows: Vec<Vec<serde_json::Value>>,
) -> anyhow::Result<()> {
    let objects: Vec<serde_json::Value> = rows
        .into_iter()
        .map(|row| {
            serde_json::Value::Object(columns.iter().map(|c| (*c).to_owned()).zip(row).collect())
        })
        .collect();
    let json = serde_json::to_string(&objects)?;
    let cols = columns.join(", ");
    let backend = db.get_database_backend();
    let sql = match backend {
        DatabaseBackend::Postgres => format!(
            "INSERT INTO {table} ({cols}) SELECT {cols} FROM json_populate_recordset(NULL::{table}, $1::json)"
        ),
        _ => format!(
            "INSERT INTO {table} ({cols}) SELECT {} FROM json_each(?)",
            columns
                .iter()
                .map(|c| format!("json_extract(value, '$.{c}')"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    db.execute_raw(Statement::from_sql_and_values(
        backend,
        sql,
        [Value::String(Some(json))],
    ))
    .await
    .with_context(|| format!("loading {table}"))?;
    Ok(())
}

async fn loaded_version(db: &impl ConnectionTrait) -> anyhow::Result<Option<String>> {
    let q = Query::select()
        .column(Alias::new("value"))
        .from(Alias::new("ref_meta"))
        .and_where(Expr::col(Alias::new("key")).eq("cog"))
        .to_owned();
    Ok(match db.query_one(&q).await? {
        Some(row) => Some(row.try_get::<String>("", "value")?),
        None => None,
    })
}

/// Loads the compiled-in dataset unless it is already there.
pub async fn ensure_loaded(db: &DatabaseConnection) -> anyhow::Result<()> {
    let version = dataset_version();
    if loaded_version(db).await?.as_deref() == Some(version.as_str()) {
        return Ok(());
    }
    let started = std::time::Instant::now();
    let txn = db.begin().await?;
    if txn.get_database_backend() == DatabaseBackend::Postgres {
        txn.execute_unprepared("SELECT pg_advisory_xact_lock(7305121)")
            .await?;
        if loaded_version(&txn).await?.as_deref() == Some(version.as_str()) {
            txn.commit().await?;
            return Ok(());
        }
    }
    for table in [
        "ref_communes",
        "ref_epci",
        "ref_departments",
        "ref_regions",
        "ref_meta",
    ] {
        txn.execute_unprepared(&format!("DELETE FROM {table}"))
            .await?;
    }
    let regions = rows(REGIONS)?
        .iter()
        .map(|r| {
            vec![
                text(&r[0]),
                text(&r[1]),
                text(&normalize(&r[1])),
                opt_text(&r[2]),
            ]
        })
        .collect();
    insert_all(
        &txn,
        "ref_regions",
        &["code", "name", "search", "chef_lieu"],
        regions,
    )
    .await?;
    let departments = rows(DEPARTMENTS)?
        .iter()
        .map(|r| {
            vec![
                text(&r[0]),
                text(&r[1]),
                text(&normalize(&r[1])),
                text(&r[2]),
                opt_text(&r[3]),
            ]
        })
        .collect();
    insert_all(
        &txn,
        "ref_departments",
        &["code", "name", "search", "region", "chef_lieu"],
        departments,
    )
    .await?;
    let epci = rows(EPCI)?
        .iter()
        .map(|r| {
            vec![
                text(&r[0]),
                text(&r[1]),
                text(&normalize(&r[1])),
                text(&r[2]),
                opt_int(&r[3]),
                text(&r[4]),
                text(&r[5]),
                opt_int(&r[6]),
            ]
        })
        .collect();
    insert_all(
        &txn,
        "ref_epci",
        &[
            "siren",
            "name",
            "search",
            "kind",
            "population",
            "departments",
            "regions",
            "member_count",
        ],
        epci,
    )
    .await?;
    let communes = rows(COMMUNES)?
        .iter()
        .map(|r| {
            vec![
                text(&r[0]),
                text(&r[1]),
                text(&normalize(&r[1])),
                text(&r[2]),
                text(&r[3]),
                opt_text(&r[4]),
                opt_int(&r[5]),
                text(&r[6]),
            ]
        })
        .collect();
    insert_all(
        &txn,
        "ref_communes",
        &[
            "code",
            "name",
            "search",
            "department",
            "region",
            "epci_siren",
            "population",
            "postal_codes",
        ],
        communes,
    )
    .await?;
    insert_all(
        &txn,
        "ref_meta",
        &["key", "value"],
        vec![vec![text("cog"), text(&version)]],
    )
    .await?;
    txn.commit().await?;
    tracing::info!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        "reference geography loaded ({SOURCE})"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizing_drops_case_accents_and_punctuation() {
        assert_eq!(normalize("Saint-Étienne"), "saint etienne");
        assert_eq!(normalize("  L'Haÿ-les-Roses "), "l hay les roses");
        assert_eq!(normalize("ŒUILLY"), "oeuilly");
    }

    #[test]
    fn the_compiled_dataset_has_the_expected_counts() {
        assert_eq!(rows(COMMUNES).unwrap().len(), 34_969);
        assert_eq!(rows(EPCI).unwrap().len(), 1_255);
        assert_eq!(rows(DEPARTMENTS).unwrap().len(), 109);
        assert_eq!(rows(REGIONS).unwrap().len(), 26);
    }
}

/// What the reference says of a territory's code.
#[derive(Debug, Clone, PartialEq)]
pub struct Official {
    pub name: String,
    /// The kind the reference gives (EPCI: CC, CA, CU, métropole); `None` when any fits.
    pub kind: Option<domain::TerritoryKind>,
    pub department: Option<String>,
    pub region: Option<String>,
    pub population: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Lookup {
    /// The kind has no reference (PETR, other).
    NotApplicable,
    /// The reference has no such code.
    Unknown,
    Found(Official),
}

/// The kind of an EPCI in the reference (`CC`, `CA`, `CU`, `METRO`, `MET69`).
pub fn epci_kind(reference_kind: &str) -> Option<domain::TerritoryKind> {
    use domain::TerritoryKind as K;
    match reference_kind {
        "CC" => Some(K::CommunauteDeCommunes),
        "CA" => Some(K::CommunauteDAgglomeration),
        "CU" => Some(K::CommunauteUrbaine),
        "METRO" | "MET69" => Some(K::Metropole),
        _ => None,
    }
}

/// The one value of a space-separated list, if it has exactly one.
fn single(list: &str) -> Option<String> {
    let mut it = list.split_whitespace();
    match (it.next(), it.next()) {
        (Some(one), None) => Some(one.to_owned()),
        _ => None,
    }
}

/// Looks a territory's official code up in the reference.
pub async fn lookup(
    db: &impl ConnectionTrait,
    kind: domain::TerritoryKind,
    code: &str,
) -> Result<Lookup, crate::error::ApiError> {
    use domain::TerritoryKind as K;
    use sea_orm::EntityTrait;
    let found = match kind {
        K::Commune => entity::ref_commune::Entity::find_by_id(code.to_owned())
            .one(db)
            .await?
            .map(|c| Official {
                name: c.name,
                kind: None,
                department: Some(c.department),
                region: Some(c.region),
                population: c.population,
            }),
        K::CommunauteDeCommunes
        | K::CommunauteDAgglomeration
        | K::CommunauteUrbaine
        | K::Metropole => entity::ref_epci::Entity::find_by_id(code.to_owned())
            .one(db)
            .await?
            .map(|e| Official {
                kind: epci_kind(&e.kind),
                department: single(&e.departments),
                region: single(&e.regions),
                name: e.name,
                population: e.population,
            }),
        K::Departement => entity::ref_department::Entity::find_by_id(code.to_owned())
            .one(db)
            .await?
            .map(|d| Official {
                name: d.name,
                kind: None,
                department: Some(d.code),
                region: Some(d.region),
                population: None,
            }),
        K::Region => entity::ref_region::Entity::find_by_id(code.to_owned())
            .one(db)
            .await?
            .map(|r| Official {
                name: r.name,
                kind: None,
                department: None,
                region: Some(r.code),
                population: None,
            }),
        K::Petr | K::Other => return Ok(Lookup::NotApplicable),
    };
    Ok(found.map_or(Lookup::Unknown, Lookup::Found))
}
