//! `GET /fabriques/{id}/progress`: where each territory stands in the year, and what still
//! blocks completion.

use actix_web::{get, web};
use store::progress::Progress;
use uuid::Uuid;

use crate::edge::context::Signed;
use crate::edge::error::ApiResult;
use crate::edge::problems::LookupProblems;

/// Where each territory stands: local seminars held, planned and cancelled out of 4, roadmap
/// status, last activity; intersite seminars out of 4; what still blocks completion. The
/// territories listed are the participations the caller may see.
#[utoipa::path(
    tag = "fabriques", operation_id = "get_fabrique_progress",
    params(("id" = Uuid, Path, description = "Fabrique id")),
    responses((status = 200, body = Progress), LookupProblems),
    security(("bearer" = []))
)]
#[get("/fabriques/{id}/progress")]
pub async fn get_fabrique_progress(
    r: Signed,
    id: web::Path<Uuid>,
) -> ApiResult<web::Json<Progress>> {
    Ok(web::Json(
        store::progress::progress(r.db(), r.access(), *id).await?,
    ))
}
