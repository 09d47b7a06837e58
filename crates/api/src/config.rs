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
}
