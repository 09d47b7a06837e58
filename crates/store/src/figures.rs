//! The pre-aggregated figures (`fabrique_figures`, `participation_figures`; see their
//! migration): recomputed for each Fabrique a write touched, in the write's transaction, so
//! that [`crate::stats`] sums one narrow row per Fabrique or per participation.
//!
//! Policy: [`crate::journal::record`] notes the Fabrique (or territory) of every journalled
//! write on its [`Actor`]; the edge calls [`refresh_touched`] before it commits. Seeds and the
//! start of the service call [`fill_missing`], which computes the rows of every Fabrique and
//! participation that has none. A row is always recomputed from the tables it counts, never
//! adjusted by a delta, so a refresh cannot drift.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use domain::access::ACCOMPANIED;
use domain::seminar::{SeminarKind, SeminarStatus};
use domain::{EntityType, FundingKind, ParticipationStatus, RoadmapStatus};
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};
use uuid::Uuid;

use crate::error::StoreResult;
use crate::journal::Actor;

/// What a write touched whose figures must be recomputed.
#[derive(Debug, Default)]
pub struct Touched {
    fabriques: BTreeSet<Uuid>,
    territories: BTreeSet<Uuid>,
}

impl Touched {
    /// Notes a journalled write: its Fabrique, or the territory it changed (whose region,
    /// department and kind the participation rows copy).
    pub(crate) fn note(
        &mut self,
        entity_type: EntityType,
        entity_id: Uuid,
        fabrique: Option<Uuid>,
    ) {
        if let Some(f) = fabrique {
            self.fabriques.insert(f);
        }
        if entity_type == EntityType::Territory {
            self.territories.insert(entity_id);
        }
    }
}

/// `'a', 'b'`: SQL string literals of the accompanied statuses.
pub(crate) fn accompanied() -> String {
    ACCOMPANIED
        .iter()
        .map(|s| format!("'{}'", s.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The counting columns of `fabrique_figures` with the expression computing each for the
/// Fabrique `f`.
fn fabrique_columns() -> Vec<(String, String)> {
    let acc = accompanied();
    let mut cols = Vec::new();
    for s in ParticipationStatus::ALL {
        cols.push((
            format!("p_{}", s.as_str()),
            format!(
                "(SELECT COUNT(*) FROM participations p WHERE p.fabrique_id = f.id AND p.status = '{}')",
                s.as_str()
            ),
        ));
    }
    for (prefix, only_accompanied) in [("s", false), ("sa", true)] {
        for k in SeminarKind::ALL {
            for s in SeminarStatus::ALL {
                let visible = if only_accompanied {
                    format!(" AND (s.participation_id IS NULL OR p.status IN ({acc}))")
                } else {
                    String::new()
                };
                cols.push((
                    format!("{prefix}_{}_{}", k.as_str(), s.as_str()),
                    format!(
                        "(SELECT COUNT(*) FROM seminars s LEFT JOIN participations p ON p.id = s.participation_id \
                         WHERE s.fabrique_id = f.id AND s.kind = '{}' AND s.status = '{}'{visible})",
                        k.as_str(),
                        s.as_str()
                    ),
                ));
            }
        }
    }
    let adopted = RoadmapStatus::Adopted.as_str();
    let of_participations = |only_accompanied: bool| {
        if only_accompanied {
            format!(" AND p.status IN ({acc})")
        } else {
            String::new()
        }
    };
    for (name, only_accompanied) in [("r_adopted", false), ("ra_adopted", true)] {
        cols.push((
            name.to_owned(),
            format!(
                "(SELECT COUNT(*) FROM roadmaps r JOIN participations p ON p.id = r.participation_id \
                 WHERE p.fabrique_id = f.id AND r.status = '{adopted}'{})",
                of_participations(only_accompanied)
            ),
        ));
    }
    for (p_name, only_accompanied) in [("all", false), ("acc", true)] {
        for (r_name, only_adopted) in [("all", false), ("adopted", true)] {
            cols.push((
                format!("act_{p_name}_{r_name}"),
                format!(
                    "(SELECT COUNT(*) FROM roadmap_actions a JOIN roadmaps r ON r.id = a.roadmap_id \
                     JOIN participations p ON p.id = r.participation_id WHERE p.fabrique_id = f.id{}{})",
                    of_participations(only_accompanied),
                    if only_adopted {
                        format!(" AND r.status = '{adopted}'")
                    } else {
                        String::new()
                    }
                ),
            ));
        }
    }
    for k in FundingKind::ALL {
        cols.push((
            format!("fund_{}", k.as_str()),
            format!(
                "(SELECT CAST(COALESCE(SUM(l.amount_cents), 0) AS bigint) FROM funding_lines l \
                 WHERE l.fabrique_id = f.id AND l.kind = '{}')",
                k.as_str()
            ),
        ));
    }
    cols
}

/// The statements of one backend, built once.
struct Sql {
    /// `INSERT … SELECT` of `fabrique_figures`, to be followed by a condition on `f`.
    insert_fabriques: String,
    /// The same for `participation_figures`, on `p` (the participation) and `t` (its
    /// territory).
    insert_participations: String,
    /// The bound-value placeholder.
    param: &'static str,
}

fn sql(backend: DatabaseBackend) -> &'static Sql {
    static SQLITE: OnceLock<Sql> = OnceLock::new();
    static POSTGRES: OnceLock<Sql> = OnceLock::new();
    let (cell, param) = match backend {
        DatabaseBackend::Postgres => (&POSTGRES, "$1"),
        _ => (&SQLITE, "?"),
    };
    cell.get_or_init(|| {
        let cols = fabrique_columns();
        let names: Vec<&str> = cols.iter().map(|(n, _)| n.as_str()).collect();
        let exprs: Vec<&str> = cols.iter().map(|(_, e)| e.as_str()).collect();
        let held = SeminarStatus::Held.as_str();
        let adopted = RoadmapStatus::Adopted.as_str();
        Sql {
            insert_fabriques: format!(
                "INSERT INTO fabrique_figures (fabrique_id, {}) SELECT f.id, {} FROM fabriques f WHERE ",
                names.join(", "),
                exprs.join(", ")
            ),
            insert_participations: format!(
                "INSERT INTO participation_figures (participation_id, fabrique_id, territory_id, status, \
                 region, department, territory_kind, seminars_held, roadmaps_adopted) \
                 SELECT p.id, p.fabrique_id, p.territory_id, p.status, t.region, t.department, t.kind, \
                 (SELECT COUNT(*) FROM seminars s WHERE s.participation_id = p.id AND s.status = '{held}'), \
                 (SELECT COUNT(*) FROM roadmaps r WHERE r.participation_id = p.id AND r.status = '{adopted}') \
                 FROM participations p JOIN territories t ON t.id = p.territory_id WHERE "
            ),
            param,
        }
    })
}

async fn run(db: &impl ConnectionTrait, text: String, id: Option<Uuid>) -> StoreResult<()> {
    let backend = db.get_database_backend();
    let stmt = match id {
        Some(id) => Statement::from_sql_and_values(backend, text, [id.into()]),
        None => Statement::from_string(backend, text),
    };
    db.execute_raw(stmt).await?;
    Ok(())
}

/// Recomputes the figures of one Fabrique and of its participations (removes them if it is
/// gone).
pub async fn refresh_fabrique(db: &impl ConnectionTrait, id: Uuid) -> StoreResult<()> {
    let s = sql(db.get_database_backend());
    let p = s.param;
    run(
        db,
        format!("DELETE FROM participation_figures WHERE fabrique_id = {p}"),
        Some(id),
    )
    .await?;
    run(
        db,
        format!("DELETE FROM fabrique_figures WHERE fabrique_id = {p}"),
        Some(id),
    )
    .await?;
    run(db, format!("{}f.id = {p}", s.insert_fabriques), Some(id)).await?;
    run(
        db,
        format!("{}p.fabrique_id = {p}", s.insert_participations),
        Some(id),
    )
    .await
}

/// Recomputes the participation rows of one territory (its region, department or kind may
/// have changed).
pub async fn refresh_territory(db: &impl ConnectionTrait, id: Uuid) -> StoreResult<()> {
    let s = sql(db.get_database_backend());
    let p = s.param;
    run(
        db,
        format!("DELETE FROM participation_figures WHERE territory_id = {p}"),
        Some(id),
    )
    .await?;
    run(
        db,
        format!("{}p.territory_id = {p}", s.insert_participations),
        Some(id),
    )
    .await
}

/// Recomputes what the writes of `actor` touched. Call it in the write's transaction, after
/// the write and before the commit.
pub async fn refresh_touched(db: &impl ConnectionTrait, actor: &Actor) -> StoreResult<()> {
    let touched = std::mem::take(&mut *actor.touched());
    for id in touched.fabriques {
        refresh_fabrique(db, id).await?;
    }
    for id in touched.territories {
        refresh_territory(db, id).await?;
    }
    Ok(())
}

/// Computes the rows of every Fabrique and participation that has none (after a seed, or on
/// the first start after the migration that added the tables).
pub async fn fill_missing(db: &impl ConnectionTrait) -> StoreResult<()> {
    let s = sql(db.get_database_backend());
    run(
        db,
        format!(
            "{}NOT EXISTS (SELECT 1 FROM fabrique_figures x WHERE x.fabrique_id = f.id)",
            s.insert_fabriques
        ),
        None,
    )
    .await?;
    run(
        db,
        format!(
            "{}NOT EXISTS (SELECT 1 FROM participation_figures x WHERE x.participation_id = p.id)",
            s.insert_participations
        ),
        None,
    )
    .await
}
