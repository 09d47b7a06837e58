use chrono::Utc;
use domain::ParticipationStatus;
use entity::working_group_member::{ActiveModel, Column, Entity, Model};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use super::access::authorize;
use super::fabriques as fabs;
use super::{Page, PageRequest, fetch_page};
use crate::auth::{Caller, Permission};
use crate::error::ApiError;
use crate::extract::parse_enum_list;
use crate::journal::{self, Actor, Change};
use crate::routes::working_groups::{
    CreateWorkingGroupMemberRequest, MemberCategory, UpdateWorkingGroupMemberRequest,
    WorkingGroupListParams, WorkingGroupMemberResponse,
};

impl std::str::FromStr for MemberCategory {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        MemberCategory::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or(())
    }
}

fn not_found() -> ApiError {
    ApiError::NotFound("working group member")
}

fn response(m: Model) -> WorkingGroupMemberResponse {
    WorkingGroupMemberResponse {
        id: m.id,
        participation_id: m.participation_id,
        category: m.category.parse().unwrap_or(MemberCategory::Partner),
        name: m.name,
        organization: m.organization,
        function: m.function,
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

/// The participation, if the caller may know it exists, checked against `perm`.
pub async fn participation_for(
    db: &impl ConnectionTrait,
    caller: &Caller,
    participation_id: Uuid,
    perm: Permission,
) -> Result<entity::participation::Model, ApiError> {
    let p = entity::participation::Entity::find_by_id(participation_id)
        .one(db)
        .await?
        .ok_or(ApiError::NotFound("participation"))?;
    if caller.territory.is_some() && caller.territory != Some(p.territory_id) {
        return Err(ApiError::NotFound("participation"));
    }
    fabs::get_visible(db, Some(caller), p.fabrique_id)
        .await
        .map_err(|_| ApiError::NotFound("participation"))?;
    authorize(db, caller, perm, p.fabrique_id, Some(p.territory_id)).await?;
    Ok(p)
}

fn open(p: &entity::participation::Model) -> Result<(), ApiError> {
    let status: ParticipationStatus = p.status.parse().unwrap_or(ParticipationStatus::Applied);
    if status.is_terminal() {
        return Err(ApiError::conflict(
            "participation_closed",
            format!("the participation is {status}; its working group can no longer change"),
        ));
    }
    Ok(())
}

pub async fn list(
    db: &impl ConnectionTrait,
    caller: &Caller,
    participation_id: Uuid,
    p: &WorkingGroupListParams,
) -> Result<Page<WorkingGroupMemberResponse>, ApiError> {
    participation_for(db, caller, participation_id, Permission::ReadPersonalData).await?;
    let mut q = Entity::find().filter(Column::ParticipationId.eq(participation_id));
    let cats = parse_enum_list::<MemberCategory>(&p.category, "category")?;
    if !cats.is_empty() {
        q = q.filter(Column::Category.is_in(cats));
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

async fn member(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: Uuid,
    perm: Permission,
) -> Result<(Model, entity::participation::Model), ApiError> {
    let m = Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    let p = participation_for(db, caller, m.participation_id, perm)
        .await
        .map_err(|e| match e {
            ApiError::NotFound(_) => not_found(),
            other => other,
        })?;
    Ok((m, p))
}

pub async fn get(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: Uuid,
) -> Result<WorkingGroupMemberResponse, ApiError> {
    Ok(response(
        member(db, caller, id, Permission::ReadPersonalData)
            .await?
            .0,
    ))
}

async fn journal_member(
    db: &impl ConnectionTrait,
    actor: &Actor,
    action: &str,
    fabrique_id: Uuid,
    m: &WorkingGroupMemberResponse,
) -> Result<(), ApiError> {
    journal::record(
        db,
        actor,
        Change {
            action,
            entity_type: "working_group_member",
            entity_id: m.id,
            fabrique_id: Some(fabrique_id),
            state: m,
        },
    )
    .await?;
    Ok(())
}

pub async fn create(
    db: &impl ConnectionTrait,
    actor: &Actor,
    participation_id: Uuid,
    r: CreateWorkingGroupMemberRequest,
) -> Result<WorkingGroupMemberResponse, ApiError> {
    let p = participation_for(
        db,
        &actor.caller,
        participation_id,
        Permission::WriteWorkingGroups,
    )
    .await?;
    open(&p)?;
    let now = Utc::now();
    let m = ActiveModel {
        id: Set(Uuid::now_v7()),
        participation_id: Set(participation_id),
        name: Set(r.name.trim().to_owned()),
        organization: Set(r.organization),
        function: Set(r.function),
        category: Set(r.category.as_str().into()),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    let out = response(m);
    journal_member(
        db,
        actor,
        "working_group_member.created",
        p.fabrique_id,
        &out,
    )
    .await?;
    Ok(out)
}

pub async fn update(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
    r: UpdateWorkingGroupMemberRequest,
) -> Result<WorkingGroupMemberResponse, ApiError> {
    let (m, p) = member(db, &actor.caller, id, Permission::WriteWorkingGroups).await?;
    open(&p)?;
    let version = m.version;
    let mut am: ActiveModel = m.into();
    if let Some(n) = r.name {
        am.name = Set(n.trim().to_owned());
    }
    if let Some(o) = r.organization {
        am.organization = Set(o);
    }
    if let Some(f) = r.function {
        am.function = Set(f);
    }
    if let Some(c) = r.category {
        am.category = Set(c.as_str().into());
    }
    am.version = Set(version + 1);
    am.updated_at = Set(Utc::now());
    let out = response(am.update(db).await?);
    journal_member(
        db,
        actor,
        "working_group_member.updated",
        p.fabrique_id,
        &out,
    )
    .await?;
    Ok(out)
}

pub async fn delete(db: &impl ConnectionTrait, actor: &Actor, id: Uuid) -> Result<(), ApiError> {
    let (m, p) = member(db, &actor.caller, id, Permission::WriteWorkingGroups).await?;
    open(&p)?;
    Entity::delete_by_id(id).exec(db).await?;
    journal_member(
        db,
        actor,
        "working_group_member.deleted",
        p.fabrique_id,
        &response(m),
    )
    .await
}
