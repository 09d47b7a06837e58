//! Figures for the data team, over the rows the caller may see in the Fabriques the filters
//! select (the same filters and visibility as `GET /fabriques`, the same participations as the
//! exports). Definitions: `docs/data-dictionary.md`.
//!
//! Two ways to the same numbers:
//! - [`overview`] and [`breakdown`] sum the pre-aggregated rows ([`crate::figures`]) for the
//!   callers whose rows do not depend on their own territory ([`FiguresTier`]): three
//!   statements for the overview, two (one when grouping a selection on territories) for a
//!   breakdown, whatever the number of seminars, roadmaps and actions. When the selection is
//!   every Fabrique, the overview and the breakdowns by status, year, theme and programme sum
//!   one row per key (a handful, however many Fabriques), the distinct territories come from
//!   one row per territory and a territorial breakdown from one row per Fabrique and area;
//! - [`live_overview`] and [`live_breakdown`] aggregate the tables themselves, one statement
//!   per figure: the figures of territory tokens, and the reference a test compares the
//!   pre-aggregated ones with (every audience, filter and key, on both engines).
//!
//! Counting is SQL's; Rust only adds up the per-status groups and merges groups by key.

use std::collections::{BTreeMap, HashMap};

use domain::Access;
use domain::access::{ACCOMPANIED, ParticipationRows};
use domain::query::{BreakdownBy, FabriqueFilter};
use domain::roadmap::RoadmapStatus;
use domain::seminar::SeminarStatus;
use entity::{fabrique, funding_line, participation as part, roadmap, roadmap_action, seminar};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, Query, SelectStatement};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult, JoinType,
    PaginatorTrait, QueryFilter, QuerySelect,
};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::access::FiguresTier;
use crate::decode::decode;
use crate::error::{StoreError, StoreResult};

/// Seminars of one kind by status.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct SeminarFigures {
    pub planned: i64,
    pub held: i64,
    pub cancelled: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FundingByOrganization {
    pub organization_id: Uuid,
    pub name: String,
    pub amount_cents: i64,
}

/// Funding of the selected Fabriques (analysts, ANCT staff and admins only).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FundingFigures {
    pub total_cents: i64,
    /// `anct` and `co_funding`.
    pub by_kind_cents: BTreeMap<String, i64>,
    /// Largest first.
    pub by_organization: Vec<FundingByOrganization>,
}

/// The headline figures of the selected Fabriques (see the data dictionary).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Overview {
    pub fabriques: i64,
    /// Keyed by status (`draft` only for those who may see drafts).
    pub fabriques_by_status: BTreeMap<String, i64>,
    /// Distinct territories with an accepted, active or completed participation.
    pub territories_accompanied: i64,
    /// The participations the caller may see (for the public, the accompanied ones).
    pub participations: i64,
    pub participations_by_status: BTreeMap<String, i64>,
    /// Keyed by kind (`local`, `intersite`).
    pub seminars: BTreeMap<String, SeminarFigures>,
    pub roadmaps_adopted: i64,
    /// Actions of the roadmaps the caller may see (for the public, the adopted ones).
    pub roadmap_actions: i64,
    /// Only for analysts, ANCT staff and admins; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub funding: Option<FundingFigures>,
}

/// One group of a breakdown.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BreakdownGroup {
    /// The value grouped on (a year, a theme, a programme id, a status, a region or
    /// department code, a territory kind); null for "not set".
    pub key: Option<String>,
    /// Its name where it has one (region, department, programme).
    pub label: Option<String>,
    pub fabriques: i64,
    pub participations: i64,
    pub territories_accompanied: i64,
    pub seminars_held: i64,
    pub roadmaps_adopted: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Breakdown {
    pub by: BreakdownBy,
    /// Ordered by key; the null key last.
    pub groups: Vec<BreakdownGroup>,
}

/// What the figures a caller reads depend on besides the filters: the rows it may see and
/// whether it sees funding. Callers with the same audience read the same figures.
pub fn audience(access: &Access) -> String {
    let participations = match access.participation_rows() {
        ParticipationRows::All => "all".to_owned(),
        ParticipationRows::AccompaniedOr {
            own_territory: None,
        } => "accompanied".to_owned(),
        ParticipationRows::AccompaniedOr {
            own_territory: Some(t),
        } => format!("accompanied+{t}"),
    };
    format!(
        "fabriques={:?} participations={participations} roadmaps={:?} funding={}",
        access.fabrique_rows(),
        access.roadmap_rows(),
        access.sees_all_funding()
    )
}

/// "`fk` is one of the selected Fabriques", for a table that refers to Fabriques (never
/// `fabriques` itself): a correlated `EXISTS` on the selection. SQLite then walks the outer
/// table in key order and probes each row's Fabrique by primary key, where `fk IN (…)` made it
/// gather and sort every selected row for each keyset page (a whole-table export went four
/// times slower); PostgreSQL plans both forms as the same semi-join.
pub fn of_selected<T, C>(fk: (T, C), ids: &SelectStatement) -> Expr
where
    T: sea_orm::sea_query::IntoIden,
    C: sea_orm::sea_query::IntoIden,
{
    let mut q = ids.clone();
    q.and_where(Expr::col((fabrique::Entity, fabrique::Column::Id)).equals(fk));
    Expr::exists(q)
}

/// The ids of the visible participations of the selected Fabriques.
fn participations_of(access: &Access, ids: &SelectStatement) -> SelectStatement {
    let mut q = Query::select()
        .column((part::Entity, part::Column::Id))
        .from(part::Entity)
        .and_where(Expr::col((part::Entity, part::Column::FabriqueId)).in_subquery(ids.clone()))
        .to_owned();
    q.cond_where(crate::access::participations(access));
    q
}

/// The ids of the visible roadmaps of the selected Fabriques.
fn roadmaps_of(access: &Access, ids: &SelectStatement) -> SelectStatement {
    let mut q = Query::select()
        .column((roadmap::Entity, roadmap::Column::Id))
        .from(roadmap::Entity)
        .and_where(
            Expr::col((roadmap::Entity, roadmap::Column::ParticipationId))
                .in_subquery(participations_of(access, ids)),
        )
        .to_owned();
    q.cond_where(crate::access::roadmaps(access));
    q
}

async fn counts_by(
    db: &impl ConnectionTrait,
    q: sea_orm::Select<impl EntityTrait>,
) -> StoreResult<BTreeMap<String, i64>> {
    let rows: Vec<(String, i64)> = q.into_tuple().all(db).await?;
    Ok(rows.into_iter().collect())
}

/// The overview computed from the tables themselves: the reference the pre-aggregated
/// figures are checked against, and the figures of callers who see their own territory's rows.
pub async fn live_overview(
    db: &impl ConnectionTrait,
    access: &Access,
    f: &FabriqueFilter,
) -> StoreResult<Overview> {
    let ids = crate::fabriques::selected_ids(access, f);
    let visible_participations = crate::access::participations(access);
    let fabriques_by_status = counts_by(
        db,
        fabrique::Entity::find()
            .select_only()
            .column(fabrique::Column::Status)
            .column_as(fabrique::Column::Id.count(), "n")
            .filter(fabrique::Column::Id.in_subquery(ids.clone()))
            .group_by(fabrique::Column::Status),
    )
    .await?;
    let participations_by_status = counts_by(
        db,
        part::Entity::find()
            .select_only()
            .column(part::Column::Status)
            .column_as(part::Column::Id.count(), "n")
            .filter(part::Column::FabriqueId.in_subquery(ids.clone()))
            .filter(visible_participations.clone())
            .group_by(part::Column::Status),
    )
    .await?;
    let territories: Option<i64> = part::Entity::find()
        .select_only()
        .column_as(Expr::col(part::Column::TerritoryId).count_distinct(), "n")
        .filter(part::Column::FabriqueId.in_subquery(ids.clone()))
        .filter(part::Column::Status.is_in(ACCOMPANIED.map(|s| s.as_str())))
        .into_tuple()
        .one(db)
        .await?;
    let seminar_rows: Vec<(String, String, i64)> = seminar::Entity::find()
        .select_only()
        .column(seminar::Column::Kind)
        .column(seminar::Column::Status)
        .column_as(seminar::Column::Id.count(), "n")
        .filter(seminar::Column::FabriqueId.in_subquery(ids.clone()))
        .filter(crate::access::seminars(access))
        .group_by(seminar::Column::Kind)
        .group_by(seminar::Column::Status)
        .into_tuple()
        .all(db)
        .await?;
    let mut seminars: BTreeMap<String, SeminarFigures> = BTreeMap::new();
    for (kind, status, n) in seminar_rows {
        let s = seminars.entry(kind).or_default();
        match decode::<SeminarStatus>("seminars", "status", &status)? {
            SeminarStatus::Planned => s.planned = n,
            SeminarStatus::Held => s.held = n,
            SeminarStatus::Cancelled => s.cancelled = n,
        }
    }
    let roadmaps_adopted = roadmap::Entity::find()
        .filter(roadmap::Column::Status.eq(RoadmapStatus::Adopted.as_str()))
        .filter(roadmap::Column::Id.in_subquery(roadmaps_of(access, &ids)))
        .count(db)
        .await?;
    let roadmap_actions = roadmap_action::Entity::find()
        .filter(roadmap_action::Column::RoadmapId.in_subquery(roadmaps_of(access, &ids)))
        .count(db)
        .await?;
    let funding = if access.sees_all_funding() {
        let by_kind = counts_by(
            db,
            funding_line::Entity::find()
                .select_only()
                .column(funding_line::Column::Kind)
                .column_as(sum_cents(), "n")
                .filter(funding_line::Column::FabriqueId.in_subquery(ids.clone()))
                .group_by(funding_line::Column::Kind),
        )
        .await?;
        let selected = Condition::all().add(funding_line::Column::FabriqueId.in_subquery(ids));
        Some(funding(db, selected, by_kind).await?)
    } else {
        None
    };
    Ok(Overview {
        fabriques: fabriques_by_status.values().sum(),
        fabriques_by_status,
        territories_accompanied: territories.unwrap_or(0),
        participations: participations_by_status.values().sum(),
        participations_by_status,
        seminars,
        roadmaps_adopted: roadmaps_adopted as i64,
        roadmap_actions: roadmap_actions as i64,
        funding,
    })
}

/// SUM of a bigint is numeric on PostgreSQL: cast it back.
fn sum_cents() -> Expr {
    Expr::from(Func::cast_as(
        Func::sum(Expr::col((
            funding_line::Entity,
            funding_line::Column::AmountCents,
        ))),
        Alias::new("bigint"),
    ))
}

#[derive(Debug, FromQueryResult)]
struct FunderRow {
    organization_id: Uuid,
    name: String,
    n: i64,
}

/// The funding figures: `by_kind` (computed by the caller) with the amounts by organization.
async fn funding(
    db: &impl ConnectionTrait,
    selected: Condition,
    by_kind: BTreeMap<String, i64>,
) -> StoreResult<FundingFigures> {
    use entity::organization as org;
    let rows = funding_line::Entity::find()
        .select_only()
        .column(funding_line::Column::OrganizationId)
        .column(org::Column::Name)
        .column_as(sum_cents(), "n")
        .join(
            JoinType::InnerJoin,
            funding_line::Entity::belongs_to(org::Entity)
                .from(funding_line::Column::OrganizationId)
                .to(org::Column::Id)
                .into(),
        )
        .filter(selected)
        .group_by(funding_line::Column::OrganizationId)
        .group_by(org::Column::Name)
        .into_model::<FunderRow>()
        .all(db)
        .await?;
    let mut by_organization: Vec<FundingByOrganization> = rows
        .into_iter()
        .map(|r| FundingByOrganization {
            organization_id: r.organization_id,
            name: r.name,
            amount_cents: r.n,
        })
        .collect();
    by_organization.sort_by(|a, b| {
        b.amount_cents
            .cmp(&a.amount_cents)
            .then(a.name.cmp(&b.name))
    });
    Ok(FundingFigures {
        total_cents: by_kind.values().sum(),
        by_kind_cents: by_kind,
        by_organization,
    })
}

fn key(by: BreakdownBy, backend: sea_orm::DatabaseBackend) -> Expr {
    use entity::territory as t;
    let f = |c: fabrique::Column| Expr::col((fabrique::Entity, c));
    match by {
        BreakdownBy::Year => Expr::cust(crate::figures::year_of_fabrique(backend)),
        BreakdownBy::Theme => f(fabrique::Column::Theme),
        BreakdownBy::Programme => f(fabrique::Column::ProgrammeId),
        BreakdownBy::Status => f(fabrique::Column::Status),
        BreakdownBy::Region => Expr::col((t::Entity, t::Column::Region)),
        BreakdownBy::Department => Expr::col((t::Entity, t::Column::Department)),
        BreakdownBy::TerritoryKind => Expr::col((t::Entity, t::Column::Kind)),
    }
}

/// One figure of a breakdown: `n` per key.
async fn grouped(
    db: &impl ConnectionTrait,
    by: BreakdownBy,
    mut q: SelectStatement,
) -> StoreResult<Vec<(Option<String>, i64)>> {
    let k = key(by, db.get_database_backend());
    q.expr_as(k.clone(), Alias::new("k")).add_group_by([k]);
    let rows = db.query_all(&q).await?;
    rows.into_iter()
        .map(|r| {
            let k = if by == BreakdownBy::Programme {
                r.try_get::<Option<Uuid>>("", "k")?.map(|u| u.to_string())
            } else {
                r.try_get::<Option<String>>("", "k")?
            };
            Ok((k, r.try_get::<i64>("", "n")?))
        })
        .collect::<Result<_, sea_orm::DbErr>>()
        .map_err(StoreError::from)
}

/// The visible `participations` of the selected Fabriques, joined to what the key needs.
fn from_participations(access: &Access, by: BreakdownBy, ids: &SelectStatement) -> SelectStatement {
    use entity::territory as t;
    let mut q = Query::select();
    q.from(part::Entity);
    if by.territorial() {
        q.inner_join(
            t::Entity,
            Expr::col((t::Entity, t::Column::Id)).equals((part::Entity, part::Column::TerritoryId)),
        );
    } else {
        q.inner_join(
            fabrique::Entity,
            Expr::col((fabrique::Entity, fabrique::Column::Id))
                .equals((part::Entity, part::Column::FabriqueId)),
        );
    }
    q.and_where(Expr::col((part::Entity, part::Column::FabriqueId)).in_subquery(ids.clone()));
    q.cond_where(crate::access::participations(access));
    q
}

/// Per group: Fabriques, participations, territories accompanied, seminars held, roadmaps
/// adopted. One aggregation per figure over the tables themselves; the groups are merged by
/// key. The reference for the pre-aggregated [`breakdown`], and the breakdown of callers who
/// see their own territory's rows.
pub async fn live_breakdown(
    db: &impl ConnectionTrait,
    access: &Access,
    f: &FabriqueFilter,
    by: BreakdownBy,
) -> StoreResult<Breakdown> {
    let ids = crate::fabriques::selected_ids(access, f);
    let count = |table: Alias, col: &str| Expr::col((table, Alias::new(col))).count();
    let mut figures: [Vec<(Option<String>, i64)>; 5] = Default::default();

    // Fabriques.
    figures[0] = if by.territorial() {
        let mut q = from_participations(access, by, &ids);
        q.expr_as(
            Expr::col((part::Entity, part::Column::FabriqueId)).count_distinct(),
            Alias::new("n"),
        );
        grouped(db, by, q).await?
    } else {
        let mut q = Query::select();
        q.from(fabrique::Entity)
            .expr_as(count(Alias::new("fabriques"), "id"), Alias::new("n"))
            .and_where(
                Expr::col((fabrique::Entity, fabrique::Column::Id)).in_subquery(ids.clone()),
            );
        grouped(db, by, q).await?
    };
    // Participations.
    let mut q = from_participations(access, by, &ids);
    q.expr_as(count(Alias::new("participations"), "id"), Alias::new("n"));
    figures[1] = grouped(db, by, q).await?;
    // Territories accompanied.
    let mut q = from_participations(access, by, &ids);
    q.expr_as(
        Expr::col((part::Entity, part::Column::TerritoryId)).count_distinct(),
        Alias::new("n"),
    )
    .and_where(
        Expr::col((part::Entity, part::Column::Status)).is_in(ACCOMPANIED.map(|s| s.as_str())),
    );
    figures[2] = grouped(db, by, q).await?;
    // Seminars held: by territory, the local ones of its participations.
    let mut q = Query::select();
    q.from(seminar::Entity)
        .expr_as(count(Alias::new("seminars"), "id"), Alias::new("n"))
        .and_where(
            Expr::col((seminar::Entity, seminar::Column::Status)).eq(SeminarStatus::Held.as_str()),
        )
        .and_where(
            Expr::col((seminar::Entity, seminar::Column::FabriqueId)).in_subquery(ids.clone()),
        );
    q.cond_where(crate::access::seminars(access));
    if by.territorial() {
        use entity::territory as t;
        q.inner_join(
            part::Entity,
            Expr::col((part::Entity, part::Column::Id))
                .equals((seminar::Entity, seminar::Column::ParticipationId)),
        )
        .inner_join(
            t::Entity,
            Expr::col((t::Entity, t::Column::Id)).equals((part::Entity, part::Column::TerritoryId)),
        );
    } else {
        q.inner_join(
            fabrique::Entity,
            Expr::col((fabrique::Entity, fabrique::Column::Id))
                .equals((seminar::Entity, seminar::Column::FabriqueId)),
        );
    }
    figures[3] = grouped(db, by, q).await?;
    // Roadmaps adopted.
    let mut q = from_participations(access, by, &ids);
    q.inner_join(
        roadmap::Entity,
        Expr::col((roadmap::Entity, roadmap::Column::ParticipationId))
            .equals((part::Entity, part::Column::Id)),
    )
    .expr_as(count(Alias::new("roadmaps"), "id"), Alias::new("n"))
    .and_where(
        Expr::col((roadmap::Entity, roadmap::Column::Status)).eq(RoadmapStatus::Adopted.as_str()),
    );
    figures[4] = grouped(db, by, q).await?;

    let mut groups: Groups = BTreeMap::new();
    for (i, rows) in figures.into_iter().enumerate() {
        for (k, n) in rows {
            groups.entry(k).or_default()[i] = n;
        }
    }
    assemble(db, by, groups).await
}

/// Figures per key: Fabriques, participations, territories accompanied, seminars held,
/// roadmaps adopted.
type Groups = BTreeMap<Option<String>, [i64; 5]>;

/// The breakdown of these groups: labelled, ordered by key, the null key last.
async fn assemble(
    db: &impl ConnectionTrait,
    by: BreakdownBy,
    groups: Groups,
) -> StoreResult<Breakdown> {
    let labels = labels(db, by).await?;
    let mut out: Vec<BreakdownGroup> = groups
        .into_iter()
        .map(
            |(key, [fabriques, participations, territories, seminars, roadmaps])| BreakdownGroup {
                label: key.as_ref().and_then(|k| labels.get(k).cloned()),
                key,
                fabriques,
                participations,
                territories_accompanied: territories,
                seminars_held: seminars,
                roadmaps_adopted: roadmaps,
            },
        )
        .collect();
    // BTreeMap puts None first: move it last.
    out.sort_by(|a, b| match (&a.key, &b.key) {
        (None, None) => std::cmp::Ordering::Equal,
        (None, _) => std::cmp::Ordering::Greater,
        (_, None) => std::cmp::Ordering::Less,
        (x, y) => x.cmp(y),
    });
    Ok(Breakdown { by, groups: out })
}

/// Names for the keys that have one (regions, departments, programmes).
async fn labels(
    db: &impl ConnectionTrait,
    by: BreakdownBy,
) -> StoreResult<HashMap<String, String>> {
    Ok(match by {
        BreakdownBy::Region => entity::ref_region::Entity::find()
            .all(db)
            .await?
            .into_iter()
            .map(|r| (r.code, r.name))
            .collect(),
        BreakdownBy::Department => entity::ref_department::Entity::find()
            .all(db)
            .await?
            .into_iter()
            .map(|d| (d.code, d.name))
            .collect(),
        BreakdownBy::Programme => entity::programme::Entity::find()
            .all(db)
            .await?
            .into_iter()
            .map(|p| (p.id.to_string(), p.name))
            .collect(),
        _ => Default::default(),
    })
}

// --- The pre-aggregated figures ------------------------------------------------------------

const FF: &str = "fabrique_figures";
const PF: &str = "participation_figures";
const TF: &str = "territory_figures";
const FAF: &str = "fabrique_area_figures";
const TKF: &str = "territory_key_figures";
const KF: &str = "key_figures";

/// The key rows of one kind (`status`, `year`, `theme`, `programme`): every Fabrique's
/// `fabrique_figures` summed per key, with the Fabriques counted in `fabriques`.
fn key_rows(kind: &str) -> SelectStatement {
    let mut q = Query::select();
    q.from(Alias::new(KF))
        .and_where(Expr::col((Alias::new(KF), Alias::new("key_kind"))).eq(kind));
    q
}

/// The column that holds the key of a key kind, in `key_figures` and `territory_key_figures`.
fn key_column(kind: &str) -> &'static str {
    if kind == "programme" {
        "programme_id"
    } else {
        "key"
    }
}

/// The key of `key_rows(kind)`.
fn key_of_rows(kind: &str) -> Expr {
    Expr::col((Alias::new(KF), Alias::new(key_column(kind))))
}

/// The pre-aggregated rows of the selection grouped on a key (`k`), with the Fabriques of each
/// group counted as `count`: for every Fabrique, the key rows of `kind`; for a selection, its
/// Fabriques' rows grouped on `key`. Gives the statement and the table to sum columns of.
fn grouped_figures(
    access: &Access,
    f: &FabriqueFilter,
    every: bool,
    kind: &str,
    key: Expr,
    count: &str,
) -> (SelectStatement, &'static str) {
    if every {
        let mut q = key_rows(kind);
        q.expr_as(key_of_rows(kind), Alias::new("k"))
            .expr_as(sum_of(KF, &["fabriques".into()]), Alias::new(count))
            .add_group_by([key_of_rows(kind)]);
        (q, KF)
    } else {
        let mut q = fabriques_with_figures(access, f);
        q.expr_as(key.clone(), Alias::new("k"))
            .expr_as(
                Expr::col((fabrique::Entity, fabrique::Column::Id)).count(),
                Alias::new(count),
            )
            .add_group_by([key]);
        (q, FF)
    }
}

/// The kind of the key rows of a breakdown that is not territorial.
fn key_kind(by: BreakdownBy) -> &'static str {
    match by {
        BreakdownBy::Year => "year",
        BreakdownBy::Theme => "theme",
        BreakdownBy::Status => "status",
        _ => "programme",
    }
}

/// `SUM` of these pre-aggregated columns of `table`, as a bigint (0 over no row).
fn sum_of(table: &str, columns: &[String]) -> Expr {
    let terms: Vec<String> = columns
        .iter()
        .map(|c| format!("\"{table}\".\"{c}\""))
        .collect();
    Expr::cust(format!(
        "CAST(COALESCE(SUM({}), 0) AS bigint)",
        terms.join(" + ")
    ))
}

/// The column names of what `tier` counts.
struct TierColumns {
    /// Per participation status it sees: the column.
    participations: Vec<(&'static str, String)>,
    /// Per seminar kind and status: the column.
    seminars: Vec<(&'static str, SeminarStatus, String)>,
    roadmaps_adopted: String,
    roadmap_actions: String,
}

impl TierColumns {
    fn of(t: FiguresTier) -> Self {
        use domain::ParticipationStatus;
        use domain::seminar::SeminarKind;
        let participations = ParticipationStatus::ALL
            .into_iter()
            .filter(|s| t.all_participations || ACCOMPANIED.contains(s))
            .map(|s| (s.as_str(), format!("p_{}", s.as_str())))
            .collect();
        let prefix = if t.all_participations { "s" } else { "sa" };
        let seminars = SeminarKind::ALL
            .iter()
            .flat_map(|k| {
                SeminarStatus::ALL.iter().map(move |s| {
                    (
                        k.as_str(),
                        *s,
                        format!("{prefix}_{}_{}", k.as_str(), s.as_str()),
                    )
                })
            })
            .collect();
        TierColumns {
            participations,
            seminars,
            roadmaps_adopted: if t.all_participations {
                "r_adopted"
            } else {
                "ra_adopted"
            }
            .into(),
            roadmap_actions: format!(
                "act_{}_{}",
                if t.all_participations { "all" } else { "acc" },
                if t.all_roadmaps { "all" } else { "adopted" }
            ),
        }
    }

    fn held(&self) -> Vec<String> {
        self.seminars
            .iter()
            .filter(|(_, s, _)| *s == SeminarStatus::Held)
            .map(|(_, _, c)| c.clone())
            .collect()
    }
}

/// `fabriques` with their pre-aggregated row, filtered as `GET /fabriques` is.
fn fabriques_with_figures(access: &Access, f: &FabriqueFilter) -> SelectStatement {
    let mut q = Query::select();
    q.from(fabrique::Entity).left_join(
        Alias::new(FF),
        Expr::col((Alias::new(FF), Alias::new("fabrique_id")))
            .equals((fabrique::Entity, fabrique::Column::Id)),
    );
    q.cond_where(crate::fabriques::filtered(access, f));
    q
}

/// Whether the selection is every Fabrique: no filter, and a caller who sees them all. The
/// figures of such a selection read their tables (or the rows per territory, area and key)
/// without joining `fabriques`.
pub(crate) fn every_fabrique(access: &Access, f: &FabriqueFilter) -> bool {
    crate::fabriques::filtered(access, f).is_empty()
}

/// "Its Fabrique is one of the selected ones", for a table that refers to Fabriques by `fk`:
/// no condition at all when the selection is every Fabrique (no filter, and a caller who sees
/// them all), so that the statement reads its table without joining `fabriques`.
fn in_selection(fk: Expr, access: &Access, f: &FabriqueFilter) -> Condition {
    if every_fabrique(access, f) {
        return Condition::all();
    }
    Condition::all().add(fk.in_subquery(crate::fabriques::selected_ids(access, f)))
}

/// `COUNT(DISTINCT territory_id)` of the accompanied participations among the rows counted
/// (where the other figures of the group count the others too).
fn territories_accompanied() -> Expr {
    Expr::cust(format!(
        "COUNT(DISTINCT CASE WHEN \"{PF}\".\"status\" IN ({}) THEN \"{PF}\".\"territory_id\" END)",
        crate::figures::accompanied()
    ))
}

/// The figures of the selected Fabriques. Callers of a [`FiguresTier`] read the
/// pre-aggregated rows (three statements); the others, [`live_overview`].
pub async fn overview(
    db: &impl ConnectionTrait,
    access: &Access,
    f: &FabriqueFilter,
) -> StoreResult<Overview> {
    let Some(tier) = crate::access::figures_tier(access) else {
        return live_overview(db, access, f).await;
    };
    let cols = TierColumns::of(tier);
    let funding_kinds: Vec<(&str, String)> = if access.sees_all_funding() {
        domain::FundingKind::ALL
            .iter()
            .map(|k| (k.as_str(), format!("fund_{}", k.as_str())))
            .collect()
    } else {
        Vec::new()
    };
    let every = every_fabrique(access, f);
    let (mut q, table) = grouped_figures(
        access,
        f,
        every,
        key_kind(BreakdownBy::Status),
        key(BreakdownBy::Status, db.get_database_backend()),
        "n",
    );
    let summed = cols
        .participations
        .iter()
        .map(|(_, c)| c)
        .chain(cols.seminars.iter().map(|(_, _, c)| c))
        .chain([&cols.roadmaps_adopted, &cols.roadmap_actions])
        .chain(funding_kinds.iter().map(|(_, c)| c));
    for c in summed {
        q.expr_as(
            sum_of(table, std::slice::from_ref(c)),
            Alias::new(c.as_str()),
        );
    }
    let rows = db.query_all(&q).await?;

    let mut sums: HashMap<&str, i64> = HashMap::new();
    let mut fabriques_by_status = BTreeMap::new();
    for r in &rows {
        let status: String = r.try_get("", "k")?;
        fabriques_by_status.insert(status, r.try_get::<i64>("", "n")?);
        for c in cols
            .participations
            .iter()
            .map(|(_, c)| c)
            .chain(cols.seminars.iter().map(|(_, _, c)| c))
            .chain([&cols.roadmaps_adopted, &cols.roadmap_actions])
            .chain(funding_kinds.iter().map(|(_, c)| c))
        {
            *sums.entry(c.as_str()).or_default() += r.try_get::<i64>("", c)?;
        }
    }
    let sum = |c: &str| sums.get(c).copied().unwrap_or(0);
    // Only what exists, as the grouped counts of the live figures give.
    let participations_by_status: BTreeMap<String, i64> = cols
        .participations
        .iter()
        .map(|(s, c)| ((*s).to_owned(), sum(c)))
        .filter(|(_, n)| *n > 0)
        .collect();
    let mut seminars: BTreeMap<String, SeminarFigures> = BTreeMap::new();
    for (kind, status, c) in &cols.seminars {
        let n = sum(c);
        if n == 0 {
            continue;
        }
        let s = seminars.entry((*kind).to_owned()).or_default();
        match status {
            SeminarStatus::Planned => s.planned = n,
            SeminarStatus::Held => s.held = n,
            SeminarStatus::Cancelled => s.cancelled = n,
        }
    }

    let territories: Option<i64> = if every {
        // Every Fabrique: one row per territory, its accompanied participations counted.
        let mut q = Query::select();
        q.from(Alias::new(TF))
            .expr_as(Expr::cust("COUNT(*)"), Alias::new("n"))
            .and_where(Expr::col((Alias::new(TF), Alias::new("accompanied"))).gt(0));
        match db.query_one(&q).await? {
            Some(r) => Some(r.try_get::<i64>("", "n")?),
            None => None,
        }
    } else {
        let mut q = Query::select();
        q.from(Alias::new(PF))
            .expr_as(
                Expr::col((Alias::new(PF), Alias::new("territory_id"))).count_distinct(),
                Alias::new("n"),
            )
            .cond_where(in_selection(
                Expr::col((Alias::new(PF), Alias::new("fabrique_id"))),
                access,
                f,
            ))
            .and_where(
                Expr::col((Alias::new(PF), Alias::new("status")))
                    .is_in(ACCOMPANIED.map(|s| s.as_str())),
            );
        match db.query_one(&q).await? {
            Some(r) => Some(r.try_get::<i64>("", "n")?),
            None => None,
        }
    };
    let funding = if access.sees_all_funding() {
        let by_kind = funding_kinds
            .iter()
            .map(|(k, c)| ((*k).to_owned(), sum(c)))
            .filter(|(_, n)| *n != 0)
            .collect();
        let selected = in_selection(
            Expr::col((funding_line::Entity, funding_line::Column::FabriqueId)),
            access,
            f,
        );
        Some(funding(db, selected, by_kind).await?)
    } else {
        None
    };
    Ok(Overview {
        fabriques: fabriques_by_status.values().sum(),
        fabriques_by_status,
        territories_accompanied: territories.unwrap_or(0),
        participations: participations_by_status.values().sum(),
        participations_by_status,
        seminars,
        roadmaps_adopted: sum(&cols.roadmaps_adopted),
        roadmap_actions: sum(&cols.roadmap_actions),
        funding,
    })
}

/// The column of a territorial key in `participation_figures` and `territory_figures`, and
/// the `by` of its rows in `fabrique_area_figures`.
fn territorial_column(by: BreakdownBy) -> &'static str {
    match by {
        BreakdownBy::Region => "region",
        BreakdownBy::Department => "department",
        _ => "territory_kind",
    }
}

/// The key of a territorial breakdown, on `participation_figures` or `territory_figures`.
fn territorial_key(table: &str, by: BreakdownBy) -> Expr {
    Expr::col((Alias::new(table), Alias::new(territorial_column(by))))
}

/// Reads grouped rows: the key `k` and these figures, each an `i64` column.
fn read_groups(
    rows: Vec<sea_orm::QueryResult>,
    by: BreakdownBy,
    figures: &[(usize, &str)],
    groups: &mut Groups,
) -> StoreResult<()> {
    for r in rows {
        let k = if by == BreakdownBy::Programme {
            r.try_get::<Option<Uuid>>("", "k")?.map(|u| u.to_string())
        } else {
            r.try_get::<Option<String>>("", "k")?
        };
        let g = groups.entry(k).or_default();
        for (i, col) in figures {
            g[*i] = r.try_get::<i64>("", col)?;
        }
    }
    Ok(())
}

/// Per group: the same figures as [`live_breakdown`]. Callers of a [`FiguresTier`] read the
/// pre-aggregated rows (two statements, one for a territorial key on a selection); the
/// others, [`live_breakdown`].
pub async fn breakdown(
    db: &impl ConnectionTrait,
    access: &Access,
    f: &FabriqueFilter,
    by: BreakdownBy,
) -> StoreResult<Breakdown> {
    let Some(tier) = crate::access::figures_tier(access) else {
        return live_breakdown(db, access, f, by).await;
    };
    let cols = TierColumns::of(tier);
    let participations: Vec<String> = cols.participations.iter().map(|(_, c)| c.clone()).collect();
    let mut groups: Groups = BTreeMap::new();
    let every = every_fabrique(access, f);
    if by.territorial() {
        let figures = [
            (0, "fabriques"),
            (1, "participations"),
            (2, "territories"),
            (3, "seminars"),
            (4, "roadmaps"),
        ];
        if tier.all_participations && every {
            // Every Fabrique and participation: one row per Fabrique and area (the Fabriques
            // of an area are its rows), and one per territory for the distinct territories.
            let area = |c: &str| Expr::col((Alias::new(FAF), Alias::new(c)));
            let mut q = Query::select();
            q.from(Alias::new(FAF))
                .expr_as(area("area"), Alias::new("k"))
                .expr_as(Expr::cust("COUNT(*)"), Alias::new("fabriques"))
                .expr_as(
                    sum_of(FAF, &["participations".into()]),
                    Alias::new("participations"),
                )
                .expr_as(Expr::val(0i64), Alias::new("territories"))
                .expr_as(
                    sum_of(FAF, &["seminars_held".into()]),
                    Alias::new("seminars"),
                )
                .expr_as(
                    sum_of(FAF, &["roadmaps_adopted".into()]),
                    Alias::new("roadmaps"),
                )
                .and_where(area("area_kind").eq(territorial_column(by)))
                .add_group_by([area("area")]);
            read_groups(db.query_all(&q).await?, by, &figures, &mut groups)?;
            let k = territorial_key(TF, by);
            let mut q = Query::select();
            q.from(Alias::new(TF))
                .expr_as(k.clone(), Alias::new("k"))
                .expr_as(Expr::cust("COUNT(*)"), Alias::new("territories"))
                .and_where(Expr::col((Alias::new(TF), Alias::new("accompanied"))).gt(0))
                .add_group_by([k]);
            // (Its keys are among those of the areas.)
            read_groups(
                db.query_all(&q).await?,
                by,
                &[(2, "territories")],
                &mut groups,
            )?;
        } else {
            let k = territorial_key(PF, by);
            let col = |c: &str| Expr::col((Alias::new(PF), Alias::new(c)));
            let mut q = Query::select();
            q.from(Alias::new(PF))
                .expr_as(k.clone(), Alias::new("k"))
                .expr_as(col("fabrique_id").count_distinct(), Alias::new("fabriques"))
                .expr_as(
                    col("participation_id").count(),
                    Alias::new("participations"),
                )
                .expr_as(territories_accompanied(), Alias::new("territories"))
                .expr_as(
                    sum_of(PF, &["seminars_held".into()]),
                    Alias::new("seminars"),
                )
                .expr_as(
                    sum_of(PF, &["roadmaps_adopted".into()]),
                    Alias::new("roadmaps"),
                )
                .cond_where(in_selection(col("fabrique_id"), access, f))
                .add_group_by([k]);
            if !tier.all_participations {
                q.and_where(col("status").is_in(ACCOMPANIED.map(|s| s.as_str())));
            }
            read_groups(db.query_all(&q).await?, by, &figures, &mut groups)?;
        }
    } else {
        let k = key(by, db.get_database_backend());
        let (mut q, table) =
            grouped_figures(access, f, every, key_kind(by), k.clone(), "fabriques");
        q.expr_as(sum_of(table, &participations), Alias::new("participations"))
            .expr_as(sum_of(table, &cols.held()), Alias::new("seminars"))
            .expr_as(
                sum_of(table, std::slice::from_ref(&cols.roadmaps_adopted)),
                Alias::new("roadmaps"),
            );
        let figures = [
            (0, "fabriques"),
            (1, "participations"),
            (3, "seminars"),
            (4, "roadmaps"),
        ];
        read_groups(db.query_all(&q).await?, by, &figures, &mut groups)?;
        // Territories accompanied: distinct across the Fabriques of a group. For every
        // Fabrique, the rows of one territory per key; otherwise, counted over participations.
        let mut q = Query::select();
        if every {
            let tkf = |c: &str| Expr::col((Alias::new(TKF), Alias::new(c)));
            let kind = key_kind(by);
            let key = key_column(kind);
            q.from(Alias::new(TKF))
                .expr_as(tkf(key), Alias::new("k"))
                .expr_as(Expr::cust("COUNT(*)"), Alias::new("territories"))
                .and_where(tkf("key_kind").eq(kind))
                .add_group_by([tkf(key)]);
        } else {
            q.from(Alias::new(PF))
                .inner_join(
                    fabrique::Entity,
                    Expr::col((fabrique::Entity, fabrique::Column::Id))
                        .equals((Alias::new(PF), Alias::new("fabrique_id"))),
                )
                .expr_as(k.clone(), Alias::new("k"))
                .expr_as(
                    Expr::col((Alias::new(PF), Alias::new("territory_id"))).count_distinct(),
                    Alias::new("territories"),
                )
                .and_where(
                    Expr::col((Alias::new(PF), Alias::new("status")))
                        .is_in(ACCOMPANIED.map(|s| s.as_str())),
                )
                .cond_where(crate::fabriques::filtered(access, f))
                .add_group_by([k]);
        }
        // (Its keys are among those of the Fabriques.)
        read_groups(
            db.query_all(&q).await?,
            by,
            &[(2, "territories")],
            &mut groups,
        )?;
    }
    assemble(db, by, groups).await
}
