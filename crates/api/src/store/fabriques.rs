use std::collections::HashMap;

use chrono::{NaiveDate, Utc};
use domain::fabrique::{self as rules, FabriqueFacts, ParticipationCounts};
use domain::{
    FabriqueAction, FabriqueStatus, OrganizationKind, ParticipationStatus, PartnerRole,
    TerritoryBounds,
};
use entity::fabrique::{ActiveModel, Column, Entity, Model};
use entity::{fabrique_partner as fp, organization as org, participation as part};
use sea_orm::sea_query::{Expr, ExprTrait, Query as SqlQuery};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QuerySelect, Set,
};
use uuid::Uuid;

use super::{Page, PageRequest, fetch_page, text_match};
use crate::auth::{Caller, Permission, role_allows};
use crate::error::{ApiError, FieldProblem, blockers_to_problems};
use crate::extract::{parse_enum_list, parse_id_list};
use crate::journal::{self, Actor, Change};
use crate::pagination::{SortKey, parse_sort};
use crate::routes::fabriques::{
    CreateFabriqueRequest, EventActor, EventResponse, FabriqueListParams, FabriqueResponse,
    FabriqueTransitionResponse, FabriqueTransitionsResponse, HistoryParams, PartnerResponse,
    UpdateFabriqueRequest,
};

pub fn not_found() -> ApiError {
    ApiError::NotFound("fabrique")
}

fn status_of(m: &Model) -> FabriqueStatus {
    m.status.parse().unwrap_or(FabriqueStatus::Draft)
}

/// Whether the caller sees draft Fabriques (and what belongs to them).
pub fn may_read_drafts(caller: Option<&Caller>) -> bool {
    caller.is_some_and(|c| role_allows(c.role, Permission::ReadDrafts))
}

/// The ids of Fabriques past draft: what a caller without `ReadDrafts` may see things of.
pub fn past_draft_ids() -> sea_orm::sea_query::SelectStatement {
    SqlQuery::select()
        .column(Column::Id)
        .from(Entity)
        .and_where(Column::Status.ne(FabriqueStatus::Draft.as_str()))
        .to_owned()
}

fn year_range(from: i32, to: i32) -> Condition {
    let start = NaiveDate::from_ymd_opt(from, 1, 1).unwrap_or_default();
    let end = NaiveDate::from_ymd_opt(to + 1, 1, 1).unwrap_or(NaiveDate::MAX);
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

/// The filters shared by the list of Fabriques and the statistics.
#[derive(Debug, Clone, Copy)]
pub struct Filters<'a> {
    pub status: &'a Option<String>,
    pub theme: Option<&'a str>,
    pub programme: &'a Option<String>,
    pub year: Option<i32>,
    pub year_from: Option<i32>,
    pub year_to: Option<i32>,
    pub territory: &'a Option<String>,
    pub organization: &'a Option<String>,
    /// Region codes: Fabriques with a participation of a territory of one of them.
    pub region: &'a Option<String>,
    pub q: Option<&'a str>,
}

static NONE: Option<String> = None;

impl<'a> Filters<'a> {
    pub fn of_list(p: &'a FabriqueListParams) -> Self {
        Filters {
            status: &p.status,
            theme: p.theme.as_deref(),
            programme: &p.programme,
            year: p.year,
            year_from: p.year_from,
            year_to: p.year_to,
            territory: &p.territory,
            organization: &p.organization,
            region: &p.region,
            q: p.q.as_deref(),
        }
    }

    pub fn none() -> Self {
        Filters {
            status: &NONE,
            theme: None,
            programme: &NONE,
            year: None,
            year_from: None,
            year_to: None,
            territory: &NONE,
            organization: &NONE,
            region: &NONE,
            q: None,
        }
    }
}

/// `q` restricted to the Fabriques the caller may see and the filters select.
pub fn filtered<S: QueryFilter>(
    mut q: S,
    caller: Option<&Caller>,
    f: &Filters<'_>,
) -> Result<S, ApiError> {
    let statuses = parse_enum_list::<FabriqueStatus>(f.status, "status")?;
    if !statuses.is_empty() {
        q = q.filter(Column::Status.is_in(statuses));
    }
    if !may_read_drafts(caller) {
        q = q.filter(Column::Status.ne(FabriqueStatus::Draft.as_str()));
    }
    if let Some(theme) = f.theme.filter(|s| !s.trim().is_empty()) {
        q = q.filter(text_match(&[Column::Theme], theme.trim()));
    }
    let programmes = parse_id_list(f.programme, "programme")?;
    if !programmes.is_empty() {
        q = q.filter(Column::ProgrammeId.is_in(programmes));
    }
    for y in [f.year, f.year_from, f.year_to].into_iter().flatten() {
        if !(2000..=2100).contains(&y) {
            return Err(ApiError::bad_request(
                "invalid_query",
                "years range from 2000 to 2100",
            ));
        }
    }
    if let Some(y) = f.year {
        q = q.filter(year_range(y, y));
    }
    if f.year_from.is_some() || f.year_to.is_some() {
        q = q.filter(year_range(
            f.year_from.unwrap_or(2000),
            f.year_to.unwrap_or(2100),
        ));
    }
    let territories = parse_id_list(f.territory, "territory")?;
    if !territories.is_empty() {
        q = q.filter(
            Column::Id.in_subquery(
                SqlQuery::select()
                    .column(part::Column::FabriqueId)
                    .from(part::Entity)
                    .and_where(part::Column::TerritoryId.is_in(territories))
                    .to_owned(),
            ),
        );
    }
    let orgs = parse_id_list(f.organization, "organization")?;
    if !orgs.is_empty() {
        q = q.filter(
            Column::Id.in_subquery(
                SqlQuery::select()
                    .column(fp::Column::FabriqueId)
                    .from(fp::Entity)
                    .and_where(fp::Column::OrganizationId.is_in(orgs))
                    .to_owned(),
            ),
        );
    }
    if let Some(text) = f.q.filter(|s| !s.trim().is_empty()) {
        q = q.filter(text_match(&[Column::Title, Column::Theme], text.trim()));
    }
    let regions = crate::extract::split_list(f.region);
    if !regions.is_empty() {
        q = q.filter(
            Column::Id.in_subquery(
                SqlQuery::select()
                    .column((part::Entity, part::Column::FabriqueId))
                    .from(part::Entity)
                    .inner_join(
                        entity::territory::Entity,
                        Expr::col((entity::territory::Entity, entity::territory::Column::Id))
                            .equals((part::Entity, part::Column::TerritoryId)),
                    )
                    .and_where(
                        Expr::col((entity::territory::Entity, entity::territory::Column::Region))
                            .is_in(regions),
                    )
                    .to_owned(),
            ),
        );
    }
    Ok(q)
}

pub async fn list(
    db: &impl ConnectionTrait,
    caller: Option<&Caller>,
    p: &FabriqueListParams,
) -> Result<Page<FabriqueResponse>, ApiError> {
    let sort = parse_sort(
        p.sort.as_deref(),
        &[
            ("created_at", SortKey::Created),
            ("title", SortKey::Text(Column::Title)),
            ("updated_at", SortKey::Time(Column::UpdatedAt)),
        ],
    )?;
    let q = filtered(Entity::find(), caller, &Filters::of_list(p))?;
    let q = super::updated_since(q, Column::UpdatedAt, p.updated_since);
    let page = fetch_page(
        db,
        q,
        Column::Id,
        sort,
        PageRequest {
            cursor: p.cursor.as_deref(),
            limit: p.limit,
            count: p.count.unwrap_or(false),
        },
        |m: &Model| {
            let key = match sort.key {
                SortKey::Time(_) => Some(m.updated_at.to_rfc3339()),
                _ => Some(m.title.clone()),
            };
            (key, m.id)
        },
    )
    .await?;
    let ids: Vec<Uuid> = page.items.iter().map(|m| m.id).collect();
    let mut partners = partners_of(db, &ids).await?;
    let names = programme_names(db).await?;
    Ok(page.map(|m| {
        let p = partners.remove(&m.id).unwrap_or_default();
        response(m, p, &names)
    }))
}

/// Programme names by id (a handful of rows).
pub async fn programme_names(db: &impl ConnectionTrait) -> Result<HashMap<Uuid, String>, ApiError> {
    Ok(entity::programme::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p.name))
        .collect())
}

fn response(
    m: Model,
    partners: Vec<PartnerResponse>,
    programmes: &HashMap<Uuid, String>,
) -> FabriqueResponse {
    FabriqueResponse {
        programme: m.programme_id.and_then(|id| programmes.get(&id).cloned()),
        programme_id: m.programme_id,
        id: m.id,
        status: status_of(&m),
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
    }
}

pub async fn to_response(
    db: &impl ConnectionTrait,
    m: Model,
) -> Result<FabriqueResponse, ApiError> {
    let partners = partners_of(db, &[m.id])
        .await?
        .remove(&m.id)
        .unwrap_or_default();
    Ok(response(m, partners, &programme_names(db).await?))
}

/// Partners of each Fabrique, in one query.
pub async fn partners_of(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<PartnerResponse>>, ApiError> {
    let mut out: HashMap<Uuid, Vec<PartnerResponse>> = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let rows = fp::Entity::find()
        .filter(fp::Column::FabriqueId.is_in(ids.to_vec()))
        .find_also_related_manual(db)
        .await?;
    for (link, o) in rows {
        let Some(o) = o else { continue };
        let list = out.entry(link.fabrique_id).or_default();
        let role: PartnerRole = match link.role.parse() {
            Ok(r) => r,
            Err(()) => continue,
        };
        match list.iter_mut().find(|p| p.organization_id == o.id) {
            Some(p) => {
                p.roles.push(role);
                p.roles.sort();
            }
            None => list.push(PartnerResponse {
                organization_id: o.id,
                name: o.name.clone(),
                acronym: o.acronym.clone(),
                kind: o.kind.parse().unwrap_or(OrganizationKind::Other),
                roles: vec![role],
            }),
        }
    }
    for list in out.values_mut() {
        list.sort_by(|a, b| a.roles.cmp(&b.roles).then(a.name.cmp(&b.name)));
    }
    Ok(out)
}

trait PartnerRows {
    async fn find_also_related_manual(
        self,
        db: &impl ConnectionTrait,
    ) -> Result<Vec<(fp::Model, Option<org::Model>)>, sea_orm::DbErr>;
}

impl PartnerRows for sea_orm::Select<fp::Entity> {
    async fn find_also_related_manual(
        self,
        db: &impl ConnectionTrait,
    ) -> Result<Vec<(fp::Model, Option<org::Model>)>, sea_orm::DbErr> {
        let links = self.all(db).await?;
        let org_ids: Vec<Uuid> = links.iter().map(|l| l.organization_id).collect();
        let orgs: HashMap<Uuid, org::Model> = if org_ids.is_empty() {
            HashMap::new()
        } else {
            org::Entity::find()
                .filter(org::Column::Id.is_in(org_ids))
                .all(db)
                .await?
                .into_iter()
                .map(|o| (o.id, o))
                .collect()
        };
        Ok(links
            .into_iter()
            .map(|l| {
                let o = orgs.get(&l.organization_id).cloned();
                (l, o)
            })
            .collect())
    }
}

/// The Fabrique if the caller may know it exists (drafts: ANCT and analysts only).
pub async fn get_visible(
    db: &impl ConnectionTrait,
    caller: Option<&Caller>,
    id: Uuid,
) -> Result<Model, ApiError> {
    let m = Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    if status_of(&m) == FabriqueStatus::Draft && !may_read_drafts(caller) {
        return Err(not_found());
    }
    Ok(m)
}

/// The Fabrique row, locked for the rest of the transaction on PostgreSQL (SQLite runs one
/// writer at a time anyway), so that rules counting its participations see a stable count.
pub async fn get_for_update(db: &impl ConnectionTrait, id: Uuid) -> Result<Model, ApiError> {
    Entity::find_by_id(id)
        .lock_exclusive()
        .one(db)
        .await?
        .ok_or_else(not_found)
}

fn bounds_problem(min: i32, max: i32) -> ApiError {
    ApiError::Validation(vec![FieldProblem::new(
        "/min_territories",
        "territory_bounds_invalid",
        format!("territory bounds must satisfy 1 <= min <= max (min {min}, max {max})"),
    )])
}

fn check_bounds(min: i32, max: i32) -> Result<(), ApiError> {
    let (Ok(mn), Ok(mx)) = (u32::try_from(min), u32::try_from(max)) else {
        return Err(bounds_problem(min, max));
    };
    TerritoryBounds::new(mn, mx)
        .map(|_| ())
        .map_err(|_| bounds_problem(min, max))
}

async fn check_programme(db: &impl ConnectionTrait, id: Option<Uuid>) -> Result<(), ApiError> {
    match id {
        Some(id)
            if entity::programme::Entity::find_by_id(id)
                .one(db)
                .await?
                .is_none() =>
        {
            Err(ApiError::invalid(
                "/programme_id",
                "unknown_programme",
                "no programme has this id",
            ))
        }
        _ => Ok(()),
    }
}

fn check_dates(start: Option<NaiveDate>, end: Option<NaiveDate>) -> Result<(), ApiError> {
    match (start, end) {
        (Some(s), Some(e)) if e <= s => Err(ApiError::invalid(
            "/end_date",
            "end_before_start",
            "the end must come after the start",
        )),
        _ => Ok(()),
    }
}

async fn journal_fabrique(
    db: &impl ConnectionTrait,
    actor: &Actor,
    action: &str,
    f: &FabriqueResponse,
) -> Result<(), ApiError> {
    journal::record(
        db,
        actor,
        Change {
            action,
            entity_type: "fabrique",
            entity_id: f.id,
            fabrique_id: Some(f.id),
            state: f,
        },
    )
    .await?;
    Ok(())
}

pub async fn create(
    db: &impl ConnectionTrait,
    actor: &Actor,
    r: CreateFabriqueRequest,
) -> Result<FabriqueResponse, ApiError> {
    let min = r
        .min_territories
        .unwrap_or(TerritoryBounds::DEFAULT_MIN as i32);
    let max = r
        .max_territories
        .unwrap_or(TerritoryBounds::DEFAULT_MAX as i32);
    check_bounds(min, max)?;
    check_dates(r.planned_start, r.end_date)?;
    check_programme(db, r.programme_id).await?;
    let now = Utc::now();
    let m = ActiveModel {
        id: Set(Uuid::now_v7()),
        title: Set(r.title.trim().to_owned()),
        theme: Set(r.theme.map(|t| t.trim().to_owned())),
        description: Set(r.description.unwrap_or_default()),
        programme_id: Set(r.programme_id),
        min_territories: Set(min),
        max_territories: Set(max),
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
    let f = to_response(db, m).await?;
    journal_fabrique(db, actor, "fabrique.created", &f).await?;
    Ok(f)
}

async fn accepted_count(db: &impl ConnectionTrait, id: Uuid) -> Result<u32, ApiError> {
    let c = counts(db, id).await?;
    Ok(c.accepted + c.active + c.completed)
}

pub async fn update(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
    r: UpdateFabriqueRequest,
) -> Result<FabriqueResponse, ApiError> {
    let current = get_for_update(db, id).await?;
    let status = status_of(&current);
    if status.is_terminal() {
        return Err(ApiError::conflict(
            "fabrique_closed",
            format!("the Fabrique is {status}; it can no longer change"),
        ));
    }
    let min = r.min_territories.unwrap_or(current.min_territories);
    let max = r.max_territories.unwrap_or(current.max_territories);
    if (min, max) != (current.min_territories, current.max_territories) {
        if !matches!(status, FabriqueStatus::Draft | FabriqueStatus::Recruiting) {
            return Err(ApiError::conflict(
                "bounds_frozen",
                "territory bounds change only before launch",
            ));
        }
        check_bounds(min, max)?;
        let accepted = accepted_count(db, id).await?;
        if (max as u32) < accepted {
            return Err(ApiError::conflict(
                "below_accepted",
                format!("{accepted} territories are already accepted; max cannot be lower"),
            ));
        }
    }
    let planned_start = r.planned_start.unwrap_or(current.planned_start);
    let end_date = r.end_date.unwrap_or(current.end_date);
    check_dates(current.actual_start.or(planned_start), end_date)?;
    let version = current.version;
    let mut am: ActiveModel = current.into();
    if let Some(t) = r.title {
        am.title = Set(t.trim().to_owned());
    }
    if let Some(t) = r.theme {
        am.theme = Set(t.map(|t| t.trim().to_owned()));
    }
    if let Some(d) = r.description {
        am.description = Set(d);
    }
    if let Some(p) = r.programme_id {
        check_programme(db, p).await?;
        am.programme_id = Set(p);
    }
    am.min_territories = Set(min);
    am.max_territories = Set(max);
    am.planned_start = Set(planned_start);
    am.end_date = Set(end_date);
    am.version = Set(version + 1);
    am.updated_at = Set(Utc::now());
    let m = am.update(db).await?;
    let f = to_response(db, m).await?;
    journal_fabrique(db, actor, "fabrique.updated", &f).await?;
    Ok(f)
}

pub async fn delete(db: &impl ConnectionTrait, actor: &Actor, id: Uuid) -> Result<(), ApiError> {
    let m = get_for_update(db, id).await?;
    if status_of(&m) != FabriqueStatus::Draft {
        return Err(ApiError::conflict(
            "not_a_draft",
            "only a draft Fabrique can be deleted; cancel it instead",
        ));
    }
    let f = to_response(db, m).await?;
    // A draft's own preparations go with it: partners, planned seminars, testimonies and
    // funding lines (no participation or lesson exists before recruitment).
    use entity::{funding_line, lesson, seminar, testimony};
    let seminars: Vec<Uuid> = seminar::Entity::find()
        .filter(seminar::Column::FabriqueId.eq(id))
        .all(db)
        .await?
        .into_iter()
        .map(|s| s.id)
        .collect();
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
    Entity::delete_by_id(id).exec(db).await?;
    journal_fabrique(db, actor, "fabrique.deleted", &f).await?;
    Ok(())
}

fn open_for_partners(m: &Model) -> Result<(), ApiError> {
    let status = status_of(m);
    if status.is_terminal() {
        return Err(ApiError::conflict(
            "fabrique_closed",
            format!("the Fabrique is {status}; its partners can no longer change"),
        ));
    }
    Ok(())
}

pub async fn put_partner(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
    org_id: Uuid,
    mut roles: Vec<PartnerRole>,
) -> Result<PartnerResponse, ApiError> {
    let m = get_for_update(db, id).await?;
    open_for_partners(&m)?;
    let o = org::Entity::find_by_id(org_id)
        .one(db)
        .await?
        .ok_or(ApiError::NotFound("organization"))?;
    roles.sort();
    roles.dedup();
    if roles.contains(&PartnerRole::Pilot) && o.kind != OrganizationKind::Anct.as_str() {
        // DOMAIN: ANCT pilots; other pilots are allowed but do not satisfy the rule.
        tracing::debug!(organization = %org_id, "non-ANCT pilot");
    }
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
    touch(db, &m).await?;
    let p = PartnerResponse {
        organization_id: o.id,
        name: o.name,
        acronym: o.acronym,
        kind: o.kind.parse().unwrap_or(OrganizationKind::Other),
        roles,
    };
    journal::record(
        db,
        actor,
        Change {
            action: "fabrique.partner_set",
            entity_type: "fabrique_partner",
            entity_id: org_id,
            fabrique_id: Some(id),
            state: &p,
        },
    )
    .await?;
    Ok(p)
}

pub async fn delete_partner(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
    org_id: Uuid,
) -> Result<(), ApiError> {
    let m = get_for_update(db, id).await?;
    open_for_partners(&m)?;
    let res = fp::Entity::delete_many()
        .filter(fp::Column::FabriqueId.eq(id))
        .filter(fp::Column::OrganizationId.eq(org_id))
        .exec(db)
        .await?;
    if res.rows_affected == 0 {
        return Err(ApiError::NotFound("partner"));
    }
    touch(db, &m).await?;
    journal::record(
        db,
        actor,
        Change {
            action: "fabrique.partner_removed",
            entity_type: "fabrique_partner",
            entity_id: org_id,
            fabrique_id: Some(id),
            state: &serde_json::json!({ "organization_id": org_id, "roles": [] }),
        },
    )
    .await?;
    Ok(())
}

/// A change to a Fabrique's partners is a change to the Fabrique (its version and update time).
async fn touch(db: &impl ConnectionTrait, m: &Model) -> Result<(), ApiError> {
    Entity::update_many()
        .col_expr(Column::Version, Expr::col(Column::Version).add(1))
        .col_expr(Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(Column::Id.eq(m.id))
        .exec(db)
        .await?;
    Ok(())
}

/// Participations of a Fabrique by status, in one aggregate query.
pub async fn counts(db: &impl ConnectionTrait, id: Uuid) -> Result<ParticipationCounts, ApiError> {
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
        let n = u32::try_from(n).unwrap_or(u32::MAX);
        match status.parse() {
            Ok(ParticipationStatus::Applied) => c.applied = n,
            Ok(ParticipationStatus::Accepted) => c.accepted = n,
            Ok(ParticipationStatus::Rejected) => c.rejected = n,
            Ok(ParticipationStatus::Active) => c.active = n,
            Ok(ParticipationStatus::Completed) => c.completed = n,
            Ok(ParticipationStatus::Withdrawn) => c.withdrawn = n,
            Err(()) => {}
        }
    }
    Ok(c)
}

/// What the lifecycle rules need, read in the current transaction.
pub async fn facts(db: &impl ConnectionTrait, m: &Model) -> Result<FabriqueFacts, ApiError> {
    let partners = partners_of(db, &[m.id])
        .await?
        .remove(&m.id)
        .unwrap_or_default();
    let has_role = |role: PartnerRole, kind: Option<OrganizationKind>| {
        partners
            .iter()
            .any(|p| p.roles.contains(&role) && kind.is_none_or(|k| p.kind == k))
    };
    Ok(FabriqueFacts {
        status: status_of(m),
        has_title: !m.title.trim().is_empty(),
        has_theme: m.theme.as_deref().is_some_and(|t| !t.trim().is_empty()),
        planned_start: m.planned_start,
        min_territories: u32::try_from(m.min_territories).unwrap_or(0),
        max_territories: u32::try_from(m.max_territories).unwrap_or(0),
        has_anct_pilot: has_role(PartnerRole::Pilot, Some(OrganizationKind::Anct)),
        has_contractor: has_role(PartnerRole::Contractor, None),
        participations: counts(db, m.id).await?,
        planned_seminars: super::seminars::planned_count(db, m.id).await?,
        lessons: super::lessons::count(db, m.id).await?,
    })
}

pub async fn transitions(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: Uuid,
) -> Result<FabriqueTransitionsResponse, ApiError> {
    let m = get_visible(db, Some(caller), id).await?;
    let facts = facts(db, &m).await?;
    let transitions = rules::available(&facts, Some("reason given with the request"))
        .into_iter()
        .map(|(action, blockers)| {
            let mut problems = blockers_to_problems(&domain::Blockers(blockers));
            if action == FabriqueAction::Cancel {
                problems.retain(|p| p.code != "reason_required");
            }
            FabriqueTransitionResponse {
                action,
                to: action.target(),
                allowed: problems.is_empty(),
                blockers: problems,
            }
        })
        .collect();
    Ok(FabriqueTransitionsResponse {
        status: facts.status,
        transitions,
    })
}

pub async fn transition(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
    action: FabriqueAction,
    reason: Option<&str>,
) -> Result<FabriqueResponse, ApiError> {
    let m = get_for_update(db, id).await?;
    let facts = facts(db, &m).await?;
    let today = Utc::now().date_naive();
    let effects =
        rules::decide(&facts, action, reason, today).map_err(ApiError::TransitionRefused)?;
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
        return Err(ApiError::conflict(
            "concurrent_change",
            "the Fabrique changed meanwhile; read it again",
        ));
    }
    if effects.activate_accepted {
        super::participations::cascade(
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
        super::seminars::cancel_planned(db, actor, id, reason).await?;
    }
    if effects.cascade_cancellation {
        super::participations::cascade(
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
    let m = Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    let f = to_response(db, m).await?;
    journal_fabrique(db, actor, &format!("fabrique.{}", action.as_str()), &f).await?;
    Ok(f)
}

/// Whether `caller` may see personal data of this Fabrique's participations: ANCT, and the
/// organizations that co-animate it or are its contractor.
pub async fn sees_personal(
    db: &impl ConnectionTrait,
    caller: &Caller,
    fabrique_id: Uuid,
) -> Result<bool, ApiError> {
    super::access::allowed(db, caller, Permission::ReadPersonalData, fabrique_id, None).await
}

pub const PERSONAL_FIELDS: [&str; 3] = ["sponsor_name", "sponsor_mandate", "motivation"];

/// What of a journal state a caller without personal-data access may see: participations lose
/// their sponsor and motivation; working group members and unpublished testimonies keep only
/// what is not about a person.
pub fn redact_state(entity_type: &str, state: &mut serde_json::Value) {
    let Some(obj) = state.as_object_mut() else {
        return;
    };
    let keep: &[&str] = match entity_type {
        "working_group_member" => &[
            "id",
            "participation_id",
            "category",
            "created_at",
            "updated_at",
        ],
        "testimony" if obj.get("published") != Some(&serde_json::Value::Bool(true)) => {
            &["id", "fabrique_id", "published", "created_at", "updated_at"]
        }
        _ => {
            for k in PERSONAL_FIELDS {
                obj.remove(k);
            }
            return;
        }
    };
    obj.retain(|k, _| keep.contains(&k.as_str()));
}

pub async fn history(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: Uuid,
    p: &HistoryParams,
) -> Result<Page<EventResponse>, ApiError> {
    get_visible(db, Some(caller), id).await?;
    let personal = sees_personal(db, caller, id).await?;
    let q = entity::event::Entity::find().filter(entity::event::Column::FabriqueId.eq(id));
    let sort = crate::pagination::Sort {
        key: SortKey::Created,
        desc: false,
    };
    let page = fetch_page(
        db,
        q,
        entity::event::Column::Id,
        sort,
        PageRequest {
            cursor: p.cursor.as_deref(),
            limit: p.limit,
            count: false,
        },
        |e: &entity::event::Model| (None, e.id),
    )
    .await?;
    Ok(page.map(|e| {
        let mut state: serde_json::Value =
            serde_json::from_str(&e.state).unwrap_or(serde_json::Value::Null);
        if !personal {
            redact_state(&e.entity_type, &mut state);
        }
        EventResponse {
            id: e.id,
            occurred_at: e.occurred_at,
            actor: EventActor {
                sub: caller.is_anct().then_some(e.actor_sub),
                role: e.actor_role,
                organization_id: e.actor_organization,
                territory_id: e.actor_territory,
            },
            action: e.action,
            entity_type: e.entity_type,
            entity_id: e.entity_id,
            request_id: e.request_id,
            state,
        }
    }))
}

/// Declares a query-parameter struct made of its own fields followed by the Fabrique
/// selection filters the figures and exports share with `GET /fabriques` (`status`, `theme`,
/// `programme`, `year`, `year_from`, `year_to`, `region`), with `filters()`. A macro because
/// serde's `flatten` does not work with `deny_unknown_fields`.
#[macro_export]
macro_rules! selection_params {
    ($(#[$meta:meta])* $name:ident { $($(#[$fmeta:meta])* $field:ident : $ty:ty),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
        #[serde(deny_unknown_fields)]
        #[into_params(parameter_in = Query)]
        pub struct $name {
            $($(#[$fmeta])* pub $field: $ty,)*
            /// Fabrique statuses, comma-separated or repeated.
            pub status: Option<String>,
            /// Text contained in the theme (case-insensitive).
            pub theme: Option<String>,
            /// Programme ids, comma-separated or repeated.
            pub programme: Option<String>,
            /// Year of the start (actual, else planned).
            #[param(minimum = 2000, maximum = 2100)]
            pub year: Option<i32>,
            #[param(minimum = 2000, maximum = 2100)]
            pub year_from: Option<i32>,
            #[param(minimum = 2000, maximum = 2100)]
            pub year_to: Option<i32>,
            /// Region codes: Fabriques with a territory of one of them.
            pub region: Option<String>,
        }

        impl $name {
            pub fn filters(&self) -> $crate::store::fabriques::Filters<'_> {
                $crate::store::fabriques::Filters {
                    status: &self.status,
                    theme: self.theme.as_deref(),
                    programme: &self.programme,
                    year: self.year,
                    year_from: self.year_from,
                    year_to: self.year_to,
                    region: &self.region,
                    ..$crate::store::fabriques::Filters::none()
                }
            }
        }
    };
}
