//! `GET /events`: the journal as an ordered change feed, for partners keeping a copy in sync.

use actix_web::{HttpResponse, get};
use domain::query::{DEFAULT_LIMIT, FeedRequest, MAX_LIMIT};
use domain::{EntityType, Permission};
use serde::{Deserialize, Serialize};
use store::cursor::KeyKind;
use store::events::FeedEvent;
use utoipa::{IntoParams, ToSchema};

use crate::edge::context::Signed;
use crate::edge::error::{ApiError, ApiResult, FieldProblem};
use crate::edge::extract::Query;
use crate::edge::problems::ListProblems;

/// A page of the feed. `next_cursor` is never null once the feed has events: poll again with
/// it to get what comes next.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedPage {
    pub items: Vec<FeedEvent>,
    /// Where to resume (the last event of this page, or the `after` given when none came).
    pub next_cursor: Option<String>,
}

/// Where a feed without a cursor starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FeedStart {
    /// The first event ever journalled (the default).
    Start,
    /// The latest event: the page is empty and its `next_cursor` is where to poll from.
    Now,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FeedParams {
    /// A cursor from an earlier page (`next_cursor` or an event's `cursor`); from the start when absent.
    #[param(min_length = 1, max_length = 2000, pattern = "^[A-Za-z0-9_-]+$")]
    pub after: Option<String>,
    /// Without `after`: `now` to start a sync from the present (an empty page whose
    /// `next_cursor` is the latest event's) instead of reading the whole past.
    pub from: Option<FeedStart>,
    /// Entity types, comma-separated or repeated.
    #[serde(default, deserialize_with = "crate::edge::params::list")]
    #[param(style = Form, explode, example = json!(["fabrique", "participation"]))]
    pub types: Option<Vec<EntityType>>,
    #[param(minimum = 1, maximum = 200, example = 50)]
    pub limit: Option<u32>,
}

impl FeedParams {
    /// The typed request of the feed.
    pub fn request(&self) -> ApiResult<FeedRequest> {
        let limit = match self.limit {
            None => DEFAULT_LIMIT,
            Some(n) if (1..=MAX_LIMIT).contains(&n) => n,
            Some(_) => {
                return Err(ApiError::BadRequest {
                    code: "invalid_query",
                    detail: format!("limit must be between 1 and {MAX_LIMIT}"),
                    errors: vec![FieldProblem::new("/limit", "out_of_range", "out of range")],
                });
            }
        };
        let after = match self.after.as_deref() {
            None => None,
            Some(c) => {
                let c = store::cursor::decode(c, KeyKind::Number).ok_or_else(|| {
                    ApiError::BadRequest {
                        code: "invalid_query",
                        detail: "the cursor is not one of the feed's".into(),
                        errors: vec![FieldProblem::new(
                            "/after",
                            "invalid_cursor",
                            "unknown cursor",
                        )],
                    }
                })?;
                match c.key {
                    Some(domain::query::CursorKey::Number(txid)) => Some((txid, c.id)),
                    _ => None,
                }
            }
        };
        if self.after.is_some() && self.from.is_some() {
            return Err(ApiError::BadRequest {
                code: "invalid_query",
                detail: "give after or from, not both".into(),
                errors: vec![FieldProblem::new(
                    "/from",
                    "conflicting_parameters",
                    "from is for a feed without a cursor",
                )],
            });
        }
        Ok(FeedRequest {
            after,
            now: self.from == Some(FeedStart::Now),
            types: self.types.clone().unwrap_or_default(),
            limit,
        })
    }
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
pub async fn list_events(r: Signed, Query(p): Query<FeedParams>) -> ApiResult<HttpResponse> {
    r.access().require(Permission::ReadHistory)?;
    let page = store::events::feed(r.db(), r.access(), &p.request()?).await?;
    let next = page.next.as_ref().map(store::cursor::encode);
    Ok(crate::edge::pagination::body(
        &r.req, page.items, next, None,
    ))
}
