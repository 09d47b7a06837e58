//! `GET /events`: the journal as an ordered change feed, for partners keeping a copy in sync.

use actix_web::{HttpRequest, HttpResponse, get, web};
use sea_orm::DatabaseConnection;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::{Caller, Permission};
use crate::error::ApiResult;
use crate::extract::Query;
use crate::problems::ListProblems;
use crate::routes::fabriques::EventActor;

/// One change. `deleted` events are tombstones: the entity is gone, `state` is its last state.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedEventResponse {
    /// Resume the feed after this event with `after=<cursor>`.
    pub cursor: String,
    pub id: Uuid,
    pub occurred_at: chrono::DateTime<chrono::Utc>,
    pub actor: EventActor,
    #[schema(example = "seminar.held")]
    pub action: String,
    #[schema(example = "seminar")]
    pub entity_type: String,
    pub entity_id: Uuid,
    pub fabrique_id: Option<Uuid>,
    /// True for a deletion.
    pub deleted: bool,
    pub request_id: Option<String>,
    /// The entity's state after the change (personal data removed unless the caller may see it).
    #[schema(value_type = Object)]
    pub state: serde_json::Value,
}

/// A page of the feed. `next_cursor` is never null: poll again with it to get what comes next.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedPage {
    pub items: Vec<FeedEventResponse>,
    /// Where to resume (the last event of this page, or the `after` given when none came).
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FeedParams {
    /// A cursor from an earlier page (`next_cursor` or an event's `cursor`); from the start when absent.
    pub after: Option<String>,
    /// Entity types, comma-separated or repeated (`fabrique`, `participation`, `seminar`...).
    #[param(example = "fabrique,participation")]
    pub types: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
}

/// The change feed: every change the caller may see, in an order that never skips an event,
/// even while writers commit concurrently. Events of a transaction still running appear once
/// it and every older one have finished.
#[utoipa::path(
    tag = "events", operation_id = "list_events",
    params(FeedParams),
    responses((status = 200, body = FeedPage), ListProblems),
    security(("bearer" = []))
)]
#[get("/events")]
pub async fn list_events(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    params: Query<FeedParams>,
) -> ApiResult<HttpResponse> {
    caller.require(Permission::ReadHistory)?;
    let page = crate::store::events::feed(db.get_ref(), &caller, &params.0).await?;
    Ok(crate::pagination::respond(
        &req,
        page.items,
        page.next_cursor,
        None,
    ))
}
