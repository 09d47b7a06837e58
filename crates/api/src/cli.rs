//! The `fabriques` command: serve (default), migrate, token, openapi, dictionary, permissions,
//! problems, client, seed.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use uuid::Uuid;

use crate::auth::{JwtKeys, Role};

/// A role named on the command line.
fn role(s: &str) -> Result<Role, String> {
    s.parse().map_err(|()| {
        format!(
            "unknown role `{s}`: one of {}",
            Role::ALL
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    })
}
use crate::config::{DbSettings, JwtSettings, LogFormat, Settings};

#[derive(Parser)]
#[command(name = "fabriques", version, about = "The Fabriques prospectives API")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default).
    Serve(Box<Settings>),
    /// Create or upgrade the database schema, then exit.
    Migrate(DbSettings),
    /// Mint a JWT for local use and print it alone on standard output.
    Token {
        #[arg(long, value_parser = role, default_value = "admin")]
        role: Role,
        /// Organization id (required for a partner).
        #[arg(long)]
        org: Option<Uuid>,
        /// Territory id (required for a territory).
        #[arg(long)]
        territory: Option<Uuid>,
        /// Subject (who the token is for).
        #[arg(long, default_value = "local-user")]
        sub: String,
        /// Lifetime in seconds.
        #[arg(long, default_value_t = 3600)]
        ttl: i64,
        #[command(flatten)]
        jwt: JwtSettings,
        #[arg(long, env = "FABRIQUES_DATA_DIR", default_value = "data")]
        data_dir: PathBuf,
    },
    /// Print the OpenAPI document, or write it to a file.
    Openapi {
        /// Write to this file instead of standard output (e.g. openapi/openapi.json).
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Print the data dictionary, or write it (docs/data-dictionary.md).
    Dictionary {
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Print the role × permission document, or write it (docs/permissions.md).
    Permissions {
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Print the catalogue of problem and blocker codes, or write it (docs/problems.md).
    Problems {
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Manage machine clients (OAuth 2.0 client credentials) directly in the database.
    Client {
        #[command(subcommand)]
        action: ClientCommand,
        #[command(flatten)]
        db: DbSettings,
    },
    /// Load data into an empty database.
    Seed {
        /// The real Fabriques of the public record (docs/public-record.md).
        #[arg(
            long,
            required_unless_present = "synthetic",
            conflicts_with = "synthetic"
        )]
        demo: bool,
        /// A deterministic synthetic dataset drawn from the official geography.
        #[arg(long)]
        synthetic: bool,
        /// How many synthetic Fabriques.
        #[arg(long, default_value_t = 1000, requires = "synthetic")]
        fabriques: usize,
        /// The synthetic dataset's seed: the same seed gives the same data.
        #[arg(long, default_value_t = 1, requires = "synthetic")]
        seed: u64,
        #[command(flatten)]
        db: DbSettings,
    },
}

#[derive(Subcommand)]
enum ClientCommand {
    /// Create a client and print its credentials as JSON (the secret is shown this once).
    Create {
        #[arg(long)]
        name: String,
        /// Any role but admin.
        #[arg(long, value_parser = role)]
        role: Role,
        /// Organization id (required for a partner).
        #[arg(long)]
        org: Option<Uuid>,
        /// Territory id (required for a territory).
        #[arg(long)]
        territory: Option<Uuid>,
        /// Requests per minute (the server's default otherwise).
        #[arg(long)]
        rate_limit: Option<i32>,
        /// The OAuth scopes its tokens may carry, comma-separated (`read`, `write`; both
        /// otherwise).
        #[arg(long, value_delimiter = ',')]
        scopes: Option<Vec<String>>,
    },
    /// List the clients, one per line: id, role, status, name.
    List,
    /// Revoke a client: its tokens stop working at once.
    Revoke { id: Uuid },
    /// Give a client a new secret and print its credentials as JSON.
    Rotate { id: Uuid },
}

fn init_logs(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        None => match Cli::parse_from(["fabriques", "serve"]).command {
            Some(Command::Serve(s)) => serve(*s),
            _ => Err(anyhow::anyhow!("no command")),
        },
        Some(Command::Serve(s)) => serve(*s),
        Some(Command::Migrate(db)) => runtime().and_then(|rt| {
            rt.block_on(async {
                init_logs(LogFormat::Text);
                crate::db::connect_and_migrate_with(&db.url(), db.tuning).await?;
                tracing::info!("database migrated");
                Ok(())
            })
        }),
        Some(Command::Token {
            role,
            org,
            territory,
            sub,
            ttl,
            jwt,
            data_dir,
        }) => token(role, org, territory, &sub, ttl, &jwt, &data_dir),
        Some(Command::Openapi { output }) => {
            write_or_print(output, &crate::edge::openapi::spec_json())
        }
        Some(Command::Dictionary { output }) => {
            write_or_print(output, &crate::dictionary::markdown())
        }
        Some(Command::Permissions { output }) => {
            write_or_print(output, &crate::auth::permissions_markdown())
        }
        Some(Command::Problems { output }) => {
            write_or_print(output, &crate::edge::problems::markdown())
        }
        Some(Command::Client { action, db }) => {
            runtime().and_then(|rt| rt.block_on(client(action, &db)))
        }
        Some(Command::Seed {
            demo: _,
            synthetic,
            fabriques,
            seed,
            db,
        }) => runtime().and_then(|rt| {
            rt.block_on(async {
                init_logs(LogFormat::Text);
                let conn = crate::db::connect_and_migrate_with(&db.url(), db.tuning).await?;
                if synthetic {
                    let started = std::time::Instant::now();
                    let counts = crate::loaders::synthetic::seed(&conn, fabriques, seed).await?;
                    tracing::info!(
                        elapsed_ms = started.elapsed().as_millis() as u64,
                        ?counts,
                        "synthetic dataset written"
                    );
                    Ok(())
                } else {
                    crate::loaders::seed::demo(&conn).await
                }
            })
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fabriques: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn write_or_print(output: Option<PathBuf>, text: &str) -> anyhow::Result<()> {
    match output {
        Some(path) => std::fs::write(&path, text).map_err(anyhow::Error::from),
        None => {
            print!("{text}");
            Ok(())
        }
    }
}

/// Hands back to the system the heap the start-up freed (migrations, the reference geography,
/// the figures' fill, the OpenAPI document): glibc keeps freed memory for reuse, and an idle
/// instance would hold it for ever.
#[allow(unsafe_code)]
fn release_start_up_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks the allocator's own free lists; it is thread-safe.
    unsafe {
        libc::malloc_trim(0);
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

fn token(
    role: Role,
    org: Option<Uuid>,
    territory: Option<Uuid>,
    sub: &str,
    ttl: i64,
    jwt: &JwtSettings,
    data_dir: &std::path::Path,
) -> anyhow::Result<()> {
    match role {
        Role::Partner if org.is_none() => {
            anyhow::bail!("a partner token needs --org <organization id>")
        }
        Role::Territory if territory.is_none() => {
            anyhow::bail!("a territory token needs --territory <territory id>")
        }
        _ => {}
    }
    if ttl <= 0 {
        anyhow::bail!("--ttl must be positive");
    }
    let keys = JwtKeys::load(jwt, data_dir)?;
    println!("{}", keys.mint(sub, role, org, territory, ttl)?);
    Ok(())
}

fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// An API error as a message for the terminal.
fn cli_error(e: crate::edge::error::ApiError) -> anyhow::Error {
    let p = e.problem();
    let mut msg = p.detail;
    for f in p.errors {
        msg.push_str(&format!("\n  {}: {}", f.pointer, f.detail));
    }
    anyhow::anyhow!(msg)
}

async fn client(action: ClientCommand, db: &DbSettings) -> anyhow::Result<()> {
    use crate::edge::error::ApiError;
    use crate::edge::routes::clients::{ClientCredentials, CreateClientRequest};
    use store::clients as store;
    use validator::Validate;
    let conn = crate::db::connect_and_migrate_with(&db.url(), db.tuning).await?;
    let fail = |e: ::store::StoreError| cli_error(ApiError::from(e));
    match action {
        ClientCommand::Create {
            name,
            role,
            org,
            territory,
            rate_limit,
            scopes,
        } => {
            let scopes = scopes
                .map(|list| {
                    list.iter()
                        .map(|s| {
                            s.parse::<domain::TokenScope>()
                                .map_err(|()| anyhow::anyhow!("`{s}` is not a scope: read, write"))
                        })
                        .collect::<anyhow::Result<Vec<_>>>()
                })
                .transpose()?;
            let req = CreateClientRequest {
                scopes,
                name,
                role,
                organization_id: org,
                territory_id: territory,
                rate_limit_per_minute: rate_limit,
            };
            req.validate().map_err(|e| cli_error(ApiError::from(e)))?;
            let new = domain::directory::NewClient::try_from(req).map_err(cli_error)?;
            let (secret, hash) = crate::auth::secrets::new_client_secret()
                .await
                .map_err(cli_error)?;
            let c = store::create(&conn, &::store::journal::Actor::system(), new, hash)
                .await
                .map_err(fail)?;
            print_json(&ClientCredentials {
                client_id: c.id,
                client: c,
                client_secret: secret,
            })
        }
        ClientCommand::List => {
            let mut page_request = domain::query::PageRequest {
                limit: domain::query::MAX_LIMIT,
                ..Default::default()
            };
            loop {
                let page = store::list(&conn, None, None, &page_request)
                    .await
                    .map_err(fail)?;
                for c in page.items {
                    println!("{}\t{}\t{}\t{}", c.id, c.role, c.status, c.name);
                }
                match page.next {
                    Some(next) => page_request.after = Some(next),
                    None => return Ok(()),
                }
            }
        }
        ClientCommand::Revoke { id } => print_json(
            &store::revoke(&conn, &::store::journal::Actor::system(), id)
                .await
                .map_err(fail)?,
        ),
        ClientCommand::Rotate { id } => {
            store::check_rotation(&conn, id).await.map_err(fail)?;
            let (secret, hash) = crate::auth::secrets::new_client_secret()
                .await
                .map_err(cli_error)?;
            let c = store::rotate(&conn, &::store::journal::Actor::system(), id, hash)
                .await
                .map_err(fail)?;
            print_json(&ClientCredentials {
                client_id: c.id,
                client: c,
                client_secret: secret,
            })
        }
    }
}

fn serve(settings: Settings) -> anyhow::Result<()> {
    init_logs(settings.log_format);
    actix_web::rt::System::new().block_on(async move {
        let app = crate::Application::build(&settings).await?;
        release_start_up_memory();
        tracing::info!(bind = %settings.bind, database = %crate::db::redact(&settings.db.url()), "fabriques listening; Swagger UI at /swagger-ui/");
        app.run_until_stopped().await?;
        Ok(())
    })
}
