use chrono::Utc;
use entity::testimony::{ActiveModel, Column, Entity, Model};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, Set,
};
use uuid::Uuid;

use super::access::{allowed, authorize};
use super::fabriques as fabs;
use super::{Page, PageRequest, fetch_page};
use crate::auth::{Caller, Grant, Permission, grant};
use crate::error::ApiError;
use crate::extract::parse_id_list;
use crate::journal::{self, Actor, Change};
use crate::routes::testimonies::{
    CreateTestimonyRequest, TestimonyListParams, TestimonyResponse, UpdateTestimonyRequest,
};

fn not_found() -> ApiError {
    ApiError::NotFound("testimony")
}

fn response(m: Model) -> TestimonyResponse {
    TestimonyResponse {
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

/// Which unpublished testimonies the caller may see: all (ANCT), those of the Fabriques it
/// co-animates or contracts (partners), none (others).
async fn unpublished_scope(
    db: &impl ConnectionTrait,
    caller: Option<&Caller>,
) -> Result<Condition, ApiError> {
    let published = Condition::all().add(Column::Published.eq(true));
    let Some(caller) = caller else {
        return Ok(published);
    };
    Ok(match grant(caller.role, Permission::WriteTestimonies) {
        Grant::Always => Condition::all(),
        Grant::FabriquePartner => {
            let Some(org) = caller.org else {
                return Ok(published);
            };
            let mine: Vec<Uuid> = entity::fabrique_partner::Entity::find()
                .filter(entity::fabrique_partner::Column::OrganizationId.eq(org))
                .filter(entity::fabrique_partner::Column::Role.is_in(["co_animator", "contractor"]))
                .all(db)
                .await?
                .into_iter()
                .map(|p| p.fabrique_id)
                .collect();
            Condition::any()
                .add(Column::Published.eq(true))
                .add(Column::FabriqueId.is_in(mine))
        }
        Grant::OwnTerritory | Grant::Never => published,
    })
}

pub async fn list(
    db: &impl ConnectionTrait,
    caller: Option<&Caller>,
    fabrique: Option<Uuid>,
    p: &TestimonyListParams,
) -> Result<Page<TestimonyResponse>, ApiError> {
    let mut q = Entity::find().filter(unpublished_scope(db, caller).await?);
    if let Some(f) = fabrique {
        fabs::get_visible(db, caller, f).await?;
        q = q.filter(Column::FabriqueId.eq(f));
    }
    let ids = parse_id_list(&p.fabrique, "fabrique")?;
    if !ids.is_empty() {
        q = q.filter(Column::FabriqueId.is_in(ids));
    }
    if let Some(published) = p.published {
        q = q.filter(Column::Published.eq(published));
    }
    if !fabs::may_read_drafts(caller) {
        q = q.filter(Column::FabriqueId.in_subquery(fabs::past_draft_ids()));
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
    caller: Option<&Caller>,
    id: Uuid,
) -> Result<TestimonyResponse, ApiError> {
    let m = Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    fabs::get_visible(db, caller, m.fabrique_id)
        .await
        .map_err(|_| not_found())?;
    if !m.published {
        let may = match caller {
            Some(c) => allowed(db, c, Permission::WriteTestimonies, m.fabrique_id, None).await?,
            None => false,
        };
        if !may {
            return Err(not_found());
        }
    }
    Ok(response(m))
}

async fn check_territory(
    db: &impl ConnectionTrait,
    fabrique_id: Uuid,
    territory: Option<Uuid>,
) -> Result<(), ApiError> {
    if let Some(t) = territory {
        let takes_part = entity::participation::Entity::find()
            .filter(entity::participation::Column::FabriqueId.eq(fabrique_id))
            .filter(entity::participation::Column::TerritoryId.eq(t))
            .one(db)
            .await?
            .is_some();
        if !takes_part {
            return Err(ApiError::invalid(
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
    t: &TestimonyResponse,
) -> Result<(), ApiError> {
    journal::record(
        db,
        actor,
        Change {
            action,
            entity_type: "testimony",
            entity_id: t.id,
            fabrique_id: Some(t.fabrique_id),
            state: t,
        },
    )
    .await?;
    Ok(())
}

pub async fn create(
    db: &impl ConnectionTrait,
    actor: &Actor,
    fabrique_id: Uuid,
    r: CreateTestimonyRequest,
) -> Result<TestimonyResponse, ApiError> {
    fabs::get_visible(db, Some(&actor.caller), fabrique_id).await?;
    authorize(
        db,
        &actor.caller,
        Permission::WriteTestimonies,
        fabrique_id,
        None,
    )
    .await?;
    check_territory(db, fabrique_id, r.territory_id).await?;
    let now = Utc::now();
    let m = ActiveModel {
        id: Set(Uuid::now_v7()),
        fabrique_id: Set(fabrique_id),
        territory_id: Set(r.territory_id),
        speaker: Set(r.speaker.trim().to_owned()),
        role: Set(r.role),
        media_url: Set(r.media_url),
        quote: Set(r.quote),
        given_on: Set(r.given_on),
        published: Set(r.published.unwrap_or(false)),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    let t = response(m);
    journal_testimony(db, actor, "testimony.created", &t).await?;
    Ok(t)
}

async fn writable(db: &impl ConnectionTrait, caller: &Caller, id: Uuid) -> Result<Model, ApiError> {
    let m = Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    fabs::get_visible(db, Some(caller), m.fabrique_id)
        .await
        .map_err(|_| not_found())?;
    authorize(
        db,
        caller,
        Permission::WriteTestimonies,
        m.fabrique_id,
        None,
    )
    .await?;
    Ok(m)
}

pub async fn update(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
    r: UpdateTestimonyRequest,
) -> Result<TestimonyResponse, ApiError> {
    let m = writable(db, &actor.caller, id).await?;
    if let Some(t) = r.territory_id {
        check_territory(db, m.fabrique_id, t).await?;
    }
    let version = m.version;
    let mut am: ActiveModel = m.into();
    if let Some(v) = r.territory_id {
        am.territory_id = Set(v);
    }
    if let Some(v) = r.speaker {
        am.speaker = Set(v.trim().to_owned());
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
    let t = response(am.update(db).await?);
    journal_testimony(db, actor, "testimony.updated", &t).await?;
    Ok(t)
}

pub async fn delete(db: &impl ConnectionTrait, actor: &Actor, id: Uuid) -> Result<(), ApiError> {
    let m = writable(db, &actor.caller, id).await?;
    Entity::delete_by_id(id).exec(db).await?;
    journal_testimony(db, actor, "testimony.deleted", &response(m)).await
}
