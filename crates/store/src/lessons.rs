//! National lessons (enseignements nationaux) drawn from a Fabrique, with their sources.

use domain::text::searchable;
use std::collections::HashMap;

use chrono::Utc;
use domain::lesson::{LessonChanges, NewLesson};
use domain::query::{LessonFilter, PageRequest};
use domain::{Access, EntityType, LessonKind, Permission, Scope};
use entity::lesson::{ActiveModel, Column, Entity, Model};
use entity::lesson_source as source;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set,
};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::decode::decode;
use crate::error::{StoreError, StoreResult};
use crate::fabriques as fabs;
use crate::journal::{self, Actor};
use crate::page::{self, KeyColumn, Page};

/// A national lesson drawn from a Fabrique.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = LessonResponse)]
pub struct Lesson {
    pub id: Uuid,
    pub fabrique_id: Uuid,
    #[schema(example = "Associer les habitants dès le diagnostic")]
    pub title: String,
    pub body: String,
    pub kind: LessonKind,
    /// The ANCT programme a proposal is for.
    pub target_programme_id: Option<Uuid>,
    /// Another public body a proposal is for.
    pub target_body: Option<String>,
    /// Seminars it came from.
    pub seminar_ids: Vec<Uuid>,
    /// Participations it came from.
    pub participation_ids: Vec<Uuid>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

fn not_found() -> StoreError {
    StoreError::NotFound("lesson")
}

type Sources = (Vec<Uuid>, Vec<Uuid>);

async fn sources(db: &impl ConnectionTrait, ids: &[Uuid]) -> StoreResult<HashMap<Uuid, Sources>> {
    let mut out: HashMap<Uuid, Sources> = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    for row in source::Entity::find()
        .filter(source::Column::LessonId.is_in(ids.to_vec()))
        .all(db)
        .await?
    {
        let e = out.entry(row.lesson_id).or_default();
        if let Some(s) = row.seminar_id {
            e.0.push(s);
        }
        if let Some(p) = row.participation_id {
            e.1.push(p);
        }
    }
    Ok(out)
}

fn view(m: Model, (seminar_ids, participation_ids): Sources) -> StoreResult<Lesson> {
    Ok(Lesson {
        kind: decode("lessons", "kind", &m.kind)?,
        id: m.id,
        fabrique_id: m.fabrique_id,
        title: m.title,
        body: m.body,
        target_programme_id: m.target_programme_id,
        target_body: m.target_body,
        seminar_ids,
        participation_ids,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

async fn whole(db: &impl ConnectionTrait, m: Model) -> StoreResult<Lesson> {
    let s = sources(db, &[m.id])
        .await?
        .remove(&m.id)
        .unwrap_or_default();
    view(m, s)
}

pub async fn count(db: &impl ConnectionTrait, fabrique_id: Uuid) -> StoreResult<u32> {
    let n = Entity::find()
        .filter(Column::FabriqueId.eq(fabrique_id))
        .count(db)
        .await?;
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}

/// Lessons of one Fabrique, or (`fabrique` absent) of every Fabrique the caller may see.
pub async fn list(
    db: &impl ConnectionTrait,
    access: &Access,
    fabrique: Option<Uuid>,
    f: &LessonFilter,
    p: &PageRequest,
) -> StoreResult<Page<Lesson>> {
    let mut q = Entity::find();
    match fabrique {
        Some(id) => {
            fabs::visible(db, access, id).await?;
            q = q.filter(Column::FabriqueId.eq(id));
        }
        None => {
            q = q.filter(crate::access::in_visible_fabriques(
                access,
                Column::FabriqueId,
            ))
        }
    }
    if !f.kinds.is_empty() {
        q = q.filter(Column::Kind.is_in(f.kinds.iter().map(|k| k.as_str())));
    }
    if !f.fabriques.is_empty() {
        q = q.filter(Column::FabriqueId.is_in(f.fabriques.clone()));
    }
    if !f.programmes.is_empty() {
        use entity::fabrique as fab;
        q = q.filter(
            Column::FabriqueId.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(fab::Column::Id)
                    .from(fab::Entity)
                    .and_where(fab::Column::ProgrammeId.is_in(f.programmes.clone()))
                    .to_owned(),
            ),
        );
    }
    if !f.target_programmes.is_empty() {
        q = q.filter(Column::TargetProgrammeId.is_in(f.target_programmes.clone()));
    }
    if let Some(text) = &f.q {
        q = q.filter(page::words_match(Column::Search, text));
    }
    let q = page::updated_since(q, Column::UpdatedAt, f.updated_since);
    let page = page::fetch(
        db,
        q,
        Column::Id,
        KeyColumn::Created,
        p,
        |_: &Model| None,
        |m| m.id,
    )
    .await?;
    let ids: Vec<Uuid> = page.items.iter().map(|m| m.id).collect();
    let mut s = sources(db, &ids).await?;
    page.try_map(|m| {
        let src = s.remove(&m.id).unwrap_or_default();
        view(m, src)
    })
}

#[derive(Debug, sea_orm::FromQueryResult)]
struct Row {
    #[sea_orm(nested)]
    l: Model,
    fabrique_status: String,
}

/// A lesson the caller may see: one statement (its Fabrique's status comes along).
async fn visible(db: &impl ConnectionTrait, access: &Access, id: Uuid) -> StoreResult<Model> {
    let row = fabs::with_fabrique_status(Entity::find_by_id(id), Column::FabriqueId)
        .into_model::<Row>()
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    fabs::check_visible(access, &row.fabrique_status, not_found())?;
    Ok(row.l)
}

pub async fn get(db: &impl ConnectionTrait, access: &Access, id: Uuid) -> StoreResult<Lesson> {
    whole(db, visible(db, access, id).await?).await
}

async fn check_target(db: &impl ConnectionTrait, programme: Option<Uuid>) -> StoreResult<()> {
    if let Some(id) = programme
        && !crate::programmes::exists(db, id).await?
    {
        return Err(StoreError::invalid(
            "/target_programme_id",
            "unknown_programme",
            "no programme has this id",
        ));
    }
    Ok(())
}

async fn set_sources(
    db: &impl ConnectionTrait,
    lesson: Uuid,
    fabrique: Uuid,
    seminars: Option<Vec<Uuid>>,
    participations: Option<Vec<Uuid>>,
) -> StoreResult<()> {
    if let Some(mut ids) = seminars {
        ids.sort();
        ids.dedup();
        let found = entity::seminar::Entity::find()
            .filter(entity::seminar::Column::Id.is_in(ids.clone()))
            .filter(entity::seminar::Column::FabriqueId.eq(fabrique))
            .count(db)
            .await?;
        if found as usize != ids.len() {
            return Err(StoreError::invalid(
                "/seminar_ids",
                "unknown_seminar",
                "some ids are not seminars of this Fabrique",
            ));
        }
        source::Entity::delete_many()
            .filter(source::Column::LessonId.eq(lesson))
            .filter(source::Column::SeminarId.is_not_null())
            .exec(db)
            .await?;
        for s in ids {
            source::ActiveModel {
                id: Set(Uuid::now_v7()),
                lesson_id: Set(lesson),
                seminar_id: Set(Some(s)),
                participation_id: Set(None),
            }
            .insert(db)
            .await?;
        }
    }
    if let Some(mut ids) = participations {
        ids.sort();
        ids.dedup();
        let found = entity::participation::Entity::find()
            .filter(entity::participation::Column::Id.is_in(ids.clone()))
            .filter(entity::participation::Column::FabriqueId.eq(fabrique))
            .count(db)
            .await?;
        if found as usize != ids.len() {
            return Err(StoreError::invalid(
                "/participation_ids",
                "unknown_participation",
                "some ids are not participations of this Fabrique",
            ));
        }
        source::Entity::delete_many()
            .filter(source::Column::LessonId.eq(lesson))
            .filter(source::Column::ParticipationId.is_not_null())
            .exec(db)
            .await?;
        for p in ids {
            source::ActiveModel {
                id: Set(Uuid::now_v7()),
                lesson_id: Set(lesson),
                seminar_id: Set(None),
                participation_id: Set(Some(p)),
            }
            .insert(db)
            .await?;
        }
    }
    Ok(())
}

async fn journal_lesson(
    db: &impl ConnectionTrait,
    actor: &Actor,
    action: &str,
    l: &Lesson,
) -> StoreResult<()> {
    journal::record(db, actor, action, l.id, Some(l.fabrique_id), l).await
}

/// The Fabrique, locked, with lessons open and `WriteLessons` reaching it.
async fn open(db: &impl ConnectionTrait, access: &Access, fabrique_id: Uuid) -> StoreResult<()> {
    // One statement: the row locked is the one whose visibility is checked.
    let f = fabs::visible_for_update(db, access, fabrique_id).await?;
    access.authorize(Permission::WriteLessons, Scope::fabrique(fabrique_id))?;
    domain::lesson::can_record(fabs::status_of(&f)?, f.end_date, Utc::now().date_naive())?;
    Ok(())
}

pub async fn create(
    db: &impl ConnectionTrait,
    actor: &Actor,
    fabrique_id: Uuid,
    r: NewLesson,
) -> StoreResult<Lesson> {
    open(db, &actor.access, fabrique_id).await?;
    check_target(db, r.target_programme_id).await?;
    let now = Utc::now();
    let m = ActiveModel {
        id: Set(Uuid::now_v7()),
        fabrique_id: Set(fabrique_id),
        search: Set(searchable([Some(r.title.as_str()), Some(r.body.as_str())])),
        title: Set(r.title),
        body: Set(r.body),
        kind: Set(r.kind.as_str().into()),
        target_programme_id: Set(r.target_programme_id),
        target_body: Set(r.target_body),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    set_sources(db, m.id, fabrique_id, r.seminar_ids, r.participation_ids).await?;
    let l = whole(db, m).await?;
    journal_lesson(db, actor, "lesson.created", &l).await?;
    Ok(l)
}

pub async fn update(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
    r: LessonChanges,
) -> StoreResult<Lesson> {
    let m = visible(db, &actor.access, id).await?;
    open(db, &actor.access, m.fabrique_id).await?;
    if let Some(t) = r.target_programme_id {
        check_target(db, t).await?;
    }
    let version = m.version;
    let search = searchable([
        Some(r.title.as_deref().unwrap_or(&m.title)),
        Some(r.body.as_deref().unwrap_or(&m.body)),
    ]);
    let mut am: ActiveModel = m.into();
    am.search = Set(search);
    if let Some(t) = r.title {
        am.title = Set(t);
    }
    if let Some(b) = r.body {
        am.body = Set(b);
    }
    if let Some(k) = r.kind {
        am.kind = Set(k.as_str().into());
    }
    if let Some(t) = r.target_programme_id {
        am.target_programme_id = Set(t);
    }
    if let Some(t) = r.target_body {
        am.target_body = Set(t);
    }
    am.version = Set(version + 1);
    am.updated_at = Set(Utc::now());
    let m = am.update(db).await?;
    set_sources(db, m.id, m.fabrique_id, r.seminar_ids, r.participation_ids).await?;
    let l = whole(db, m).await?;
    journal_lesson(db, actor, "lesson.updated", &l).await?;
    Ok(l)
}

pub async fn delete(db: &impl ConnectionTrait, actor: &Actor, id: Uuid) -> StoreResult<()> {
    let m = visible(db, &actor.access, id).await?;
    open(db, &actor.access, m.fabrique_id).await?;
    let l = whole(db, m).await?;
    source::Entity::delete_many()
        .filter(source::Column::LessonId.eq(id))
        .exec(db)
        .await?;
    Entity::delete_by_id(id).exec(db).await?;
    journal_lesson(db, actor, "lesson.deleted", &l).await
}

impl crate::journal::Journalled for Lesson {
    const ENTITY_TYPE: EntityType = EntityType::Lesson;
}
