//! Building and running the HTTP server from [`Settings`].

use std::net::TcpListener;
use std::sync::{Arc, OnceLock};

use actix_extensible_rate_limit::RateLimiter;
use actix_extensible_rate_limit::backend::memory::InMemoryBackend;

use actix_web::dev::Server;
use actix_web::middleware::{Compress, Condition, from_fn};
use actix_web::{App, HttpResponse, HttpServer, web};
use anyhow::{Context, bail};
use sea_orm::DatabaseConnection;
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::{JwtKeys, KeyOrigin};
use crate::config::{ServiceOptions, Settings};
use crate::edge::error::ApiError;
use crate::edge::middleware::{KnownRoutes, fallback, request_context};

pub struct Application {
    port: u16,
    server: Server,
    pub db: DatabaseConnection,
}

impl Application {
    /// Connects and migrates the database, loads the keys and binds the listener.
    pub async fn build(settings: &Settings) -> anyhow::Result<Self> {
        let keys = JwtKeys::load(&settings.jwt, &settings.db.data_dir)?;
        if keys.origin == KeyOrigin::Generated && !settings.bind.ip().is_loopback() {
            bail!(
                "refusing to listen on {} with a generated JWT secret: configure FABRIQUES_JWT_SECRET (32+ bytes) or key files",
                settings.bind
            );
        }
        let db =
            crate::db::connect_and_migrate_with(&settings.db.url(), settings.db.tuning).await?;
        let listener = TcpListener::bind(settings.bind)
            .with_context(|| format!("binding {}", settings.bind))?;
        Self::with_listener(listener, db, keys, settings.options.clone())
    }

    pub fn with_listener(
        listener: TcpListener,
        db: DatabaseConnection,
        keys: JwtKeys,
        options: ServiceOptions,
    ) -> anyhow::Result<Self> {
        let port = listener.local_addr()?.port();
        crate::jobs::purge::spawn(db.clone(), options.clone());
        let write_gate = crate::edge::write_gate::WriteGate::for_database(&db);
        crate::jobs::checkpoint::spawn(&db, write_gate.clone());
        if options.webhook_worker {
            crate::jobs::webhooks::spawn(db.clone(), options.clone());
        }
        let rate_limited = options.rate_limit_per_minute > 0;
        let figures = web::Data::new(crate::edge::figures_cache::FiguresCache::new(
            options.stats_cache_seconds,
        ));
        let exports = web::Data::new(crate::edge::exports_gate::ExportsGate::new(
            options.exports_concurrency,
            options.exports_per_caller,
        ));
        let cors_origins = options.cors_origins.clone();
        let metrics_on = crate::edge::metrics::enabled(&options);
        let telemetry = crate::telemetry::Telemetry::new()?;
        let prometheus = actix_web_prom::PrometheusMetricsBuilder::new("fabriques")
            .registry(telemetry.registry.clone())
            .mask_unmatched_patterns("UNKNOWN")
            // Swagger UI's files: not API traffic, and a pattern the middleware cannot label.
            .exclude_regex("^/swagger-ui")
            .build()
            .map_err(|e| anyhow::anyhow!("the request metrics: {e}"))?;
        let telemetry = web::Data::new(telemetry);
        let options = web::Data::new(options);
        // One counter store for all workers, built on the first worker (it needs its runtime).
        let backend: Arc<OnceLock<InMemoryBackend>> = Arc::default();
        let keys = web::Data::new(Arc::new(keys));
        let known = web::Data::new(KnownRoutes::from_document(crate::edge::openapi::COMMITTED)?);
        let spec_json = web::Data::new(SpecJson(crate::edge::openapi::COMMITTED));
        let writes = web::Data::new(crate::edge::guard::WriteRoutes::from_document(
            crate::edge::openapi::COMMITTED,
        )?);
        let data_db = web::Data::new(db.clone());
        let write_gate = web::Data::new(write_gate);
        let writer = web::Data::new(
            crate::edge::writer::Writer::for_database(&db).context("starting the writer thread")?,
        );
        let server = HttpServer::new(move || {
            let limiter = RateLimiter::builder(
                backend
                    .get_or_init(|| InMemoryBackend::builder().build())
                    .clone(),
                crate::edge::ratelimit::input,
            )
            .request_allowed_transformation(Some(crate::edge::ratelimit::allowed))
            .request_denied_response(crate::edge::ratelimit::denied)
            .build();
            // Registered with actix alone: the document is the committed one (`SpecJson`);
            // `openapi::spec` gathers it from the same registrations.
            App::new()
                .app_data(data_db.clone())
                .app_data(write_gate.clone())
                .app_data(writer.clone())
                .app_data(keys.clone())
                .app_data(options.clone())
                .app_data(figures.clone())
                .app_data(exports.clone())
                .app_data(known.clone())
                .app_data(writes.clone())
                .app_data(spec_json.clone())
                .app_data(telemetry.clone())
                // The idempotency middleware reads bodies up to the API's own limit.
                .app_data(web::PayloadConfig::new(
                    crate::edge::extract::MAX_BODY_BYTES,
                ))
                .app_data(web::PathConfig::default().error_handler(|e, _| {
                    ApiError::bad_request(
                        "invalid_path_parameter",
                        format!("invalid path parameter: {e}"),
                    )
                    .into()
                }))
                .service(crate::edge::routes::health::live)
                .service(crate::edge::routes::health::ready)
                .service(crate::edge::routes::oauth::create_token)
                .service(crate::edge::routes::oauth::get_jwks)
                .service(
                    web::scope("/api/v1")
                        .configure(crate::edge::routes::configure)
                        .route("/openapi.json", web::get().to(serve_spec)),
                )
                .service(
                    SwaggerUi::new("/swagger-ui/{_:.*}")
                        .config(utoipa_swagger_ui::Config::from("/api/v1/openapi.json")),
                )
                .route(
                    "/swagger-ui",
                    web::get().to(|| async { redirect("/swagger-ui/") }),
                )
                .route("/", web::get().to(|| async { redirect("/swagger-ui/") }))
                .configure(|c| {
                    if metrics_on {
                        c.route("/metrics", web::get().to(crate::edge::metrics::metrics));
                    }
                })
                .default_service(web::to(fallback))
                .wrap(from_fn(crate::edge::guard::guard))
                .wrap(from_fn(crate::edge::idempotency::idempotency))
                .wrap(from_fn(crate::edge::middleware::no_stray_query))
                .wrap(Condition::new(rate_limited, limiter))
                .wrap(from_fn(crate::edge::browsers::head_as_get))
                // Preflights are answered here, before the rate limiter.
                .wrap(crate::edge::browsers::cors(&cors_origins))
                .wrap(from_fn(crate::edge::browsers::security_headers))
                // Outermost last: the request context sees uncompressed bodies.
                .wrap(from_fn(request_context))
                // Every answer counted with its final status, by route template.
                .wrap(prometheus.clone())
                .wrap(from_fn(crate::edge::metrics::bounded_method))
                .wrap(Compress::default())
        })
        .listen(listener)?
        .shutdown_timeout(10)
        .run();
        Ok(Self { port, server, db })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// The OpenAPI document as committed (see [`crate::edge::openapi::COMMITTED`]).
struct SpecJson(&'static str);

async fn serve_spec(spec: web::Data<SpecJson>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(spec.0)
}

fn redirect(to: &'static str) -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header(("Location", to))
        .finish()
}
