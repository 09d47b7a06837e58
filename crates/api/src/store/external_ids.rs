use chrono::Utc;
use entity::external_id::{ActiveModel, Column, Entity, Model};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use super::{Page, PageRequest, fetch_page};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::parse_enum_list;
use crate::journal::{self, Actor, Change};
use crate::routes::external_ids::{ExternalEntityType, ExternalIdListParams, ExternalIdResponse};

impl std::str::FromStr for ExternalEntityType {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        [
            ExternalEntityType::Fabrique,
            ExternalEntityType::Territory,
            ExternalEntityType::Participation,
            ExternalEntityType::Seminar,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
        .ok_or(())
    }
}

fn org_of(caller: &Caller) -> Result<Uuid, ApiError> {
    caller.org.ok_or_else(|| {
        ApiError::Forbidden("external_ids:write (with an organization token)".into())
    })
}

fn check_external(external: &str) -> Result<(), ApiError> {
    if external.is_empty() || external.chars().count() > 200 || external.contains('\0') {
        return Err(ApiError::bad_request(
            "invalid_path_parameter",
            "an external id has 1 to 200 characters",
        ));
    }
    Ok(())
}

fn response(m: Model) -> ExternalIdResponse {
    let kind: ExternalEntityType = m
        .entity_type
        .parse()
        .unwrap_or(ExternalEntityType::Fabrique);
    ExternalIdResponse {
        href: format!("/api/v1/{}/{}", kind.collection(), m.entity_id),
        organization_id: m.organization_id,
        entity_type: kind,
        external_id: m.external_id,
        entity_id: m.entity_id,
        created_at: m.created_at,
    }
}

/// The resource must exist and be one the caller may see.
async fn check_visible(
    db: &impl ConnectionTrait,
    caller: &Caller,
    kind: ExternalEntityType,
    id: Uuid,
) -> Result<(), ApiError> {
    let missing = || {
        ApiError::invalid(
            "/entity_id",
            "unknown_entity",
            format!("no {} you may see has this id", kind.as_str()),
        )
    };
    let found = match kind {
        ExternalEntityType::Fabrique => super::fabriques::get_visible(db, Some(caller), id)
            .await
            .is_ok(),
        ExternalEntityType::Territory => super::territories::get(db, id).await.is_ok(),
        ExternalEntityType::Participation => {
            super::participations::get(db, caller, id).await.is_ok()
        }
        ExternalEntityType::Seminar => super::seminars::get(db, caller, id).await.is_ok(),
    };
    if found { Ok(()) } else { Err(missing()) }
}

pub async fn list(
    db: &impl ConnectionTrait,
    caller: &Caller,
    p: &ExternalIdListParams,
) -> Result<Page<ExternalIdResponse>, ApiError> {
    let org = org_of(caller)?;
    let mut q = Entity::find().filter(Column::OrganizationId.eq(org));
    let kinds = parse_enum_list::<ExternalEntityType>(&p.entity_type, "entity_type")?;
    if !kinds.is_empty() {
        q = q.filter(Column::EntityType.is_in(kinds));
    }
    // External ids are few per organization; keyset on the entity id keeps pages stable.
    let sort = super::by_creation(false);
    let req = PageRequest::of(&p.cursor, p.limit, p.count);
    Ok(fetch_page(db, q, Column::EntityId, sort, req, |m: &Model| {
        (None, m.entity_id)
    })
    .await?
    .map(response))
}

async fn find(
    db: &impl ConnectionTrait,
    org: Uuid,
    kind: ExternalEntityType,
    external: &str,
) -> Result<Option<Model>, ApiError> {
    Ok(
        Entity::find_by_id((org, kind.as_str().to_owned(), external.to_owned()))
            .one(db)
            .await?,
    )
}

pub async fn get(
    db: &impl ConnectionTrait,
    caller: &Caller,
    kind: ExternalEntityType,
    external: &str,
) -> Result<ExternalIdResponse, ApiError> {
    check_external(external)?;
    let org = org_of(caller)?;
    find(db, org, kind, external)
        .await?
        .map(response)
        .ok_or(ApiError::NotFound("external id"))
}

pub async fn put(
    db: &impl ConnectionTrait,
    actor: &Actor,
    kind: ExternalEntityType,
    external: &str,
    entity_id: Uuid,
) -> Result<(ExternalIdResponse, bool), ApiError> {
    check_external(external)?;
    let org = org_of(&actor.caller)?;
    if let Some(existing) = find(db, org, kind, external).await? {
        if existing.entity_id == entity_id {
            return Ok((response(existing), false));
        }
        return Err(ApiError::conflict(
            "external_id_taken",
            "this id of yours already names another resource; detach it first",
        ));
    }
    check_visible(db, &actor.caller, kind, entity_id).await?;
    let m = ActiveModel {
        organization_id: Set(org),
        entity_type: Set(kind.as_str().into()),
        external_id: Set(external.to_owned()),
        entity_id: Set(entity_id),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await
    .map_err(|e| match ApiError::from(e) {
        ApiError::Conflict { .. } => ApiError::conflict(
            "entity_already_mapped",
            "this resource already has another id of yours",
        ),
        other => other,
    })?;
    let out = response(m);
    journal::record(
        db,
        actor,
        Change {
            action: "external_id.attached",
            entity_type: "external_id",
            entity_id,
            fabrique_id: None,
            state: &out,
        },
    )
    .await?;
    Ok((out, true))
}

pub async fn delete(
    db: &impl ConnectionTrait,
    actor: &Actor,
    kind: ExternalEntityType,
    external: &str,
) -> Result<(), ApiError> {
    check_external(external)?;
    let org = org_of(&actor.caller)?;
    let m = find(db, org, kind, external)
        .await?
        .ok_or(ApiError::NotFound("external id"))?;
    Entity::delete_by_id((org, kind.as_str().to_owned(), external.to_owned()))
        .exec(db)
        .await?;
    let out = response(m);
    journal::record(
        db,
        actor,
        Change {
            action: "external_id.deleted",
            entity_type: "external_id",
            entity_id: out.entity_id,
            fabrique_id: None,
            state: &out,
        },
    )
    .await
    .map_err(ApiError::from)
}
