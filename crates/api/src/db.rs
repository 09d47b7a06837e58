//! Connecting to SQLite or PostgreSQL and running the migrations.

use std::time::Duration;

use anyhow::Context;
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, TransactionTrait};

use crate::config::DbTuning;

/// Connects (creating the SQLite file and its directory if needed), migrates, and loads the
/// reference geography if it is not there yet; with the default [`DbTuning`].
pub async fn connect_and_migrate(url: &str) -> anyhow::Result<DatabaseConnection> {
    connect_and_migrate_with(url, DbTuning::default()).await
}

/// [`connect_and_migrate`] with these settings.
pub async fn connect_and_migrate_with(
    url: &str,
    tuning: DbTuning,
) -> anyhow::Result<DatabaseConnection> {
    let db = connect_with(url, tuning).await?;
    Migrator::up(&db, None)
        .await
        .context("running migrations")?;
    crate::loaders::reference::ensure_loaded(&db)
        .await
        .context("loading the reference geography")?;
    // In one transaction: all of them or none, and an instance starting beside another waits
    // for its fill (the figures' version row), then finds nothing missing.
    let txn = db.begin().await.context("starting the figures' fill")?;
    store::figures::fill_missing(&txn)
        .await
        .context("computing the figures of Fabriques that have none")?;
    txn.commit().await.context("committing the figures' fill")?;
    Ok(db)
}

pub async fn connect(url: &str) -> anyhow::Result<DatabaseConnection> {
    connect_with(url, DbTuning::default()).await
}

/// Connects with these settings: PostgreSQL sessions start with `statement_timeout` and
/// `idle_in_transaction_session_timeout` (startup options, no extra round trip); SQLite
/// opens up to `sqlite_connections` connections to a WAL file, each with the busy timeout and
/// a page cache of `sqlite_cache_kib`.
pub async fn connect_with(url: &str, tuning: DbTuning) -> anyhow::Result<DatabaseConnection> {
    if let Some(path) = url.strip_prefix("sqlite://") {
        let file = path.split('?').next().unwrap_or(path);
        if let Some(dir) = std::path::Path::new(file)
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
    }
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.sqlx_logging(false)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(30));
    if url.starts_with("postgres") {
        opts.max_connections(16).min_connections(1);
        if tuning.statement_timeout_ms > 0 {
            opts.statement_timeout(Duration::from_millis(tuning.statement_timeout_ms));
        }
        let idle = tuning.idle_in_transaction_timeout_ms;
        let plain = plain_on_loopback(url);
        // One closure: sea-orm keeps only the last one given.
        opts.map_sqlx_postgres_opts(move |o| {
            let o = if idle > 0 {
                o.options([("idle_in_transaction_session_timeout", idle)])
            } else {
                o
            };
            if plain {
                o.ssl_mode(sea_orm::sqlx::postgres::PgSslMode::Disable)
            } else {
                o
            }
        });
    } else {
        // WAL: readers do not wait for the writer nor it for them; NORMAL is durable across
        // a crash of the process (not of the machine's power) and syncs only at checkpoints.
        let busy = Duration::from_millis(tuning.sqlite_busy_timeout_ms);
        // Smaller than SQLite's 2 MiB: eight connections each filled their own by every scan
        // (an export, a figure computed), 16 MiB held for pages the operating system caches
        // anyway. By hand, 10,000 Fabriques: the seminars export's peak RSS 60 to 47 MiB, its
        // speed, the reads' and the figures' the same.
        let cache_kib = tuning.sqlite_cache_kib;
        opts.max_connections(tuning.sqlite_connections.max(1))
            .min_connections(1)
            .map_sqlx_sqlite_opts(move |o| {
                o.busy_timeout(busy)
                    .journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                    .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                    .pragma("cache_size", format!("-{cache_kib}"))
            });
    }
    let mut db = Database::connect(opts)
        .await
        .with_context(|| format!("connecting to {}", redact(url)))?;
    crate::edge::statements::install(&mut db);
    Ok(db)
}

/// After a bulk load (the reference geography, a seed): fresh planner statistics on
/// PostgreSQL, so that the first requests are not planned for the tables as they were before
/// it (empty or tiny) until autovacuum gets to them, about a minute later; a plan kept for a
/// table of 9 organizations that had grown to 20,000 cost each read 5 ms instead of 0.25.
/// `tables` empty: every table. SQLite keeps no statistics here (no `ANALYZE` has ever run on
/// its files, and its queries were tuned on its planner's own estimates): nothing to do.
pub async fn analyze(db: &impl sea_orm::ConnectionTrait, tables: &[&str]) -> anyhow::Result<()> {
    if db.get_database_backend() != sea_orm::DatabaseBackend::Postgres {
        return Ok(());
    }
    let sql = if tables.is_empty() {
        "ANALYZE".to_owned()
    } else {
        format!("ANALYZE {}", tables.join(", "))
    };
    db.execute_unprepared(&sql)
        .await
        .context("refreshing the planner's statistics")?;
    Ok(())
}

/// Whether to talk to PostgreSQL without TLS because the URL says nothing about it and the
/// server is on this machine (a loopback address, `localhost` or a Unix socket): TLS there
/// protects nothing and costs about a sixth of the throughput. Otherwise the URL's `sslmode`
/// decides, as libpq's does (`prefer` when absent).
fn plain_on_loopback(url: &str) -> bool {
    let Ok(u) = url::Url::parse(url) else {
        return false;
    };
    let mut pairs = u.query_pairs();
    if pairs.any(|(k, _)| k == "sslmode" || k == "ssl-mode") {
        return false;
    }
    if u.query_pairs().any(|(k, _)| k == "host") {
        // `?host=/run/postgresql`: a Unix socket.
        return u
            .query_pairs()
            .any(|(k, v)| k == "host" && v.starts_with('/'));
    }
    // `postgres:` is not a special scheme: its host comes as text, IPv6 in brackets.
    match u.host_str().filter(|h| !h.is_empty()) {
        None => true,
        Some(h) => {
            h.eq_ignore_ascii_case("localhost")
                || h.trim_start_matches('[')
                    .trim_end_matches(']')
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
    }
}

/// The URL without its password, for logs.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}

/// Inserts `rows` (JSON objects keyed by column name) into `table` in one statement: they
/// travel as one JSON parameter, unpacked by the database (`json_populate_recordset` on
/// PostgreSQL, `json_each` on SQLite). Far faster than a multi-row `VALUES` list, which carries
/// one bind parameter per cell. On SQLite each value is stored as JSON gives it (text, number,
/// null): columns whose stored form sea-orm chooses (timestamps) need their exact text.
pub async fn insert_json(
    db: &impl sea_orm::ConnectionTrait,
    table: &str,
    columns: &[&str],
    rows: &[serde_json::Value],
) -> anyhow::Result<()> {
    use sea_orm::{DatabaseBackend, Statement, Value};
    let cols = columns
        .iter()
        .map(|c| format!("\"{c}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let backend = db.get_database_backend();
    let sql = match backend {
        DatabaseBackend::Postgres => format!(
            "INSERT INTO \"{table}\" ({cols}) SELECT {cols} FROM json_populate_recordset(NULL::\"{table}\", $1::json)"
        ),
        _ => format!(
            "INSERT INTO \"{table}\" ({cols}) SELECT {} FROM json_each(?)",
            columns
                .iter()
                .map(|c| format!("json_extract(value, '$.{c}')"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    db.execute_raw(Statement::from_sql_and_values(
        backend,
        sql,
        [Value::String(Some(serde_json::to_string(rows)?))],
    ))
    .await
    .with_context(|| format!("loading {table}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::plain_on_loopback;

    #[test]
    fn tls_is_skipped_only_on_this_machine_and_only_when_the_url_is_silent() {
        for url in [
            "postgres://postgres@127.0.0.1:5432/test",
            "postgres://postgres@localhost/test",
            "postgres://postgres@[::1]:5432/test",
            "postgres:///test?host=/run/postgresql&user=postgres",
        ] {
            assert!(plain_on_loopback(url), "{url}");
        }
        for url in [
            "postgres://postgres@127.0.0.1:5432/test?sslmode=require",
            "postgres://postgres@localhost/test?sslmode=prefer",
            "postgres://postgres@db.example.org/test",
            "postgres://postgres@10.0.0.5/test",
            "postgres:///test?host=db.example.org",
        ] {
            assert!(!plain_on_loopback(url), "{url}");
        }
    }
}
