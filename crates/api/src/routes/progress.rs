//! `GET /fabriques/{id}/progress`: where each territory stands in the year, and what still
//! blocks completion.

use actix_web::{get, web};
use domain::roadmap::RoadmapStatus;
use domain::{FabriqueStatus, ParticipationStatus};
use sea_orm::DatabaseConnection;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::{ApiResult, FieldProblem};
use crate::problems::LookupProblems;

/// Seminars of one owner by status, out of the 4 expected.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct SeminarTally {
    pub planned: u32,
    pub held: u32,
    pub cancelled: u32,
    /// Always 4: the seminars expected of this owner.
    #[schema(example = 4)]
    pub expected: u32,
}

/// One territory's year.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TerritoryProgress {
    pub participation_id: Uuid,
    pub territory_id: Uuid,
    pub territory_name: String,
    pub status: ParticipationStatus,
    pub local_seminars: SeminarTally,
    /// Null until a roadmap is started.
    pub roadmap_status: Option<RoadmapStatus>,
    pub roadmap_actions: u32,
    pub working_group_size: u32,
    /// Latest change to the participation, its seminars, roadmap or working group.
    pub last_activity: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProgressResponse {
    pub fabrique_id: Uuid,
    pub status: FabriqueStatus,
    pub intersite_seminars: SeminarTally,
    pub lessons: u32,
    pub territories: Vec<TerritoryProgress>,
    /// What still blocks completion (empty when it could complete now).
    pub completion_blockers: Vec<FieldProblem>,
}

/// Where each territory stands: local seminars held, planned and cancelled out of 4, roadmap
/// status, last activity; intersite seminars out of 4; what still blocks completion.
#[utoipa::path(
    tag = "fabriques", operation_id = "get_fabrique_progress",
    params(("id" = Uuid, Path, description = "Fabrique id")),
    responses((status = 200, body = ProgressResponse), LookupProblems),
    security(("bearer" = []))
)]
#[get("/fabriques/{id}/progress")]
pub async fn get_fabrique_progress(
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<web::Json<ProgressResponse>> {
    Ok(web::Json(
        crate::store::progress::progress(db.get_ref(), &caller, *id).await?,
    ))
}
