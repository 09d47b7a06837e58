//! Settings, read from command-line flags or the environment, passed into
//! `Application::build` (never global).

use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum JwtAlgorithm {
    #[value(name = "HS256")]
    Hs256,
    #[value(name = "EdDSA")]
    EdDsa,
    #[value(name = "RS256")]
    Rs256,
}

/// Database and data directory.
#[derive(Debug, Clone, clap::Args)]
pub struct DbSettings {
    /// `sqlite://path?mode=rwc` or `postgres://user@host/db`. Default: a SQLite file in the data directory.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,
    /// Where the embedded SQLite database and the generated JWT secret live.
    #[arg(long, env = "FABRIQUES_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,
    #[command(flatten)]
    pub tuning: DbTuning,
}

/// How long the database may take (set on every connection of the pool), and how many
/// connections SQLite opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::Args)]
pub struct DbTuning {
    /// PostgreSQL: a statement running longer is cancelled (`statement_timeout`) and the request answers 503; 0 keeps the server's setting.
    #[arg(
        long = "db-statement-timeout-ms",
        env = "FABRIQUES_DB_STATEMENT_TIMEOUT_MS",
        default_value_t = 30_000
    )]
    pub statement_timeout_ms: u64,
    /// PostgreSQL: a session idle inside a transaction longer is ended (`idle_in_transaction_session_timeout`); 0 keeps the server's setting.
    #[arg(
        long = "db-idle-in-transaction-timeout-ms",
        env = "FABRIQUES_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS",
        default_value_t = 60_000
    )]
    pub idle_in_transaction_timeout_ms: u64,
    /// SQLite: how long a statement waits for a lock held by another connection before the request answers 503 (the busy timeout).
    #[arg(
        long = "sqlite-busy-timeout-ms",
        env = "FABRIQUES_SQLITE_BUSY_TIMEOUT_MS",
        default_value_t = 5_000
    )]
    pub sqlite_busy_timeout_ms: u64,
    /// SQLite: the most connections open at once. The file is in WAL mode, so reads run in parallel on them while one write at a time holds the write lock (each write transaction takes it first: `BEGIN IMMEDIATE`); 1 serialises everything.
    #[arg(
        long = "sqlite-connections",
        env = "FABRIQUES_SQLITE_CONNECTIONS",
        default_value_t = 8,
        value_parser = clap::value_parser!(u32).range(1..=64)
    )]
    pub sqlite_connections: u32,
    /// SQLite: the page cache of each connection, in KiB (`PRAGMA cache_size`). Each connection keeps its own, filled by whatever it last read; the operating system caches the file for all of them.
    #[arg(
        long = "sqlite-cache-kib",
        env = "FABRIQUES_SQLITE_CACHE_KIB",
        default_value_t = 512,
        value_parser = clap::value_parser!(u32).range(64..=1_048_576)
    )]
    pub sqlite_cache_kib: u32,
}

impl Default for DbTuning {
    /// The defaults of the flags above.
    fn default() -> Self {
        DbTuning {
            statement_timeout_ms: 30_000,
            idle_in_transaction_timeout_ms: 60_000,
            sqlite_busy_timeout_ms: 5_000,
            sqlite_connections: 8,
            sqlite_cache_kib: 512,
        }
    }
}

impl DbSettings {
    pub fn url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| {
            format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("fabriques.db").display()
            )
        })
    }
}

/// JSON Web Token settings.
#[derive(Debug, Clone, clap::Args)]
pub struct JwtSettings {
    /// HS256 (shared secret), EdDSA (Ed25519 key files) or RS256 (RSA key files).
    #[arg(
        long = "jwt-algorithm",
        env = "FABRIQUES_JWT_ALGORITHM",
        default_value = "HS256"
    )]
    pub algorithm: JwtAlgorithm,
    /// HS256 secret, at least 32 bytes. Without it (nor a key file), a random secret is created in the data directory.
    #[arg(
        long = "jwt-secret",
        env = "FABRIQUES_JWT_SECRET",
        hide_env_values = true
    )]
    pub secret: Option<String>,
    /// File holding the HS256 secret (at least 32 bytes).
    #[arg(long = "jwt-secret-file", env = "FABRIQUES_JWT_SECRET_FILE")]
    pub secret_file: Option<PathBuf>,
    /// PEM public key verifying EdDSA or RS256 tokens.
    #[arg(long = "jwt-public-key-file", env = "FABRIQUES_JWT_PUBLIC_KEY_FILE")]
    pub public_key_file: Option<PathBuf>,
    /// PEM private key signing EdDSA or RS256 tokens (needed by `fabriques token` only).
    #[arg(long = "jwt-private-key-file", env = "FABRIQUES_JWT_PRIVATE_KEY_FILE")]
    pub private_key_file: Option<PathBuf>,
    /// Older public keys (PEM, comma-separated) that still verify tokens during a key rotation.
    #[arg(
        long = "jwt-previous-public-key-file",
        env = "FABRIQUES_JWT_PREVIOUS_PUBLIC_KEY_FILES",
        value_delimiter = ','
    )]
    pub previous_public_key_files: Vec<PathBuf>,
    /// Expected `iss` claim.
    #[arg(
        long = "jwt-issuer",
        env = "FABRIQUES_JWT_ISSUER",
        default_value = "fabriques"
    )]
    pub issuer: String,
    /// Expected `aud` claim.
    #[arg(
        long = "jwt-audience",
        env = "FABRIQUES_JWT_AUDIENCE",
        default_value = "fabriques-api"
    )]
    pub audience: String,
}

/// Tokens, rate limits and webhooks.
#[derive(Debug, Clone, clap::Args)]
pub struct ServiceOptions {
    /// Lifetime of the access tokens of `POST /oauth/token`, in seconds (60 to 86400).
    #[arg(
        long,
        env = "FABRIQUES_ACCESS_TOKEN_TTL",
        default_value_t = 900,
        value_parser = clap::value_parser!(i64).range(60..=86_400)
    )]
    pub access_token_ttl: i64,
    /// Requests per minute per client (a token's subject), unless the client has its own limit; 0 turns rate limiting off.
    #[arg(long, env = "FABRIQUES_RATE_LIMIT_PER_MINUTE", default_value_t = 600)]
    pub rate_limit_per_minute: u64,
    /// Requests per minute per IP address for callers without a valid token.
    #[arg(
        long,
        env = "FABRIQUES_ANONYMOUS_RATE_LIMIT_PER_MINUTE",
        default_value_t = 300
    )]
    pub anonymous_rate_limit_per_minute: u64,
    /// Run the webhook delivery worker in this instance (several instances may run it).
    #[arg(long, env = "FABRIQUES_WEBHOOK_WORKER", default_value_t = true, action = clap::ArgAction::Set)]
    pub webhook_worker: bool,
    /// Allow webhook URLs on private, loopback and link-local addresses (tests and closed networks only).
    #[arg(long, env = "FABRIQUES_WEBHOOK_ALLOW_PRIVATE_TARGETS", default_value_t = false, action = clap::ArgAction::Set)]
    pub webhook_allow_private_targets: bool,
    /// How often the worker looks for work, in milliseconds.
    #[arg(long, env = "FABRIQUES_WEBHOOK_POLL_MS", default_value_t = 1000)]
    pub webhook_poll_ms: u64,
    /// First retry delay in milliseconds; it doubles at each failure (up to one hour).
    #[arg(long, env = "FABRIQUES_WEBHOOK_BACKOFF_MS", default_value_t = 30_000)]
    pub webhook_backoff_ms: u64,
    /// Attempts before a delivery is given up as failed.
    #[arg(long, env = "FABRIQUES_WEBHOOK_MAX_ATTEMPTS", default_value_t = 10)]
    pub webhook_max_attempts: u32,
    /// Consecutive failed attempts after which a subscription is disabled.
    #[arg(long, env = "FABRIQUES_WEBHOOK_DISABLE_AFTER", default_value_t = 50)]
    pub webhook_disable_after: u32,
    /// Timeout of one delivery attempt, in milliseconds.
    #[arg(long, env = "FABRIQUES_WEBHOOK_TIMEOUT_MS", default_value_t = 10_000)]
    pub webhook_timeout_ms: u64,
    /// Subscriptions the worker delivers to at once (each one's deliveries one after another).
    #[arg(
        long,
        env = "FABRIQUES_WEBHOOK_CONCURRENCY",
        default_value_t = 8,
        value_parser = clap::value_parser!(u16).range(1..=256)
    )]
    pub webhook_concurrency: u16,
    /// Days a webhook delivery that is done with (delivered or failed) stays in the delivery
    /// log: its payload may hold personal data. Pending deliveries are never purged; 0 keeps
    /// every delivery.
    #[arg(long, env = "FABRIQUES_DELIVERY_RETENTION_DAYS", default_value_t = 30)]
    pub delivery_retention_days: u32,
    /// CSV exports the instance streams at once; one more is 503 `exports_busy`.
    #[arg(long, env = "FABRIQUES_EXPORTS_CONCURRENCY", default_value_t = 4)]
    pub exports_concurrency: usize,
    /// CSV exports one caller (a token's subject, or an IP address) streams at once; one more
    /// is 429 `too_many_exports`.
    #[arg(long, env = "FABRIQUES_EXPORTS_PER_CALLER", default_value_t = 2)]
    pub exports_per_caller: usize,
    /// Seconds a computed figure (`/stats/overview`, `/stats/breakdown`) may be served from the
    /// instance's cache while no write was journalled since; 0 turns the cache off.
    #[arg(long, env = "FABRIQUES_STATS_CACHE_SECONDS", default_value_t = 30)]
    pub stats_cache_seconds: u64,
    /// Tell each answer how many SQL statements it took and how long they ran
    /// (`Server-Timing: db;dur=<ms>;desc="<n> statements"`): for benchmarks and diagnosis.
    #[arg(long, env = "FABRIQUES_SERVER_TIMING", default_value_t = false, action = clap::ArgAction::Set)]
    pub server_timing: bool,
    /// Origins (`scheme://host[:port]`, comma-separated) whose pages may call the API with a
    /// token or write to it. Anonymous reads are open to every origin.
    #[arg(
        long,
        env = "FABRIQUES_CORS_ORIGINS",
        value_delimiter = ',',
        value_parser = crate::edge::browsers::parse_origin
    )]
    pub cors_origins: Vec<String>,
    /// Serve Prometheus metrics at `/metrics` to whoever sends this bearer token.
    #[arg(long, env = "FABRIQUES_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
    /// Serve `/metrics` to anyone (a closed network, or a proxy that guards it).
    #[arg(long, env = "FABRIQUES_METRICS_PUBLIC", default_value_t = false, action = clap::ArgAction::Set)]
    pub metrics_public: bool,
}

impl Default for ServiceOptions {
    /// The defaults of the flags above (the environment is not read).
    fn default() -> Self {
        #[derive(clap::Parser)]
        struct Defaults {
            #[command(flatten)]
            options: ServiceOptions,
        }
        use clap::{CommandFactory, FromArgMatches};
        let cmd = Defaults::command().mut_args(|a| a.env(None::<&str>));
        let matches = cmd.get_matches_from(["fabriques"]);
        match Defaults::from_arg_matches(&matches) {
            Ok(d) => d.options,
            Err(e) => e.exit(),
        }
    }
}

/// Everything `serve` needs.
#[derive(Debug, Clone, clap::Args)]
pub struct Settings {
    /// Address and port to listen on.
    #[arg(long, env = "FABRIQUES_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// Log format: text for people, json for log collectors.
    #[arg(long, env = "FABRIQUES_LOG_FORMAT", default_value = "text")]
    pub log_format: LogFormat,
    #[command(flatten)]
    pub db: DbSettings,
    #[command(flatten)]
    pub jwt: JwtSettings,
    #[command(flatten)]
    pub options: ServiceOptions,
}
