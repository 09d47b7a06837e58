//! The fabriques HTTP API: actix-web handlers over the domain rules and the sea-orm store.

pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod dictionary;
pub mod error;
pub mod etag;
pub mod extract;
pub mod figures_cache;
pub mod idempotency;
pub mod journal;
pub mod middleware;
pub mod openapi;
pub mod pagination;
pub mod problems;
pub mod ratelimit;
pub mod reference;
pub mod routes;
pub mod seed;
pub mod startup;
pub mod store;
pub mod synthetic;
pub mod webhooks;

pub use startup::Application;
