use chrono::Utc;
use domain::{FabriqueStatus, OrganizationKind, PartnerRole};
use entity::funding_line::{ActiveModel, Column, Entity, Model};
use sea_orm::sea_query::{Alias, Expr, Func};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set,
};
use uuid::Uuid;

use super::access::authorize;
use super::fabriques as fabs;
use super::{Page, PageRequest, fetch_page};
use crate::auth::{Caller, Permission};
use crate::error::ApiError;
use crate::extract::parse_enum_list;
use crate::journal::{self, Actor, Change};
use crate::routes::funding::{
    CreateFundingLineRequest, FunderTotal, FundingKind, FundingLineResponse, FundingListParams,
    FundingSummaryResponse, UpdateFundingLineRequest,
};

impl std::str::FromStr for FundingKind {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        [FundingKind::Anct, FundingKind::CoFunding]
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or(())
    }
}

fn not_found() -> ApiError {
    ApiError::NotFound("funding line")
}

fn response(m: Model) -> FundingLineResponse {
    FundingLineResponse {
        id: m.id,
        fabrique_id: m.fabrique_id,
        organization_id: m.organization_id,
        kind: m.kind.parse().unwrap_or(FundingKind::CoFunding),
        amount_cents: m.amount_cents,
        label: m.label,
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

pub async fn list(
    db: &impl ConnectionTrait,
    caller: &Caller,
    fabrique_id: Uuid,
    p: &FundingListParams,
) -> Result<Page<FundingLineResponse>, ApiError> {
    fabs::get_visible(db, Some(caller), fabrique_id).await?;
    let mut q = Entity::find().filter(Column::FabriqueId.eq(fabrique_id));
    let kinds = parse_enum_list::<FundingKind>(&p.kind, "kind")?;
    if !kinds.is_empty() {
        q = q.filter(Column::Kind.is_in(kinds));
    }
    let sort = super::by_creation(false);
    let req = PageRequest::of(&p.cursor, p.limit, p.count);
    let q = super::updated_since(q, Column::UpdatedAt, p.updated_since);
    Ok(
        fetch_page(db, q, Column::Id, sort, req, |m: &Model| (None, m.id))
            .await?
            .map(response),
    )
}

pub async fn get(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: Uuid,
) -> Result<FundingLineResponse, ApiError> {
    let m = Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    fabs::get_visible(db, Some(caller), m.fabrique_id)
        .await
        .map_err(|_| not_found())?;
    Ok(response(m))
}

/// Totals by organization and kind, summed by the database.
pub async fn summary(
    db: &impl ConnectionTrait,
    caller: &Caller,
    fabrique_id: Uuid,
) -> Result<FundingSummaryResponse, ApiError> {
    fabs::get_visible(db, Some(caller), fabrique_id).await?;
    let rows: Vec<(Uuid, String, i64)> = Entity::find()
        .select_only()
        .column(Column::OrganizationId)
        .column(Column::Kind)
        // SUM of a bigint is numeric on PostgreSQL: cast it back.
        .column_as(
            Expr::from(Func::cast_as(
                Func::sum(Expr::col(Column::AmountCents)),
                Alias::new("bigint"),
            )),
            "amount",
        )
        .filter(Column::FabriqueId.eq(fabrique_id))
        .group_by(Column::OrganizationId)
        .group_by(Column::Kind)
        .into_tuple()
        .all(db)
        .await?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.0).collect();
    let names: std::collections::HashMap<Uuid, String> = entity::organization::Entity::find()
        .filter(entity::organization::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect();
    let mut by_organization: Vec<FunderTotal> = rows
        .into_iter()
        .map(|(organization_id, kind, amount_cents)| FunderTotal {
            organization_id,
            name: names.get(&organization_id).cloned().unwrap_or_default(),
            kind: kind.parse().unwrap_or(FundingKind::CoFunding),
            amount_cents,
        })
        .collect();
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
    Ok(FundingSummaryResponse {
        fabrique_id,
        total_cents: anct_cents + co_funding_cents,
        anct_cents,
        co_funding_cents,
        by_organization,
    })
}

fn open(f: &entity::fabrique::Model) -> Result<(), ApiError> {
    if f.status
        .parse::<FabriqueStatus>()
        .is_ok_and(FabriqueStatus::is_terminal)
    {
        return Err(ApiError::conflict(
            "fabrique_closed",
            format!(
                "the Fabrique is {}; its funding can no longer change",
                f.status
            ),
        ));
    }
    Ok(())
}

/// ANCT lines come from ANCT; co-funding lines from a co_funder partner of the Fabrique.
async fn check_funder(
    db: &impl ConnectionTrait,
    fabrique_id: Uuid,
    org_id: Uuid,
    kind: FundingKind,
) -> Result<(), ApiError> {
    let org = entity::organization::Entity::find_by_id(org_id)
        .one(db)
        .await?
        .ok_or_else(|| {
            ApiError::invalid(
                "/organization_id",
                "unknown_organization",
                "no organization has this id",
            )
        })?;
    match kind {
        FundingKind::Anct if org.kind != OrganizationKind::Anct.as_str() => Err(
            ApiError::conflict("not_anct", "an ANCT funding line must come from ANCT"),
        ),
        FundingKind::CoFunding => {
            let is_co_funder = entity::fabrique_partner::Entity::find()
                .filter(entity::fabrique_partner::Column::FabriqueId.eq(fabrique_id))
                .filter(entity::fabrique_partner::Column::OrganizationId.eq(org_id))
                .filter(entity::fabrique_partner::Column::Role.eq(PartnerRole::CoFunder.as_str()))
                .one(db)
                .await?
                .is_some();
            if is_co_funder {
                Ok(())
            } else {
                Err(ApiError::conflict(
                    "not_a_co_funder",
                    "a co-funding line needs the organization to be a co_funder partner of the Fabrique",
                ))
            }
        }
        FundingKind::Anct => Ok(()),
    }
}

async fn journal_line(
    db: &impl ConnectionTrait,
    actor: &Actor,
    action: &str,
    l: &FundingLineResponse,
) -> Result<(), ApiError> {
    journal::record(
        db,
        actor,
        Change {
            action,
            entity_type: "funding_line",
            entity_id: l.id,
            fabrique_id: Some(l.fabrique_id),
            state: l,
        },
    )
    .await?;
    Ok(())
}

pub async fn create(
    db: &impl ConnectionTrait,
    actor: &Actor,
    fabrique_id: Uuid,
    r: CreateFundingLineRequest,
) -> Result<FundingLineResponse, ApiError> {
    fabs::get_visible(db, Some(&actor.caller), fabrique_id).await?;
    authorize(
        db,
        &actor.caller,
        Permission::WriteFunding,
        fabrique_id,
        None,
    )
    .await?;
    let f = fabs::get_for_update(db, fabrique_id).await?;
    open(&f)?;
    check_funder(db, fabrique_id, r.organization_id, r.kind).await?;
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
    let l = response(m);
    journal_line(db, actor, "funding_line.created", &l).await?;
    Ok(l)
}

async fn line_open(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: Uuid,
) -> Result<Model, ApiError> {
    let m = Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    authorize(db, caller, Permission::WriteFunding, m.fabrique_id, None).await?;
    let f = fabs::get_for_update(db, m.fabrique_id).await?;
    open(&f)?;
    Ok(m)
}

pub async fn update(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
    r: UpdateFundingLineRequest,
) -> Result<FundingLineResponse, ApiError> {
    let m = line_open(db, &actor.caller, id).await?;
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
    let l = response(am.update(db).await?);
    journal_line(db, actor, "funding_line.updated", &l).await?;
    Ok(l)
}

pub async fn delete(db: &impl ConnectionTrait, actor: &Actor, id: Uuid) -> Result<(), ApiError> {
    let m = line_open(db, &actor.caller, id).await?;
    Entity::delete_by_id(id).exec(db).await?;
    journal_line(db, actor, "funding_line.deleted", &response(m)).await
}
