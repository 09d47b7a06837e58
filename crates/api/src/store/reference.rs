//! Look-ups in the official geography, for autocompletion: accent- and case-insensitive name
//! search (every word of `q` in the name) or a code prefix, paged by code.

use sea_orm::sea_query::{Expr, ExprTrait, IntoColumnRef};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use crate::error::ApiError;
use crate::pagination::{decode_cursor, encode, parse_limit};

pub struct RefPage<M> {
    pub items: Vec<M>,
    pub next: Option<String>,
}

/// `q` as a condition: each word in `search`, or (when `q` looks like one) a code prefix.
pub fn matches<C: ColumnTrait + IntoColumnRef + Copy>(q: &str, search: C, code: C) -> Condition {
    let words = crate::reference::normalize(q);
    let mut all = Condition::all();
    for w in words.split(' ').filter(|w| !w.is_empty()) {
        all = all.add(Expr::col(search).like(format!("%{w}%")));
    }
    let mut any = Condition::any().add(all);
    let raw = q.trim().to_ascii_uppercase();
    if !raw.is_empty()
        && raw
            .chars()
            .all(|c| c.is_ascii_digit() || c == 'A' || c == 'B')
    {
        any = any.add(code.starts_with(&raw));
    }
    any
}

/// One page of `q`, ordered by `code`, after the cursor.
pub async fn page<E>(
    db: &impl ConnectionTrait,
    mut q: sea_orm::Select<E>,
    code: E::Column,
    key: impl Fn(&E::Model) -> String,
    cursor: &Option<String>,
    limit: Option<u64>,
) -> Result<RefPage<E::Model>, ApiError>
where
    E: EntityTrait,
    E::Column: ColumnTrait,
{
    let limit = parse_limit(limit)?;
    if let Some(c) = cursor {
        let (k, _) = decode_cursor(c)?;
        let k = k.ok_or_else(|| ApiError::bad_request("invalid_query", "unknown cursor"))?;
        q = q.filter(code.gt(k));
    }
    let mut items = q.order_by_asc(code).limit(limit + 1).all(db).await?;
    let next = if items.len() as u64 > limit {
        items.truncate(limit as usize);
        items
            .last()
            .map(|m| encode(Some(key(m)), uuid::Uuid::nil()))
    } else {
        None
    };
    Ok(RefPage { items, next })
}
