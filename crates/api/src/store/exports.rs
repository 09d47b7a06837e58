//! CSV exports, streamed from the database in constant memory: rows are read by keyset pages
//! of `BATCH` (ids are UUIDv7, so id order is creation order), each page written and sent
//! before the next is read; the connection is free between pages.

use actix_web::web::Bytes;
use futures_util::Stream;
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select,
};
use uuid::Uuid;

use crate::error::ApiError;

const BATCH: u64 = 1000;

/// How the CSV is written: `,` (RFC 4180) or `;` for French spreadsheets, with or without
/// the UTF-8 byte order mark Excel wants.
#[derive(Debug, Clone, Copy)]
pub struct Format {
    pub separator: u8,
    pub bom: bool,
}

fn write_rows(format: Format, rows: &[Vec<String>]) -> Result<Bytes, ApiError> {
    let mut w = csv::WriterBuilder::new()
        .delimiter(format.separator)
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    for r in rows {
        w.write_record(r)
            .map_err(|e| ApiError::Internal(e.into()))?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("{e}")))?;
    Ok(Bytes::from(bytes))
}

struct State<E: EntityTrait> {
    db: DatabaseConnection,
    q: Select<E>,
    after: Option<Uuid>,
    header: Option<Vec<String>>,
    done: bool,
}

/// The CSV of `q` (already filtered), one row per model.
pub fn stream<E>(
    db: DatabaseConnection,
    q: Select<E>,
    id: E::Column,
    id_of: fn(&E::Model) -> Uuid,
    header: Vec<String>,
    row: impl Fn(&E::Model) -> Vec<String> + 'static,
    format: Format,
) -> impl Stream<Item = Result<Bytes, ApiError>> + 'static
where
    E: EntityTrait,
    E::Column: ColumnTrait,
{
    let state = State {
        db,
        q,
        after: None,
        header: Some(header),
        done: false,
    };
    futures_util::stream::unfold((state, row), move |(mut s, row)| async move {
        if let Some(h) = s.header.take() {
            let mut bytes = Vec::new();
            if format.bom {
                bytes.extend_from_slice("\u{feff}".as_bytes());
            }
            return match write_rows(format, &[h]) {
                Ok(b) => {
                    bytes.extend_from_slice(&b);
                    Some((Ok(Bytes::from(bytes)), (s, row)))
                }
                Err(e) => {
                    s.done = true;
                    Some((Err(e), (s, row)))
                }
            };
        }
        if s.done {
            return None;
        }
        let mut page = s.q.clone().order_by_asc(id).limit(BATCH);
        if let Some(after) = s.after {
            page = page.filter(id.gt(after));
        }
        let models = match page.all(&s.db).await {
            Ok(m) => m,
            Err(e) => {
                s.done = true;
                return Some((Err(ApiError::from(e)), (s, row)));
            }
        };
        if (models.len() as u64) < BATCH {
            s.done = true;
        }
        let last = models.last()?;
        s.after = Some(id_of(last));
        let rows: Vec<Vec<String>> = models.iter().map(&row).collect();
        Some((write_rows(format, &rows), (s, row)))
    })
}

/// A cell: empty for none.
pub fn cell<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(ToString::to_string).unwrap_or_default()
}
