//! Database access. Every function takes `&impl ConnectionTrait` and is handed the
//! transaction by its handler, never the pool (SQLite has one connection: mixing them hangs).

pub mod access;
pub mod clients;
pub mod events;
pub mod exports;
pub mod external_ids;
pub mod fabriques;
pub mod funding;
pub mod lessons;
pub mod map;
pub mod organizations;
pub mod participations;
pub mod programmes;
pub mod progress;
pub mod reference;
pub mod roadmaps;
pub mod seminars;
pub mod stats;
pub mod territories;
pub mod testimonies;
pub mod webhooks;
pub mod working_groups;

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, PaginatorTrait, QuerySelect, Select,
};
use uuid::Uuid;

use crate::error::ApiError;
use crate::pagination::{self, Sort};

pub struct Page<M> {
    pub items: Vec<M>,
    pub next: Option<String>,
    pub total: Option<u64>,
}

impl<M> Page<M> {
    pub fn map<N>(self, f: impl FnMut(M) -> N) -> Page<N> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next: self.next,
            total: self.total,
        }
    }
}

/// Where a page starts, how long it is, and whether to count all matches.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest<'a> {
    pub cursor: Option<&'a str>,
    pub limit: Option<u64>,
    pub count: bool,
}

impl<'a> PageRequest<'a> {
    /// From a list's `cursor`, `limit` and `count` parameters.
    pub fn of(cursor: &'a Option<String>, limit: Option<u64>, count: Option<bool>) -> Self {
        PageRequest {
            cursor: cursor.as_deref(),
            limit,
            count: count.unwrap_or(false),
        }
    }
}

/// Creation order (ids are UUIDv7), oldest first or newest first.
pub fn by_creation<C>(newest_first: bool) -> Sort<C> {
    Sort {
        key: pagination::SortKey::Created,
        desc: newest_first,
    }
}

/// Reads one page of `q` (already filtered) with keyset pagination.
pub async fn fetch_page<E, M>(
    db: &impl ConnectionTrait,
    q: Select<E>,
    id_col: E::Column,
    sort: Sort<E::Column>,
    page: PageRequest<'_>,
    key_and_id: impl Fn(&M) -> (Option<String>, Uuid),
) -> Result<Page<M>, ApiError>
where
    E: EntityTrait<Model = M>,
    E::Column: ColumnTrait,
    M: FromQueryResult + Send + Sync,
{
    let PageRequest {
        cursor,
        limit,
        count,
    } = page;
    let limit = pagination::parse_limit(limit)?;
    let total = if count {
        Some(q.clone().count(db).await?)
    } else {
        None
    };
    let q = pagination::apply(q, id_col, sort, cursor)?;
    let mut items = q.limit(limit + 1).all(db).await?;
    let next = if items.len() as u64 > limit {
        items.truncate(limit as usize);
        items.last().map(|m| {
            let (k, id) = key_and_id(m);
            pagination::next_cursor(&sort, || k, id)
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
    use sea_orm::QueryFilter;
    match since {
        Some(t) => q.filter(column.gte(t)),
        None => q,
    }
}

/// Case-insensitive substring match of `q` on any of `cols`.
pub fn text_match<C: ColumnTrait>(cols: &[C], q: &str) -> sea_orm::Condition {
    use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
    let pattern = like_pattern(q);
    cols.iter().fold(sea_orm::Condition::any(), |c, col| {
        c.add(
            Expr::expr(Func::lower(Expr::col(*col)))
                .like(LikeExpr::new(pattern.clone()).escape('\\')),
        )
    })
}

/// A case-insensitive `LIKE` pattern matching `q` anywhere, with wildcards escaped.
pub fn like_pattern(q: &str) -> String {
    let escaped = q
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}
