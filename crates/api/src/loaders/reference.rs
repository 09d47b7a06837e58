//! The official geography (COG 2026, from `@etalab/decoupage-administratif` 6.0.0): loading
//! the files of `reference/cog/` into the reference tables, and normalising names for search.
//!
//! Policy: the files are compiled into the binary. At start, if the tables do not hold this
//! exact dataset (`ref_meta`), they are replaced in one transaction (on PostgreSQL under an
//! advisory lock, so instances starting together load it once). The files are read as they
//! are decompressed, and each table inserted by statements carrying 2,000 rows as JSON, so
//! loading takes a fraction of a second and holds one chunk at a time.

use anyhow::Context;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection};
use sha2::{Digest, Sha256};

const COMMUNES: &[u8] = include_bytes!("../../../../reference/cog/communes.csv.gz");
const EPCI: &[u8] = include_bytes!("../../../../reference/cog/epci.csv.gz");
const DEPARTMENTS: &[u8] = include_bytes!("../../../../reference/cog/departments.csv.gz");
const REGIONS: &[u8] = include_bytes!("../../../../reference/cog/regions.csv.gz");

pub use store::reference::{SOURCE, normalize};

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

/// The records of a compressed CSV, read as they are decompressed.
fn records(gz: &[u8]) -> impl Iterator<Item = anyhow::Result<csv::StringRecord>> + '_ {
    csv::Reader::from_reader(flate2::read::GzDecoder::new(gz))
        .into_records()
        .map(|r| r.context("reading reference CSV"))
}

/// Rows per insert: the load holds one chunk at a time (the whole communes table as one JSON
/// array was tens of MiB, which the allocator kept after a first start).
const CHUNK: usize = 2_000;

/// How a column is read from its CSV row (by field index).
#[derive(Clone, Copy)]
enum Cell {
    Text(usize),
    /// Empty is null.
    OptText(usize),
    /// Not a number is null.
    OptInt(usize),
    /// The field, normalized for search.
    Search(usize),
}

impl Cell {
    fn read(self, r: &csv::StringRecord) -> serde_json::Value {
        let field = |i: usize| r.get(i).unwrap_or_default();
        match self {
            Cell::Text(i) => field(i).into(),
            Cell::OptText(i) if field(i).is_empty() => serde_json::Value::Null,
            Cell::OptText(i) => field(i).into(),
            Cell::OptInt(i) => field(i)
                .parse::<i64>()
                .map(Into::into)
                .unwrap_or(serde_json::Value::Null),
            Cell::Search(i) => normalize(field(i)).into(),
        }
    }
}

/// A reference table and where its columns come from in its CSV.
struct Table {
    name: &'static str,
    csv: &'static [u8],
    columns: &'static [(&'static str, Cell)],
}

/// In load order (regions first: the others name them).
const TABLES: [Table; 4] = [
    Table {
        name: "ref_regions",
        csv: REGIONS,
        columns: &[
            ("code", Cell::Text(0)),
            ("name", Cell::Text(1)),
            ("search", Cell::Search(1)),
            ("chef_lieu", Cell::OptText(2)),
        ],
    },
    Table {
        name: "ref_departments",
        csv: DEPARTMENTS,
        columns: &[
            ("code", Cell::Text(0)),
            ("name", Cell::Text(1)),
            ("search", Cell::Search(1)),
            ("region", Cell::Text(2)),
            ("chef_lieu", Cell::OptText(3)),
        ],
    },
    Table {
        name: "ref_epci",
        csv: EPCI,
        columns: &[
            ("siren", Cell::Text(0)),
            ("name", Cell::Text(1)),
            ("search", Cell::Search(1)),
            ("kind", Cell::Text(2)),
            ("population", Cell::OptInt(3)),
            ("departments", Cell::Text(4)),
            ("regions", Cell::Text(5)),
            ("member_count", Cell::OptInt(6)),
        ],
    },
    Table {
        name: "ref_communes",
        csv: COMMUNES,
        columns: &[
            ("code", Cell::Text(0)),
            ("name", Cell::Text(1)),
            ("search", Cell::Search(1)),
            ("department", Cell::Text(2)),
            ("region", Cell::Text(3)),
            ("epci_siren", Cell::OptText(4)),
            ("population", Cell::OptInt(5)),
            ("postal_codes", Cell::Text(6)),
        ],
    },
];

/// Inserts these rows in one statement (`crate::db::insert_json`).
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
    crate::db::insert_json(db, table, columns, &objects).await
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
    let txn = store::begin_write(db).await?;
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
    for table in TABLES {
        let names: Vec<&str> = table.columns.iter().map(|(name, _)| *name).collect();
        let mut chunk = Vec::with_capacity(CHUNK);
        for r in records(table.csv) {
            let r = r?;
            chunk.push(
                table
                    .columns
                    .iter()
                    .map(|(_, cell)| cell.read(&r))
                    .collect(),
            );
            if chunk.len() == CHUNK {
                insert_all(&txn, table.name, &names, std::mem::take(&mut chunk)).await?;
            }
        }
        if !chunk.is_empty() {
            insert_all(&txn, table.name, &names, chunk).await?;
        }
    }
    insert_all(
        &txn,
        "ref_meta",
        &["key", "value"],
        vec![vec!["cog".into(), version.as_str().into()]],
    )
    .await?;
    txn.commit().await?;
    crate::db::analyze(
        db,
        &["ref_communes", "ref_epci", "ref_departments", "ref_regions"],
    )
    .await?;
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
        let count = |gz| records(gz).map(Result::unwrap).count();
        assert_eq!(count(COMMUNES), 34_969);
        assert_eq!(count(EPCI), 1_255);
        assert_eq!(count(DEPARTMENTS), 109);
        assert_eq!(count(REGIONS), 26);
    }
}
