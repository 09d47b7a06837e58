//! Local working groups: personal data as a whole. Only callers who see a participation's
//! personal data read its members; others get 403 (and see the group's size in `progress`).

use chrono::Utc;
use domain::query::{MemberFilter, PageRequest};
use domain::working_group::{MemberChanges, NewMember};
use domain::{Access, EntityType, MemberCategory, Permission, Scope, Tier, View};
use entity::working_group_member::{ActiveModel, Column, Entity, Model};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::decode::decode;
use crate::error::{StoreError, StoreResult};
use crate::journal::{self, Actor};
use crate::page::{self, KeyColumn, Page};
use crate::participations::{self as parts, Row};
use crate::tiers::Tiered;

/// A member of a local working group (personal data).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = WorkingGroupMemberResponse)]
pub struct Member {
    pub id: Uuid,
    pub participation_id: Uuid,
    /// Left out of the history and the feed for callers who do not see personal data.
    #[schema(example = "Jeanne Martin")]
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[schema(example = "Chambre de commerce et d'industrie")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    #[schema(example = "chargée de mission")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    pub category: MemberCategory,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl Tiered for Member {
    const SCHEMA: &'static str = "WorkingGroupMemberResponse";
    const TIERS: &'static [(&'static str, Tier)] = &[
        ("name", Tier::Personal),
        ("organization", Tier::Personal),
        ("function", Tier::Personal),
    ];

    fn redact(&mut self, view: View) {
        if !view.shows(Tier::Personal) {
            self.name.clear();
            self.organization = None;
            self.function = None;
        }
    }
}

impl TryFrom<Model> for Member {
    type Error = StoreError;
    fn try_from(m: Model) -> StoreResult<Self> {
        Ok(Member {
            category: decode("working_group_members", "category", &m.category)?,
            id: m.id,
            participation_id: m.participation_id,
            name: m.name,
            organization: m.organization,
            function: m.function,
            created_at: m.created_at,
            updated_at: m.updated_at,
        })
    }
}

fn not_found() -> StoreError {
    StoreError::NotFound("working group member")
}

/// The participation, if visible, and `perm` reaching it.
async fn participation_for(
    db: &impl ConnectionTrait,
    access: &Access,
    participation_id: Uuid,
    perm: Permission,
) -> StoreResult<Row> {
    let row = parts::visible(db, access, participation_id).await?;
    access.authorize(
        perm,
        Scope::territory(row.p.fabrique_id, row.p.territory_id),
    )?;
    Ok(row)
}

pub async fn list(
    db: &impl ConnectionTrait,
    access: &Access,
    participation_id: Uuid,
    f: &MemberFilter,
    p: &PageRequest,
) -> StoreResult<Page<Member>> {
    participation_for(db, access, participation_id, Permission::ReadPersonalData).await?;
    let mut q = Entity::find().filter(Column::ParticipationId.eq(participation_id));
    if !f.categories.is_empty() {
        q = q.filter(Column::Category.is_in(f.categories.iter().map(|c| c.as_str())));
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
    .try_map(Member::try_from)
}

async fn member(
    db: &impl ConnectionTrait,
    access: &Access,
    id: Uuid,
    perm: Permission,
) -> StoreResult<(Model, Row)> {
    let m = Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    let p = participation_for(db, access, m.participation_id, perm)
        .await
        .map_err(|e| match e {
            StoreError::NotFound(_) => not_found(),
            other => other,
        })?;
    Ok((m, p))
}

pub async fn get(db: &impl ConnectionTrait, access: &Access, id: Uuid) -> StoreResult<Member> {
    member(db, access, id, Permission::ReadPersonalData)
        .await?
        .0
        .try_into()
}

async fn journal_member(
    db: &impl ConnectionTrait,
    actor: &Actor,
    action: &str,
    fabrique_id: Uuid,
    m: &Member,
) -> StoreResult<()> {
    journal::record(db, actor, action, m.id, Some(fabrique_id), m).await
}

pub async fn create(
    db: &impl ConnectionTrait,
    actor: &Actor,
    participation_id: Uuid,
    r: NewMember,
) -> StoreResult<Member> {
    let p = participation_for(
        db,
        &actor.access,
        participation_id,
        Permission::WriteWorkingGroups,
    )
    .await?;
    domain::participation::can_edit(parts::status_of(&p.p)?)?;
    let now = Utc::now();
    let m = ActiveModel {
        id: Set(Uuid::now_v7()),
        participation_id: Set(participation_id),
        name: Set(r.name),
        organization: Set(r.organization),
        function: Set(r.function),
        category: Set(r.category.as_str().into()),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    let out = Member::try_from(m)?;
    journal_member(
        db,
        actor,
        "working_group_member.created",
        p.p.fabrique_id,
        &out,
    )
    .await?;
    Ok(out)
}

pub async fn update(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
    r: MemberChanges,
) -> StoreResult<Member> {
    let (m, p) = member(db, &actor.access, id, Permission::WriteWorkingGroups).await?;
    domain::participation::can_edit(parts::status_of(&p.p)?)?;
    let version = m.version;
    let mut am: ActiveModel = m.into();
    if let Some(n) = r.name {
        am.name = Set(n);
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
    let out = Member::try_from(am.update(db).await?)?;
    journal_member(
        db,
        actor,
        "working_group_member.updated",
        p.p.fabrique_id,
        &out,
    )
    .await?;
    Ok(out)
}

pub async fn delete(db: &impl ConnectionTrait, actor: &Actor, id: Uuid) -> StoreResult<()> {
    let (m, p) = member(db, &actor.access, id, Permission::WriteWorkingGroups).await?;
    domain::participation::can_edit(parts::status_of(&p.p)?)?;
    Entity::delete_by_id(id).exec(db).await?;
    journal_member(
        db,
        actor,
        "working_group_member.deleted",
        p.p.fabrique_id,
        &Member::try_from(m)?,
    )
    .await
}

impl crate::journal::Journalled for Member {
    const ENTITY_TYPE: EntityType = EntityType::WorkingGroupMember;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tiers::{declared_hidden, removed_keys};

    #[test]
    fn redaction_clears_exactly_the_declared_fields() {
        let now = Utc::now();
        let m = Member {
            id: Uuid::nil(),
            participation_id: Uuid::nil(),
            name: "x".into(),
            organization: Some("x".into()),
            function: Some("x".into()),
            category: MemberCategory::Business,
            created_at: now,
            updated_at: now,
        };
        for view in [View::PUBLIC, View::new(true, false, false), View::ALL] {
            assert_eq!(removed_keys(&m, view), declared_hidden::<Member>(view));
        }
    }
}
