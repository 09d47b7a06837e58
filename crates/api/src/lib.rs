//! The fabriques HTTP API and its `fabriques` binary, in four rooms:
//!
//! - [`edge`]: actix-web. Handlers and their DTOs (`edge::routes`), the extractors that parse
//!   requests into typed inputs, the one error type, ETags, idempotency, rate limits, the
//!   OpenAPI document.
//! - [`auth`]: the JWT keys, each request's token and access, client and webhook secrets.
//! - [`jobs`]: what runs in the background (webhook delivery, purges).
//! - [`loaders`]: data put in from outside (the official geography, the demo data, the
//!   synthetic dataset).
//!
//! The rules are the `domain` crate's; every database read and write is the `store` crate's.

pub mod auth;
pub mod cli;
pub mod config;
pub mod datapackage;
pub mod db;
pub mod dictionary;
pub mod edge;
pub mod jobs;
pub mod loaders;
pub mod startup;
pub mod telemetry;

pub use startup::Application;
