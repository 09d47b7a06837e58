//! ANCT programmes a Fabrique can be tied to. Public to read; admins manage them.

use chrono::Utc;
use domain::EntityType;
use domain::directory::{NewProgramme, ProgrammeChanges};
use domain::query::{PageRequest, ProgrammeFilter};
use entity::programme::{ActiveModel, Column, Entity, Model};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set,
};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::decode::count;
use crate::error::{StoreError, StoreResult};
use crate::journal::{self, Actor};
use crate::page::{self, KeyColumn, Page};

/// An ANCT programme (programme de l'Agence).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = ProgrammeResponse)]
pub struct Programme {
    pub id: Uuid,
    #[schema(example = "Territoires d'industrie")]
    pub name: String,
    pub description: String,
    /// Whether new Fabriques may still be tied to it.
    pub active: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<Model> for Programme {
    fn from(m: Model) -> Self {
        Programme {
            id: m.id,
            name: m.name,
            description: m.description,
            active: m.active,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

fn not_found() -> StoreError {
    StoreError::NotFound("programme")
}

pub async fn list(
    db: &impl ConnectionTrait,
    f: &ProgrammeFilter,
    p: &PageRequest,
) -> StoreResult<Page<Programme>> {
    let mut q = Entity::find();
    if let Some(active) = f.active {
        q = q.filter(Column::Active.eq(active));
    }
    let q = page::updated_since(q, Column::UpdatedAt, f.updated_since);
    Ok(page::fetch(
        db,
        q,
        Column::Id,
        KeyColumn::Created,
        p,
        |_: &Model| None,
        |m| m.id,
    )
    .await?
    .map(Programme::from))
}

pub async fn get(db: &impl ConnectionTrait, id: Uuid) -> StoreResult<Programme> {
    Ok(find(db, id).await?.into())
}

async fn find(db: &impl ConnectionTrait, id: Uuid) -> StoreResult<Model> {
    Entity::find_by_id(id).one(db).await?.ok_or_else(not_found)
}

/// Whether a programme of this id exists (for the ids Fabriques and lessons name).
pub async fn exists(db: &impl ConnectionTrait, id: Uuid) -> StoreResult<bool> {
    Ok(Entity::find_by_id(id).count(db).await? > 0)
}

async fn journal_programme(
    db: &impl ConnectionTrait,
    actor: &Actor,
    action: &str,
    p: &Programme,
) -> StoreResult<()> {
    journal::record(db, actor, action, p.id, None, p).await
}

pub async fn create(
    db: &impl ConnectionTrait,
    actor: &Actor,
    r: NewProgramme,
) -> StoreResult<Programme> {
    let now = Utc::now();
    let m = ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(r.name),
        description: Set(r.description),
        active: Set(r.active),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    let p = Programme::from(m);
    journal_programme(db, actor, "programme.created", &p).await?;
    Ok(p)
}

pub async fn update(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
    r: ProgrammeChanges,
) -> StoreResult<Programme> {
    let current = find(db, id).await?;
    let version = current.version;
    let mut am: ActiveModel = current.into();
    if let Some(n) = r.name {
        am.name = Set(n);
    }
    if let Some(d) = r.description {
        am.description = Set(d);
    }
    if let Some(a) = r.active {
        am.active = Set(a);
    }
    am.version = Set(version + 1);
    am.updated_at = Set(Utc::now());
    let p = Programme::from(am.update(db).await?);
    journal_programme(db, actor, "programme.updated", &p).await?;
    Ok(p)
}

pub async fn delete(db: &impl ConnectionTrait, actor: &Actor, id: Uuid) -> StoreResult<()> {
    let p = get(db, id).await?;
    let fabriques = entity::fabrique::Entity::find()
        .filter(entity::fabrique::Column::ProgrammeId.eq(id))
        .count(db)
        .await?;
    let lessons = entity::lesson::Entity::find()
        .filter(entity::lesson::Column::TargetProgrammeId.eq(id))
        .count(db)
        .await?;
    domain::directory::can_delete(&[
        (
            count(fabriques as i64),
            "Fabriques (deactivate the programme instead)",
        ),
        (count(lessons as i64), "lessons"),
    ])?;
    Entity::delete_by_id(id).exec(db).await?;
    journal_programme(db, actor, "programme.deleted", &p).await
}

impl crate::journal::Journalled for Programme {
    const ENTITY_TYPE: EntityType = EntityType::Programme;
}
