//! Fabriques prospectives: the selection every list, figure, export and map shares, reads in
//! one statement (the rows with their programme and their partners with their organizations),
//! and the writes with their rules.

use domain::text::searchable;
use std::borrow::Cow;
use std::collections::HashMap;

use chrono::Utc;
use domain::fabrique::{
    self as rules, EditFacts, FabriqueChanges, FabriqueFacts, NewFabrique, ParticipationCounts,
};
use domain::query::{CursorKey, FabriqueFilter, FabriqueSortKey, PageRequest};
use domain::{
    Access, Blocker, EntityType, FabriqueAction, FabriqueStatus, OrganizationKind,
    ParticipationStatus, PartnerRole,
};
use entity::fabrique::{ActiveModel, Column, Entity, Model};
use entity::{fabrique_partner as fp, organization as org, participation as part, programme};
use sea_orm::sea_query::{Expr, ExprTrait, Query, SelectStatement};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait,
    FromQueryResult, JoinType, QueryFilter, QueryOrder, QuerySelect, Select, Set,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::decode::{count, decode};
use crate::error::{StoreError, StoreResult};
use crate::journal::{self, Actor};
use crate::page::{self, KeyColumn, Page, text_match};

/// An organization's roles in one Fabrique.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = PartnerResponse)]
pub struct Partner {
    pub organization_id: Uuid,
    #[schema(example = "Association des maires de France")]
    pub name: String,
    pub acronym: Option<String>,
    pub kind: OrganizationKind,
    pub roles: Vec<PartnerRole>,
}

/// A Fabrique prospective.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = FabriqueResponse)]
pub struct Fabrique {
    pub id: Uuid,
    #[schema(example = "Sites industriels de demain")]
    pub title: String,
    #[schema(example = "Industrie")]
    pub theme: Option<String>,
    pub description: String,
    /// ANCT programme the Fabrique is tied to (see `/programmes`).
    pub programme_id: Option<Uuid>,
    /// The programme's name (read-only).
    #[schema(example = "Territoires d'industrie")]
    pub programme: Option<String>,
    #[schema(example = 4)]
    pub min_territories: i32,
    #[schema(example = 8)]
    pub max_territories: i32,
    pub planned_start: Option<chrono::NaiveDate>,
    /// Set at launch.
    pub actual_start: Option<chrono::NaiveDate>,
    /// Set at launch to 12 months after the start unless given.
    pub end_date: Option<chrono::NaiveDate>,
    pub status: FabriqueStatus,
    /// Why it was cancelled.
    pub status_reason: Option<String>,
    pub status_changed_at: chrono::DateTime<chrono::Utc>,
    pub partners: Vec<Partner>,
    /// Provenance of demo or imported data (which facts are unverified).
    pub source: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

pub fn not_found() -> StoreError {
    StoreError::NotFound("fabrique")
}

pub fn status_of(m: &Model) -> StoreResult<FabriqueStatus> {
    decode("fabriques", "status", &m.status)
}

/// A Fabrique row with its programme's name and its partners (a JSON array, see
/// [`with_partners`]).
#[derive(Debug, FromQueryResult)]
struct Row {
    #[sea_orm(nested)]
    f: Model,
    programme_name: Option<String>,
    partners: Option<String>,
}

/// The partners of each row as one JSON array of `[id, role, name, acronym, kind]` arrays (one
/// per role, `NULL` or `[]` when none), read by a correlated subquery: a page or a GET is one
/// statement, and no partner row travels (nor is decoded) on its own.
///
/// PostgreSQL builds the text by concatenation: `json_build_array` and `json_agg` look up each
/// argument's output function on every call, which cost a list page of 50 about a third of its
/// statement (10,000 Fabriques, pgbench at one connection: 0.89 to 0.65 ms). Only names and
/// acronyms go through `to_json` (they may hold any character); ids, roles and kinds are
/// written as they are, and one that is not a valid JSON string makes the array unreadable, which
/// [`partners_in`] reports as corrupt data like any other undecodable value. SQLite keeps UUIDs
/// as 16-byte blobs, which JSON cannot hold: they travel as hex.
fn with_partners(q: Select<Entity>, backend: DbBackend) -> Select<Entity> {
    const POSTGRES: &str = "(SELECT '[' || string_agg('[\"' || fp.organization_id::text \
        || '\",\"' || fp.role || '\",' || to_json(o.name)::text || ',' \
        || coalesce(to_json(o.acronym)::text, 'null') || ',\"' || o.kind || '\"]', ',') || ']' \
        FROM fabrique_partners fp JOIN organizations o ON o.id = fp.organization_id \
        WHERE fp.fabrique_id = \"fabriques\".\"id\")";
    const SQLITE: &str = "(SELECT json_group_array(json_array(hex(fp.organization_id), \
        fp.role, o.name, o.acronym, o.kind)) \
        FROM fabrique_partners fp JOIN organizations o ON o.id = fp.organization_id \
        WHERE fp.fabrique_id = \"fabriques\".\"id\")";
    let sql = match backend {
        DbBackend::Postgres => POSTGRES,
        _ => SQLITE,
    };
    q.expr_as(Expr::cust(sql), "partners")
}

/// One partner role of a Fabrique as [`with_partners`] gives it: a JSON array read in the
/// order of these fields.
#[derive(Deserialize)]
struct PartnerCell<'a> {
    id: Uuid,
    #[serde(borrow)]
    role: Cow<'a, str>,
    name: String,
    acronym: Option<String>,
    #[serde(borrow)]
    kind: Cow<'a, str>,
}

/// The partners in [`with_partners`]'s JSON, grouped and ordered as [`partners_of`] does.
fn partners_in(json: Option<&str>) -> StoreResult<Vec<Partner>> {
    let Some(json) = json else {
        return Ok(Vec::new());
    };
    let cells: Vec<PartnerCell> = serde_json::from_str(json).map_err(|e| {
        tracing::error!(error = %e, json, "the partners of a Fabrique read back unreadable");
        StoreError::Corrupt {
            table: "fabrique_partners",
            column: "(partners of a Fabrique)",
            value: json.to_owned(),
        }
    })?;
    let mut list = Vec::new();
    for c in cells {
        add_role(&mut list, c.id, &c.role, c.name, c.acronym, &c.kind)?;
    }
    sort_partners(&mut list);
    Ok(list)
}

/// Adds one role of an organization to `list` (its entry made on its first role).
fn add_role(
    list: &mut Vec<Partner>,
    organization_id: Uuid,
    role: &str,
    name: String,
    acronym: Option<String>,
    kind: &str,
) -> StoreResult<()> {
    let role: PartnerRole = decode("fabrique_partners", "role", role)?;
    match list
        .iter_mut()
        .find(|p| p.organization_id == organization_id)
    {
        Some(p) => p.roles.push(role),
        None => list.push(Partner {
            organization_id,
            kind: decode("organizations", "kind", kind)?,
            name,
            acronym,
            roles: vec![role],
        }),
    }
    Ok(())
}

/// Roles in their order, partners by their roles then name.
fn sort_partners(list: &mut [Partner]) {
    for p in list.iter_mut() {
        p.roles.sort();
    }
    list.sort_by(|a, b| a.roles.cmp(&b.roles).then(a.name.cmp(&b.name)));
}

fn with_programme() -> Select<Entity> {
    Entity::find()
        .join(
            JoinType::LeftJoin,
            Entity::belongs_to(programme::Entity)
                .from(Column::ProgrammeId)
                .to(programme::Column::Id)
                .into(),
        )
        .column_as(programme::Column::Name, "programme_name")
}

fn view(row: Row) -> StoreResult<Fabrique> {
    let partners = partners_in(row.partners.as_deref())?;
    let m = row.f;
    Ok(Fabrique {
        status: status_of(&m)?,
        programme: row.programme_name,
        programme_id: m.programme_id,
        id: m.id,
        title: m.title,
        theme: m.theme,
        description: m.description,
        min_territories: m.min_territories,
        max_territories: m.max_territories,
        planned_start: m.planned_start,
        actual_start: m.actual_start,
        end_date: m.end_date,
        status_reason: m.status_reason,
        status_changed_at: m.status_changed_at,
        partners,
        source: m.source,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

/// One role of an organization in a Fabrique, with the organization's name, acronym and kind.
#[derive(Debug, FromQueryResult)]
pub(crate) struct PartnerRow {
    pub fabrique_id: Uuid,
    pub organization_id: Uuid,
    pub role: String,
    pub name: String,
    pub acronym: Option<String>,
    pub kind: String,
}

/// The partner rows of these Fabriques, by Fabrique, organization and role: one statement.
pub(crate) async fn partner_rows(
    db: &impl ConnectionTrait,
    ids: Vec<Uuid>,
) -> StoreResult<Vec<PartnerRow>> {
    Ok(fp::Entity::find()
        .select_only()
        .column(fp::Column::FabriqueId)
        .column(fp::Column::OrganizationId)
        .column(fp::Column::Role)
        .column(org::Column::Name)
        .column(org::Column::Acronym)
        .column(org::Column::Kind)
        .join(
            JoinType::InnerJoin,
            fp::Entity::belongs_to(org::Entity)
                .from(fp::Column::OrganizationId)
                .to(org::Column::Id)
                .into(),
        )
        .filter(fp::Column::FabriqueId.is_in(ids))
        .order_by_asc(fp::Column::FabriqueId)
        .order_by_asc(fp::Column::OrganizationId)
        .order_by_asc(fp::Column::Role)
        .into_model::<PartnerRow>()
        .all(db)
        .await?)
}

/// The partners of each Fabrique with their organizations, in one statement.
pub async fn partners_of(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> StoreResult<HashMap<Uuid, Vec<Partner>>> {
    let mut out: HashMap<Uuid, Vec<Partner>> = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    for r in partner_rows(db, ids.to_vec()).await? {
        let list = out.entry(r.fabrique_id).or_default();
        add_role(list, r.organization_id, &r.role, r.name, r.acronym, &r.kind)?;
    }
    for list in out.values_mut() {
        sort_partners(list);
    }
    Ok(out)
}

fn year_range(r: domain::query::YearRange) -> Condition {
    let (start, end) = r.dates();
    Condition::any()
        .add(
            Condition::all()
                .add(Column::ActualStart.is_not_null())
                .add(Column::ActualStart.gte(start))
                .add(Column::ActualStart.lt(end)),
        )
        .add(
            Condition::all()
                .add(Column::ActualStart.is_null())
                .add(Column::PlannedStart.gte(start))
                .add(Column::PlannedStart.lt(end)),
        )
}

/// The Fabriques of the filter the caller may see, as a condition on `fabriques`. The
/// `territory` and `region` filters match only the participations the caller may see.
pub fn filtered(access: &Access, f: &FabriqueFilter) -> Condition {
    let mut c = crate::access::fabriques(access);
    if !f.ids.is_empty() {
        c = c.add(Column::Id.is_in(f.ids.clone()));
    }
    if !f.statuses.is_empty() {
        c = c.add(Column::Status.is_in(f.statuses.iter().map(|s| s.as_str())));
    }
    if let Some(theme) = &f.theme {
        c = c.add(text_match(&[Column::Theme], theme));
    }
    if !f.programmes.is_empty() {
        c = c.add(Column::ProgrammeId.is_in(f.programmes.clone()));
    }
    for r in &f.years {
        c = c.add(year_range(*r));
    }
    if !f.territories.is_empty() {
        let mut sub = Query::select()
            .column((part::Entity, part::Column::FabriqueId))
            .from(part::Entity)
            .and_where(part::Column::TerritoryId.is_in(f.territories.clone()))
            .to_owned();
        sub.cond_where(crate::access::participations(access));
        c = c.add(Column::Id.in_subquery(sub));
    }
    if !f.organizations.is_empty() {
        c = c.add(
            Column::Id.in_subquery(
                Query::select()
                    .column(fp::Column::FabriqueId)
                    .from(fp::Entity)
                    .and_where(fp::Column::OrganizationId.is_in(f.organizations.clone()))
                    .to_owned(),
            ),
        );
    }
    if let Some(text) = &f.q {
        c = c.add(page::words_match(Column::Search, text));
    }
    if !f.regions.is_empty() {
        use entity::territory;
        let mut sub = Query::select()
            .column((part::Entity, part::Column::FabriqueId))
            .from(part::Entity)
            .inner_join(
                territory::Entity,
                Expr::col((territory::Entity, territory::Column::Id))
                    .equals((part::Entity, part::Column::TerritoryId)),
            )
            .and_where(
                Expr::col((territory::Entity, territory::Column::Region))
                    .is_in(f.regions.iter().cloned()),
            )
            .to_owned();
        sub.cond_where(crate::access::participations(access));
        c = c.add(Column::Id.in_subquery(sub));
    }
    if let Some(t) = f.updated_since {
        c = c.add(Column::UpdatedAt.gte(t));
    }
    c
}

/// `SELECT id FROM fabriques WHERE …`: the selection of the figures, exports and map.
pub fn selected_ids(access: &Access, f: &FabriqueFilter) -> SelectStatement {
    let mut q = Query::select()
        .column((Entity, Column::Id))
        .from(Entity)
        .to_owned();
    q.cond_where(filtered(access, f));
    q
}

/// A page of Fabriques: the rows with their programme and partners, and the count if asked
/// (at most two statements, whatever the page size).
pub async fn list(
    db: &impl ConnectionTrait,
    access: &Access,
    f: &FabriqueFilter,
    p: &PageRequest<FabriqueSortKey>,
) -> StoreResult<Page<Fabrique>> {
    let key = match p.sort.key {
        FabriqueSortKey::CreatedAt => KeyColumn::Created,
        FabriqueSortKey::Title => KeyColumn::Text(Column::Title),
        FabriqueSortKey::UpdatedAt => KeyColumn::Time(Column::UpdatedAt),
    };
    let q = with_programme().filter(filtered(access, f));
    let sort_key = p.sort.key;
    let backend = db.get_database_backend();
    let page = page::fetch_shaped(
        db,
        q,
        |q| with_partners(q, backend),
        Column::Id,
        key,
        p,
        move |r: &Row| {
            Some(match sort_key {
                FabriqueSortKey::UpdatedAt => CursorKey::Time(r.f.updated_at),
                _ => CursorKey::Text(r.f.title.clone()),
            })
        },
        |r| r.f.id,
    )
    .await?;
    page.try_map(view)
}

/// The Fabrique row if the caller may know it exists (one statement).
pub async fn visible(db: &impl ConnectionTrait, access: &Access, id: Uuid) -> StoreResult<Model> {
    let m = Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    if !access.sees_fabrique(status_of(&m)?) {
        return Err(not_found());
    }
    Ok(m)
}

/// `select` (of a table whose `fk` refers to the Fabriques) with its Fabrique's status as
/// `fabrique_status`, so that its visibility is known from the same statement.
pub(crate) fn with_fabrique_status<E: EntityTrait>(select: Select<E>, fk: E::Column) -> Select<E> {
    select
        .join(
            JoinType::InnerJoin,
            E::belongs_to(Entity).from(fk).to(Column::Id).into(),
        )
        .column_as(Column::Status, "fabrique_status")
}

/// Not found unless `access` sees a Fabrique whose status is `fabrique_status` (as read by
/// [`with_fabrique_status`]); `missing` is the error of what was looked for.
pub(crate) fn check_visible(
    access: &Access,
    fabrique_status: &str,
    missing: StoreError,
) -> StoreResult<()> {
    let status: FabriqueStatus = decode("fabriques", "status", fabrique_status)?;
    if access.sees_fabrique(status) {
        Ok(())
    } else {
        Err(missing)
    }
}

/// One Fabrique in one statement: the row with its programme and partners.
pub async fn get(db: &impl ConnectionTrait, access: &Access, id: Uuid) -> StoreResult<Fabrique> {
    let row = with_partners(with_programme(), db.get_database_backend())
        .filter(Column::Id.eq(id))
        .into_model::<Row>()
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    if !access.sees_fabrique(status_of(&row.f)?) {
        return Err(not_found());
    }
    view(row)
}

/// The whole Fabrique, whoever asks (for the journal).
async fn whole(db: &impl ConnectionTrait, id: Uuid) -> StoreResult<Fabrique> {
    get(db, &Access::system(), id).await
}

/// The partners of a visible Fabrique.
pub async fn partners(
    db: &impl ConnectionTrait,
    access: &Access,
    id: Uuid,
) -> StoreResult<Vec<Partner>> {
    visible(db, access, id).await?;
    Ok(partners_of(db, &[id])
        .await?
        .remove(&id)
        .unwrap_or_default())
}

/// The Fabrique row, locked for the rest of the transaction on PostgreSQL (SQLite runs one
/// writer at a time anyway), so that rules counting its participations see a stable count.
pub async fn for_update(db: &impl ConnectionTrait, id: Uuid) -> StoreResult<Model> {
    Entity::find_by_id(id)
        .lock_exclusive()
        .one(db)
        .await?
        .ok_or_else(not_found)
}

/// Like [`for_update`], for a Fabrique the caller may see.
pub async fn visible_for_update(
    db: &impl ConnectionTrait,
    access: &Access,
    id: Uuid,
) -> StoreResult<Model> {
    let m = for_update(db, id).await?;
    if !access.sees_fabrique(status_of(&m)?) {
        return Err(not_found());
    }
    Ok(m)
}

async fn check_programme(db: &impl ConnectionTrait, id: Option<Uuid>) -> StoreResult<()> {
    match id {
        Some(id) if !crate::programmes::exists(db, id).await? => Err(StoreError::invalid(
            "/programme_id",
            "unknown_programme",
            "no programme has this id",
        )),
        _ => Ok(()),
    }
}

async fn journal_fabrique(
    db: &impl ConnectionTrait,
    actor: &Actor,
    action: &str,
    f: &Fabrique,
) -> StoreResult<()> {
    journal::record(db, actor, action, f.id, Some(f.id), f).await
}

pub async fn create(
    db: &impl ConnectionTrait,
    actor: &Actor,
    r: NewFabrique,
) -> StoreResult<Fabrique> {
    check_programme(db, r.programme_id).await?;
    let now = Utc::now();
    let id = Uuid::now_v7();
    ActiveModel {
        id: Set(id),
        search: Set(searchable([Some(r.title.as_str()), r.theme.as_deref()])),
        title: Set(r.title),
        theme: Set(r.theme),
        description: Set(r.description),
        programme_id: Set(r.programme_id),
        min_territories: Set(r.bounds.min() as i32),
        max_territories: Set(r.bounds.max() as i32),
        planned_start: Set(r.planned_start),
        actual_start: Set(None),
        end_date: Set(r.end_date),
        status: Set(FabriqueStatus::Draft.as_str().into()),
        status_reason: Set(None),
        status_changed_at: Set(now),
        source: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    let f = whole(db, id).await?;
    journal_fabrique(db, actor, "fabrique.created", &f).await?;
    Ok(f)
}

pub async fn update(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
    r: FabriqueChanges,
) -> StoreResult<Fabrique> {
    let current = for_update(db, id).await?;
    let status = status_of(&current)?;
    let (min, max) = (
        count(current.min_territories.into()),
        count(current.max_territories.into()),
    );
    // The rules weigh the accepted participations only against new bounds: an edit that
    // leaves them as they are (most of them) does not count the participations.
    let new_bounds =
        r.min_territories.is_some_and(|m| m != min) || r.max_territories.is_some_and(|m| m != max);
    let accepted = if new_bounds {
        let c = counts(db, id).await?;
        c.accepted + c.active + c.completed
    } else {
        0
    };
    let edited = rules::decide_edit(
        &EditFacts {
            status,
            min_territories: min,
            max_territories: max,
            accepted,
            planned_start: current.planned_start,
            actual_start: current.actual_start,
            end_date: current.end_date,
        },
        &r,
    )?;
    if let Some(p) = r.programme_id {
        check_programme(db, p).await?;
    }
    // What the figures see of a Fabrique besides its status (their selection by theme,
    // programme or year, and the keys of their breakdowns): unchanged, the edit leaves every
    // figure as it was.
    let seen = |m: &Model| (m.theme.clone(), m.programme_id, m.planned_start);
    let seen_before = seen(&current);
    let version = current.version;
    let search = searchable([
        Some(r.title.as_deref().unwrap_or(&current.title)),
        r.theme.as_ref().unwrap_or(&current.theme).as_deref(),
    ]);
    let mut am: ActiveModel = current.into();
    am.search = Set(search);
    if let Some(t) = r.title {
        am.title = Set(t);
    }
    if let Some(t) = r.theme {
        am.theme = Set(t);
    }
    if let Some(d) = r.description {
        am.description = Set(d);
    }
    if let Some(p) = r.programme_id {
        am.programme_id = Set(p);
    }
    am.min_territories = Set(edited.bounds.min() as i32);
    am.max_territories = Set(edited.bounds.max() as i32);
    am.planned_start = Set(edited.planned_start);
    am.end_date = Set(edited.end_date);
    am.version = Set(version + 1);
    am.updated_at = Set(Utc::now());
    let updated = am.update(db).await?;
    let f = whole(db, id).await?;
    let figures = seen(&updated) != seen_before;
    journal::record_as(db, actor, "fabrique.updated", f.id, Some(f.id), &f, figures).await?;
    Ok(f)
}

/// Corrects a started Fabrique's actual start or end (ANCT), journalled as
/// `fabrique.corrected` with the reason.
pub async fn correct(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
    c: domain::correction::FabriqueCorrection,
) -> StoreResult<Fabrique> {
    actor.access.require(domain::Permission::CorrectRecords)?;
    let current = for_update(db, id).await?;
    let (start, end) = domain::correction::correct_fabrique(
        status_of(&current)?,
        (current.actual_start, current.end_date),
        &c,
        Utc::now().date_naive(),
    )?;
    let version = current.version;
    let mut am: ActiveModel = current.into();
    am.actual_start = Set(start);
    am.end_date = Set(end);
    am.version = Set(version + 1);
    am.updated_at = Set(Utc::now());
    am.update(db).await?;
    let f = whole(db, id).await?;
    journal::record_correction(db, actor, f.id, Some(f.id), &f, &c.reason).await?;
    Ok(f)
}

pub async fn delete(db: &impl ConnectionTrait, actor: &Actor, id: Uuid) -> StoreResult<()> {
    let m = for_update(db, id).await?;
    rules::can_delete(status_of(&m)?)?;
    let f = whole(db, id).await?;
    // A draft's own preparations go with it: partners, planned seminars, testimonies and
    // funding lines (no participation or lesson exists before recruitment).
    use entity::{funding_line, lesson, seminar, testimony};
    let seminars: Vec<Uuid> = seminar::Entity::find()
        .select_only()
        .column(seminar::Column::Id)
        .filter(seminar::Column::FabriqueId.eq(id))
        .into_tuple()
        .all(db)
        .await?;
    if !seminars.is_empty() {
        entity::lesson_source::Entity::delete_many()
            .filter(entity::lesson_source::Column::SeminarId.is_in(seminars.clone()))
            .exec(db)
            .await?;
        entity::seminar_organization::Entity::delete_many()
            .filter(entity::seminar_organization::Column::SeminarId.is_in(seminars))
            .exec(db)
            .await?;
    }
    lesson::Entity::delete_many()
        .filter(lesson::Column::FabriqueId.eq(id))
        .exec(db)
        .await?;
    seminar::Entity::delete_many()
        .filter(seminar::Column::FabriqueId.eq(id))
        .exec(db)
        .await?;
    testimony::Entity::delete_many()
        .filter(testimony::Column::FabriqueId.eq(id))
        .exec(db)
        .await?;
    funding_line::Entity::delete_many()
        .filter(funding_line::Column::FabriqueId.eq(id))
        .exec(db)
        .await?;
    fp::Entity::delete_many()
        .filter(fp::Column::FabriqueId.eq(id))
        .exec(db)
        .await?;
    // Its figures' row leaves the key rows it counts in while its keys are still known.
    crate::figures::forget_fabrique(db, id).await?;
    Entity::delete_by_id(id).exec(db).await?;
    journal_fabrique(db, actor, "fabrique.deleted", &f).await
}

pub async fn put_partner(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
    org_id: Uuid,
    mut roles: Vec<PartnerRole>,
) -> StoreResult<Partner> {
    let m = for_update(db, id).await?;
    rules::can_change_partners(status_of(&m)?)?;
    let o = org::Entity::find_by_id(org_id)
        .one(db)
        .await?
        .ok_or(StoreError::NotFound("organization"))?;
    roles.sort();
    roles.dedup();
    fp::Entity::delete_many()
        .filter(fp::Column::FabriqueId.eq(id))
        .filter(fp::Column::OrganizationId.eq(org_id))
        .exec(db)
        .await?;
    let now = Utc::now();
    for role in &roles {
        fp::ActiveModel {
            fabrique_id: Set(id),
            organization_id: Set(org_id),
            role: Set(role.as_str().into()),
            created_at: Set(now),
        }
        .insert(db)
        .await?;
    }
    touch(db, id).await?;
    let p = Partner {
        organization_id: o.id,
        kind: decode("organizations", "kind", &o.kind)?,
        name: o.name,
        acronym: o.acronym,
        roles,
    };
    journal::record(db, actor, "fabrique.partner_set", org_id, Some(id), &p).await?;
    Ok(p)
}

pub async fn delete_partner(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
    org_id: Uuid,
) -> StoreResult<()> {
    let m = for_update(db, id).await?;
    rules::can_change_partners(status_of(&m)?)?;
    let current = partners_of(db, &[id])
        .await?
        .remove(&id)
        .unwrap_or_default()
        .into_iter()
        .find(|p| p.organization_id == org_id)
        .ok_or(StoreError::NotFound("partner"))?;
    fp::Entity::delete_many()
        .filter(fp::Column::FabriqueId.eq(id))
        .filter(fp::Column::OrganizationId.eq(org_id))
        .exec(db)
        .await?;
    touch(db, id).await?;
    journal::record(
        db,
        actor,
        "fabrique.partner_removed",
        org_id,
        Some(id),
        &Partner {
            roles: Vec::new(),
            ..current
        },
    )
    .await
}

/// A change to a Fabrique's partners is a change to the Fabrique (its version and update time).
async fn touch(db: &impl ConnectionTrait, id: Uuid) -> StoreResult<()> {
    Entity::update_many()
        .col_expr(Column::Version, Expr::col(Column::Version).add(1))
        .col_expr(Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Participations of a Fabrique by status, in one aggregate query.
pub async fn counts(db: &impl ConnectionTrait, id: Uuid) -> StoreResult<ParticipationCounts> {
    let rows: Vec<(String, i64)> = part::Entity::find()
        .select_only()
        .column(part::Column::Status)
        .column_as(part::Column::Id.count(), "n")
        .filter(part::Column::FabriqueId.eq(id))
        .group_by(part::Column::Status)
        .into_tuple()
        .all(db)
        .await?;
    let mut c = ParticipationCounts::default();
    for (status, n) in rows {
        let n = count(n);
        match decode("participations", "status", &status)? {
            ParticipationStatus::Applied => c.applied = n,
            ParticipationStatus::Accepted => c.accepted = n,
            ParticipationStatus::Rejected => c.rejected = n,
            ParticipationStatus::Active => c.active = n,
            ParticipationStatus::Completed => c.completed = n,
            ParticipationStatus::Withdrawn => c.withdrawn = n,
        }
    }
    Ok(c)
}

/// `(SELECT count(*) FROM <table> WHERE <cond>)`, as a column of an outer statement.
pub(crate) fn count_of(table: impl sea_orm::sea_query::IntoTableRef, cond: Condition) -> Expr {
    let q = Query::select()
        .expr(sea_orm::sea_query::Func::count(Expr::col(
            sea_orm::sea_query::Asterisk,
        )))
        .from(table)
        .cond_where(cond)
        .to_owned();
    Expr::SubQuery(None, Box::new(q.into()))
}

/// Adds to `q` the columns [`facts_of`] reads: counts about the Fabrique `id`.
pub(crate) fn facts_columns(q: &mut SelectStatement, id: Uuid) {
    use entity::{lesson, seminar};
    for s in ParticipationStatus::ALL {
        q.expr_as(
            count_of(
                part::Entity,
                Condition::all()
                    .add(part::Column::FabriqueId.eq(id))
                    .add(part::Column::Status.eq(s.as_str())),
            ),
            format!("participations_{}", s.as_str()),
        );
    }
    q.expr_as(
        count_of(
            seminar::Entity,
            Condition::all()
                .add(seminar::Column::FabriqueId.eq(id))
                .add(seminar::Column::Status.eq(domain::seminar::SeminarStatus::Planned.as_str())),
        ),
        "planned_seminars",
    )
    .expr_as(
        count_of(
            lesson::Entity,
            Condition::all().add(lesson::Column::FabriqueId.eq(id)),
        ),
        "lessons",
    )
    .expr_as(
        count_of(
            fp::Entity,
            Condition::all()
                .add(fp::Column::FabriqueId.eq(id))
                .add(fp::Column::Role.eq(PartnerRole::Pilot.as_str()))
                .add(
                    fp::Column::OrganizationId.in_subquery(
                        Query::select()
                            .column(org::Column::Id)
                            .from(org::Entity)
                            .and_where(org::Column::Kind.eq(OrganizationKind::Anct.as_str()))
                            .to_owned(),
                    ),
                ),
        ),
        "anct_pilots",
    )
    .expr_as(
        count_of(
            fp::Entity,
            Condition::all()
                .add(fp::Column::FabriqueId.eq(id))
                .add(fp::Column::Role.eq(PartnerRole::Contractor.as_str())),
        ),
        "contractors",
    );
}

/// The facts of a Fabrique from a row that has the [`facts_columns`].
pub(crate) fn facts_of(m: &Model, row: &sea_orm::QueryResult) -> StoreResult<FabriqueFacts> {
    let n = |alias: &str| -> StoreResult<u32> { Ok(count(row.try_get::<i64>("", alias)?)) };
    let by = |s: ParticipationStatus| n(&format!("participations_{}", s.as_str()));
    use ParticipationStatus as P;
    Ok(FabriqueFacts {
        status: status_of(m)?,
        has_title: !m.title.trim().is_empty(),
        has_theme: m.theme.as_deref().is_some_and(|t| !t.trim().is_empty()),
        planned_start: m.planned_start,
        end_date: m.end_date,
        min_territories: count(m.min_territories.into()),
        max_territories: count(m.max_territories.into()),
        has_anct_pilot: n("anct_pilots")? > 0,
        has_contractor: n("contractors")? > 0,
        participations: ParticipationCounts {
            applied: by(P::Applied)?,
            accepted: by(P::Accepted)?,
            rejected: by(P::Rejected)?,
            active: by(P::Active)?,
            completed: by(P::Completed)?,
            withdrawn: by(P::Withdrawn)?,
        },
        planned_seminars: n("planned_seminars")?,
        lessons: n("lessons")?,
    })
}

/// What the lifecycle rules need, read in the current transaction: one statement.
pub async fn facts(db: &impl ConnectionTrait, m: &Model) -> StoreResult<FabriqueFacts> {
    let mut q = Query::select();
    facts_columns(&mut q, m.id);
    let row = db
        .query_one(&q)
        .await?
        .ok_or_else(|| StoreError::Other(anyhow::anyhow!("the facts query returned no row")))?;
    facts_of(m, &row)
}

/// A visible Fabrique and its facts, in one statement.
pub async fn visible_with_facts(
    db: &impl ConnectionTrait,
    access: &Access,
    id: Uuid,
    extra: impl FnOnce(&mut SelectStatement),
) -> StoreResult<(Model, FabriqueFacts, sea_orm::QueryResult)> {
    let mut q = Query::select()
        .columns(<Column as sea_orm::Iterable>::iter().map(|c| (Entity, c)))
        .from(Entity)
        .and_where(Column::Id.eq(id))
        .to_owned();
    facts_columns(&mut q, id);
    extra(&mut q);
    let row = db.query_one(&q).await?.ok_or_else(not_found)?;
    let m = Model::from_query_result(&row, "")?;
    if !access.sees_fabrique(status_of(&m)?) {
        return Err(not_found());
    }
    let facts = facts_of(&m, &row)?;
    Ok((m, facts, row))
}

/// Every action of a lifecycle with what blocks it now (empty when allowed).
#[derive(Debug, Clone)]
pub struct Transitions<A, S> {
    pub status: S,
    pub actions: Vec<(A, S, Vec<Blocker>)>,
}

pub async fn transitions(
    db: &impl ConnectionTrait,
    access: &Access,
    id: Uuid,
) -> StoreResult<Transitions<FabriqueAction, FabriqueStatus>> {
    let (_, facts, _) = visible_with_facts(db, access, id, |_| {}).await?;
    let actions = rules::available(&facts, Some("reason given with the request"))
        .into_iter()
        .map(|(action, mut blockers)| {
            if action == FabriqueAction::Cancel {
                blockers.retain(|b| *b != Blocker::ReasonRequired);
            }
            (action, action.target(), blockers)
        })
        .collect();
    Ok(Transitions {
        status: facts.status,
        actions,
    })
}

pub async fn transition(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
    action: FabriqueAction,
    reason: Option<&str>,
) -> StoreResult<Fabrique> {
    let m = for_update(db, id).await?;
    let facts = facts(db, &m).await?;
    let today = Utc::now().date_naive();
    let effects = rules::decide(&facts, action, reason, today)?;
    let now = Utc::now();
    let mut upd = Entity::update_many()
        .col_expr(Column::Status, Expr::value(effects.to.as_str()))
        .col_expr(Column::StatusChangedAt, Expr::value(now))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .col_expr(Column::Version, Expr::col(Column::Version).add(1));
    if let Some(start) = effects.actual_start {
        upd = upd.col_expr(Column::ActualStart, Expr::value(start));
        let end = m.end_date.filter(|e| *e > start).or(effects.end);
        upd = upd.col_expr(Column::EndDate, Expr::value(end));
    } else if let Some(end) = effects.end {
        upd = upd.col_expr(Column::EndDate, Expr::value(end));
    }
    if effects.cascade_cancellation {
        upd = upd.col_expr(Column::StatusReason, Expr::value(reason.map(str::trim)));
    }
    // Conditional on the status read: of two concurrent transitions, one wins.
    let res = upd
        .filter(Column::Id.eq(id))
        .filter(Column::Status.eq(facts.status.as_str()))
        .exec(db)
        .await?;
    if res.rows_affected == 0 {
        return Err(StoreError::concurrent("Fabrique"));
    }
    if effects.activate_accepted {
        crate::participations::cascade(
            db,
            actor,
            id,
            &[ParticipationStatus::Accepted],
            ParticipationStatus::Active,
            None,
        )
        .await?;
    }
    if effects.cascade_cancellation {
        crate::seminars::cancel_planned(db, actor, id, reason).await?;
        crate::participations::cascade(
            db,
            actor,
            id,
            &[
                ParticipationStatus::Applied,
                ParticipationStatus::Accepted,
                ParticipationStatus::Active,
            ],
            ParticipationStatus::Withdrawn,
            reason,
        )
        .await?;
    }
    let f = whole(db, id).await?;
    journal_fabrique(db, actor, &format!("fabrique.{}", action.as_str()), &f).await?;
    Ok(f)
}

impl crate::journal::Journalled for Fabrique {
    const ENTITY_TYPE: EntityType = EntityType::Fabrique;
}

impl crate::journal::Journalled for Partner {
    const ENTITY_TYPE: EntityType = EntityType::FabriquePartner;
}
