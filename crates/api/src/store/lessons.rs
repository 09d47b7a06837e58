use std::collections::HashMap;

use chrono::Utc;
use domain::FabriqueStatus;
use entity::lesson::{ActiveModel, Column, Entity, Model};
use entity::lesson_source as source;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set,
};
use uuid::Uuid;

use super::access::authorize;
use super::fabriques as fabs;
use super::{Page, PageRequest, fetch_page};
use crate::auth::{Caller, Permission};
use crate::error::ApiError;
use crate::extract::parse_enum_list;
use crate::journal::{self, Actor, Change};
use crate::routes::lessons::{
    CreateLessonRequest, LessonKind, LessonListParams, LessonResponse, UpdateLessonRequest,
};

impl std::str::FromStr for LessonKind {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        [LessonKind::Lesson, LessonKind::ProgrammeProposal]
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or(())
    }
}

fn not_found() -> ApiError {
    ApiError::NotFound("lesson")
}

async fn sources(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, (Vec<Uuid>, Vec<Uuid>)>, ApiError> {
    let mut out: HashMap<Uuid, (Vec<Uuid>, Vec<Uuid>)> = HashMap::new();
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

fn response(m: Model, (seminar_ids, participation_ids): (Vec<Uuid>, Vec<Uuid>)) -> LessonResponse {
    LessonResponse {
        id: m.id,
        fabrique_id: m.fabrique_id,
        kind: m.kind.parse().unwrap_or(LessonKind::Lesson),
        title: m.title,
        body: m.body,
        target_programme_id: m.target_programme_id,
        target_body: m.target_body,
        seminar_ids,
        participation_ids,
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

async fn full(db: &impl ConnectionTrait, m: Model) -> Result<LessonResponse, ApiError> {
    let s = sources(db, &[m.id])
        .await?
        .remove(&m.id)
        .unwrap_or_default();
    Ok(response(m, s))
}

pub async fn count(db: &impl ConnectionTrait, fabrique_id: Uuid) -> Result<u32, ApiError> {
    let n = Entity::find()
        .filter(Column::FabriqueId.eq(fabrique_id))
        .count(db)
        .await?;
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}

pub async fn list(
    db: &impl ConnectionTrait,
    caller: &Caller,
    fabrique_id: Uuid,
    p: &LessonListParams,
) -> Result<Page<LessonResponse>, ApiError> {
    fabs::get_visible(db, Some(caller), fabrique_id).await?;
    let mut q = Entity::find().filter(Column::FabriqueId.eq(fabrique_id));
    let kinds = parse_enum_list::<LessonKind>(&p.kind, "kind")?;
    if !kinds.is_empty() {
        q = q.filter(Column::Kind.is_in(kinds));
    }
    let sort = super::by_creation(false);
    let req = PageRequest::of(&p.cursor, p.limit, p.count);
    let q = super::updated_since(q, Column::UpdatedAt, p.updated_since);
    let page = fetch_page(db, q, Column::Id, sort, req, |m: &Model| (None, m.id)).await?;
    let ids: Vec<Uuid> = page.items.iter().map(|m| m.id).collect();
    let mut s = sources(db, &ids).await?;
    Ok(page.map(|m| {
        let src = s.remove(&m.id).unwrap_or_default();
        response(m, src)
    }))
}

pub async fn get(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: Uuid,
) -> Result<LessonResponse, ApiError> {
    let m = Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    fabs::get_visible(db, Some(caller), m.fabrique_id)
        .await
        .map_err(|_| not_found())?;
    full(db, m).await
}

/// Lessons are written while the Fabrique recruits or runs.
fn open_for_lessons(f: &entity::fabrique::Model) -> Result<(), ApiError> {
    match f.status.parse() {
        Ok(FabriqueStatus::Recruiting | FabriqueStatus::Running) => Ok(()),
        _ => Err(ApiError::conflict(
            "fabrique_not_open",
            format!(
                "the Fabrique is {}; lessons are recorded while it recruits or runs",
                f.status
            ),
        )),
    }
}

async fn check_target(db: &impl ConnectionTrait, programme: Option<Uuid>) -> Result<(), ApiError> {
    if let Some(id) = programme
        && entity::programme::Entity::find_by_id(id)
            .one(db)
            .await?
            .is_none()
    {
        return Err(ApiError::invalid(
            "/target_programme_id",
            "unknown_programme",
            "no programme has this id",
        ));
    }
    Ok(())
}

/// Replaces a lesson's sources, checking they belong to its Fabrique.
async fn set_sources(
    db: &impl ConnectionTrait,
    lesson: Uuid,
    fabrique: Uuid,
    seminars: Option<Vec<Uuid>>,
    participations: Option<Vec<Uuid>>,
) -> Result<(), ApiError> {
    if let Some(mut ids) = seminars {
        ids.sort();
        ids.dedup();
        let found = entity::seminar::Entity::find()
            .filter(entity::seminar::Column::Id.is_in(ids.clone()))
            .filter(entity::seminar::Column::FabriqueId.eq(fabrique))
            .count(db)
            .await?;
        if found as usize != ids.len() {
            return Err(ApiError::invalid(
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
            return Err(ApiError::invalid(
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
    l: &LessonResponse,
) -> Result<(), ApiError> {
    journal::record(
        db,
        actor,
        Change {
            action,
            entity_type: "lesson",
            entity_id: l.id,
            fabrique_id: Some(l.fabrique_id),
            state: l,
        },
    )
    .await?;
    Ok(())
}

pub async fn create(
    db: &impl ConnectionTrait,
    actor: &Actor,
    fabrique_id: Uuid,
    r: CreateLessonRequest,
) -> Result<LessonResponse, ApiError> {
    fabs::get_visible(db, Some(&actor.caller), fabrique_id).await?;
    authorize(
        db,
        &actor.caller,
        Permission::WriteLessons,
        fabrique_id,
        None,
    )
    .await?;
    let f = fabs::get_for_update(db, fabrique_id).await?;
    open_for_lessons(&f)?;
    check_target(db, r.target_programme_id).await?;
    let now = Utc::now();
    let m = ActiveModel {
        id: Set(Uuid::now_v7()),
        fabrique_id: Set(fabrique_id),
        title: Set(r.title.trim().to_owned()),
        body: Set(r.body.unwrap_or_default()),
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
    let l = full(db, m).await?;
    journal_lesson(db, actor, "lesson.created", &l).await?;
    Ok(l)
}

pub async fn update(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
    r: UpdateLessonRequest,
) -> Result<LessonResponse, ApiError> {
    let m = Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    authorize(
        db,
        &actor.caller,
        Permission::WriteLessons,
        m.fabrique_id,
        None,
    )
    .await?;
    let f = fabs::get_for_update(db, m.fabrique_id).await?;
    open_for_lessons(&f)?;
    if let Some(t) = r.target_programme_id {
        check_target(db, t).await?;
    }
    let version = m.version;
    let mut am: ActiveModel = m.into();
    if let Some(t) = r.title {
        am.title = Set(t.trim().to_owned());
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
    let l = full(db, m).await?;
    journal_lesson(db, actor, "lesson.updated", &l).await?;
    Ok(l)
}

pub async fn delete(db: &impl ConnectionTrait, actor: &Actor, id: Uuid) -> Result<(), ApiError> {
    let m = Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    authorize(
        db,
        &actor.caller,
        Permission::WriteLessons,
        m.fabrique_id,
        None,
    )
    .await?;
    let f = fabs::get_for_update(db, m.fabrique_id).await?;
    open_for_lessons(&f)?;
    let l = full(db, m).await?;
    Entity::delete_by_id(id).exec(db).await?;
    journal_lesson(db, actor, "lesson.deleted", &l).await
}
