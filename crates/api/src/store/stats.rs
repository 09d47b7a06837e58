//! Figures for the data team. Every figure is one SQL aggregation over the Fabriques the
//! filters select (the same filters, and the same visibility, as `GET /fabriques`); nothing is
//! counted in Rust. Definitions: `docs/data-dictionary.md`.

use std::collections::BTreeMap;

use domain::ParticipationStatus;
use entity::{fabrique, funding_line, participation as part, roadmap, roadmap_action, seminar};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, Query, SelectStatement};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
};
use uuid::Uuid;

use super::fabriques::{Filters, filtered};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::routes::stats::{FundingByOrganization, FundingFigures, Overview, SeminarFigures};

/// Participation statuses that count as "accompanied".
pub const ACCOMPANIED: [ParticipationStatus; 3] = [
    ParticipationStatus::Accepted,
    ParticipationStatus::Active,
    ParticipationStatus::Completed,
];

/// The ids of the selected Fabriques, as a subquery.
pub fn selected(caller: Option<&Caller>, f: &Filters<'_>) -> Result<SelectStatement, ApiError> {
    use sea_orm::QueryTrait;
    Ok(filtered(
        fabrique::Entity::find()
            .select_only()
            .column(fabrique::Column::Id),
        caller,
        f,
    )?
    .into_query())
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

fn participations_of(ids: &SelectStatement) -> SelectStatement {
    Query::select()
        .column(part::Column::Id)
        .from(part::Entity)
        .and_where(Expr::col(part::Column::FabriqueId).in_subquery(ids.clone()))
        .to_owned()
}

async fn counts_by(
    db: &impl ConnectionTrait,
    q: sea_orm::Select<impl EntityTrait>,
) -> Result<BTreeMap<String, i64>, ApiError> {
    let rows: Vec<(String, i64)> = q.into_tuple().all(db).await?;
    Ok(rows.into_iter().collect())
}

pub async fn overview(
    db: &impl ConnectionTrait,
    caller: Option<&Caller>,
    f: &Filters<'_>,
    with_funding: bool,
) -> Result<Overview, ApiError> {
    let ids = selected(caller, f)?;
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
        .group_by(seminar::Column::Kind)
        .group_by(seminar::Column::Status)
        .into_tuple()
        .all(db)
        .await?;
    let mut seminars: BTreeMap<String, SeminarFigures> = BTreeMap::new();
    for (kind, status, n) in seminar_rows {
        let s = seminars.entry(kind).or_default();
        match status.as_str() {
            "planned" => s.planned = n,
            "held" => s.held = n,
            "cancelled" => s.cancelled = n,
            _ => {}
        }
    }
    let roadmaps_adopted = roadmap::Entity::find()
        .filter(roadmap::Column::Status.eq("adopted"))
        .filter(roadmap::Column::ParticipationId.in_subquery(participations_of(&ids)))
        .count(db)
        .await?;
    let roadmap_actions = roadmap_action::Entity::find()
        .filter(
            roadmap_action::Column::RoadmapId.in_subquery(
                Query::select()
                    .column(roadmap::Column::Id)
                    .from(roadmap::Entity)
                    .and_where(
                        Expr::col(roadmap::Column::ParticipationId)
                            .in_subquery(participations_of(&ids)),
                    )
                    .to_owned(),
            ),
        )
        .count(db)
        .await?;
    let funding = if with_funding {
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
        Func::sum(Expr::col(funding_line::Column::AmountCents)),
        Alias::new("bigint"),
    ))
}

async fn funding(
    db: &impl ConnectionTrait,
    ids: &SelectStatement,
) -> Result<FundingFigures, ApiError> {
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
    let rows: Vec<(Uuid, i64)> = funding_line::Entity::find()
        .select_only()
        .column(funding_line::Column::OrganizationId)
        .column_as(sum_cents(), "n")
        .filter(funding_line::Column::FabriqueId.in_subquery(ids.clone()))
        .group_by(funding_line::Column::OrganizationId)
        .into_tuple()
        .all(db)
        .await?;
    let names: std::collections::HashMap<Uuid, String> = entity::organization::Entity::find()
        .filter(entity::organization::Column::Id.is_in(rows.iter().map(|r| r.0)))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect();
    let mut by_organization: Vec<FundingByOrganization> = rows
        .into_iter()
        .map(|(organization_id, amount_cents)| FundingByOrganization {
            organization_id,
            name: names.get(&organization_id).cloned().unwrap_or_default(),
            amount_cents,
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

/// What a breakdown groups by, and where that value lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    Year,
    Theme,
    Programme,
    Status,
    Region,
    Department,
    TerritoryKind,
}

impl By {
    pub fn parse(s: &str) -> Option<By> {
        Some(match s {
            "year" => By::Year,
            "theme" => By::Theme,
            "programme" => By::Programme,
            "status" => By::Status,
            "region" => By::Region,
            "department" => By::Department,
            "territory_kind" => By::TerritoryKind,
            _ => return None,
        })
    }

    /// Grouped on the territories of the participations (else on the Fabriques).
    fn territorial(self) -> bool {
        matches!(self, By::Region | By::Department | By::TerritoryKind)
    }

    fn key(self, backend: sea_orm::DatabaseBackend) -> Expr {
        use entity::territory as t;
        let f = |c: fabrique::Column| Expr::col((fabrique::Entity, c));
        match self {
            By::Year => Expr::cust(match backend {
                sea_orm::DatabaseBackend::Postgres => {
                    "to_char(COALESCE(\"fabriques\".\"actual_start\", \"fabriques\".\"planned_start\"), 'YYYY')"
                }
                _ => {
                    "substr(COALESCE(\"fabriques\".\"actual_start\", \"fabriques\".\"planned_start\"), 1, 4)"
                }
            }),
            By::Theme => f(fabrique::Column::Theme),
            By::Programme => f(fabrique::Column::ProgrammeId),
            By::Status => f(fabrique::Column::Status),
            By::Region => Expr::col((t::Entity, t::Column::Region)),
            By::Department => Expr::col((t::Entity, t::Column::Department)),
            By::TerritoryKind => Expr::col((t::Entity, t::Column::Kind)),
        }
    }
}

/// One figure of a breakdown: `n` per key.
async fn grouped(
    db: &impl ConnectionTrait,
    by: By,
    mut q: SelectStatement,
) -> Result<Vec<(Option<String>, i64)>, ApiError> {
    let key = by.key(db.get_database_backend());
    q.expr_as(key.clone(), Alias::new("k")).add_group_by([key]);
    let rows = db.query_all(&q).await?;
    rows.into_iter()
        .map(|r| {
            let k = if by == By::Programme {
                r.try_get::<Option<Uuid>>("", "k")?.map(|u| u.to_string())
            } else {
                r.try_get::<Option<String>>("", "k")?
            };
            Ok((k, r.try_get::<i64>("", "n")?))
        })
        .collect::<Result<_, sea_orm::DbErr>>()
        .map_err(ApiError::from)
}

/// `participations` joined to what the key needs, restricted to the selected Fabriques.
fn from_participations(by: By, ids: &SelectStatement) -> SelectStatement {
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
    q
}

/// Per group: Fabriques, participations, territories accompanied, seminars held, roadmaps
/// adopted. One aggregation per figure; the groups are merged by key.
pub async fn breakdown(
    db: &impl ConnectionTrait,
    caller: Option<&Caller>,
    f: &Filters<'_>,
    by: By,
) -> Result<BTreeMap<Option<String>, [i64; 5]>, ApiError> {
    let ids = selected(caller, f)?;
    let count = |table: Alias, col: &str| Expr::col((table, Alias::new(col))).count();
    let mut figures: [Vec<(Option<String>, i64)>; 5] = Default::default();

    // Fabriques.
    figures[0] = if by.territorial() {
        let mut q = from_participations(by, &ids);
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
    let mut q = from_participations(by, &ids);
    q.expr_as(count(Alias::new("participations"), "id"), Alias::new("n"));
    figures[1] = grouped(db, by, q).await?;
    // Territories accompanied.
    let mut q = from_participations(by, &ids);
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
        .and_where(Expr::col((seminar::Entity, seminar::Column::Status)).eq("held"))
        .and_where(
            Expr::col((seminar::Entity, seminar::Column::FabriqueId)).in_subquery(ids.clone()),
        );
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
    let mut q = from_participations(by, &ids);
    q.inner_join(
        roadmap::Entity,
        Expr::col((roadmap::Entity, roadmap::Column::ParticipationId))
            .equals((part::Entity, part::Column::Id)),
    )
    .expr_as(count(Alias::new("roadmaps"), "id"), Alias::new("n"))
    .and_where(Expr::col((roadmap::Entity, roadmap::Column::Status)).eq("adopted"));
    figures[4] = grouped(db, by, q).await?;

    let mut groups: BTreeMap<Option<String>, [i64; 5]> = BTreeMap::new();
    for (i, rows) in figures.into_iter().enumerate() {
        for (k, n) in rows {
            groups.entry(k).or_default()[i] = n;
        }
    }
    Ok(groups)
}

/// Names for the keys that have one (regions, departments, programmes).
pub async fn labels(
    db: &impl ConnectionTrait,
    by: By,
) -> Result<std::collections::HashMap<String, String>, ApiError> {
    Ok(match by {
        By::Region => entity::ref_region::Entity::find()
            .all(db)
            .await?
            .into_iter()
            .map(|r| (r.code, r.name))
            .collect(),
        By::Department => entity::ref_department::Entity::find()
            .all(db)
            .await?
            .into_iter()
            .map(|d| (d.code, d.name))
            .collect(),
        By::Programme => entity::programme::Entity::find()
            .all(db)
            .await?
            .into_iter()
            .map(|p| (p.id.to_string(), p.name))
            .collect(),
        _ => Default::default(),
    })
}
