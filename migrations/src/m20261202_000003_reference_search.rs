//! An index for the reference searches (`/reference/communes?q=`, `/reference/epcis?q=`): each
//! word of a search is a substring of the row's `search` column (the name lower-cased, without
//! accents or punctuation), which a B-tree cannot serve. PostgreSQL gets trigram GIN indexes
//! (`pg_trgm`, which serve `LIKE '%word%'` directly); when the server does not offer the
//! extension the searches still work, by scanning. SQLite gets FTS5 tables with the trigram
//! tokenizer (which serve `LIKE '%word%'` too), kept in step with their table by triggers:
//! external-content tables keyed by `rowid` (the reference tables are never vacuumed).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The indexed tables.
const TABLES: [&str; 2] = ["ref_communes", "ref_epci"];

fn sqlite_up(table: &str) -> Vec<String> {
    let fts = format!("{table}_fts");
    vec![
        format!(
            "CREATE VIRTUAL TABLE {fts} USING fts5(search, content='{table}', content_rowid='rowid', tokenize='trigram')"
        ),
        format!("INSERT INTO {fts}({fts}) VALUES ('rebuild')"),
        format!(
            "CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} BEGIN INSERT INTO {fts}(rowid, search) VALUES (new.rowid, new.search); END"
        ),
        format!(
            "CREATE TRIGGER {fts}_ad AFTER DELETE ON {table} BEGIN INSERT INTO {fts}({fts}, rowid, search) VALUES ('delete', old.rowid, old.search); END"
        ),
        format!(
            "CREATE TRIGGER {fts}_au AFTER UPDATE ON {table} BEGIN INSERT INTO {fts}({fts}, rowid, search) VALUES ('delete', old.rowid, old.search); INSERT INTO {fts}(rowid, search) VALUES (new.rowid, new.search); END"
        ),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        match db.get_database_backend() {
            DbBackend::Sqlite => {
                for table in TABLES {
                    for sql in sqlite_up(table) {
                        db.execute_unprepared(&sql).await?;
                    }
                }
            }
            DbBackend::Postgres => {
                let offered = db
                    .query_one_raw(Statement::from_string(
                        DbBackend::Postgres,
                        "SELECT 1 AS one FROM pg_available_extensions WHERE name = 'pg_trgm'",
                    ))
                    .await?
                    .is_some();
                if !offered {
                    return Ok(());
                }
                db.execute_unprepared("CREATE EXTENSION IF NOT EXISTS pg_trgm")
                    .await?;
                for table in TABLES {
                    db.execute_unprepared(&format!(
                        "CREATE INDEX IF NOT EXISTS ix_{table}_search_trgm ON {table} USING gin (search gin_trgm_ops)"
                    ))
                    .await?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        for table in TABLES {
            let statements = match db.get_database_backend() {
                DbBackend::Sqlite => vec![
                    format!("DROP TRIGGER IF EXISTS {table}_fts_ai"),
                    format!("DROP TRIGGER IF EXISTS {table}_fts_ad"),
                    format!("DROP TRIGGER IF EXISTS {table}_fts_au"),
                    format!("DROP TABLE IF EXISTS {table}_fts"),
                ],
                _ => vec![format!("DROP INDEX IF EXISTS ix_{table}_search_trgm")],
            };
            for sql in statements {
                db.execute_unprepared(&sql).await?;
            }
        }
        Ok(())
    }
}
