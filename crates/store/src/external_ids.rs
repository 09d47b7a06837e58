//! External ids: a partner organization's own ids for our Fabriques, territories,
//! participations and seminars, unique per organization in both directions. An
//! organization's ids are seen by that organization (and, in the journal, by ANCT) only.

use chrono::Utc;
use domain::query::{ExternalIdFilter, PageRequest};
use domain::{Access, Denied, EntityType, ExternalEntityType, Grant, Permission};
use entity::external_id::{ActiveModel, Column, Entity, Model};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::decode::decode;
use crate::error::{StoreError, StoreResult};
use crate::journal::{self, Actor};
use crate::page::{self, KeyColumn, Page};

/// One of your organization's ids, and the resource it names.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = ExternalIdResponse)]
pub struct ExternalId {
    pub organization_id: Uuid,
    pub entity_type: ExternalEntityType,
    #[schema(example = "AMF-2027-0042")]
    pub external_id: String,
    pub entity_id: Uuid,
    /// The resource's URL.
    #[schema(example = "/api/v1/fabriques/01a2219c-5371-7673-aff7-8ea72af0ffd9")]
    pub href: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl TryFrom<Model> for ExternalId {
    type Error = StoreError;
    fn try_from(m: Model) -> StoreResult<Self> {
        let kind: ExternalEntityType = decode("external_ids", "entity_type", &m.entity_type)?;
        Ok(ExternalId {
            href: format!("/api/v1/{}/{}", kind.collection(), m.entity_id),
            organization_id: m.organization_id,
            entity_type: kind,
            external_id: m.external_id,
            entity_id: m.entity_id,
            created_at: m.created_at,
        })
    }
}

fn org_of(access: &Access) -> StoreResult<Uuid> {
    access.organization().ok_or(StoreError::Denied(Denied {
        permission: Permission::ManageExternalIds,
        grant: Grant::Never,
    }))
}

/// The resource must exist and be one the caller may see.
async fn check_visible(
    db: &impl ConnectionTrait,
    access: &Access,
    kind: ExternalEntityType,
    id: Uuid,
) -> StoreResult<()> {
    let found = match kind {
        ExternalEntityType::Fabrique => crate::fabriques::visible(db, access, id).await.map(|_| ()),
        ExternalEntityType::Territory => crate::territories::get(db, id).await.map(|_| ()),
        ExternalEntityType::Participation => crate::participations::visible(db, access, id)
            .await
            .map(|_| ()),
        ExternalEntityType::Seminar => crate::seminars::get(db, access, id).await.map(|_| ()),
    };
    match found {
        Ok(()) => Ok(()),
        Err(StoreError::NotFound(_)) => Err(StoreError::invalid(
            "/entity_id",
            "unknown_entity",
            format!("no {} you may see has this id", kind.as_str()),
        )),
        Err(other) => Err(other),
    }
}

pub async fn list(
    db: &impl ConnectionTrait,
    access: &Access,
    f: &ExternalIdFilter,
    p: &PageRequest,
) -> StoreResult<Page<ExternalId>> {
    let org = org_of(access)?;
    let mut q = Entity::find().filter(Column::OrganizationId.eq(org));
    if !f.entity_types.is_empty() {
        q = q.filter(Column::EntityType.is_in(f.entity_types.iter().map(|k| k.as_str())));
    }
    // External ids are few per organization; keyset on the entity id keeps pages stable.
    page::fetch(
        db,
        q,
        Column::EntityId,
        KeyColumn::Created,
        p,
        |_: &Model| None,
        |m| m.entity_id,
    )
    .await?
    .try_map(ExternalId::try_from)
}

async fn find(
    db: &impl ConnectionTrait,
    org: Uuid,
    kind: ExternalEntityType,
    external: &str,
) -> StoreResult<Option<Model>> {
    Ok(
        Entity::find_by_id((org, kind.as_str().to_owned(), external.to_owned()))
            .one(db)
            .await?,
    )
}

pub async fn get(
    db: &impl ConnectionTrait,
    access: &Access,
    kind: ExternalEntityType,
    external: &str,
) -> StoreResult<ExternalId> {
    let org = org_of(access)?;
    find(db, org, kind, external)
        .await?
        .ok_or(StoreError::NotFound("external id"))?
        .try_into()
}

/// Attaches `external` to the resource; `true` when it was not attached already. Two
/// writers racing are told apart by the unique constraints.
pub async fn put(
    db: &impl ConnectionTrait,
    actor: &Actor,
    kind: ExternalEntityType,
    external: &str,
    entity_id: Uuid,
) -> StoreResult<(ExternalId, bool)> {
    let org = org_of(&actor.access)?;
    if let Some(existing) = find(db, org, kind, external).await? {
        if existing.entity_id == entity_id {
            return Ok((existing.try_into()?, false));
        }
        let u = crate::constraints::UNIQUES
            .iter()
            .find(|u| u.code == "external_id_taken");
        return Err(StoreError::Conflict {
            code: "external_id_taken",
            detail: u.map_or("this id is taken", |u| u.detail).into(),
            field: None,
        });
    }
    check_visible(db, &actor.access, kind, entity_id).await?;
    let m = ActiveModel {
        organization_id: Set(org),
        entity_type: Set(kind.as_str().into()),
        external_id: Set(external.to_owned()),
        entity_id: Set(entity_id),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await?;
    let out = ExternalId::try_from(m)?;
    journal::record(db, actor, "external_id.attached", entity_id, None, &out).await?;
    Ok((out, true))
}

pub async fn delete(
    db: &impl ConnectionTrait,
    actor: &Actor,
    kind: ExternalEntityType,
    external: &str,
) -> StoreResult<()> {
    let org = org_of(&actor.access)?;
    let m = find(db, org, kind, external)
        .await?
        .ok_or(StoreError::NotFound("external id"))?;
    Entity::delete_by_id((org, kind.as_str().to_owned(), external.to_owned()))
        .exec(db)
        .await?;
    let out = ExternalId::try_from(m)?;
    journal::record(db, actor, "external_id.deleted", out.entity_id, None, &out).await
}

impl crate::journal::Journalled for ExternalId {
    const ENTITY_TYPE: EntityType = EntityType::ExternalId;
}
