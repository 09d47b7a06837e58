//! Keyset (cursor) pagination shared by every list.
//!
//! A cursor is opaque to clients: base64url of the last item's sort value and id. Pages are
//! read with `WHERE (key, id) > (last_key, last_id)` on an index, never with OFFSET.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use base64::Engine;
use sea_orm::sea_query::{Expr, ExprTrait, IntoCondition};
use sea_orm::{ColumnTrait, Condition, EntityTrait, Order, QueryFilter, QueryOrder, Select};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{ApiError, FieldProblem};

pub const DEFAULT_LIMIT: u64 = 50;
pub const MAX_LIMIT: u64 = 200;

#[derive(Debug, Serialize, Deserialize)]
struct CursorData {
    /// The sort key of the last item (absent when sorting by creation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    k: Option<String>,
    id: Uuid,
}

/// What a list is sorted by.
#[derive(Debug, Clone, Copy)]
pub enum SortKey<C> {
    /// Creation order (ids are UUIDv7).
    Created,
    Text(C),
    Time(C),
}

#[derive(Debug, Clone, Copy)]
pub struct Sort<C> {
    pub key: SortKey<C>,
    pub desc: bool,
}

/// Parses `sort=field` / `sort=-field` against the list's documented fields.
pub fn parse_sort<C: Copy>(
    raw: Option<&str>,
    fields: &[(&str, SortKey<C>)],
) -> Result<Sort<C>, ApiError> {
    let Some(raw) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(Sort {
            key: SortKey::Created,
            desc: false,
        });
    };
    let (desc, name) = match raw.strip_prefix('-') {
        Some(n) => (true, n),
        None => (false, raw),
    };
    let key = fields
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, k)| *k)
        .ok_or_else(|| {
            let names: Vec<&str> = fields.iter().map(|(n, _)| *n).collect();
            ApiError::BadRequest {
                code: "invalid_query",
                detail: format!(
                    "cannot sort by `{name}`; use one of {} (prefix with - for descending)",
                    names.join(", ")
                ),
                errors: vec![FieldProblem::new(
                    "/sort",
                    "invalid_parameter",
                    "unknown sort field",
                )],
            }
        })?;
    Ok(Sort { key, desc })
}

pub fn parse_limit(limit: Option<u64>) -> Result<u64, ApiError> {
    match limit {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::BadRequest {
            code: "invalid_query",
            detail: format!("limit must be between 1 and {MAX_LIMIT}"),
            errors: vec![FieldProblem::new(
                "/limit",
                "out_of_range",
                format!("between 1 and {MAX_LIMIT}"),
            )],
        }),
    }
}

fn bad_cursor() -> ApiError {
    ApiError::BadRequest {
        code: "invalid_query",
        detail: "the cursor is not one this API issued for this list and sort".into(),
        errors: vec![FieldProblem::new(
            "/cursor",
            "invalid_cursor",
            "unknown cursor",
        )],
    }
}

fn decode(cursor: &str) -> Result<CursorData, ApiError> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| bad_cursor())?;
    serde_json::from_slice(&bytes).map_err(|_| bad_cursor())
}

/// The key and id of a cursor this API issued.
pub fn decode_cursor(cursor: &str) -> Result<(Option<String>, Uuid), ApiError> {
    decode(cursor).map(|c| (c.k, c.id))
}

pub fn encode(k: Option<String>, id: Uuid) -> String {
    let json = serde_json::to_vec(&CursorData { k, id }).unwrap_or_default();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
}

/// Orders `q` by the sort then the id, and starts after `cursor`.
pub fn apply<E: EntityTrait>(
    mut q: Select<E>,
    id: E::Column,
    sort: Sort<E::Column>,
    cursor: Option<&str>,
) -> Result<Select<E>, ApiError>
where
    E::Column: ColumnTrait,
{
    let order = if sort.desc { Order::Desc } else { Order::Asc };
    let after = cursor.map(decode).transpose()?;
    let key_value: Option<sea_orm::Value> = match (&sort.key, &after) {
        (SortKey::Created, _) | (_, None) => None,
        (SortKey::Text(_), Some(c)) => Some(c.k.clone().ok_or_else(bad_cursor)?.into()),
        (SortKey::Time(_), Some(c)) => {
            let t = c.k.as_deref().ok_or_else(bad_cursor)?;
            let t = chrono::DateTime::parse_from_rfc3339(t)
                .map_err(|_| bad_cursor())?
                .with_timezone(&chrono::Utc);
            Some(t.into())
        }
    };
    let past_id = |c: &CursorData| if sort.desc { id.lt(c.id) } else { id.gt(c.id) };
    match (sort.key, &after) {
        (SortKey::Created, Some(c)) => q = q.filter(past_id(c)),
        (SortKey::Text(col) | SortKey::Time(col), Some(c)) => {
            let v = key_value.unwrap_or(sea_orm::Value::String(None));
            let past_key = if sort.desc {
                Expr::col(col).lt(v.clone())
            } else {
                Expr::col(col).gt(v.clone())
            };
            q = q.filter(
                Condition::any().add(past_key).add(
                    Condition::all()
                        .add(ExprTrait::eq(Expr::col(col), v))
                        .add(past_id(c))
                        .into_condition(),
                ),
            );
        }
        (_, None) => {}
    }
    if let SortKey::Text(col) | SortKey::Time(col) = sort.key {
        q = q.order_by(col, order.clone());
    }
    Ok(q.order_by(id, order))
}

/// The cursor to the page after `last`.
pub fn next_cursor<C>(sort: &Sort<C>, key: impl FnOnce() -> Option<String>, id: Uuid) -> String {
    match sort.key {
        SortKey::Created => encode(None, id),
        _ => encode(key(), id),
    }
}

/// `{"items": [...], "next_cursor": ..., "total"?}` with a `Link: <...>; rel="next"` header.
pub fn respond<T: Serialize>(
    req: &HttpRequest,
    items: Vec<T>,
    next: Option<String>,
    total: Option<u64>,
) -> HttpResponse {
    let mut res = HttpResponse::Ok();
    if let Some(cursor) = &next {
        let mut pairs: Vec<(String, String)> =
            url::form_urlencoded::parse(req.query_string().as_bytes())
                .filter(|(k, _)| k != "cursor")
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
        pairs.push(("cursor".into(), cursor.clone()));
        let qs = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&pairs)
            .finish();
        res.insert_header((
            header::LINK,
            format!("<{}?{}>; rel=\"next\"", req.path(), qs),
        ));
    }
    let mut body = serde_json::json!({ "items": items, "next_cursor": next });
    if let Some(t) = total {
        body["total"] = t.into();
    }
    res.json(body)
}

/// Declares the page schema of a list: `{"items": [T], "next_cursor": string|null, "total"?}`.
#[macro_export]
macro_rules! page_schema {
    ($name:ident, $item:ty) => {
        #[derive(serde::Serialize, utoipa::ToSchema)]
        #[allow(dead_code)]
        pub struct $name {
            pub items: Vec<$item>,
            /// Opaque cursor of the next page; null on the last page.
            pub next_cursor: Option<String>,
            /// Number of matching items, only when `count=true` was asked.
            #[serde(skip_serializing_if = "Option::is_none")]
            pub total: Option<u64>,
        }
    };
}
