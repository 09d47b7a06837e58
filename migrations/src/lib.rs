//! The fabriques schema. This crate is the only authority on tables, indexes and
//! constraints: entities mirror it, tests run it on SQLite and PostgreSQL, and nothing builds
//! the schema from entities.

pub use sea_orm_migration::prelude::*;

mod m20261128_000001_core;
mod m20261128_000002_programme_year;
mod m20261128_000003_idempotency;
mod m20261128_000004_feed;
mod m20261128_000005_external_ids;
mod m20261128_000006_clients_webhooks;
mod m20261128_000007_reference;
mod m20261128_000008_wider_region;
mod m20261128_000009_programme_index;
mod m20261202_000001_idempotency_secrets;
mod m20261202_000002_client_secret_generation;
mod m20261202_000003_reference_search;
mod m20261202_000004_webhook_due_per_subscription;
mod m20261202_000005_figures;
mod m20261203_000001_figures_version;
mod m20261203_000002_territory_figures;
mod m20261203_000003_fabrique_area_figures;
mod m20261203_000004_territory_key_figures;
mod m20261204_000001_key_figures;
mod m20261208_000001_search;
mod m20261208_000002_client_scopes;
mod m20261208_000003_event_reason;

pub use m20261128_000001_core::PROGRAMMES;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261128_000001_core::Migration),
            Box::new(m20261128_000002_programme_year::Migration),
            Box::new(m20261128_000003_idempotency::Migration),
            Box::new(m20261128_000004_feed::Migration),
            Box::new(m20261128_000005_external_ids::Migration),
            Box::new(m20261128_000006_clients_webhooks::Migration),
            Box::new(m20261128_000007_reference::Migration),
            Box::new(m20261128_000008_wider_region::Migration),
            Box::new(m20261128_000009_programme_index::Migration),
            Box::new(m20261202_000001_idempotency_secrets::Migration),
            Box::new(m20261202_000002_client_secret_generation::Migration),
            Box::new(m20261202_000003_reference_search::Migration),
            Box::new(m20261202_000004_webhook_due_per_subscription::Migration),
            Box::new(m20261202_000005_figures::Migration),
            Box::new(m20261203_000001_figures_version::Migration),
            Box::new(m20261203_000002_territory_figures::Migration),
            Box::new(m20261203_000003_fabrique_area_figures::Migration),
            Box::new(m20261203_000004_territory_key_figures::Migration),
            Box::new(m20261204_000001_key_figures::Migration),
            Box::new(m20261208_000001_search::Migration),
            Box::new(m20261208_000002_client_scopes::Migration),
            Box::new(m20261208_000003_event_reason::Migration),
        ]
    }
}
