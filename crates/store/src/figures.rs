//! The pre-aggregated figures (`fabrique_figures`, `participation_figures`,
//! `fabrique_area_figures`, `territory_figures`, `territory_key_figures`, `key_figures`; see their
//! migrations): recomputed for each Fabrique a write touched, and for the territories of its
//! participations, in the write's transaction, so that [`crate::stats`] sums one narrow row
//! per Fabrique, participation, Fabrique and area, territory, or territory and key.
//!
//! Policy: [`crate::journal::record`] notes the Fabrique (or territory) of every journalled
//! write that may change a figure ([`changes_figures`]) on its [`Actor`]; the edge calls
//! [`refresh_touched`] before it commits. Seeds and the start of the service call
//! [`fill_missing`], which computes the rows of every Fabrique and participation that has
//! none. A row is always recomputed from the tables it counts, never
//! adjusted by a delta, so a refresh cannot drift.
//!
//! The key rows (`key_figures`: one per status, year, theme and programme) sum the rows of
//! the Fabriques of each key over the whole table, so they are the one exception: a refresh
//! takes the Fabrique's old row away from the key rows it was counted in (its keys are copied
//! into its row) and adds the new one, and a deleted Fabrique is taken away first
//! ([`forget_fabrique`]). [`fill_missing`] builds them again from the Fabriques' rows.
//!
//! A territory's row counts the participations of every Fabrique, so two writes on different
//! Fabriques may both recompute it: [`refresh_touched`] takes the figures' version row (a
//! lock until commit) before it recomputes anything, so such writes recompute one after the
//! other, each reading what the one before committed.

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
    /// Whether a write may have changed a figure: the figures' version goes up at commit.
    figures: bool,
}

impl Touched {
    /// Notes a journalled write that may change a figure: its Fabrique, or the territory it
    /// changed (whose region, department and kind the participation rows copy). One that
    /// cannot leaves their rows as they are, so nothing is recomputed for it.
    pub(crate) fn note(
        &mut self,
        entity_type: EntityType,
        entity_id: Uuid,
        fabrique: Option<Uuid>,
        changes_figures: bool,
    ) {
        if !changes_figures {
            return;
        }
        self.figures = true;
        if let Some(f) = fabrique {
            self.fabriques.insert(f);
        }
        if entity_type == EntityType::Territory {
            self.territories.insert(entity_id);
        }
    }
}

/// Whether a journalled write of this kind can change a figure of the overview or of a
/// breakdown, under any filter. What cannot: lessons, testimonies, working-group members and
/// external ids (no figure counts them, and they leave their Fabrique's row untouched), and a
/// new organization (it has no funding line and no partnership yet). Every other write
/// counts, except an edit of a Fabrique that leaves what the figures see of it as it was
/// (`fabriques::update` says so: its theme, programme and planned start). The figures'
/// selection has no `q` and no `updated_since`, so a Fabrique's title, description and
/// `updated_at` are not among what they see; a selection that gained them would have to
/// count those edits too.
pub(crate) fn changes_figures(entity_type: EntityType, action: &str) -> bool {
    match entity_type {
        EntityType::Lesson
        | EntityType::Testimony
        | EntityType::WorkingGroupMember
        | EntityType::ExternalId
        | EntityType::Client
        | EntityType::Webhook => false,
        EntityType::Organization => action != "organization.created",
        _ => true,
    }
}

/// The figures' version: a counter that goes up in the transaction of every write that may
/// change a figure ([`refresh_touched`], [`fill_missing`]). The figures cache serves an entry
/// only while it is unchanged; being a committed row, it is the same for every instance.
pub async fn version(db: &impl ConnectionTrait) -> StoreResult<String> {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT version FROM figures_version WHERE id = 1",
        ))
        .await?;
    Ok(match row {
        Some(r) => r.try_get::<i64>("", "version")?.to_string(),
        None => String::new(),
    })
}

/// Moves the figures' version on, before the figures rows are recomputed: the row stays
/// locked until commit, so concurrent writes that change figures take their turn on it.
async fn bump_version(db: &impl ConnectionTrait) -> StoreResult<()> {
    db.execute_raw(Statement::from_string(
        db.get_database_backend(),
        "UPDATE figures_version SET version = version + 1 WHERE id = 1",
    ))
    .await?;
    Ok(())
}

/// `'a', 'b'`: SQL string literals of the accompanied statuses.
pub(crate) fn accompanied() -> String {
    ACCOMPANIED
        .iter()
        .map(|s| format!("'{}'", s.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `SUM(CASE WHEN <cond> THEN <value> ELSE 0 END)` as a bigint.
fn sum_when(cond: &str, value: &str) -> String {
    format!("CAST(SUM(CASE WHEN {cond} THEN {value} ELSE 0 END) AS bigint)")
}

/// One grouped aggregation of `fabrique_figures`: `FROM … WHERE …` grouped on `key` (the
/// Fabrique id), and the columns it gives.
struct Part {
    key: &'static str,
    from: String,
    columns: Vec<(String, String)>,
}

/// The aggregations of `fabrique_figures`, each over the Fabriques of `target`.
fn fabrique_parts() -> Vec<Part> {
    let acc = accompanied();
    let in_target = "IN (SELECT id FROM target)";
    let adopted = format!("r.status = '{}'", RoadmapStatus::Adopted.as_str());
    let p_acc = format!("p.status IN ({acc})");
    let participations = Part {
        key: "p.fabrique_id",
        from: format!("FROM participations p WHERE p.fabrique_id {in_target}"),
        columns: ParticipationStatus::ALL
            .iter()
            .map(|s| {
                (
                    format!("p_{}", s.as_str()),
                    sum_when(&format!("p.status = '{}'", s.as_str()), "1"),
                )
            })
            .collect(),
    };
    let mut seminars = Vec::new();
    for (prefix, visible) in [
        ("s", String::new()),
        (
            "sa",
            format!(" AND (s.participation_id IS NULL OR {p_acc})"),
        ),
    ] {
        for k in SeminarKind::ALL {
            for st in SeminarStatus::ALL {
                seminars.push((
                    format!("{prefix}_{}_{}", k.as_str(), st.as_str()),
                    sum_when(
                        &format!(
                            "s.kind = '{}' AND s.status = '{}'{visible}",
                            k.as_str(),
                            st.as_str()
                        ),
                        "1",
                    ),
                ));
            }
        }
    }
    let seminars = Part {
        key: "s.fabrique_id",
        from: format!(
            "FROM seminars s LEFT JOIN participations p ON p.id = s.participation_id \
             WHERE s.fabrique_id {in_target}"
        ),
        columns: seminars,
    };
    let roadmaps = Part {
        key: "p.fabrique_id",
        from: format!(
            "FROM roadmaps r JOIN participations p ON p.id = r.participation_id \
             WHERE p.fabrique_id {in_target}"
        ),
        columns: vec![
            ("r_adopted".into(), sum_when(&adopted, "1")),
            (
                "ra_adopted".into(),
                sum_when(&format!("{adopted} AND {p_acc}"), "1"),
            ),
        ],
    };
    let actions = Part {
        key: "p.fabrique_id",
        from: format!(
            "FROM roadmap_actions a JOIN roadmaps r ON r.id = a.roadmap_id \
             JOIN participations p ON p.id = r.participation_id \
             WHERE p.fabrique_id {in_target}"
        ),
        columns: vec![
            ("act_all_all".into(), sum_when("1 = 1", "1")),
            ("act_all_adopted".into(), sum_when(&adopted, "1")),
            ("act_acc_all".into(), sum_when(&p_acc, "1")),
            (
                "act_acc_adopted".into(),
                sum_when(&format!("{adopted} AND {p_acc}"), "1"),
            ),
        ],
    };
    let funding = Part {
        key: "l.fabrique_id",
        from: format!("FROM funding_lines l WHERE l.fabrique_id {in_target}"),
        columns: FundingKind::ALL
            .iter()
            .map(|k| {
                (
                    format!("fund_{}", k.as_str()),
                    sum_when(&format!("l.kind = '{}'", k.as_str()), "l.amount_cents"),
                )
            })
            .collect(),
    };
    vec![participations, seminars, roadmaps, actions, funding]
}

/// The statements of one backend, built once.
struct Sql {
    /// Computes `fabrique_figures` for the Fabriques of `target`, a CTE to put before it.
    insert_fabriques: String,
    /// Computes `participation_figures` for the participations of `target`.
    insert_participations: String,
    /// Computes `territory_figures` from `participation_figures`, for the territories of a
    /// condition to append (`WHERE …`).
    insert_territories: String,
    /// Computes `fabrique_area_figures` from the `participation_figures` rows of `src`, a
    /// CTE to put before it.
    insert_areas: String,
    /// The accompanied `participation_figures` rows (`pf`) with the keys of their Fabrique:
    /// a `SELECT … WHERE …` a condition may be appended to (`AND …`).
    accompanied_with_keys: String,
    /// Computes `territory_key_figures` from the rows of `src` (`accompanied_with_keys`), a
    /// CTE to put before it.
    insert_territory_keys: String,
    /// Adds (`+`) or takes away (`-`) one Fabrique's `fabrique_figures` row to or from the key
    /// rows it counts in; binds the Fabrique's id.
    add_to_keys: String,
    take_from_keys: String,
    /// Creates the key rows of one Fabrique that do not exist yet, empty; binds its id.
    create_keys: String,
    /// Computes every key row from `fabrique_figures`.
    insert_all_keys: String,
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
        let parts = fabrique_parts();
        let mut names = Vec::new();
        let mut values = Vec::new();
        let mut joins = Vec::new();
        for (i, part) in parts.iter().enumerate() {
            let alias = format!("g{i}");
            let cols: Vec<String> = part
                .columns
                .iter()
                .map(|(name, expr)| format!("{expr} AS {name}"))
                .collect();
            joins.push(format!(
                "LEFT JOIN (SELECT {key} AS fabrique_id, {} {} GROUP BY {key}) {alias} \
                 ON {alias}.fabrique_id = f.id",
                cols.join(", "),
                part.from,
                key = part.key,
            ));
            for (name, _) in &part.columns {
                names.push(name.clone());
                values.push(format!("COALESCE({alias}.{name}, 0)"));
            }
        }
        let held = SeminarStatus::Held.as_str();
        let adopted = RoadmapStatus::Adopted.as_str();
        // The Fabrique's keys, copied with its counts.
        let year = year_of_fabrique(backend).replace("\"fabriques\".", "f.");
        let keys = [
            ("status", "key_status", "CAST(NULL AS uuid)"),
            ("theme", "key_theme", "CAST(NULL AS uuid)"),
            ("year", "key_year", "CAST(NULL AS uuid)"),
            ("programme", "NULL", "key_programme_id"),
        ];
        // The key rows one Fabrique counts in, from its row: `me`, its row; `mk`, its keys.
        let keys_of_one = format!(
            "WITH me AS (SELECT * FROM fabrique_figures WHERE fabrique_id = {param}), \
             mk AS ({})",
            keys.iter()
                .map(|(kind, key, programme)| format!(
                    "SELECT '{kind}' AS key_kind, {key} AS key, {programme} AS programme_id \
                     FROM me"
                ))
                .collect::<Vec<_>>()
                .join(" UNION ALL ")
        );
        let adjust = |sign: &str| {
            let mut set = vec![format!("fabriques = k.fabriques {sign} 1")];
            set.extend(names.iter().map(|c| format!("{c} = k.{c} {sign} me.{c}")));
            format!(
                "{keys_of_one} UPDATE key_figures AS k SET {} FROM me, mk WHERE {KEY_MATCH}",
                set.join(", ")
            )
        };
        let sums: Vec<String> = names.iter().map(|c| format!("SUM({c})")).collect();
        Sql {
            insert_fabriques: format!(
                "INSERT INTO fabrique_figures (fabrique_id, key_status, key_theme, key_programme_id, \
                 key_year, {}) \
                 SELECT f.id, f.status, f.theme, f.programme_id, {year}, {} FROM fabriques f {} \
                 WHERE f.id IN (SELECT id FROM target)",
                names.join(", "),
                values.join(", "),
                joins.join(" ")
            ),
            add_to_keys: adjust("+"),
            take_from_keys: adjust("-"),
            create_keys: format!(
                "{keys_of_one} INSERT INTO key_figures (key_kind, key, programme_id) \
                 SELECT mk.key_kind, mk.key, mk.programme_id FROM mk \
                 WHERE NOT EXISTS (SELECT 1 FROM key_figures k WHERE {KEY_MATCH})"
            ),
            insert_all_keys: format!(
                "INSERT INTO key_figures (key_kind, key, programme_id, fabriques, {}) {}",
                names.join(", "),
                keys.iter()
                    .map(|(kind, key, programme)| {
                        let group = if *kind == "programme" { programme } else { key };
                        format!(
                            "SELECT '{kind}', {key}, {programme}, COUNT(*), {} \
                             FROM fabrique_figures GROUP BY {group}",
                            sums.join(", ")
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(" UNION ALL ")
            ),
            insert_participations: format!(
                "INSERT INTO participation_figures (participation_id, fabrique_id, territory_id, status, \
                 region, department, territory_kind, seminars_held, roadmaps_adopted) \
                 SELECT p.id, p.fabrique_id, p.territory_id, p.status, t.region, t.department, t.kind, \
                 COALESCE(s.n, 0), COALESCE(r.n, 0) \
                 FROM participations p JOIN territories t ON t.id = p.territory_id \
                 LEFT JOIN (SELECT participation_id, COUNT(*) AS n FROM seminars \
                   WHERE status = '{held}' AND participation_id IN (SELECT id FROM target) \
                   GROUP BY participation_id) s ON s.participation_id = p.id \
                 LEFT JOIN (SELECT participation_id, COUNT(*) AS n FROM roadmaps \
                   WHERE status = '{adopted}' AND participation_id IN (SELECT id FROM target) \
                   GROUP BY participation_id) r ON r.participation_id = p.id \
                 WHERE p.id IN (SELECT id FROM target)"
            ),
            insert_territories: format!(
                "INSERT INTO territory_figures (territory_id, region, department, territory_kind, \
                 accompanied) SELECT territory_id, MAX(region), MAX(department), MAX(territory_kind), \
                 {} FROM participation_figures",
                sum_when(&format!("status IN ({})", accompanied()), "1")
            ),
            insert_areas: {
                let selects: Vec<String> = ["region", "department", "territory_kind"]
                    .iter()
                    .map(|by| {
                        format!(
                            "SELECT fabrique_id, '{by}', {by}, COUNT(*), SUM(seminars_held), \
                             SUM(roadmaps_adopted) FROM src GROUP BY fabrique_id, {by}"
                        )
                    })
                    .collect();
                format!(
                    "INSERT INTO fabrique_area_figures (fabrique_id, area_kind, area, participations, \
                     seminars_held, roadmaps_adopted) {}",
                    selects.join(" UNION ALL ")
                )
            },
            accompanied_with_keys: format!(
                "SELECT pf.territory_id, fabriques.theme, fabriques.status, fabriques.programme_id, \
                 {} AS year FROM participation_figures pf \
                 JOIN fabriques ON fabriques.id = pf.fabrique_id WHERE pf.status IN ({})",
                year_of_fabrique(backend),
                accompanied()
            ),
            insert_territory_keys: {
                let selects: Vec<String> = [
                    // (A typed NULL: PostgreSQL types the UNION's columns from its first rows.)
                    ("year", "year", "CAST(NULL AS uuid)", "year"),
                    ("theme", "theme", "CAST(NULL AS uuid)", "theme"),
                    ("status", "status", "CAST(NULL AS uuid)", "status"),
                    ("programme", "NULL", "programme_id", "programme_id"),
                ]
                .iter()
                .map(|(kind, key, programme, group)| {
                    format!(
                        "SELECT '{kind}', {key}, {programme}, territory_id, COUNT(*) FROM src \
                         GROUP BY {group}, territory_id"
                    )
                })
                .collect();
                format!(
                    "INSERT INTO territory_key_figures (key_kind, key, programme_id, territory_id, \
                     accompanied) {}",
                    selects.join(" UNION ALL ")
                )
            },
            param,
        }
    })
}

/// A key row `k` is the key `mk` (`IS NOT DISTINCT FROM`: a null theme, year or programme is
/// a key of its own).
const KEY_MATCH: &str = "k.key_kind = mk.key_kind AND k.key IS NOT DISTINCT FROM mk.key \
     AND k.programme_id IS NOT DISTINCT FROM mk.programme_id";

/// The placeholder of the bound value at `position` (from 1).
fn placeholder(backend: DatabaseBackend, position: usize) -> String {
    match backend {
        DatabaseBackend::Postgres => format!("${position}"),
        _ => "?".into(),
    }
}

/// The territories of the participation rows of a Fabrique.
async fn territories_of(db: &impl ConnectionTrait, fabrique: Uuid) -> StoreResult<Vec<Uuid>> {
    let s = sql(db.get_database_backend());
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            format!(
                "SELECT DISTINCT territory_id FROM participation_figures WHERE fabrique_id = {}",
                s.param
            ),
            [fabrique.into()],
        ))
        .await?;
    rows.iter()
        .map(|r| Ok(r.try_get::<Uuid>("", "territory_id")?))
        .collect()
}

/// Recomputes the rows of these territories and of those of `fabrique`'s participation rows
/// from `participation_figures` (a territory no longer in it loses its row).
async fn refresh_territories(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
    fabrique: Option<Uuid>,
) -> StoreResult<()> {
    let backend = db.get_database_backend();
    let mut values: Vec<sea_orm::Value> = ids.iter().map(|id| (*id).into()).collect();
    let mut conditions = Vec::new();
    if !ids.is_empty() {
        let list: Vec<String> = (1..=ids.len()).map(|i| placeholder(backend, i)).collect();
        conditions.push(format!("{{t}} IN ({})", list.join(", ")));
    }
    if let Some(f) = fabrique {
        values.push(f.into());
        conditions.push(format!(
            "{{t}} IN (SELECT x.territory_id FROM participation_figures x WHERE x.fabrique_id = {})",
            placeholder(backend, values.len())
        ));
    }
    if conditions.is_empty() {
        return Ok(());
    }
    let cond = |column: &str| conditions.join(" OR ").replace("{t}", column);
    let s = sql(backend);
    for text in [
        format!(
            "DELETE FROM territory_figures WHERE {}",
            cond("territory_id")
        ),
        format!(
            "{} WHERE {} GROUP BY territory_id",
            s.insert_territories,
            cond("territory_id")
        ),
        format!(
            "DELETE FROM territory_key_figures WHERE {}",
            cond("territory_id")
        ),
        format!(
            "WITH src AS ({} AND ({})) {}",
            s.accompanied_with_keys,
            cond("pf.territory_id"),
            s.insert_territory_keys
        ),
    ] {
        db.execute_raw(Statement::from_sql_and_values(
            backend,
            text,
            values.clone(),
        ))
        .await?;
    }
    Ok(())
}

/// The year a Fabrique is counted in (its actual start, or its planned start), as text.
pub(crate) fn year_of_fabrique(backend: DatabaseBackend) -> &'static str {
    match backend {
        DatabaseBackend::Postgres => {
            "to_char(COALESCE(\"fabriques\".\"actual_start\", \"fabriques\".\"planned_start\"), 'YYYY')"
        }
        _ => {
            "substr(COALESCE(\"fabriques\".\"actual_start\", \"fabriques\".\"planned_start\"), 1, 4)"
        }
    }
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

/// Recomputes the figures of one Fabrique, of its participations and of their territories
/// (removes them if it is gone).
pub async fn refresh_fabrique(db: &impl ConnectionTrait, id: Uuid) -> StoreResult<()> {
    let s = sql(db.get_database_backend());
    let p = s.param;
    let before = territories_of(db, id).await?;
    run(
        db,
        format!("DELETE FROM participation_figures WHERE fabrique_id = {p}"),
        Some(id),
    )
    .await?;
    take_out(db, id).await?;
    run(
        db,
        format!("DELETE FROM fabrique_area_figures WHERE fabrique_id = {p}"),
        Some(id),
    )
    .await?;
    run(
        db,
        format!(
            "WITH target AS (SELECT id FROM fabriques WHERE id = {p}) {}",
            s.insert_fabriques
        ),
        Some(id),
    )
    .await?;
    // Its key rows: those of its keys now, created if new, then its row added to them.
    for text in [&s.create_keys, &s.add_to_keys] {
        run(db, text.clone(), Some(id)).await?;
    }
    run(
        db,
        format!(
            "WITH target AS (SELECT id FROM participations WHERE fabrique_id = {p}) {}",
            s.insert_participations
        ),
        Some(id),
    )
    .await?;
    run(
        db,
        format!(
            "WITH src AS (SELECT * FROM participation_figures WHERE fabrique_id = {p}) {}",
            s.insert_areas
        ),
        Some(id),
    )
    .await?;
    refresh_territories(db, &before, Some(id)).await
}

/// Takes a Fabrique's row out of the figures: away from the key rows it was counted in (a key
/// row left with no Fabrique goes), then deleted. Call it before the Fabrique itself is
/// deleted: the key rows it counted in are known only from its row.
pub async fn forget_fabrique(db: &impl ConnectionTrait, id: Uuid) -> StoreResult<()> {
    // First: the lock the refreshes take (see the module), before any key row is touched.
    bump_version(db).await?;
    take_out(db, id).await
}

async fn take_out(db: &impl ConnectionTrait, id: Uuid) -> StoreResult<()> {
    let s = sql(db.get_database_backend());
    run(db, s.take_from_keys.clone(), Some(id)).await?;
    run(
        db,
        "DELETE FROM key_figures WHERE fabriques = 0".into(),
        None,
    )
    .await?;
    run(
        db,
        format!(
            "DELETE FROM fabrique_figures WHERE fabrique_id = {}",
            s.param
        ),
        Some(id),
    )
    .await
}

/// Recomputes the participation rows of one territory and its own row (its region,
/// department or kind may have changed).
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
        format!(
            "WITH target AS (SELECT id FROM participations WHERE territory_id = {p}) {}",
            s.insert_participations
        ),
        Some(id),
    )
    .await?;
    // The area rows of every Fabrique the territory takes part in.
    let fabriques =
        format!("SELECT fabrique_id FROM participation_figures WHERE territory_id = {p}");
    run(
        db,
        format!("DELETE FROM fabrique_area_figures WHERE fabrique_id IN ({fabriques})"),
        Some(id),
    )
    .await?;
    run(
        db,
        format!(
            "WITH src AS (SELECT * FROM participation_figures WHERE fabrique_id IN ({fabriques})) {}",
            s.insert_areas
        ),
        Some(id),
    )
    .await?;
    refresh_territories(db, &[id], None).await
}

/// Recomputes what the writes of `actor` touched. Call it in the write's transaction, after
/// the write and before the commit.
pub async fn refresh_touched(db: &impl ConnectionTrait, actor: &Actor) -> StoreResult<()> {
    let touched = std::mem::take(&mut *actor.touched());
    if touched.figures {
        // First: the lock that makes concurrent refreshes take their turn (see the module).
        bump_version(db).await?;
    }
    for id in touched.fabriques {
        refresh_fabrique(db, id).await?;
    }
    for id in touched.territories {
        refresh_territory(db, id).await?;
    }
    Ok(())
}

/// The tables of the figures.
const FIGURES_TABLES: &str = "fabrique_figures, participation_figures, fabrique_area_figures, \
     territory_figures, territory_key_figures, key_figures";

/// Computes the rows of every Fabrique and participation that has none (after a seed, or on
/// the first start after the migration that added the tables): one grouped pass over each
/// table, however many Fabriques. Nothing to do costs one statement. Call it in a
/// transaction: on PostgreSQL the statement timeout does not apply to the rest of it.
pub async fn fill_missing(db: &impl ConnectionTrait) -> StoreResult<()> {
    let backend = db.get_database_backend();
    // Counted, not anti-joined: each Fabrique and participation has at most one row (its
    // primary key) and no row outlives it (a cascading foreign key), so equal counts mean none
    // is missing; an anti-join planned on stale statistics (a table the planner still takes
    // for empty) nested its loops for minutes at 100,000 Fabriques. The other rows are built
    // whole from those, so they are missing only if empty while their source is not.
    let missing = Statement::from_string(
        backend,
        "SELECT CASE WHEN (SELECT COUNT(*) FROM fabriques) <> (SELECT COUNT(*) FROM fabrique_figures) \
         OR (SELECT COUNT(*) FROM participations) <> (SELECT COUNT(*) FROM participation_figures) \
         OR (EXISTS (SELECT 1 FROM participation_figures) \
           AND NOT EXISTS (SELECT 1 FROM territory_figures)) \
         OR (EXISTS (SELECT 1 FROM participation_figures) \
           AND NOT EXISTS (SELECT 1 FROM fabrique_area_figures)) \
         OR (EXISTS (SELECT 1 FROM territory_figures WHERE accompanied > 0) \
           AND NOT EXISTS (SELECT 1 FROM territory_key_figures)) \
         OR (EXISTS (SELECT 1 FROM fabrique_figures) AND NOT EXISTS (SELECT 1 FROM key_figures)) \
         THEN 1 ELSE 0 END AS missing",
    );
    let any: i32 = match db.query_one_raw(missing).await? {
        Some(row) => row.try_get("", "missing")?,
        None => 0,
    };
    if any == 0 {
        return Ok(());
    }
    bump_version(db).await?;
    if backend == DatabaseBackend::Postgres {
        // Every row of 100,000 Fabriques takes longer than a request may (about a minute on
        // two cores): the statement timeout is lifted for the rest of this transaction.
        run(db, "SET LOCAL statement_timeout = 0".into(), None).await?;
        // A seed fills in the transaction that wrote its rows, before autovacuum has seen
        // them: without statistics the planner takes each table for empty and nests loops
        // over all of them (minutes at 10,000 Fabriques instead of a second).
        run(
            db,
            format!(
                "ANALYZE fabriques, participations, territories, seminars, roadmaps, \
                 roadmap_actions, funding_lines, {FIGURES_TABLES}"
            ),
            None,
        )
        .await?;
    }
    let s = sql(backend);
    run(
        db,
        format!(
            "WITH target AS (SELECT id FROM fabriques f \
             WHERE NOT EXISTS (SELECT 1 FROM fabrique_figures x WHERE x.fabrique_id = f.id)) {}",
            s.insert_fabriques
        ),
        None,
    )
    .await?;
    run(
        db,
        format!(
            "WITH target AS (SELECT id FROM participations p \
             WHERE NOT EXISTS (SELECT 1 FROM participation_figures x WHERE x.participation_id = p.id)) {}",
            s.insert_participations
        ),
        None,
    )
    .await?;
    // Every key's, area's and territory's row again, in one grouped pass each.
    run(db, "DELETE FROM key_figures".into(), None).await?;
    run(db, s.insert_all_keys.clone(), None).await?;
    run(db, "DELETE FROM fabrique_area_figures".into(), None).await?;
    run(
        db,
        format!(
            "WITH src AS (SELECT * FROM participation_figures) {}",
            s.insert_areas
        ),
        None,
    )
    .await?;
    run(db, "DELETE FROM territory_key_figures".into(), None).await?;
    run(
        db,
        format!(
            "WITH src AS ({}) {}",
            s.accompanied_with_keys, s.insert_territory_keys
        ),
        None,
    )
    .await?;
    run(db, "DELETE FROM territory_figures".into(), None).await?;
    run(
        db,
        format!("{} GROUP BY territory_id", s.insert_territories),
        None,
    )
    .await?;
    if backend == DatabaseBackend::Postgres {
        // And again now that they are full: the statistics taken above still count them as
        // they were (empty, after a migration), which the next start's plans would believe.
        run(db, format!("ANALYZE {FIGURES_TABLES}"), None).await?;
    }
    Ok(())
}
