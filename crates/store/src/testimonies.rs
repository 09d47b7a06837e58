//! Testimonies of elected officials (témoignages d'élus). Published ones are public; the
//! unpublished ones are seen by those who may publish them.

use chrono::Utc;
use domain::query::{PageRequest, TestimonyFilter};
use domain::testimony::{NewTestimony, TestimonyChanges};
use domain::text::searchable;
use domain::{Access, EntityType, Permission, Scope};
use entity::testimony::{ActiveModel, Column, Entity, Model};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set,
};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::{StoreError, StoreResult};
use crate::fabriques as fabs;
use crate::journal::{self, Actor};
use crate::page::{self, KeyColumn, Page};

/// A testimony of an elected official, often a video.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = TestimonyResponse)]
pub struct Testimony {
    pub id: Uuid,
    pub fabrique_id: Uuid,
    pub territory_id: Option<Uuid>,
    #[schema(example = "Guillaume Fauvet")]
    pub speaker: String,
    #[schema(example = "vice-président")]
    pub role: Option<String>,
    pub media_url: Option<String>,
    pub quote: Option<String>,
    pub given_on: Option<chrono::NaiveDate>,
    pub published: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<Model> for Testimony {
    fn from(m: Model) -> Self {
        Testimony {
            id: m.id,
            fabrique_id: m.fabrique_id,
            territory_id: m.territory_id,
            speaker: m.speaker,
            role: m.role,
            media_url: m.media_url,
            quote: m.quote,
            given_on: m.given_on,
            published: m.published,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

fn not_found() -> StoreError {
    StoreError::NotFound("testimony")
}

pub async fn list(
    db: &impl ConnectionTrait,
    access: &Access,
    fabrique: Option<Uuid>,
    f: &TestimonyFilter,
    p: &PageRequest,
) -> StoreResult<Page<Testimony>> {
    let mut q = Entity::find().filter(crate::access::testimonies(access));
    if let Some(id) = fabrique {
        fabs::visible(db, access, id).await?;
        q = q.filter(Column::FabriqueId.eq(id));
    }
    if !f.fabriques.is_empty() {
        q = q.filter(Column::FabriqueId.is_in(f.fabriques.clone()));
    }
    if let Some(published) = f.published {
        q = q.filter(Column::Published.eq(published));
    }
    if let Some(text) = &f.q {
        q = q.filter(page::words_match(Column::Search, text));
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
    .map(Testimony::from))
}

async fn visible(db: &impl ConnectionTrait, access: &Access, id: Uuid) -> StoreResult<Model> {
    let m = Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    fabs::visible(db, access, m.fabrique_id)
        .await
        .map_err(|_| not_found())?;
    if !access.sees_testimony(m.published, m.fabrique_id) {
        return Err(not_found());
    }
    Ok(m)
}

pub async fn get(db: &impl ConnectionTrait, access: &Access, id: Uuid) -> StoreResult<Testimony> {
    Ok(visible(db, access, id).await?.into())
}

async fn check_territory(
    db: &impl ConnectionTrait,
    fabrique_id: Uuid,
    territory: Option<Uuid>,
) -> StoreResult<()> {
    if let Some(t) = territory {
        let takes_part = entity::participation::Entity::find()
            .filter(entity::participation::Column::FabriqueId.eq(fabrique_id))
            .filter(entity::participation::Column::TerritoryId.eq(t))
            .count(db)
            .await?
            > 0;
        if !takes_part {
            return Err(StoreError::invalid(
                "/territory_id",
                "not_a_participant",
                "this territory does not take part in the Fabrique",
            ));
        }
    }
    Ok(())
}

async fn journal_testimony(
    db: &impl ConnectionTrait,
    actor: &Actor,
    action: &str,
    t: &Testimony,
) -> StoreResult<()> {
    journal::record(db, actor, action, t.id, Some(t.fabrique_id), t).await
}

pub async fn create(
    db: &impl ConnectionTrait,
    actor: &Actor,
    fabrique_id: Uuid,
    r: NewTestimony,
) -> StoreResult<Testimony> {
    fabs::visible(db, &actor.access, fabrique_id).await?;
    actor
        .access
        .authorize(Permission::WriteTestimonies, Scope::fabrique(fabrique_id))?;
    check_territory(db, fabrique_id, r.territory_id).await?;
    let now = Utc::now();
    let m = ActiveModel {
        id: Set(Uuid::now_v7()),
        fabrique_id: Set(fabrique_id),
        territory_id: Set(r.territory_id),
        search: Set(searchable([r.quote.as_deref(), r.role.as_deref()])),
        speaker: Set(r.speaker),
        role: Set(r.role),
        media_url: Set(r.media_url),
        quote: Set(r.quote),
        given_on: Set(r.given_on),
        published: Set(r.published),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    let t = Testimony::from(m);
    journal_testimony(db, actor, "testimony.created", &t).await?;
    Ok(t)
}

async fn writable(db: &impl ConnectionTrait, access: &Access, id: Uuid) -> StoreResult<Model> {
    let m = visible(db, access, id).await?;
    access.authorize(Permission::WriteTestimonies, Scope::fabrique(m.fabrique_id))?;
    Ok(m)
}

pub async fn update(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
    r: TestimonyChanges,
) -> StoreResult<Testimony> {
    let m = writable(db, &actor.access, id).await?;
    if let Some(t) = r.territory_id {
        check_territory(db, m.fabrique_id, t).await?;
    }
    let version = m.version;
    let search = searchable([
        r.quote.as_ref().unwrap_or(&m.quote).as_deref(),
        r.role.as_ref().unwrap_or(&m.role).as_deref(),
    ]);
    let mut am: ActiveModel = m.into();
    am.search = Set(search);
    if let Some(v) = r.territory_id {
        am.territory_id = Set(v);
    }
    if let Some(v) = r.speaker {
        am.speaker = Set(v);
    }
    if let Some(v) = r.role {
        am.role = Set(v);
    }
    if let Some(v) = r.media_url {
        am.media_url = Set(v);
    }
    if let Some(v) = r.quote {
        am.quote = Set(v);
    }
    if let Some(v) = r.given_on {
        am.given_on = Set(v);
    }
    if let Some(v) = r.published {
        am.published = Set(v);
    }
    am.version = Set(version + 1);
    am.updated_at = Set(Utc::now());
    let t = Testimony::from(am.update(db).await?);
    journal_testimony(db, actor, "testimony.updated", &t).await?;
    Ok(t)
}

pub async fn delete(db: &impl ConnectionTrait, actor: &Actor, id: Uuid) -> StoreResult<()> {
    let m = writable(db, &actor.access, id).await?;
    Entity::delete_by_id(id).exec(db).await?;
    journal_testimony(db, actor, "testimony.deleted", &m.into()).await
}

impl crate::journal::Journalled for Testimony {
    const ENTITY_TYPE: EntityType = EntityType::Testimony;
}
