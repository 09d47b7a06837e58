//! `spawn_app`: the real application on a random port, with a fresh database per test.

use std::net::TcpListener;
use std::path::PathBuf;

use fabriques_api::auth::{JwtKeys, Role};
use fabriques_api::config::{DbTuning, JwtAlgorithm, JwtSettings, ServiceOptions};
use reqwest::{Method, StatusCode};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use uuid::Uuid;

pub const SECRET: &str = "integration-tests-secret-of-at-least-32-bytes";
pub const ISSUER: &str = "fabriques";
pub const AUDIENCE: &str = "fabriques-api";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub keys: JwtKeys,
    pub admin: String,
    pub db: sea_orm::DatabaseConnection,
    /// The database URL, for a second instance on the same database.
    pub url: String,
    _dir: tempfile::TempDir,
    drop_db: Option<(String, String)>,
}

pub fn jwt_settings() -> JwtSettings {
    JwtSettings {
        algorithm: JwtAlgorithm::Hs256,
        secret: Some(SECRET.into()),
        secret_file: None,
        public_key_file: None,
        private_key_file: None,
        previous_public_key_files: Vec::new(),
        issuer: ISSUER.into(),
        audience: AUDIENCE.into(),
    }
}

/// Where PostgreSQL tests run; `None` only when explicitly skipped.
fn postgres_base() -> Option<String> {
    match std::env::var("FABRIQUES_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("FABRIQUES_TEST_SKIP_POSTGRES").as_deref() == Ok("1") => None,
        _ => panic!(
            "FABRIQUES_TEST_POSTGRES_URL is not set: run ./scripts/test (it finds PostgreSQL), or set FABRIQUES_TEST_SKIP_POSTGRES=1 to skip the PostgreSQL half knowingly"
        ),
    }
}

/// The service options of the tests: the defaults, with rate limits high enough for the
/// suites that do not test them.
pub fn test_options() -> ServiceOptions {
    ServiceOptions {
        rate_limit_per_minute: 100_000,
        anonymous_rate_limit_per_minute: 100_000,
        ..ServiceOptions::default()
    }
}

/// Names the schema and reference data this test binary expects: a template built by another
/// build is never used (the binary's modification time changes with every build).
fn template_fingerprint() -> String {
    use sha2::{Digest, Sha256};
    let exe = std::env::current_exe().expect("current exe");
    let built = std::fs::metadata(&exe)
        .and_then(|m| m.modified())
        .map(|t| format!("{t:?}"))
        .unwrap_or_default();
    let mut h = Sha256::new();
    h.update(exe.display().to_string());
    h.update(built);
    h.update(fabriques_api::loaders::reference::dataset_version());
    h.finalize()
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A migrated SQLite database with the reference data, built once per test build and copied
/// for each test (loading the geography into every test database would dominate the suite).
async fn sqlite_template() -> PathBuf {
    let path = std::env::temp_dir().join(format!(
        "fabriques-test-template-{}.db",
        template_fingerprint()
    ));
    if path.exists() {
        return path;
    }
    let build = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}?mode=rwc", build.path().join("t.db").display());
    let db = fabriques_api::db::connect_and_migrate(&url)
        .await
        .expect("migrate the template");
    // A standalone copy (no WAL), then an atomic rename: concurrent builders both succeed.
    let staged = build.path().join("staged.db");
    db.execute_unprepared(&format!("VACUUM INTO '{}'", staged.display()))
        .await
        .expect("vacuum into");
    db.close().await.ok();
    let tmp = path.with_extension(format!("{}.tmp", Uuid::now_v7().simple()));
    std::fs::copy(&staged, &tmp).expect("stage the template");
    std::fs::rename(&tmp, &path).expect("publish the template");
    path
}

/// The same for PostgreSQL: a template database, built once under an advisory lock; each
/// test database is a copy (`CREATE DATABASE … TEMPLATE …`).
async fn postgres_template(base: &str) -> String {
    let name = format!("fabriques_tpl_{}", template_fingerprint());
    let admin = Database::connect(base)
        .await
        .expect("connect to PostgreSQL");
    let exists = |admin: &sea_orm::DatabaseConnection| {
        let admin = admin.clone();
        let name = name.clone();
        async move {
            admin
                .query_one_raw(sea_orm::Statement::from_string(
                    sea_orm::DatabaseBackend::Postgres,
                    format!("SELECT 1 AS one FROM pg_database WHERE datname = '{name}'"),
                ))
                .await
                .expect("query pg_database")
                .is_some()
        }
    };
    if !exists(&admin).await {
        admin
            .execute_unprepared("SELECT pg_advisory_lock(7305122)")
            .await
            .expect("lock");
        if !exists(&admin).await {
            let building = format!("fabriques_tplbuild_{}", Uuid::now_v7().simple());
            admin
                .execute_unprepared(&format!("CREATE DATABASE {building}"))
                .await
                .expect("create the template");
            let mut u = url::Url::parse(base).expect("postgres url");
            u.set_path(&format!("/{building}"));
            let db = fabriques_api::db::connect_and_migrate(u.as_str())
                .await
                .expect("migrate the template");
            db.close().await.ok();
            admin
                .execute_unprepared(&format!("ALTER DATABASE {building} RENAME TO {name}"))
                .await
                .expect("publish the template");
        }
        admin
            .execute_unprepared("SELECT pg_advisory_unlock(7305122)")
            .await
            .expect("unlock");
    }
    admin.close().await.ok();
    name
}

pub async fn spawn_app(engine: Engine) -> Option<TestApp> {
    spawn_app_with(engine, test_options()).await
}

pub async fn spawn_app_with(engine: Engine, options: ServiceOptions) -> Option<TestApp> {
    spawn_app_full(engine, options, jwt_settings()).await
}

pub async fn spawn_app_full(
    engine: Engine,
    options: ServiceOptions,
    jwt: JwtSettings,
) -> Option<TestApp> {
    spawn_app_tuned(engine, options, jwt, DbTuning::default()).await
}

/// SQLite on one connection (PostgreSQL as usual): for the tests that hold or configure the
/// server's connection through their own handle.
pub fn one_connection() -> DbTuning {
    DbTuning {
        sqlite_connections: 1,
        ..DbTuning::default()
    }
}

/// With these database settings (the pool size of SQLite, the timeouts).
pub async fn spawn_app_tuned(
    engine: Engine,
    options: ServiceOptions,
    jwt: JwtSettings,
    tuning: DbTuning,
) -> Option<TestApp> {
    let dir = tempfile::tempdir().expect("tempdir");
    let (url, drop_db) = match engine {
        Engine::Sqlite => {
            let file = dir.path().join("test.db");
            std::fs::copy(sqlite_template().await, &file).expect("copy the template database");
            (format!("sqlite://{}?mode=rwc", file.display()), None)
        }
        Engine::Postgres => {
            let base = postgres_base()?;
            let name = format!("fabriques_test_{}", Uuid::now_v7().simple());
            let admin = Database::connect(&base)
                .await
                .expect("connect to PostgreSQL");
            admin
                .execute_unprepared(&format!(
                    "CREATE DATABASE {name} TEMPLATE {}",
                    postgres_template(&base).await
                ))
                .await
                .expect("create database");
            admin.close().await.ok();
            let mut u = url::Url::parse(&base).expect("postgres url");
            u.set_path(&format!("/{name}"));
            (u.to_string(), Some((base, name)))
        }
    };
    let db = fabriques_api::db::connect_and_migrate_with(&url, tuning)
        .await
        .expect("migrate");
    let keys = JwtKeys::load(&jwt, &PathBuf::from(dir.path())).expect("keys");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let app = fabriques_api::Application::with_listener(
        listener,
        db.clone(),
        JwtKeys::load(&jwt, dir.path()).expect("keys"),
        options,
    )
    .expect("app");
    let port = app.port();
    tokio::spawn(app.run_until_stopped());
    let admin = keys
        .mint("admin@test", Role::Admin, None, None, 600)
        .expect("mint");
    Some(TestApp {
        base: format!("http://127.0.0.1:{port}"),
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client"),
        keys,
        admin,
        db,
        url,
        _dir: dir,
        drop_db,
    })
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some((base, name)) = self.drop_db.take() {
            // Best effort, on a thread of its own: Drop cannot await.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build();
                if let Ok(rt) = rt {
                    rt.block_on(async {
                        if let Ok(db) = Database::connect(&base).await {
                            let _ = db
                                .execute_unprepared(&format!(
                                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                                ))
                                .await;
                        }
                    });
                }
            })
            .join();
        }
    }
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Resp {
    /// Asserts a problem+json answer with this status and code.
    pub fn assert_problem(&self, status: u16, code: &str) {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        let ct = self
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        assert_eq!(ct, "application/problem+json", "body: {}", self.body);
        assert_eq!(self.body["code"], code, "body: {}", self.body);
        assert_eq!(self.body["status"], status);
        assert!(
            self.body["type"]
                .as_str()
                .is_some_and(|t| t.starts_with("urn:fabriques:problem:"))
        );
        assert!(self.body["title"].is_string() && self.body["detail"].is_string());
    }

    /// A 409 refused by the rules, with `blocker` among its `blockers` (one shape whatever
    /// refused it: a transition, an edit, a deletion...).
    pub fn assert_refused(&self, blocker: &str) {
        self.assert_problem(409, "transition_refused");
        assert!(
            self.codes("blockers").iter().any(|c| c == blocker),
            "expected the blocker {blocker}: {}",
            self.body
        );
    }

    pub fn codes(&self, key: &str) -> Vec<String> {
        self.body[key]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|b| b["code"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn id(&self) -> String {
        self.body["id"]
            .as_str()
            .unwrap_or_else(|| panic!("no id in {}", self.body))
            .to_owned()
    }
}

impl TestApp {
    /// Starts another instance of the service on the same database (its own connection pool,
    /// the same key), as a load balancer would have; returns its base URL.
    pub async fn second_instance(&self) -> String {
        let db = fabriques_api::db::connect_and_migrate(&self.url)
            .await
            .expect("connect");
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let app = fabriques_api::Application::with_listener(
            listener,
            db,
            JwtKeys::load(&jwt_settings(), self._dir.path()).expect("keys"),
            test_options(),
        )
        .expect("app");
        let port = app.port();
        tokio::spawn(app.run_until_stopped());
        format!("http://127.0.0.1:{port}")
    }

    pub fn token(&self, role: Role, org: Option<&str>, territory: Option<&str>) -> String {
        let parse = |s: Option<&str>| s.map(|s| s.parse::<Uuid>().expect("uuid"));
        self.keys
            .mint(
                &format!("{role:?}@test"),
                role,
                parse(org),
                parse(territory),
                600,
            )
            .expect("mint")
    }

    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Resp {
        let method_name = method.as_str().to_owned();
        let mut rb = self
            .client
            .request(method, format!("{}{}", self.base, path));
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let res = rb.send().await.expect("request");
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        let content_type = headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        crate::conformance::check(&method_name, path, status.as_u16(), content_type, &body);
        Resp {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.raw(Method::GET, path, Some(&self.admin.clone()), None)
            .await
    }

    pub async fn post(&self, path: &str, body: Value) -> Resp {
        self.raw(Method::POST, path, Some(&self.admin.clone()), Some(body))
            .await
    }

    pub async fn org(&self, name: &str, kind: &str) -> String {
        let r = self
            .post("/api/v1/organizations", json!({"name": name, "kind": kind}))
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        r.id()
    }

    pub async fn territory(&self, name: &str, kind: &str, code: &str) -> String {
        let r = self
            .post(
                "/api/v1/territories",
                json!({"name": name, "kind": kind, "code": code}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        r.id()
    }

    /// An EPCI territory from its SIREN alone (the name comes from the official geography).
    pub async fn epci(&self, siren: &str) -> String {
        let r = self
            .post(
                "/api/v1/territories",
                json!({"kind": epci_kind(siren), "code": siren}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        r.id()
    }

    /// A draft Fabrique with everything needed to open recruitment (ANCT as pilot).
    pub async fn ready_fabrique(&self, min: u32, max: u32) -> (String, String) {
        let anct = self.org("ANCT", "anct").await;
        let r = self
            .post(
                "/api/v1/fabriques",
                json!({"title": "Sites industriels de demain", "theme": "Industrie", "planned_start": "2027-02-01", "min_territories": min, "max_territories": max}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        let id = r.id();
        let p = self
            .raw(
                Method::PUT,
                &format!("/api/v1/fabriques/{id}/partners/{anct}"),
                Some(&self.admin.clone()),
                Some(json!({"roles": ["pilot"]})),
            )
            .await;
        assert_eq!(p.status, 200, "{}", p.body);
        (id, anct)
    }

    pub async fn transition(&self, path: &str, action: &str) -> Resp {
        self.post(&format!("{path}/transitions"), json!({"action": action}))
            .await
    }

    /// Creates a machine client (admin) and returns (client id, secret).
    pub async fn client(&self, body: Value) -> (String, String) {
        let r = self.post("/api/v1/clients", body).await;
        assert_eq!(r.status, 201, "{}", r.body);
        (
            r.body["client_id"].as_str().expect("client_id").to_owned(),
            r.body["client_secret"].as_str().expect("secret").to_owned(),
        )
    }

    /// `POST /oauth/token` with a form body and optional HTTP Basic credentials.
    pub async fn token_request(&self, basic: Option<(&str, &str)>, form: &[(&str, &str)]) -> Resp {
        let mut rb = self
            .client
            .post(format!("{}/oauth/token", self.base))
            .form(form);
        if let Some((id, secret)) = basic {
            rb = rb.basic_auth(id, Some(secret));
        }
        let res = rb.send().await.expect("request");
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        let content_type = headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        crate::conformance::check("POST", "/oauth/token", status.as_u16(), content_type, &body);
        Resp {
            status,
            headers,
            body,
        }
    }

    /// A machine client's access token.
    pub async fn client_token(&self, id: &str, secret: &str) -> String {
        let r = self
            .token_request(Some((id, secret)), &[("grant_type", "client_credentials")])
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.body["access_token"].as_str().expect("token").to_owned()
    }

    pub async fn apply(&self, fabrique: &str, territory: &str) -> Resp {
        self.post(
            &format!("/api/v1/fabriques/{fabrique}/participations"),
            json!({"territory_id": territory, "sponsor_name": "Jeanne Martin", "sponsor_mandate": "maire", "motivation": "Nous voulons préparer l'avenir"}),
        )
        .await
    }
}

/// Valid SIRENs of real EPCIs (public-fabriques.md), and INSEE codes of real communes.
pub const SIRENS: [&str; 8] = [
    "200034692",
    "247700057",
    "200041317",
    "248000747",
    "200072882",
    "200090561",
    "200065928",
    "200067437",
];
/// The kind of each of [`SIRENS`] in the official geography.
pub fn epci_kind(siren: &str) -> &'static str {
    match siren {
        "248000747" | "200072882" | "200090561" => "communaute_de_communes",
        "242900314" => "metropole",
        _ => "communaute_d_agglomeration",
    }
}

pub const COMMUNES: [(&str, &str); 4] = [
    ("Lorient", "56121"),
    ("Bard", "42012"),
    ("Awala-Yalimapo", "97361"),
    ("Ajaccio", "2A004"),
];

/// Runs one scenario on SQLite and, in a sibling test, on PostgreSQL.
/// `both_engines!(with super::options(); name)` starts the app with those service options.
#[macro_export]
macro_rules! both_engines {
    (tuned $tuning:expr; $($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test]
                async fn sqlite() {
                    if let Some(app) = $crate::helpers::spawn_app_tuned($crate::helpers::Engine::Sqlite, $crate::helpers::test_options(), $crate::helpers::jwt_settings(), $tuning).await {
                        super::$name(app).await;
                    }
                }
                #[tokio::test]
                async fn postgres() {
                    match $crate::helpers::spawn_app_tuned($crate::helpers::Engine::Postgres, $crate::helpers::test_options(), $crate::helpers::jwt_settings(), $tuning).await {
                        Some(app) => super::$name(app).await,
                        None => eprintln!("SKIPPED on PostgreSQL: FABRIQUES_TEST_SKIP_POSTGRES=1"),
                    }
                }
            }
        )*
    };
    (with $opts:expr; $($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test]
                async fn sqlite() {
                    if let Some(app) = $crate::helpers::spawn_app_with($crate::helpers::Engine::Sqlite, $opts).await {
                        super::$name(app).await;
                    }
                }
                #[tokio::test]
                async fn postgres() {
                    match $crate::helpers::spawn_app_with($crate::helpers::Engine::Postgres, $opts).await {
                        Some(app) => super::$name(app).await,
                        None => eprintln!("SKIPPED on PostgreSQL: FABRIQUES_TEST_SKIP_POSTGRES=1"),
                    }
                }
            }
        )*
    };
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test]
                async fn sqlite() {
                    if let Some(app) = $crate::helpers::spawn_app($crate::helpers::Engine::Sqlite).await {
                        super::$name(app).await;
                    }
                }
                #[tokio::test]
                async fn postgres() {
                    match $crate::helpers::spawn_app($crate::helpers::Engine::Postgres).await {
                        Some(app) => super::$name(app).await,
                        None => eprintln!("SKIPPED on PostgreSQL: FABRIQUES_TEST_SKIP_POSTGRES=1"),
                    }
                }
            }
        )*
    };
}
