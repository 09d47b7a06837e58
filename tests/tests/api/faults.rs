//! Bad days: a database that cannot be reached, refuses writes, is full or gives up on a
//! statement answers 503 `database_unavailable` with `Retry-After` (never a 500), the
//! readiness probe says so, and the service recovers when the database does.

use std::net::TcpListener;

use fabriques_api::auth::JwtKeys;
use fabriques_api::config::DbTuning;
use sea_orm::{ConnectionTrait, Database, DatabaseBackend, DatabaseConnection, Statement};
use serde_json::json;

use crate::both_engines;
use crate::helpers::{Resp, TestApp, jwt_settings, test_options};

both_engines!(
    an_unreachable_database_answers_503_then_recovers,
    a_statement_past_its_timeout_answers_503,
    the_sessions_carry_the_configured_timeouts_and_cache,
);
// SQLite's faults are set with per-connection pragmas (`query_only`, `max_page_count`) on the
// test's pool, which is the server's: one connection, so that they reach it.
both_engines!(tuned crate::helpers::one_connection();
    a_read_only_database_answers_503_on_writes_and_is_not_ready,
    a_full_database_answers_503,
);

/// A 503 `database_unavailable` with a `Retry-After` in seconds.
fn assert_unavailable(r: &Resp) {
    r.assert_problem(503, "database_unavailable");
    let retry = r
        .headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    assert!(
        retry.is_some_and(|s| s > 0),
        "Retry-After: {:?}",
        r.headers.get("retry-after")
    );
}

fn is_postgres(app: &TestApp) -> bool {
    app.db.get_database_backend() == DatabaseBackend::Postgres
}

/// The PostgreSQL server (the database the suite is given) and the name of the test's own.
async fn pg_admin(app: &TestApp) -> (DatabaseConnection, String) {
    let u = url::Url::parse(&app.url).unwrap();
    let name = u.path().trim_start_matches('/').to_owned();
    let base = std::env::var("FABRIQUES_TEST_POSTGRES_URL").unwrap();
    (Database::connect(&base).await.unwrap(), name)
}

/// Ends every session on the test's database and waits until they are gone, so that the
/// next request needs a new connection.
async fn terminate_sessions(admin: &DatabaseConnection, name: &str) {
    for _ in 0..200 {
        let row = admin
            .query_one_raw(Statement::from_string(
                DatabaseBackend::Postgres,
                format!(
                    "SELECT count(pg_terminate_backend(pid))::bigint AS n FROM pg_stat_activity \
                     WHERE datname = '{name}' AND pid <> pg_backend_pid()"
                ),
            ))
            .await
            .unwrap()
            .unwrap();
        if row.try_get::<i64>("", "n").unwrap() == 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("the sessions on {name} did not end");
}

async fn create_org(app: &TestApp, name: &str) -> Resp {
    app.post(
        "/api/v1/organizations",
        json!({"name": name, "kind": "other"}),
    )
    .await
}

async fn an_unreachable_database_answers_503_then_recovers(app: TestApp) {
    assert_eq!(app.get("/health/ready").await.status, 200);
    if !is_postgres(&app) {
        // SQLite has no server to lose: a closed pool is the database out of reach.
        app.db.clone().close().await.unwrap();
        assert_unavailable(&app.get("/api/v1/organizations").await);
        assert_unavailable(&create_org(&app, "Perdue").await);
        assert_unavailable(&app.get("/health/ready").await);
        return;
    }
    let (admin, name) = pg_admin(&app).await;
    admin
        .execute_unprepared(&format!(
            "ALTER DATABASE {name} WITH ALLOW_CONNECTIONS false"
        ))
        .await
        .unwrap();
    terminate_sessions(&admin, &name).await;
    for _ in 0..3 {
        assert_unavailable(&app.get("/api/v1/organizations").await);
        assert_unavailable(&create_org(&app, "Perdue").await);
    }
    let ready = app.get("/health/ready").await;
    assert_unavailable(&ready);

    admin
        .execute_unprepared(&format!(
            "ALTER DATABASE {name} WITH ALLOW_CONNECTIONS true"
        ))
        .await
        .unwrap();
    assert_eq!(app.get("/health/ready").await.status, 200);
    assert_eq!(create_org(&app, "Retrouvée").await.status, 201);
    assert_eq!(app.get("/api/v1/organizations").await.status, 200);
}

async fn a_read_only_database_answers_503_on_writes_and_is_not_ready(app: TestApp) {
    assert_eq!(create_org(&app, "Avant").await.status, 201);
    let admin = if is_postgres(&app) {
        let (admin, name) = pg_admin(&app).await;
        admin
            .execute_unprepared(&format!(
                "ALTER DATABASE {name} SET default_transaction_read_only = on"
            ))
            .await
            .unwrap();
        terminate_sessions(&admin, &name).await;
        Some((admin, name))
    } else {
        // The server's own connection (this test's pool has one).
        app.db
            .execute_unprepared("PRAGMA query_only = ON")
            .await
            .unwrap();
        None
    };
    assert_unavailable(&create_org(&app, "Pendant").await);
    // Reads still work.
    assert_eq!(app.get("/api/v1/organizations").await.status, 200);
    let ready = app.get("/health/ready").await;
    assert_unavailable(&ready);
    assert!(
        ready.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("read-only")),
        "{}",
        ready.body
    );

    match admin {
        Some((admin, name)) => {
            admin
                .execute_unprepared(&format!(
                    "ALTER DATABASE {name} RESET default_transaction_read_only"
                ))
                .await
                .unwrap();
            terminate_sessions(&admin, &name).await;
        }
        None => {
            app.db
                .execute_unprepared("PRAGMA query_only = OFF")
                .await
                .unwrap();
        }
    }
    assert_eq!(app.get("/health/ready").await.status, 200);
    assert_eq!(create_org(&app, "Après").await.status, 201);
}

async fn a_full_database_answers_503(app: TestApp) {
    if is_postgres(&app) {
        // A disk cannot be filled here: the test's own database raises what PostgreSQL
        // raises then (53100 disk_full) on the next insert of an organization.
        app.db
            .execute_unprepared(
                "CREATE FUNCTION test_disk_full() RETURNS trigger LANGUAGE plpgsql AS \
                 $$ BEGIN RAISE EXCEPTION 'could not extend file: No space left on device' \
                 USING ERRCODE = 'disk_full'; END $$; \
                 CREATE TRIGGER test_disk_full BEFORE INSERT ON organizations \
                 FOR EACH ROW EXECUTE FUNCTION test_disk_full()",
            )
            .await
            .unwrap();
        assert_unavailable(&create_org(&app, "Pleine").await);
        assert_eq!(app.get("/api/v1/organizations").await.status, 200);
        app.db
            .execute_unprepared("DROP TRIGGER test_disk_full ON organizations")
            .await
            .unwrap();
        assert_eq!(create_org(&app, "Vidée").await.status, 201);
        return;
    }
    // The server's connection may not grow the file any more.
    let pages = sqlite_number(&app.db, "SELECT page_count AS n FROM pragma_page_count()").await;
    app.db
        .execute_unprepared(&format!("PRAGMA max_page_count = {pages}"))
        .await
        .unwrap();
    let mut full = None;
    for i in 0..500 {
        let r = create_org(&app, &format!("Organisation numéro {i} au nom assez long")).await;
        if r.status != 201 {
            full = Some(r);
            break;
        }
    }
    let full = full.expect("the file never filled up");
    assert_unavailable(&full);
    assert_eq!(app.get("/api/v1/organizations").await.status, 200);
    let ready = app.get("/health/ready").await;
    assert_unavailable(&ready);
    assert!(
        ready.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("no room")),
        "{}",
        ready.body
    );

    app.db
        .execute_unprepared("PRAGMA max_page_count = 1073741823")
        .await
        .unwrap();
    assert_eq!(app.get("/health/ready").await.status, 200);
    assert_eq!(create_org(&app, "De la place").await.status, 201);
}

/// Another instance on the test's database (migrated already), with these timeouts.
async fn instance_with(app: &TestApp, timeouts: DbTuning) -> TestApp2 {
    let db = fabriques_api::db::connect_with(&app.url, timeouts)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let server = fabriques_api::Application::with_listener(
        listener,
        db,
        JwtKeys::load(&jwt_settings(), dir.path()).unwrap(),
        test_options(),
    )
    .unwrap();
    let base = format!("http://127.0.0.1:{}", server.port());
    tokio::spawn(server.run_until_stopped());
    TestApp2 { base, _dir: dir }
}

struct TestApp2 {
    base: String,
    _dir: tempfile::TempDir,
}

async fn a_statement_past_its_timeout_answers_503(app: TestApp) {
    let short = DbTuning {
        statement_timeout_ms: 300,
        sqlite_busy_timeout_ms: 300,
        ..DbTuning::default()
    };
    let other = instance_with(&app, short).await;
    // A connection of its own holds a lock the request needs, until the test lets go.
    // One connection: the transaction stays on it.
    let mut opts = sea_orm::ConnectOptions::new(app.url.clone());
    opts.max_connections(1);
    let locker = Database::connect(opts).await.unwrap();
    if is_postgres(&app) {
        locker.execute_unprepared("BEGIN").await.unwrap();
        locker
            .execute_unprepared("LOCK TABLE organizations IN ACCESS EXCLUSIVE MODE")
            .await
            .unwrap();
    } else {
        // SQLite's write lock.
        locker.execute_unprepared("BEGIN IMMEDIATE").await.unwrap();
    }
    let res = app
        .client
        .post(format!("{}/api/v1/organizations", other.base))
        .bearer_auth(&app.admin)
        .json(&json!({"name": "Patiente", "kind": "other"}))
        // Without a timeout on the server's side, the request would wait as long as the lock.
        .timeout(std::time::Duration::from_secs(20))
        .send()
        .await
        .expect("an answer before the lock is released");
    let status = res.status();
    let headers = res.headers().clone();
    let body: serde_json::Value = res.json().await.unwrap();
    crate::conformance::check(
        "POST",
        "/api/v1/organizations",
        status.as_u16(),
        "application/problem+json",
        &body,
    );
    assert_unavailable(&Resp {
        status,
        headers,
        body,
    });
    locker.execute_unprepared("ROLLBACK").await.unwrap();
    locker.close().await.unwrap();
    assert_eq!(create_org(&app, "Servie").await.status, 201);
}

async fn the_sessions_carry_the_configured_timeouts_and_cache(app: TestApp) {
    let one = |sql: &'static str, col: &'static str| {
        let db = app.db.clone();
        async move {
            let row = db
                .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
                .await
                .unwrap()
                .unwrap();
            row.try_get_by::<String, _>(col)
                .or_else(|_| row.try_get_by::<i64, _>(col).map(|n| n.to_string()))
                .unwrap()
        }
    };
    if is_postgres(&app) {
        assert_eq!(
            one("SELECT current_setting('statement_timeout') AS v", "v").await,
            "30s"
        );
        assert_eq!(
            one(
                "SELECT current_setting('idle_in_transaction_session_timeout') AS v",
                "v"
            )
            .await,
            "1min"
        );
    } else {
        assert_eq!(
            one("SELECT timeout AS v FROM pragma_busy_timeout()", "v").await,
            "5000"
        );
        // 512 KiB of page cache per connection (negative: KiB, not pages).
        assert_eq!(
            one("SELECT cache_size AS v FROM pragma_cache_size()", "v").await,
            "-512"
        );
    }
}

/// The number `n` of a one-row SQLite query.
async fn sqlite_number(db: &DatabaseConnection, sql: &str) -> i64 {
    db.query_one_raw(Statement::from_string(DatabaseBackend::Sqlite, sql))
        .await
        .unwrap()
        .unwrap()
        .try_get_by::<i64, _>("n")
        .unwrap()
}

/// The SQLite file of a test app's URL, and its write-ahead log.
fn wal_of(url: &str) -> std::path::PathBuf {
    let file = url
        .trim_start_matches("sqlite://")
        .split('?')
        .next()
        .unwrap();
    std::path::PathBuf::from(format!("{file}-wal"))
}

fn wal_bytes(url: &str) -> u64 {
    std::fs::metadata(wal_of(url)).map_or(0, |m| m.len())
}

/// About 5 MiB in one transaction: some 1,300 pages in the log, over the job's threshold.
async fn fill_the_log(db: &DatabaseConnection) {
    db.execute_unprepared("CREATE TABLE IF NOT EXISTS wal_probe (b BLOB)")
        .await
        .unwrap();
    db.execute_unprepared(
        "INSERT INTO wal_probe WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1300) \
         SELECT randomblob(4000) FROM n",
    )
    .await
    .unwrap();
}

// SQLite only: PostgreSQL has no such log to keep short.
#[tokio::test]
async fn the_service_keeps_sqlites_write_ahead_log_short() {
    let app = crate::helpers::spawn_app(crate::helpers::Engine::Sqlite)
        .await
        .unwrap();
    // Without the job the log would keep these pages until the last connection closes (the
    // pool keeps one): SQLite's own checkpoints copy them back but never shorten the file.
    fill_the_log(&app.db).await;
    // The job looks once a second.
    let mut now = u64::MAX;
    for _ in 0..100 {
        now = wal_bytes(&app.url);
        if now == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(now, 0, "the log was truncated");
    // And the service writes on.
    assert_eq!(create_org(&app, "Après la troncature").await.status, 201);
}

#[tokio::test]
async fn the_checkpoint_gives_up_at_once_behind_an_old_reader_and_truncates_after() {
    use fabriques_api::edge::write_gate::WriteGate;
    use fabriques_api::jobs::checkpoint::{Round, own_options, round};
    use sea_orm::sqlx::{self, Connection};

    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("wal.db").display());
    // No service, so no job of its own: the test runs the rounds.
    let db = fabriques_api::db::connect_and_migrate(&url).await.unwrap();
    let mut job = sqlx::sqlite::SqliteConnection::connect_with(&own_options(&db))
        .await
        .unwrap();
    let gate = WriteGate::none();
    // Under the threshold: nothing but a passive checkpoint.
    db.execute_unprepared("CREATE TABLE wal_probe (b BLOB)")
        .await
        .unwrap();
    assert!(matches!(
        round(&mut job, &gate, 1_000_000).await.unwrap(),
        Round::Short { .. }
    ));
    // A reader of the snapshot before the next write, which the log must keep for it.
    let mut reader = sqlx::sqlite::SqliteConnection::connect_with(&own_options(&db))
        .await
        .unwrap();
    sqlx::query("BEGIN").execute(&mut reader).await.unwrap();
    sqlx::query("SELECT COUNT(*) FROM organizations")
        .fetch_one(&mut reader)
        .await
        .unwrap();
    fill_the_log(&db).await;
    let started = std::time::Instant::now();
    let r = round(&mut job, &gate, 1000).await.unwrap();
    assert!(
        matches!(r, Round::Busy { frames } if frames >= 1000),
        "{r:?}"
    );
    // Its own busy timeout (20 ms), not the pool's 5 s: the writers it held back wait that long.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert!(wal_bytes(&url) > 4 << 20);
    sqlx::query("COMMIT").execute(&mut reader).await.unwrap();
    let r = round(&mut job, &gate, 1000).await.unwrap();
    assert!(
        matches!(r, Round::Truncated { frames } if frames >= 1000),
        "{r:?}"
    );
    assert_eq!(wal_bytes(&url), 0);
    // The data is in the database file.
    assert_eq!(
        sqlite_number(&db, "SELECT COUNT(*) AS n FROM wal_probe").await,
        1300
    );
}

// PostgreSQL only: SQLite's writers take the write lock first and never deadlock.
#[tokio::test]
async fn a_deadlock_is_a_conflict_of_the_database_not_a_bug() {
    let Some(app) = crate::helpers::spawn_app(crate::helpers::Engine::Postgres).await else {
        eprintln!("SKIPPED on PostgreSQL: FABRIQUES_TEST_SKIP_POSTGRES=1");
        return;
    };
    app.db
        .execute_unprepared(
            "CREATE TABLE deadlock_probe (id int PRIMARY KEY, n int NOT NULL); \
             INSERT INTO deadlock_probe VALUES (1, 0), (2, 0)",
        )
        .await
        .unwrap();
    let one = |url: String| async move {
        let mut o = sea_orm::ConnectOptions::new(url);
        o.max_connections(1);
        Database::connect(o).await.unwrap()
    };
    let (a, b) = (one(app.url.clone()).await, one(app.url.clone()).await);
    let lock = |db: DatabaseConnection, first: i32, then: i32| async move {
        db.execute_unprepared("BEGIN").await.unwrap();
        db.execute_unprepared(&format!(
            "UPDATE deadlock_probe SET n = n + 1 WHERE id = {first}"
        ))
        .await
        .unwrap();
        // Both hold their first row before either asks for its second.
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let out = db
            .execute_unprepared(&format!(
                "UPDATE deadlock_probe SET n = n + 1 WHERE id = {then}"
            ))
            .await;
        db.execute_unprepared("ROLLBACK").await.unwrap();
        out
    };
    let (ra, rb) = tokio::join!(lock(a, 1, 2), lock(b, 2, 1));
    let errors: Vec<_> = [ra, rb].into_iter().filter_map(Result::err).collect();
    assert_eq!(
        errors.len(),
        1,
        "PostgreSQL breaks the deadlock by failing one side"
    );
    assert_eq!(
        store::fault::of(&errors[0]),
        Some(store::DbFault::Conflict),
        "{:?}",
        errors[0]
    );
    // Which the edge answers 503 with a short Retry-After, never 500.
    let e = fabriques_api::edge::error::ApiError::from(store::StoreError::from(
        errors.into_iter().next().unwrap(),
    ));
    use actix_web::ResponseError;
    let res = e.error_response();
    assert_eq!(res.status().as_u16(), 503);
    assert_eq!(res.headers().get("retry-after").unwrap(), "1");
}
