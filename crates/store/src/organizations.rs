//! Partner organizations (partenaires): the directory every Fabrique draws on.

use chrono::Utc;
use domain::directory::{NewOrganization, OrganizationChanges};
use domain::query::{CursorKey, NameSortKey, OrganizationFilter, PageRequest};
use domain::{EntityType, OrganizationKind};
use entity::organization::{ActiveModel, Column, Entity, Model};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set,
};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::decode::{count, decode};
use crate::error::{StoreError, StoreResult};
use crate::journal::{self, Actor};
use crate::page::{self, KeyColumn, Page, text_match};

/// A partner organization (partenaire).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = OrganizationResponse)]
pub struct Organization {
    pub id: Uuid,
    #[schema(example = "Association des maires de France")]
    pub name: String,
    #[schema(example = "AMF")]
    pub acronym: Option<String>,
    pub kind: OrganizationKind,
    pub website: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl TryFrom<Model> for Organization {
    type Error = StoreError;
    fn try_from(m: Model) -> StoreResult<Self> {
        Ok(Organization {
            kind: decode("organizations", "kind", &m.kind)?,
            id: m.id,
            name: m.name,
            acronym: m.acronym,
            website: m.website,
            created_at: m.created_at,
            updated_at: m.updated_at,
        })
    }
}

fn not_found() -> StoreError {
    StoreError::NotFound("organization")
}

pub async fn list(
    db: &impl ConnectionTrait,
    f: &OrganizationFilter,
    p: &PageRequest<NameSortKey>,
) -> StoreResult<Page<Organization>> {
    let mut q = Entity::find();
    if !f.kinds.is_empty() {
        q = q.filter(Column::Kind.is_in(f.kinds.iter().map(|k| k.as_str())));
    }
    if let Some(text) = &f.q {
        q = q.filter(text_match(&[Column::Name, Column::Acronym], text));
    }
    let q = page::updated_since(q, Column::UpdatedAt, f.updated_since);
    let key = match p.sort.key {
        NameSortKey::CreatedAt => KeyColumn::Created,
        NameSortKey::Name => KeyColumn::Text(Column::Name),
    };
    page::fetch(
        db,
        q,
        Column::Id,
        key,
        p,
        |m: &Model| Some(CursorKey::Text(m.name.clone())),
        |m| m.id,
    )
    .await?
    .try_map(Organization::try_from)
}

async fn find(db: &impl ConnectionTrait, id: Uuid) -> StoreResult<Model> {
    Entity::find_by_id(id).one(db).await?.ok_or_else(not_found)
}

pub async fn get(db: &impl ConnectionTrait, id: Uuid) -> StoreResult<Organization> {
    find(db, id).await?.try_into()
}

async fn journal_organization(
    db: &impl ConnectionTrait,
    actor: &Actor,
    action: &str,
    o: &Organization,
) -> StoreResult<()> {
    journal::record(db, actor, action, o.id, None, o).await
}

pub async fn create(
    db: &impl ConnectionTrait,
    actor: &Actor,
    r: NewOrganization,
) -> StoreResult<Organization> {
    let now = Utc::now();
    let m = ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(r.name),
        acronym: Set(r.acronym),
        kind: Set(r.kind.as_str().into()),
        website: Set(r.website),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    let o = Organization::try_from(m)?;
    journal_organization(db, actor, "organization.created", &o).await?;
    Ok(o)
}

pub async fn update(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
    r: OrganizationChanges,
) -> StoreResult<Organization> {
    let current = find(db, id).await?;
    let version = current.version;
    let mut am: ActiveModel = current.into();
    if let Some(name) = r.name {
        am.name = Set(name);
    }
    if let Some(acronym) = r.acronym {
        am.acronym = Set(acronym);
    }
    if let Some(kind) = r.kind {
        am.kind = Set(kind.as_str().into());
    }
    if let Some(website) = r.website {
        am.website = Set(website);
    }
    am.version = Set(version + 1);
    am.updated_at = Set(Utc::now());
    let o = Organization::try_from(am.update(db).await?)?;
    journal_organization(db, actor, "organization.updated", &o).await?;
    Ok(o)
}

pub async fn delete(db: &impl ConnectionTrait, actor: &Actor, id: Uuid) -> StoreResult<()> {
    let o = get(db, id).await?;
    let partner_roles = entity::fabrique_partner::Entity::find()
        .filter(entity::fabrique_partner::Column::OrganizationId.eq(id))
        .count(db)
        .await?;
    let funding_lines = entity::funding_line::Entity::find()
        .filter(entity::funding_line::Column::OrganizationId.eq(id))
        .count(db)
        .await?;
    let attendances = entity::seminar_organization::Entity::find()
        .filter(entity::seminar_organization::Column::OrganizationId.eq(id))
        .count(db)
        .await?;
    domain::directory::can_delete(&[
        (count(partner_roles as i64), "partner roles"),
        (count(funding_lines as i64), "funding lines"),
        (count(attendances as i64), "seminar attendances"),
    ])?;
    Entity::delete_by_id(id).exec(db).await?;
    journal_organization(db, actor, "organization.deleted", &o).await
}

impl crate::journal::Journalled for Organization {
    const ENTITY_TYPE: EntityType = EntityType::Organization;
}
