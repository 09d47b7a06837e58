//! Liveness and readiness probes.

use actix_web::{HttpResponse, get, web};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde::Serialize;
use utoipa::ToSchema;

use crate::edge::error::Problem;

#[derive(Serialize, ToSchema)]
pub struct HealthResponse {
    #[schema(example = "ok")]
    pub status: String,
}

/// The process is up.
#[utoipa::path(tag = "health", operation_id = "get_liveness", responses((status = 200, body = HealthResponse)), security(()))]
#[get("/health/live")]
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(HealthResponse {
        status: "ok".into(),
    })
}

/// The process can serve: the database answers.
#[utoipa::path(
    tag = "health", operation_id = "get_readiness",
    responses(
        (status = 200, body = HealthResponse),
        (status = 503, description = "The database does not answer", body = Problem, content_type = "application/problem+json"),
    ),
    security(())
)]
#[get("/health/ready")]
pub async fn ready(db: web::Data<DatabaseConnection>) -> HttpResponse {
    match db.execute_unprepared("SELECT 1").await {
        Ok(_) => HttpResponse::Ok().json(HealthResponse {
            status: "ok".into(),
        }),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            HttpResponse::ServiceUnavailable()
                .content_type(crate::edge::error::PROBLEM_JSON)
                .json(serde_json::json!({
                    "type": "urn:fabriques:problem:database_unavailable",
                    "title": "Service unavailable",
                    "status": 503,
                    "detail": "the database does not answer",
                    "code": "database_unavailable",
                }))
        }
    }
}
