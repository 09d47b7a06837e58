//! Figures for the data team. Every figure is one SQL aggregation over the rows the caller
//! may see in the Fabriques the filters select (the same filters and visibility as
//! `GET /fabriques`, the same participations as the exports); nothing is counted in Rust.
//! Definitions: `docs/data-dictionary.md`.

use std::collections::{BTreeMap, HashMap};

use domain::Access;
use domain::access::{ACCOMPANIED, ParticipationRows};
use domain::query::{BreakdownBy, FabriqueFilter};
use domain::roadmap::RoadmapStatus;
use domain::seminar::SeminarStatus;
use entity::{fabrique, funding_line, participation as part, roadmap, roadmap_action, seminar};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, Query, SelectStatement};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, JoinType, PaginatorTrait,
    QueryFilter, QuerySelect,
};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

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

pub async fn overview(
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
        Some(funding(db, &ids).await?)
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

async fn funding(db: &impl ConnectionTrait, ids: &SelectStatement) -> StoreResult<FundingFigures> {
    use entity::organization as org;
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
        .filter(funding_line::Column::FabriqueId.in_subquery(ids.clone()))
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
        BreakdownBy::Year => Expr::cust(match backend {
            sea_orm::DatabaseBackend::Postgres => {
                "to_char(COALESCE(\"fabriques\".\"actual_start\", \"fabriques\".\"planned_start\"), 'YYYY')"
            }
            _ => {
                "substr(COALESCE(\"fabriques\".\"actual_start\", \"fabriques\".\"planned_start\"), 1, 4)"
            }
        }),
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
/// adopted. One aggregation per figure; the groups are merged by key.
pub async fn breakdown(
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

    let mut groups: BTreeMap<Option<String>, [i64; 5]> = BTreeMap::new();
    for (i, rows) in figures.into_iter().enumerate() {
        for (k, n) in rows {
            groups.entry(k).or_default()[i] = n;
        }
    }
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
