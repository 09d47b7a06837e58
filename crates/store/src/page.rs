//! Keyset (cursor) pagination shared by every list.
//!
//! Pages are read with `WHERE (key, id) > (last_key, last_id)` on an index, never with
//! OFFSET. The cursor arrives typed ([`domain::query::Cursor`]); the edge encodes and decodes
//! its opaque text.

use domain::query::{Cursor, CursorKey, PageRequest};
use sea_orm::sea_query::{Expr, ExprTrait, IntoCondition};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult, Order, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Select,
};
use uuid::Uuid;

use crate::error::{StoreError, StoreResult};

/// One page of a list, and where the next one starts.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<Cursor>,
    /// Every match, when asked.
    pub total: Option<u64>,
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next: self.next,
            total: self.total,
        }
    }

    pub fn try_map<U>(self, f: impl FnMut(T) -> StoreResult<U>) -> StoreResult<Page<U>> {
        Ok(Page {
            items: self.items.into_iter().map(f).collect::<StoreResult<_>>()?,
            next: self.next,
            total: self.total,
        })
    }
}

/// The column a list's sort key reads.
#[derive(Debug, Clone, Copy)]
pub enum KeyColumn<C> {
    /// Creation order: the id (UUIDv7) alone.
    Created,
    Text(C),
    Time(C),
    Day(C),
}

fn mismatch() -> StoreError {
    StoreError::Other(anyhow::anyhow!(
        "the cursor's key does not match the list's sort (the edge should have refused it)"
    ))
}

/// Orders `q` by the key then the id, and starts after `after`.
pub fn order<E: EntityTrait>(
    mut q: Select<E>,
    id: E::Column,
    key: KeyColumn<E::Column>,
    descending: bool,
    after: Option<&Cursor>,
) -> StoreResult<Select<E>>
where
    E::Column: ColumnTrait,
{
    let past_id = |last: Uuid| if descending { id.lt(last) } else { id.gt(last) };
    if let Some(c) = after {
        match key {
            KeyColumn::Created => q = q.filter(past_id(c.id)),
            KeyColumn::Text(col) | KeyColumn::Time(col) | KeyColumn::Day(col) => {
                let v: sea_orm::Value = match (key, &c.key) {
                    (KeyColumn::Text(_), Some(CursorKey::Text(t))) => t.clone().into(),
                    (KeyColumn::Time(_), Some(CursorKey::Time(t))) => (*t).into(),
                    (KeyColumn::Day(_), Some(CursorKey::Day(d))) => (*d).into(),
                    _ => return Err(mismatch()),
                };
                let past_key = if descending {
                    Expr::col(col).lt(v.clone())
                } else {
                    Expr::col(col).gt(v.clone())
                };
                q = q.filter(
                    Condition::any().add(past_key).add(
                        Condition::all()
                            .add(ExprTrait::eq(Expr::col(col), v))
                            .add(past_id(c.id))
                            .into_condition(),
                    ),
                );
            }
        }
    }
    let direction = if descending { Order::Desc } else { Order::Asc };
    if let KeyColumn::Text(col) | KeyColumn::Time(col) | KeyColumn::Day(col) = key {
        q = q.order_by(col, direction.clone());
    }
    Ok(q.order_by(id, direction))
}

/// Reads one page of `q` (already filtered and joined) into `M`: at most two statements, the
/// page and, when asked, the count.
#[allow(clippy::too_many_arguments)]
pub async fn fetch<E, M, K>(
    db: &impl ConnectionTrait,
    q: Select<E>,
    id: E::Column,
    key: KeyColumn<E::Column>,
    page: &PageRequest<K>,
    key_of: impl Fn(&M) -> Option<CursorKey>,
    id_of: impl Fn(&M) -> Uuid,
) -> StoreResult<Page<M>>
where
    E: EntityTrait,
    E::Model: Sync,
    E::Column: ColumnTrait,
    M: FromQueryResult + Send + Sync,
{
    fetch_shaped(db, q, |q| q, id, key, page, key_of, id_of).await
}

/// [`fetch`], the page's rows read with the columns `shape` adds to `q` (columns the count
/// does not need, such as a correlated subquery per row).
#[allow(clippy::too_many_arguments)]
pub async fn fetch_shaped<E, M, K>(
    db: &impl ConnectionTrait,
    q: Select<E>,
    shape: impl FnOnce(Select<E>) -> Select<E>,
    id: E::Column,
    key: KeyColumn<E::Column>,
    page: &PageRequest<K>,
    key_of: impl Fn(&M) -> Option<CursorKey>,
    id_of: impl Fn(&M) -> Uuid,
) -> StoreResult<Page<M>>
where
    E: EntityTrait,
    E::Model: Sync,
    E::Column: ColumnTrait,
    M: FromQueryResult + Send + Sync,
{
    let total = if page.count {
        Some(q.clone().count(db).await?)
    } else {
        None
    };
    let limit = u64::from(page.limit);
    let q = order(shape(q), id, key, page.sort.descending, page.after.as_ref())?;
    let mut items = q.limit(limit + 1).into_model::<M>().all(db).await?;
    let next = if items.len() as u64 > limit {
        items.truncate(page.limit as usize);
        items.last().map(|m| Cursor {
            key: match key {
                KeyColumn::Created => None,
                _ => key_of(m),
            },
            id: id_of(m),
        })
    } else {
        None
    };
    Ok(Page { items, next, total })
}

/// Keeps what changed at or after `since` (inclusive, so that a sync loop misses nothing).
pub fn updated_since<E: EntityTrait>(
    q: Select<E>,
    column: E::Column,
    since: Option<chrono::DateTime<chrono::Utc>>,
) -> Select<E>
where
    E::Column: ColumnTrait,
{
    match since {
        Some(t) => q.filter(column.gte(t)),
        None => q,
    }
}

/// Case-insensitive substring match of `text` on any of `cols`.
pub fn text_match<C: ColumnTrait>(cols: &[C], text: &str) -> Condition {
    use sea_orm::sea_query::{Func, LikeExpr};
    let pattern = like_pattern(text);
    cols.iter().fold(Condition::any(), |c, col| {
        c.add(
            Expr::expr(Func::lower(Expr::col(*col)))
                .like(LikeExpr::new(pattern.clone()).escape('\\')),
        )
    })
}

/// Rows whose normalized `search` column (see [`domain::text::searchable`]) contains each
/// word of `text`, without case, accents or punctuation; a text without words matches all.
/// (Words hold only ASCII letters and digits: nothing to escape.)
pub fn words_match<C: ColumnTrait>(search: C, text: &str) -> Condition {
    domain::text::search_words(text)
        .into_iter()
        .fold(Condition::all(), |c, w| {
            c.add(search.like(format!("%{w}%")))
        })
}

/// A case-insensitive `LIKE` pattern matching `text` anywhere, with wildcards escaped.
pub fn like_pattern(text: &str) -> String {
    let escaped = text
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}
