//! Funding lines (financements) of a Fabrique: ANCT's own and partners' co-funding.
//!
//! One rule for every way funding is read (lines, summary, export, figures): ANCT, analysts,
//! and the Fabrique's partner organizations (any role) see it; the figures across
//! Fabriques need it everywhere ([`domain::Access::sees_all_funding`]).

use chrono::Utc;
use domain::funding::{FunderFacts, FundingLineChanges, NewFundingLine};
use domain::query::{FundingFilter, PageRequest};
use domain::{Access, EntityType, FundingKind, OrganizationKind, PartnerRole, Permission, Scope};
use entity::funding_line::{ActiveModel, Column, Entity, Model};
use sea_orm::sea_query::{Alias, Expr, Func};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, JoinType,
    PaginatorTrait, QueryFilter, QuerySelect, Set,
};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::decode::decode;
use crate::error::{StoreError, StoreResult};
use crate::fabriques as fabs;
use crate::journal::{self, Actor};
use crate::page::{self, KeyColumn, Page};

#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = FundingLineResponse)]
pub struct FundingLine {
    pub id: Uuid,
    pub fabrique_id: Uuid,
    pub organization_id: Uuid,
    pub kind: FundingKind,
    #[schema(example = 15000000)]
    pub amount_cents: i64,
    pub label: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl TryFrom<Model> for FundingLine {
    type Error = StoreError;
    fn try_from(m: Model) -> StoreResult<Self> {
        Ok(FundingLine {
            kind: decode("funding_lines", "kind", &m.kind)?,
            id: m.id,
            fabrique_id: m.fabrique_id,
            organization_id: m.organization_id,
            amount_cents: m.amount_cents,
            label: m.label,
            created_at: m.created_at,
            updated_at: m.updated_at,
        })
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FunderTotal {
    pub organization_id: Uuid,
    pub name: String,
    pub kind: FundingKind,
    pub amount_cents: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = FundingSummaryResponse)]
pub struct FundingSummary {
    pub fabrique_id: Uuid,
    pub total_cents: i64,
    pub anct_cents: i64,
    pub co_funding_cents: i64,
    pub by_organization: Vec<FunderTotal>,
}

fn not_found() -> StoreError {
    StoreError::NotFound("funding line")
}

/// The Fabrique, visible, whose funding the caller may read.
async fn readable(
    db: &impl ConnectionTrait,
    access: &Access,
    fabrique_id: Uuid,
) -> StoreResult<()> {
    fabs::visible(db, access, fabrique_id).await?;
    access.authorize(Permission::ReadFunding, Scope::fabrique(fabrique_id))?;
    Ok(())
}

pub async fn list(
    db: &impl ConnectionTrait,
    access: &Access,
    fabrique_id: Uuid,
    f: &FundingFilter,
    p: &PageRequest,
) -> StoreResult<Page<FundingLine>> {
    readable(db, access, fabrique_id).await?;
    let mut q = Entity::find().filter(Column::FabriqueId.eq(fabrique_id));
    if !f.kinds.is_empty() {
        q = q.filter(Column::Kind.is_in(f.kinds.iter().map(|k| k.as_str())));
    }
    let q = page::updated_since(q, Column::UpdatedAt, f.updated_since);
    page::fetch(
        db,
        q,
        Column::Id,
        KeyColumn::Created,
        p,
        |_: &Model| None,
        |m| m.id,
    )
    .await?
    .try_map(FundingLine::try_from)
}

async fn visible(db: &impl ConnectionTrait, access: &Access, id: Uuid) -> StoreResult<Model> {
    let m = Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    fabs::visible(db, access, m.fabrique_id)
        .await
        .map_err(|_| not_found())?;
    if !access.sees_funding(m.fabrique_id) {
        return Err(not_found());
    }
    Ok(m)
}

pub async fn get(db: &impl ConnectionTrait, access: &Access, id: Uuid) -> StoreResult<FundingLine> {
    visible(db, access, id).await?.try_into()
}

#[derive(Debug, FromQueryResult)]
struct TotalRow {
    organization_id: Uuid,
    kind: String,
    amount: i64,
    name: String,
}

pub async fn summary(
    db: &impl ConnectionTrait,
    access: &Access,
    fabrique_id: Uuid,
) -> StoreResult<FundingSummary> {
    use entity::organization as org;
    readable(db, access, fabrique_id).await?;
    let rows = Entity::find()
        .select_only()
        .column(Column::OrganizationId)
        .column(Column::Kind)
        .column(org::Column::Name)
        // SUM of a bigint is numeric on PostgreSQL: cast it back.
        .column_as(
            Expr::from(Func::cast_as(
                Func::sum(Expr::col((Entity, Column::AmountCents))),
                Alias::new("bigint"),
            )),
            "amount",
        )
        .join(
            JoinType::InnerJoin,
            Entity::belongs_to(org::Entity)
                .from(Column::OrganizationId)
                .to(org::Column::Id)
                .into(),
        )
        .filter(Column::FabriqueId.eq(fabrique_id))
        .group_by(Column::OrganizationId)
        .group_by(Column::Kind)
        .group_by(org::Column::Name)
        .into_model::<TotalRow>()
        .all(db)
        .await?;
    let mut by_organization = rows
        .into_iter()
        .map(|r| {
            Ok(FunderTotal {
                organization_id: r.organization_id,
                name: r.name,
                kind: decode("funding_lines", "kind", &r.kind)?,
                amount_cents: r.amount,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    by_organization.sort_by(|a, b| {
        b.amount_cents
            .cmp(&a.amount_cents)
            .then(a.name.cmp(&b.name))
    });
    let sum = |k: FundingKind| {
        by_organization
            .iter()
            .filter(|t| t.kind == k)
            .map(|t| t.amount_cents)
            .sum::<i64>()
    };
    let (anct_cents, co_funding_cents) = (sum(FundingKind::Anct), sum(FundingKind::CoFunding));
    Ok(FundingSummary {
        fabrique_id,
        total_cents: anct_cents + co_funding_cents,
        anct_cents,
        co_funding_cents,
        by_organization,
    })
}

async fn funder_facts(
    db: &impl ConnectionTrait,
    f: &entity::fabrique::Model,
    org_id: Uuid,
    kind: FundingKind,
) -> StoreResult<FunderFacts> {
    let org = entity::organization::Entity::find_by_id(org_id)
        .one(db)
        .await?
        .ok_or_else(|| {
            StoreError::invalid(
                "/organization_id",
                "unknown_organization",
                "no organization has this id",
            )
        })?;
    let is_co_funder = entity::fabrique_partner::Entity::find()
        .filter(entity::fabrique_partner::Column::FabriqueId.eq(f.id))
        .filter(entity::fabrique_partner::Column::OrganizationId.eq(org_id))
        .filter(entity::fabrique_partner::Column::Role.eq(PartnerRole::CoFunder.as_str()))
        .count(db)
        .await?
        > 0;
    let org_kind: OrganizationKind = decode("organizations", "kind", &org.kind)?;
    Ok(FunderFacts {
        fabrique_status: fabs::status_of(f)?,
        kind,
        is_anct: org_kind == OrganizationKind::Anct,
        is_co_funder,
    })
}

async fn journal_line(
    db: &impl ConnectionTrait,
    actor: &Actor,
    action: &str,
    l: &FundingLine,
) -> StoreResult<()> {
    journal::record(db, actor, action, l.id, Some(l.fabrique_id), l).await
}

pub async fn create(
    db: &impl ConnectionTrait,
    actor: &Actor,
    fabrique_id: Uuid,
    r: NewFundingLine,
) -> StoreResult<FundingLine> {
    fabs::visible(db, &actor.access, fabrique_id).await?;
    actor
        .access
        .authorize(Permission::WriteFunding, Scope::fabrique(fabrique_id))?;
    let f = fabs::for_update(db, fabrique_id).await?;
    domain::funding::can_record(&funder_facts(db, &f, r.organization_id, r.kind).await?)?;
    let now = Utc::now();
    let m = ActiveModel {
        id: Set(Uuid::now_v7()),
        fabrique_id: Set(fabrique_id),
        organization_id: Set(r.organization_id),
        kind: Set(r.kind.as_str().into()),
        amount_cents: Set(r.amount_cents),
        label: Set(r.label),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    let l = FundingLine::try_from(m)?;
    journal_line(db, actor, "funding_line.created", &l).await?;
    Ok(l)
}

/// The line, the funding of its Fabrique writable and still open.
async fn writable(db: &impl ConnectionTrait, access: &Access, id: Uuid) -> StoreResult<Model> {
    let m = visible(db, access, id).await?;
    access.authorize(Permission::WriteFunding, Scope::fabrique(m.fabrique_id))?;
    let f = fabs::for_update(db, m.fabrique_id).await?;
    domain::funding::can_change(fabs::status_of(&f)?)?;
    Ok(m)
}

pub async fn update(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
    r: FundingLineChanges,
) -> StoreResult<FundingLine> {
    let m = writable(db, &actor.access, id).await?;
    let version = m.version;
    let mut am: ActiveModel = m.into();
    if let Some(a) = r.amount_cents {
        am.amount_cents = Set(a);
    }
    if let Some(l) = r.label {
        am.label = Set(l);
    }
    am.version = Set(version + 1);
    am.updated_at = Set(Utc::now());
    let l = FundingLine::try_from(am.update(db).await?)?;
    journal_line(db, actor, "funding_line.updated", &l).await?;
    Ok(l)
}

pub async fn delete(db: &impl ConnectionTrait, actor: &Actor, id: Uuid) -> StoreResult<()> {
    let m = writable(db, &actor.access, id).await?;
    Entity::delete_by_id(id).exec(db).await?;
    journal_line(
        db,
        actor,
        "funding_line.deleted",
        &FundingLine::try_from(m)?,
    )
    .await
}

impl crate::journal::Journalled for FundingLine {
    const ENTITY_TYPE: EntityType = EntityType::FundingLine;
}
