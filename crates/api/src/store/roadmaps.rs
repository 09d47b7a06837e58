use chrono::Utc;
use domain::ParticipationStatus;
use domain::roadmap::{
    self as rules, ActionStatus, Adoption, RoadmapAction, RoadmapFacts, RoadmapKind, RoadmapStatus,
};
use entity::roadmap::{ActiveModel, Column, Entity, Model};
use entity::roadmap_action as action;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use uuid::Uuid;

use super::working_groups::participation_for;
use crate::auth::{Caller, Permission};
use crate::error::{ApiError, blockers_to_problems};
use crate::journal::{self, Actor, Change};
use crate::routes::roadmaps::{
    CreateRoadmapActionRequest, PutRoadmapRequest, RoadmapActionResponse, RoadmapResponse,
    RoadmapTransitionRequest, RoadmapTransitionResponse, RoadmapTransitionsResponse,
    UpdateRoadmapActionRequest,
};

fn not_found() -> ApiError {
    ApiError::NotFound("roadmap")
}

fn status_of(m: &Model) -> RoadmapStatus {
    m.status.parse().unwrap_or(RoadmapStatus::Draft)
}

fn action_response(a: action::Model) -> RoadmapActionResponse {
    RoadmapActionResponse {
        id: a.id,
        roadmap_id: a.roadmap_id,
        position: a.position,
        status: a.status.parse().unwrap_or(ActionStatus::Planned),
        title: a.title,
        description: a.description,
        lead: a.lead,
        horizon: a.horizon,
        due_on: a.due_on,
        estimated_cost_cents: a.estimated_cost_cents,
        created_at: a.created_at,
        updated_at: a.updated_at,
    }
}

async fn actions_of(
    db: &impl ConnectionTrait,
    roadmap: Uuid,
) -> Result<Vec<action::Model>, ApiError> {
    Ok(action::Entity::find()
        .filter(action::Column::RoadmapId.eq(roadmap))
        .order_by_asc(action::Column::Position)
        .order_by_asc(action::Column::Id)
        .all(db)
        .await?)
}

async fn full(
    db: &impl ConnectionTrait,
    m: Model,
    fabrique_id: Uuid,
) -> Result<RoadmapResponse, ApiError> {
    let actions: Vec<RoadmapActionResponse> = actions_of(db, m.id)
        .await?
        .into_iter()
        .map(action_response)
        .collect();
    Ok(RoadmapResponse {
        id: m.id,
        participation_id: m.participation_id,
        fabrique_id,
        kind: m.kind.parse().unwrap_or(RoadmapKind::Roadmap),
        status: status_of(&m),
        title: m.title,
        summary: m.summary,
        submitted_at: m.submitted_at,
        adopted_on: m.adopted_on,
        adoption_reference: m.adoption_reference,
        total_estimated_cost_cents: actions.iter().filter_map(|a| a.estimated_cost_cents).sum(),
        actions,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

async fn find(
    db: &impl ConnectionTrait,
    participation_id: Uuid,
) -> Result<Option<Model>, ApiError> {
    Ok(Entity::find()
        .filter(Column::ParticipationId.eq(participation_id))
        .one(db)
        .await?)
}

pub async fn get(
    db: &impl ConnectionTrait,
    caller: &Caller,
    participation_id: Uuid,
) -> Result<RoadmapResponse, ApiError> {
    let p = participation_for(db, caller, participation_id, Permission::ReadParticipations).await?;
    let m = find(db, participation_id).await?.ok_or_else(not_found)?;
    full(db, m, p.fabrique_id).await
}

async fn journal_roadmap(
    db: &impl ConnectionTrait,
    actor: &Actor,
    action: &str,
    r: &RoadmapResponse,
) -> Result<(), ApiError> {
    journal::record(
        db,
        actor,
        Change {
            action,
            entity_type: "roadmap",
            entity_id: r.id,
            fabrique_id: Some(r.fabrique_id),
            state: r,
        },
    )
    .await?;
    Ok(())
}

fn participation_active(p: &entity::participation::Model) -> Result<(), ApiError> {
    if p.status != ParticipationStatus::Active.as_str() {
        return Err(ApiError::TransitionRefused(domain::Blockers(vec![
            domain::Blocker::ParticipationNotActive {
                current: p
                    .status
                    .parse::<ParticipationStatus>()
                    .map(ParticipationStatus::as_str)
                    .unwrap_or("unknown"),
            },
        ])));
    }
    Ok(())
}

fn editable(m: &Model) -> Result<(), ApiError> {
    rules::can_edit(status_of(m)).map_err(ApiError::TransitionRefused)
}

pub async fn put(
    db: &impl ConnectionTrait,
    actor: &Actor,
    participation_id: Uuid,
    r: PutRoadmapRequest,
) -> Result<(RoadmapResponse, bool), ApiError> {
    let p = participation_for(
        db,
        &actor.caller,
        participation_id,
        Permission::WriteRoadmaps,
    )
    .await?;
    participation_active(&p)?;
    let now = Utc::now();
    let (m, created) = match find(db, participation_id).await? {
        Some(m) => {
            editable(&m)?;
            let version = m.version;
            let mut am: ActiveModel = m.into();
            am.kind = Set(r.kind.as_str().into());
            am.title = Set(r.title.trim().to_owned());
            if let Some(s) = r.summary {
                am.summary = Set(s);
            }
            am.version = Set(version + 1);
            am.updated_at = Set(now);
            (am.update(db).await?, false)
        }
        None => {
            let m = ActiveModel {
                id: Set(Uuid::now_v7()),
                participation_id: Set(participation_id),
                kind: Set(r.kind.as_str().into()),
                title: Set(r.title.trim().to_owned()),
                summary: Set(r.summary.unwrap_or_default()),
                status: Set(RoadmapStatus::Draft.as_str().into()),
                submitted_at: Set(None),
                adopted_on: Set(None),
                adoption_reference: Set(None),
                version: Set(1),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(db)
            .await?;
            (m, true)
        }
    };
    let out = full(db, m, p.fabrique_id).await?;
    journal_roadmap(
        db,
        actor,
        if created {
            "roadmap.created"
        } else {
            "roadmap.updated"
        },
        &out,
    )
    .await?;
    Ok((out, created))
}

async fn journal_action(
    db: &impl ConnectionTrait,
    actor: &Actor,
    name: &str,
    fabrique_id: Uuid,
    a: &RoadmapActionResponse,
) -> Result<(), ApiError> {
    journal::record(
        db,
        actor,
        Change {
            action: name,
            entity_type: "roadmap_action",
            entity_id: a.id,
            fabrique_id: Some(fabrique_id),
            state: a,
        },
    )
    .await?;
    Ok(())
}

pub async fn add_action(
    db: &impl ConnectionTrait,
    actor: &Actor,
    participation_id: Uuid,
    r: CreateRoadmapActionRequest,
) -> Result<RoadmapActionResponse, ApiError> {
    let p = participation_for(
        db,
        &actor.caller,
        participation_id,
        Permission::WriteRoadmaps,
    )
    .await?;
    let m = find(db, participation_id).await?.ok_or_else(not_found)?;
    editable(&m)?;
    let position = actions_of(db, m.id)
        .await?
        .iter()
        .map(|a| a.position)
        .max()
        .unwrap_or(0)
        + 1;
    let now = Utc::now();
    let a = action::ActiveModel {
        id: Set(Uuid::now_v7()),
        roadmap_id: Set(m.id),
        position: Set(position),
        title: Set(r.title.trim().to_owned()),
        description: Set(r.description.unwrap_or_default()),
        lead: Set(r.lead),
        horizon: Set(r.horizon),
        due_on: Set(r.due_on),
        estimated_cost_cents: Set(r.estimated_cost_cents),
        status: Set(r.status.unwrap_or(ActionStatus::Planned).as_str().into()),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    let out = action_response(a);
    journal_action(db, actor, "roadmap_action.created", p.fabrique_id, &out).await?;
    Ok(out)
}

async fn action_and_roadmap(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: Uuid,
) -> Result<(action::Model, Model, Uuid), ApiError> {
    let a = action::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(ApiError::NotFound("roadmap action"))?;
    let m = Entity::find_by_id(a.roadmap_id)
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    let p = participation_for(db, caller, m.participation_id, Permission::WriteRoadmaps)
        .await
        .map_err(|e| match e {
            ApiError::NotFound(_) => ApiError::NotFound("roadmap action"),
            other => other,
        })?;
    Ok((a, m, p.fabrique_id))
}

pub async fn get_action(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: Uuid,
) -> Result<RoadmapActionResponse, ApiError> {
    let a = action::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(ApiError::NotFound("roadmap action"))?;
    let m = Entity::find_by_id(a.roadmap_id)
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    participation_for(
        db,
        caller,
        m.participation_id,
        Permission::ReadParticipations,
    )
    .await
    .map_err(|e| match e {
        ApiError::NotFound(_) => ApiError::NotFound("roadmap action"),
        other => other,
    })?;
    Ok(action_response(a))
}

pub async fn update_action(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
    r: UpdateRoadmapActionRequest,
) -> Result<RoadmapActionResponse, ApiError> {
    let (a, m, fabrique_id) = action_and_roadmap(db, &actor.caller, id).await?;
    let content = r.title.is_some()
        || r.description.is_some()
        || r.lead.is_some()
        || r.horizon.is_some()
        || r.due_on.is_some()
        || r.estimated_cost_cents.is_some();
    if content {
        editable(&m)?;
    }
    let version = a.version;
    let mut am: action::ActiveModel = a.into();
    if let Some(v) = r.title {
        am.title = Set(v.trim().to_owned());
    }
    if let Some(v) = r.description {
        am.description = Set(v);
    }
    if let Some(v) = r.lead {
        am.lead = Set(v);
    }
    if let Some(v) = r.horizon {
        am.horizon = Set(v);
    }
    if let Some(v) = r.due_on {
        am.due_on = Set(v);
    }
    if let Some(v) = r.estimated_cost_cents {
        am.estimated_cost_cents = Set(v);
    }
    if let Some(v) = r.status {
        am.status = Set(v.as_str().into());
    }
    am.version = Set(version + 1);
    am.updated_at = Set(Utc::now());
    let out = action_response(am.update(db).await?);
    journal_action(db, actor, "roadmap_action.updated", fabrique_id, &out).await?;
    Ok(out)
}

pub async fn delete_action(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
) -> Result<(), ApiError> {
    let (a, m, fabrique_id) = action_and_roadmap(db, &actor.caller, id).await?;
    editable(&m)?;
    action::Entity::delete_by_id(id).exec(db).await?;
    journal_action(
        db,
        actor,
        "roadmap_action.deleted",
        fabrique_id,
        &action_response(a),
    )
    .await
}

async fn facts(
    db: &impl ConnectionTrait,
    m: &Model,
    p: &entity::participation::Model,
) -> Result<RoadmapFacts, ApiError> {
    Ok(RoadmapFacts {
        status: status_of(m),
        participation_status: p.status.parse().unwrap_or(ParticipationStatus::Applied),
        action_count: u32::try_from(actions_of(db, m.id).await?.len()).unwrap_or(u32::MAX),
    })
}

pub async fn transitions(
    db: &impl ConnectionTrait,
    caller: &Caller,
    participation_id: Uuid,
) -> Result<RoadmapTransitionsResponse, ApiError> {
    let p = participation_for(db, caller, participation_id, Permission::ReadParticipations).await?;
    let m = find(db, participation_id).await?.ok_or_else(not_found)?;
    let facts = facts(db, &m, &p).await?;
    // The adoption's date and reference come with the request: assume them given here.
    let today = Utc::now().date_naive();
    let assumed = Adoption {
        date: Some(today),
        reference: Some("given with the request".into()),
    };
    let transitions = RoadmapAction::ALL
        .iter()
        .map(|&action| {
            let problems = blockers_to_problems(&domain::Blockers(rules::blockers(
                &facts, action, &assumed, today,
            )));
            RoadmapTransitionResponse {
                action,
                to: action.target(),
                allowed: problems.is_empty(),
                blockers: problems,
            }
        })
        .collect();
    Ok(RoadmapTransitionsResponse {
        status: facts.status,
        transitions,
    })
}

pub async fn transition(
    db: &impl ConnectionTrait,
    actor: &Actor,
    participation_id: Uuid,
    r: RoadmapTransitionRequest,
) -> Result<RoadmapResponse, ApiError> {
    let perm = if r.action == RoadmapAction::Adopt {
        Permission::AdoptRoadmaps
    } else {
        Permission::WriteRoadmaps
    };
    let p = participation_for(db, &actor.caller, participation_id, perm).await?;
    super::fabriques::get_for_update(db, p.fabrique_id).await?;
    let m = find(db, participation_id).await?.ok_or_else(not_found)?;
    let facts = facts(db, &m, &p).await?;
    let adoption = Adoption {
        date: r.adoption_date,
        reference: r.adoption_reference.clone(),
    };
    let to = rules::decide(&facts, r.action, &adoption, Utc::now().date_naive())
        .map_err(ApiError::TransitionRefused)?;
    let now = Utc::now();
    let mut upd = Entity::update_many()
        .col_expr(Column::Status, sea_orm::sea_query::Expr::value(to.as_str()))
        .col_expr(Column::UpdatedAt, sea_orm::sea_query::Expr::value(now))
        .col_expr(
            Column::Version,
            sea_orm::sea_query::ExprTrait::add(sea_orm::sea_query::Expr::col(Column::Version), 1),
        );
    match r.action {
        RoadmapAction::Submit => {
            upd = upd.col_expr(Column::SubmittedAt, sea_orm::sea_query::Expr::value(now))
        }
        RoadmapAction::Adopt => {
            upd = upd
                .col_expr(
                    Column::AdoptedOn,
                    sea_orm::sea_query::Expr::value(r.adoption_date),
                )
                .col_expr(
                    Column::AdoptionReference,
                    sea_orm::sea_query::Expr::value(
                        r.adoption_reference.map(|s| s.trim().to_owned()),
                    ),
                );
        }
        RoadmapAction::ReturnToDraft => {}
    }
    let res = upd
        .filter(Column::Id.eq(m.id))
        .filter(Column::Status.eq(facts.status.as_str()))
        .exec(db)
        .await?;
    if res.rows_affected == 0 {
        return Err(ApiError::conflict(
            "concurrent_change",
            "the roadmap changed meanwhile; read it again",
        ));
    }
    if to == RoadmapStatus::Adopted {
        super::participations::complete(db, actor, participation_id).await?;
    }
    let m = Entity::find_by_id(m.id)
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    let out = full(db, m, p.fabrique_id).await?;
    journal_roadmap(db, actor, &format!("roadmap.{}", r.action.as_str()), &out).await?;
    Ok(out)
}
