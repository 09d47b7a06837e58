use chrono::Utc;
use entity::programme::{ActiveModel, Column, Entity, Model};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set,
};
use uuid::Uuid;

use super::{Page, PageRequest, fetch_page};
use crate::error::ApiError;
use crate::journal::{self, Actor, Change};
use crate::routes::programmes::{
    CreateProgrammeRequest, ProgrammeListParams, ProgrammeResponse, UpdateProgrammeRequest,
};

fn not_found() -> ApiError {
    ApiError::NotFound("programme")
}

fn duplicate(e: sea_orm::DbErr) -> ApiError {
    match ApiError::from(e) {
        ApiError::Conflict { .. } => ApiError::conflict(
            "duplicate_name",
            "a programme with this name already exists",
        ),
        other => other,
    }
}

pub async fn list(
    db: &impl ConnectionTrait,
    p: &ProgrammeListParams,
) -> Result<Page<ProgrammeResponse>, ApiError> {
    let mut q = Entity::find();
    if let Some(active) = p.active {
        q = q.filter(Column::Active.eq(active));
    }
    let sort = super::by_creation(false);
    let req = PageRequest::of(&p.cursor, p.limit, p.count);
    let q = super::updated_since(q, Column::UpdatedAt, p.updated_since);
    Ok(
        fetch_page(db, q, Column::Id, sort, req, |m: &Model| (None, m.id))
            .await?
            .map(ProgrammeResponse::from),
    )
}

pub async fn get(db: &impl ConnectionTrait, id: Uuid) -> Result<Model, ApiError> {
    Entity::find_by_id(id).one(db).await?.ok_or_else(not_found)
}

async fn journal_programme(
    db: &impl ConnectionTrait,
    actor: &Actor,
    action: &str,
    m: &Model,
) -> Result<(), ApiError> {
    let state = ProgrammeResponse::from(m.clone());
    journal::record(
        db,
        actor,
        Change {
            action,
            entity_type: "programme",
            entity_id: m.id,
            fabrique_id: None,
            state: &state,
        },
    )
    .await?;
    Ok(())
}

pub async fn create(
    db: &impl ConnectionTrait,
    actor: &Actor,
    r: CreateProgrammeRequest,
) -> Result<Model, ApiError> {
    let now = Utc::now();
    let m = ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(r.name.trim().to_owned()),
        description: Set(r.description.unwrap_or_default()),
        active: Set(r.active.unwrap_or(true)),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
    .map_err(duplicate)?;
    journal_programme(db, actor, "programme.created", &m).await?;
    Ok(m)
}

pub async fn update(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
    r: UpdateProgrammeRequest,
) -> Result<Model, ApiError> {
    let current = get(db, id).await?;
    let version = current.version;
    let mut am: ActiveModel = current.into();
    if let Some(n) = r.name {
        am.name = Set(n.trim().to_owned());
    }
    if let Some(d) = r.description {
        am.description = Set(d);
    }
    if let Some(a) = r.active {
        am.active = Set(a);
    }
    am.version = Set(version + 1);
    am.updated_at = Set(Utc::now());
    let m = am.update(db).await.map_err(duplicate)?;
    journal_programme(db, actor, "programme.updated", &m).await?;
    Ok(m)
}

pub async fn delete(db: &impl ConnectionTrait, actor: &Actor, id: Uuid) -> Result<(), ApiError> {
    let m = get(db, id).await?;
    let fabriques = entity::fabrique::Entity::find()
        .filter(entity::fabrique::Column::ProgrammeId.eq(id))
        .count(db)
        .await?;
    let lessons = entity::lesson::Entity::find()
        .filter(entity::lesson::Column::TargetProgrammeId.eq(id))
        .count(db)
        .await?;
    if fabriques + lessons > 0 {
        return Err(ApiError::conflict(
            "still_referenced",
            format!(
                "{fabriques} Fabrique(s) and {lessons} lesson(s) refer to this programme; deactivate it instead"
            ),
        ));
    }
    Entity::delete_by_id(id).exec(db).await?;
    journal_programme(db, actor, "programme.deleted", &m).await
}
