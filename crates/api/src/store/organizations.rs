use chrono::Utc;
use entity::organization::{ActiveModel, Column, Entity, Model};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set,
};
use uuid::Uuid;

use super::{Page, PageRequest, fetch_page, text_match};
use crate::error::ApiError;
use crate::extract::parse_enum_list;
use crate::journal::{self, Actor, Change};
use crate::pagination::{SortKey, parse_sort};
use crate::routes::organizations::{
    CreateOrganizationRequest, OrganizationListParams, OrganizationResponse,
    UpdateOrganizationRequest, not_found,
};

pub async fn list(
    db: &impl ConnectionTrait,
    p: &OrganizationListParams,
) -> Result<Page<Model>, ApiError> {
    let sort = parse_sort(
        p.sort.as_deref(),
        &[
            ("name", SortKey::Text(Column::Name)),
            ("created_at", SortKey::Created),
        ],
    )?;
    let mut q = Entity::find();
    let kinds = parse_enum_list::<domain::OrganizationKind>(&p.kind, "kind")?;
    if !kinds.is_empty() {
        q = q.filter(Column::Kind.is_in(kinds));
    }
    if let Some(text) = p.q.as_deref().filter(|s| !s.trim().is_empty()) {
        q = q.filter(text_match(&[Column::Name, Column::Acronym], text.trim()));
    }
    let q = super::updated_since(q, Column::UpdatedAt, p.updated_since);
    fetch_page(
        db,
        q,
        Column::Id,
        sort,
        PageRequest {
            cursor: p.cursor.as_deref(),
            limit: p.limit,
            count: p.count.unwrap_or(false),
        },
        |m: &Model| (Some(m.name.clone()), m.id),
    )
    .await
}

pub async fn get(db: &impl ConnectionTrait, id: Uuid) -> Result<Model, ApiError> {
    Entity::find_by_id(id).one(db).await?.ok_or_else(not_found)
}

pub async fn create(
    db: &impl ConnectionTrait,
    actor: &Actor,
    r: CreateOrganizationRequest,
) -> Result<Model, ApiError> {
    let now = Utc::now();
    let m = ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(r.name.trim().to_owned()),
        acronym: Set(r.acronym),
        kind: Set(r.kind.as_str().into()),
        website: Set(r.website),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    journal::record(
        db,
        actor,
        Change {
            action: "organization.created",
            entity_type: "organization",
            entity_id: m.id,
            fabrique_id: None,
            state: &OrganizationResponse::from(m.clone()),
        },
    )
    .await?;
    Ok(m)
}

pub async fn update(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
    r: UpdateOrganizationRequest,
) -> Result<Model, ApiError> {
    let current = get(db, id).await?;
    let version = current.version;
    let mut am: ActiveModel = current.into();
    if let Some(name) = r.name {
        am.name = Set(name.trim().to_owned());
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
    let m = am.update(db).await?;
    journal::record(
        db,
        actor,
        Change {
            action: "organization.updated",
            entity_type: "organization",
            entity_id: m.id,
            fabrique_id: None,
            state: &OrganizationResponse::from(m.clone()),
        },
    )
    .await?;
    Ok(m)
}

pub async fn delete(db: &impl ConnectionTrait, actor: &Actor, id: Uuid) -> Result<(), ApiError> {
    let m = get(db, id).await?;
    let refs = entity::fabrique_partner::Entity::find()
        .filter(entity::fabrique_partner::Column::OrganizationId.eq(id))
        .count(db)
        .await?;
    let refs = refs
        + entity::funding_line::Entity::find()
            .filter(entity::funding_line::Column::OrganizationId.eq(id))
            .count(db)
            .await?
        + entity::seminar_organization::Entity::find()
            .filter(entity::seminar_organization::Column::OrganizationId.eq(id))
            .count(db)
            .await?;
    if refs > 0 {
        return Err(ApiError::conflict(
            "still_referenced",
            format!(
                "the organization is referenced {refs} time(s) (partner roles, funding lines, seminar attendance); remove those first"
            ),
        ));
    }
    Entity::delete_by_id(id).exec(db).await?;
    journal::record(
        db,
        actor,
        Change {
            action: "organization.deleted",
            entity_type: "organization",
            entity_id: id,
            fabrique_id: None,
            state: &OrganizationResponse::from(m),
        },
    )
    .await?;
    Ok(())
}
