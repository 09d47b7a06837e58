//! The rows of the CSV exports, read from the database in constant memory: keyset pages of
//! [`BATCH`] rows (ids are UUIDv7, so id order is creation order), each page handed on before
//! the next is read; the connection is free between pages. The HTTP edge writes them as CSV.
//! A filtered export reads the Fabriques it selects once, first (memory: 16 bytes and a hash
//! slot per selected Fabrique), never once per page.
//!
//! Policy: an export holds the rows the caller may see (the same rule as the API's lists
//! and the public catalogue), and only the columns of the tiers it may see anywhere; a cell
//! of a tier the caller does not see for that row is left empty.

use std::pin::Pin;

use domain::query::{Dataset, FabriqueFilter};
use domain::{Access, Grant, Permission, Scope, Tier, View};
use entity::{
    fabrique, funding_line, participation, roadmap, roadmap_action, seminar, territory, testimony,
};
use futures_util::Stream;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, FromQueryResult, JoinType, QueryFilter,
    QueryOrder, QuerySelect, Select,
};
use uuid::Uuid;

use crate::error::{StoreError, StoreResult};

/// Rows per page. Each page is read on whichever pooled connection is free, and on SQLite each
/// connection's thread allocates its page's values in its own malloc arena: 1,000 rows a page
/// let 8 arenas each grow by a page (SQLite, seminars, 10,000 Fabriques, after concurrent
/// load: peak RSS 70 MiB); 500 keep it near 60 MiB and stream faster (about 140,000 rows/s
/// against 115,000); 250 cost a statement per 250 rows (about 95,000 rows/s).
pub const BATCH: u64 = 500;

/// A dataset's columns, each with its tier.
pub type Columns = &'static [(&'static str, Tier)];

pub const FABRIQUES: Columns = &[
    ("id", Tier::Public),
    ("title", Tier::Public),
    ("theme", Tier::Public),
    ("programme_id", Tier::Public),
    ("status", Tier::Public),
    ("planned_start", Tier::Public),
    ("actual_start", Tier::Public),
    ("end_date", Tier::Public),
    ("min_territories", Tier::Public),
    ("max_territories", Tier::Public),
    ("created_at", Tier::Public),
];
pub const SEMINARS: Columns = &[
    ("id", Tier::Public),
    ("fabrique_id", Tier::Public),
    ("participation_id", Tier::Public),
    ("kind", Tier::Public),
    ("number", Tier::Public),
    ("status", Tier::Public),
    ("scheduled_on", Tier::Public),
    ("place", Tier::Public),
    ("mode", Tier::Public),
    ("attendance", Tier::Public),
    ("held_at", Tier::Public),
    ("cancelled_at", Tier::Public),
];
pub const ROADMAP_ACTIONS: Columns = &[
    ("id", Tier::Public),
    ("roadmap_id", Tier::Public),
    ("position", Tier::Public),
    ("title", Tier::Public),
    ("lead", Tier::Partner),
    ("horizon", Tier::Public),
    ("due_on", Tier::Public),
    ("estimated_cost_cents", Tier::Public),
    ("status", Tier::Public),
];
pub const TERRITORIES: Columns = &[
    ("id", Tier::Public),
    ("name", Tier::Public),
    ("kind", Tier::Public),
    ("code", Tier::Public),
    ("department", Tier::Public),
    ("region", Tier::Public),
    ("population", Tier::Public),
    ("latitude", Tier::Public),
    ("longitude", Tier::Public),
];
pub const FUNDING_LINES: Columns = &[
    ("id", Tier::Public),
    ("fabrique_id", Tier::Public),
    ("organization_id", Tier::Public),
    ("kind", Tier::Public),
    ("amount_cents", Tier::Public),
    ("label", Tier::Public),
];
pub const ROADMAPS: Columns = &[
    ("id", Tier::Public),
    ("participation_id", Tier::Public),
    ("fabrique_id", Tier::Public),
    ("territory_id", Tier::Public),
    ("kind", Tier::Public),
    ("title", Tier::Public),
    ("summary", Tier::Public),
    ("status", Tier::Public),
    ("submitted_at", Tier::Public),
    ("adopted_on", Tier::Public),
    ("adoption_reference", Tier::Public),
    ("created_at", Tier::Public),
];
/// One row per role an organization holds in a Fabrique.
pub const PARTNERS: Columns = &[
    ("fabrique_id", Tier::Public),
    ("organization_id", Tier::Public),
    ("organization_name", Tier::Public),
    ("organization_acronym", Tier::Public),
    ("organization_kind", Tier::Public),
    ("role", Tier::Public),
];
pub const TESTIMONIES: Columns = &[
    ("id", Tier::Public),
    ("fabrique_id", Tier::Public),
    ("territory_id", Tier::Public),
    ("speaker", Tier::Public),
    ("role", Tier::Public),
    ("quote", Tier::Public),
    ("media_url", Tier::Public),
    ("given_on", Tier::Public),
    ("published", Tier::Public),
];
pub const PARTICIPATIONS: Columns = &[
    ("id", Tier::Public),
    ("fabrique_id", Tier::Public),
    ("territory_id", Tier::Public),
    ("status", Tier::Public),
    ("focus", Tier::Public),
    ("applied_at", Tier::Public),
    ("accepted_at", Tier::Public),
    ("activated_at", Tier::Public),
    ("completed_at", Tier::Public),
    ("withdrawn_at", Tier::Public),
    ("sponsor_name", Tier::Personal),
    ("sponsor_mandate", Tier::Personal),
    ("motivation", Tier::Personal),
];

/// Every column of a dataset, whoever reads it.
pub fn all_columns(d: Dataset) -> Columns {
    match d {
        Dataset::Fabriques => FABRIQUES,
        Dataset::Participations => PARTICIPATIONS,
        Dataset::Seminars => SEMINARS,
        Dataset::RoadmapActions => ROADMAP_ACTIONS,
        Dataset::Territories => TERRITORIES,
        Dataset::FundingLines => FUNDING_LINES,
        Dataset::Roadmaps => ROADMAPS,
        Dataset::Partners => PARTNERS,
        Dataset::Testimonies => TESTIMONIES,
    }
}

/// Whether the caller may see a column of this tier in some row.
fn tier_anywhere(access: &Access, tier: Tier) -> bool {
    match tier {
        Tier::Public => true,
        Tier::Partner => !access.is_public(),
        Tier::Personal => access.grant(Permission::ReadPersonalData) != Grant::Never,
        Tier::Internal => access.is_anct(),
    }
}

/// The columns the caller gets.
pub fn columns(d: Dataset, access: &Access) -> Vec<&'static str> {
    all_columns(d)
        .iter()
        .filter(|(_, t)| tier_anywhere(access, *t))
        .map(|(c, _)| *c)
        .collect()
}

/// Open data: what the public gets of a dataset, when the caller gets no more than that.
pub fn is_open_data(d: Dataset, access: &Access) -> bool {
    d != Dataset::FundingLines && columns(d, access) == columns(d, &Access::public())
}

/// A cell: empty for none.
pub fn cell<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(ToString::to_string).unwrap_or_default()
}

/// A row's cells for the caller's columns: the cells of hidden tiers left empty.
fn cells(cols: Columns, access: &Access, view: View, values: Vec<String>) -> Vec<String> {
    cols.iter()
        .zip(values)
        .filter(|((_, t), _)| tier_anywhere(access, *t))
        .map(|((_, t), v)| if view.shows(*t) { v } else { String::new() })
        .collect()
}

/// Batches of rows, in id order, each batch a keyset page.
pub type Rows = Pin<Box<dyn Stream<Item = StoreResult<Vec<Vec<String>>>>>>;

/// The most Fabriques a filtered export binds into each page's statement (`fk IN (…)`);
/// a larger selection is kept in memory and each page's rows are sifted through it.
pub const BOUND_SELECTION_MAX: usize = 500;

/// Which Fabriques' rows an export keeps, and how a row names its Fabrique.
struct Selection<M> {
    /// The selected Fabriques (`None`: every one), read once when the export starts. Before,
    /// each page re-ran the selection's condition, and SQLite rebuilt its subqueries (the
    /// participations of a region) for every page: the seminars of one region at 10,000
    /// Fabriques took 7.1 s, against 1.1 s for all of them.
    fabriques: Option<Select<fabrique::Entity>>,
    /// The column of the page's table that names the row's Fabrique.
    fk: Expr,
    fk_of: fn(&M) -> Uuid,
}

/// The selection once read.
enum Kept {
    Every,
    /// Few enough to bind into each page (sorted).
    Bound(Vec<Uuid>),
    /// Sifted in memory.
    Set(std::collections::HashSet<Uuid>),
}

struct State<E: EntityTrait, M> {
    db: DatabaseConnection,
    q: Select<E>,
    selection: Selection<M>,
    kept: Option<Kept>,
    bound_max: usize,
    after: Option<Uuid>,
    done: bool,
}

impl<E: EntityTrait, M> State<E, M> {
    async fn kept(&mut self) -> StoreResult<&Kept> {
        if self.kept.is_none() {
            let kept = match self.selection.fabriques.take() {
                None => Kept::Every,
                Some(q) => {
                    let ids: Vec<Uuid> = q
                        .select_only()
                        .column(fabrique::Column::Id)
                        .order_by_asc(fabrique::Column::Id)
                        .into_tuple()
                        .all(&self.db)
                        .await?;
                    if ids.len() <= self.bound_max {
                        Kept::Bound(ids)
                    } else {
                        Kept::Set(ids.into_iter().collect())
                    }
                }
            };
            self.kept = Some(kept);
        }
        Ok(self.kept.as_ref().unwrap_or(&Kept::Every))
    }
}

fn pages<E, M>(
    db: DatabaseConnection,
    q: Select<E>,
    selection: Selection<M>,
    id: E::Column,
    id_of: fn(&M) -> Uuid,
    row: impl Fn(&M) -> Vec<String> + 'static,
    bound_max: usize,
) -> Rows
where
    E: EntityTrait,
    E::Column: ColumnTrait,
    M: FromQueryResult + Send + Sync + 'static,
{
    let state = State::<E, M> {
        db,
        q,
        selection,
        kept: None,
        bound_max,
        after: None,
        done: false,
    };
    Box::pin(futures_util::stream::unfold(
        (state, row),
        move |(mut s, row)| async move {
            if s.done {
                return None;
            }
            let fk = s.selection.fk.clone();
            let fk_of = s.selection.fk_of;
            let mut page = s.q.clone().order_by_asc(id).limit(BATCH);
            match s.kept().await {
                Err(e) => {
                    s.done = true;
                    return Some((Err(e), (s, row)));
                }
                // No Fabrique selected: no row.
                Ok(Kept::Bound(ids)) if ids.is_empty() => return None,
                Ok(Kept::Bound(ids)) => page = page.filter(fk.is_in(ids.iter().copied())),
                Ok(Kept::Every | Kept::Set(_)) => {}
            }
            if let Some(after) = s.after {
                page = page.filter(id.gt(after));
            }
            let models = match page.into_model::<M>().all(&s.db).await {
                Ok(m) => m,
                Err(e) => {
                    s.done = true;
                    return Some((Err(StoreError::from(e)), (s, row)));
                }
            };
            if (models.len() as u64) < BATCH {
                s.done = true;
            }
            let last = models.last()?;
            s.after = Some(id_of(last));
            let rows: Vec<Vec<String>> = match &s.kept {
                Some(Kept::Set(set)) => models
                    .iter()
                    .filter(|m| set.contains(&fk_of(m)))
                    .map(&row)
                    .collect(),
                _ => models.iter().map(&row).collect(),
            };
            Some((Ok(rows), (s, row)))
        },
    ))
}

fn time(t: &Option<chrono::DateTime<chrono::Utc>>) -> String {
    cell(&t.map(|t| t.to_rfc3339()))
}

/// The selection of an export whose rows name their Fabrique by `fk`.
fn chosen<M>(
    fabriques: &Option<Select<fabrique::Entity>>,
    fk: impl sea_orm::sea_query::IntoColumnRef,
    fk_of: fn(&M) -> Uuid,
) -> Selection<M> {
    Selection {
        fabriques: fabriques.clone(),
        fk: Expr::col(fk),
        fk_of,
    }
}

#[derive(Debug, FromQueryResult)]
struct RoadmapRow {
    #[sea_orm(nested)]
    r: roadmap::Model,
    fabrique_id: Uuid,
    territory_id: Uuid,
}

/// The partners of the Fabriques the caller may see (of the selection), a page of Fabriques
/// at a time: the partner table has no single key to page by.
fn partners(
    db: DatabaseConnection,
    access: &Access,
    fabriques: Option<Select<fabrique::Entity>>,
) -> Rows {
    let visible = fabriques
        .unwrap_or_else(|| fabrique::Entity::find().filter(crate::access::fabriques(access)));
    Box::pin(futures_util::stream::unfold(
        (db, visible, None::<Uuid>, false),
        |(db, visible, after, done)| async move {
            if done {
                return None;
            }
            let mut page = visible
                .clone()
                .select_only()
                .column(fabrique::Column::Id)
                .order_by_asc(fabrique::Column::Id)
                .limit(BATCH);
            if let Some(a) = after {
                page = page.filter(fabrique::Column::Id.gt(a));
            }
            let ids: Vec<Uuid> = match page.into_tuple().all(&db).await {
                Ok(ids) => ids,
                Err(e) => return Some((Err(StoreError::from(e)), (db, visible, after, true))),
            };
            let &last = ids.last()?;
            let finished = (ids.len() as u64) < BATCH;
            let rows = crate::fabriques::partner_rows(&db, ids).await;
            let out = rows.map(|rows| {
                rows.into_iter()
                    .map(|p| {
                        vec![
                            p.fabrique_id.to_string(),
                            p.organization_id.to_string(),
                            p.name,
                            cell(&p.acronym),
                            p.kind,
                            p.role,
                        ]
                    })
                    .collect()
            });
            Some((out, (db, visible, Some(last), finished)))
        },
    ))
}

#[derive(Debug, FromQueryResult)]
struct ActionRow {
    #[sea_orm(nested)]
    a: roadmap_action::Model,
    fabrique_id: Uuid,
    territory_id: Uuid,
}

/// The rows of `dataset` the caller may see, of the Fabriques `filter` selects (territories:
/// all of them).
pub fn rows(
    db: DatabaseConnection,
    access: &Access,
    dataset: Dataset,
    filter: &FabriqueFilter,
) -> Rows {
    rows_bounded(db, access, dataset, filter, BOUND_SELECTION_MAX)
}

/// [`rows`], binding selections of up to `bound_max` Fabriques into each page (the tests
/// take both ways).
pub fn rows_bounded(
    db: DatabaseConnection,
    access: &Access,
    dataset: Dataset,
    filter: &FabriqueFilter,
    bound_max: usize,
) -> Rows {
    // Nothing to check when the selection is every Fabrique (no filter, and a caller who sees
    // them all), so that no row costs a probe of its Fabrique.
    let every = crate::stats::every_fabrique(access, filter);
    let fabriques = (!every)
        .then(|| fabrique::Entity::find().filter(crate::fabriques::filtered(access, filter)));
    let access = access.clone();
    match dataset {
        Dataset::Fabriques => pages(
            db,
            fabrique::Entity::find(),
            chosen(
                &fabriques,
                (fabrique::Entity, fabrique::Column::Id),
                |m: &fabrique::Model| m.id,
            ),
            fabrique::Column::Id,
            |m: &fabrique::Model| m.id,
            |m| {
                vec![
                    m.id.to_string(),
                    m.title.clone(),
                    cell(&m.theme),
                    cell(&m.programme_id),
                    m.status.clone(),
                    cell(&m.planned_start),
                    cell(&m.actual_start),
                    cell(&m.end_date),
                    m.min_territories.to_string(),
                    m.max_territories.to_string(),
                    m.created_at.to_rfc3339(),
                ]
            },
            bound_max,
        ),
        Dataset::Participations => pages(
            db,
            participation::Entity::find().filter(crate::access::participations(&access)),
            chosen(
                &fabriques,
                (participation::Entity, participation::Column::FabriqueId),
                |m: &participation::Model| m.fabrique_id,
            ),
            participation::Column::Id,
            |m: &participation::Model| m.id,
            move |m| {
                let view = access.view(Scope::territory(m.fabrique_id, m.territory_id));
                cells(
                    PARTICIPATIONS,
                    &access,
                    view,
                    vec![
                        m.id.to_string(),
                        m.fabrique_id.to_string(),
                        m.territory_id.to_string(),
                        m.status.clone(),
                        cell(&m.focus),
                        m.applied_at.to_rfc3339(),
                        time(&m.accepted_at),
                        time(&m.activated_at),
                        time(&m.completed_at),
                        time(&m.withdrawn_at),
                        cell(&m.sponsor_name),
                        cell(&m.sponsor_mandate),
                        cell(&m.motivation),
                    ],
                )
            },
            bound_max,
        ),
        Dataset::Seminars => pages(
            db,
            seminar::Entity::find().filter(crate::access::seminars(&access)),
            chosen(
                &fabriques,
                (seminar::Entity, seminar::Column::FabriqueId),
                |m: &seminar::Model| m.fabrique_id,
            ),
            seminar::Column::Id,
            |m: &seminar::Model| m.id,
            |m| {
                vec![
                    m.id.to_string(),
                    m.fabrique_id.to_string(),
                    cell(&m.participation_id),
                    m.kind.clone(),
                    m.number.to_string(),
                    m.status.clone(),
                    m.scheduled_on.to_string(),
                    cell(&m.place),
                    m.mode.clone(),
                    cell(&m.attendance),
                    time(&m.held_at),
                    time(&m.cancelled_at),
                ]
            },
            bound_max,
        ),
        Dataset::RoadmapActions => {
            let roadmaps = {
                let mut q = sea_orm::sea_query::Query::select()
                    .column((roadmap::Entity, roadmap::Column::Id))
                    .from(roadmap::Entity)
                    .to_owned();
                q.cond_where(crate::access::roadmaps(&access));
                q
            };
            pages(
                db,
                roadmap_action::Entity::find()
                    .join(
                        JoinType::InnerJoin,
                        roadmap_action::Entity::belongs_to(roadmap::Entity)
                            .from(roadmap_action::Column::RoadmapId)
                            .to(roadmap::Column::Id)
                            .into(),
                    )
                    .join(
                        JoinType::InnerJoin,
                        roadmap::Entity::belongs_to(participation::Entity)
                            .from(roadmap::Column::ParticipationId)
                            .to(participation::Column::Id)
                            .into(),
                    )
                    .column_as(participation::Column::FabriqueId, "fabrique_id")
                    .column_as(participation::Column::TerritoryId, "territory_id")
                    .filter(
                        Expr::col((roadmap_action::Entity, roadmap_action::Column::RoadmapId))
                            .in_subquery(roadmaps),
                    ),
                chosen(
                    &fabriques,
                    (participation::Entity, participation::Column::FabriqueId),
                    |r: &ActionRow| r.fabrique_id,
                ),
                roadmap_action::Column::Id,
                |r: &ActionRow| r.a.id,
                move |r| {
                    let m = &r.a;
                    let view = access.view(Scope::territory(r.fabrique_id, r.territory_id));
                    cells(
                        ROADMAP_ACTIONS,
                        &access,
                        view,
                        vec![
                            m.id.to_string(),
                            m.roadmap_id.to_string(),
                            m.position.to_string(),
                            m.title.clone(),
                            cell(&m.lead),
                            cell(&m.horizon),
                            cell(&m.due_on),
                            cell(&m.estimated_cost_cents),
                            m.status.clone(),
                        ],
                    )
                },
                bound_max,
            )
        }
        Dataset::Territories => pages(
            db,
            territory::Entity::find(),
            // Every territory, whatever the filter.
            Selection {
                fabriques: None,
                fk: Expr::col((territory::Entity, territory::Column::Id)),
                fk_of: |m: &territory::Model| m.id,
            },
            territory::Column::Id,
            |m: &territory::Model| m.id,
            |m| {
                vec![
                    m.id.to_string(),
                    m.name.clone(),
                    m.kind.clone(),
                    cell(&m.code),
                    cell(&m.department),
                    cell(&m.region),
                    cell(&m.population),
                    cell(&m.latitude),
                    cell(&m.longitude),
                ]
            },
            bound_max,
        ),
        Dataset::Roadmaps => pages(
            db,
            roadmap::Entity::find()
                .join(
                    JoinType::InnerJoin,
                    roadmap::Entity::belongs_to(participation::Entity)
                        .from(roadmap::Column::ParticipationId)
                        .to(participation::Column::Id)
                        .into(),
                )
                .column_as(participation::Column::FabriqueId, "fabrique_id")
                .column_as(participation::Column::TerritoryId, "territory_id")
                .filter(crate::access::roadmaps(&access)),
            chosen(
                &fabriques,
                (participation::Entity, participation::Column::FabriqueId),
                |r: &RoadmapRow| r.fabrique_id,
            ),
            roadmap::Column::Id,
            |r: &RoadmapRow| r.r.id,
            |row| {
                let m = &row.r;
                vec![
                    m.id.to_string(),
                    m.participation_id.to_string(),
                    row.fabrique_id.to_string(),
                    row.territory_id.to_string(),
                    m.kind.clone(),
                    m.title.clone(),
                    m.summary.clone(),
                    m.status.clone(),
                    time(&m.submitted_at),
                    cell(&m.adopted_on),
                    cell(&m.adoption_reference),
                    m.created_at.to_rfc3339(),
                ]
            },
            bound_max,
        ),
        Dataset::Partners => partners(db, &access, fabriques),
        Dataset::Testimonies => pages(
            db,
            testimony::Entity::find().filter(crate::access::testimonies(&access)),
            chosen(
                &fabriques,
                (testimony::Entity, testimony::Column::FabriqueId),
                |m: &testimony::Model| m.fabrique_id,
            ),
            testimony::Column::Id,
            |m: &testimony::Model| m.id,
            |m| {
                vec![
                    m.id.to_string(),
                    m.fabrique_id.to_string(),
                    cell(&m.territory_id),
                    m.speaker.clone(),
                    cell(&m.role),
                    cell(&m.quote),
                    cell(&m.media_url),
                    cell(&m.given_on),
                    m.published.to_string(),
                ]
            },
            bound_max,
        ),
        Dataset::FundingLines => pages(
            db,
            funding_line::Entity::find().filter(crate::access::funding(
                &access,
                funding_line::Column::FabriqueId,
            )),
            chosen(
                &fabriques,
                (funding_line::Entity, funding_line::Column::FabriqueId),
                |m: &funding_line::Model| m.fabrique_id,
            ),
            funding_line::Column::Id,
            |m: &funding_line::Model| m.id,
            |m| {
                vec![
                    m.id.to_string(),
                    m.fabrique_id.to_string(),
                    m.organization_id.to_string(),
                    m.kind.clone(),
                    m.amount_cents.to_string(),
                    cell(&m.label),
                ]
            },
            bound_max,
        ),
    }
}
