//! Accent- and case-insensitive search (`q`) on Fabriques, lessons and testimonies: each gets
//! a `search` column holding its searched fields as [`domain::text::searchable`] writes them
//! (lower case, no accents, words separated by one space), which the store keeps in step with
//! every write; a search matches a row when each of its words is a substring of `search`.
//! Existing rows are filled here. On PostgreSQL the column gets a trigram index when the
//! server offers `pg_trgm` (as the reference searches do); otherwise searches scan.
//!
//! Searched: a Fabrique's title and theme, a lesson's title and body, a testimony's quote and
//! the speaker's role (never the speaker's name: personal data is not a search key).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Each table, and the columns its `search` is made of.
const TABLES: [(&str, [&str; 2]); 3] = [
    ("fabriques", ["title", "theme"]),
    ("lessons", ["title", "body"]),
    ("testimonies", ["quote", "role"]),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        let backend = db.get_database_backend();
        for (table, [a, b]) in TABLES {
            m.alter_table(
                Table::alter()
                    .table(Alias::new(table))
                    .add_column(
                        ColumnDef::new(Alias::new("search"))
                            .text()
                            .not_null()
                            .default(""),
                    )
                    .to_owned(),
            )
            .await?;
            let rows = db
                .query_all_raw(Statement::from_string(
                    backend,
                    format!("SELECT id, {a}, {b} FROM {table}"),
                ))
                .await?;
            for row in rows {
                let id: uuid::Uuid = row.try_get("", "id")?;
                let first: Option<String> = row.try_get("", a)?;
                let second: Option<String> = row.try_get("", b)?;
                let search = domain::text::searchable([first.as_deref(), second.as_deref()]);
                m.exec_stmt(
                    Query::update()
                        .table(Alias::new(table))
                        .value(Alias::new("search"), search)
                        .and_where(Expr::col(Alias::new("id")).eq(id))
                        .to_owned(),
                )
                .await?;
            }
        }
        if backend == DbBackend::Postgres {
            let offered = db
                .query_one_raw(Statement::from_string(
                    DbBackend::Postgres,
                    "SELECT 1 AS one FROM pg_extension WHERE extname = 'pg_trgm'",
                ))
                .await?
                .is_some();
            if offered {
                for (table, _) in TABLES {
                    db.execute_unprepared(&format!(
                        "CREATE INDEX IF NOT EXISTS ix_{table}_search_trgm ON {table} USING gin (search gin_trgm_ops)"
                    ))
                    .await?;
                }
            }
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        for (table, _) in TABLES {
            if db.get_database_backend() == DbBackend::Postgres {
                db.execute_unprepared(&format!("DROP INDEX IF EXISTS ix_{table}_search_trgm"))
                    .await?;
            }
            m.alter_table(
                Table::alter()
                    .table(Alias::new(table))
                    .drop_column(Alias::new("search"))
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
