//! Liveness and readiness probes.

use actix_web::ResponseError;
use actix_web::{HttpResponse, get, web};
use sea_orm::DatabaseConnection;
use serde::Serialize;
use utoipa::ToSchema;

use crate::edge::error::{ApiError, Problem};

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

/// The process can serve: the database answers and takes writes (a write that changes
/// nothing, rolled back; on SQLite, also room for the file to grow). A database that cannot be
/// reached, is read-only or full answers 503 `database_unavailable`, its `detail` saying which.
#[utoipa::path(
    tag = "health", operation_id = "get_readiness",
    responses(
        (status = 200, body = HealthResponse),
        (status = 503, description = "The database cannot be reached, is read-only or full (see `detail`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(())
)]
#[get("/health/ready")]
pub async fn ready(db: web::Data<DatabaseConnection>) -> HttpResponse {
    match store::fault::probe(db.get_ref()).await {
        Ok(()) => HttpResponse::Ok().json(HealthResponse {
            status: "ok".into(),
        }),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            let e = match e {
                store::StoreError::Unavailable { fault, source } => ApiError::Unavailable {
                    fault,
                    cause: source.to_string(),
                },
                other => ApiError::Unavailable {
                    fault: store::DbFault::Unreachable,
                    cause: other.to_string(),
                },
            };
            e.error_response()
        }
    }
}
