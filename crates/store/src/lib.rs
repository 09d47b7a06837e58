//! The store of the Fabriques prospectives: every database read and write.
//!
//! Policy of this crate:
//! - It takes typed inputs (the domain's `New…`, `…Changes`, filters and [`domain::query`]
//!   pages) and the caller's [`domain::Access`], and returns records and read models. It knows
//!   no HTTP: no actix, no request or response types, no query strings (the build keeps it
//!   so: this crate does not depend on actix, and CI checks it).
//! - Who sees what is decided by the access policy only: rows through the renderings of
//!   [`access`], fields through the tiers each read model declares ([`tiers`]).
//! - Refusals come from the domain's rules ([`domain::Blockers`]); unique keys are left to
//!   the database and told apart by constraint name ([`constraints`]); stored names are
//!   decoded strictly ([`decode`]). [`StoreError`] says which, and the edge picks the status.
//! - Every function takes `&impl ConnectionTrait` and is handed the transaction of a write,
//!   never the pool (SQLite has one connection: mixing them hangs). Reads that need one
//!   statement run it on the pool directly.

pub mod access;
pub mod clients;
pub mod constraints;
pub mod cursor;
pub mod decode;
pub mod error;
pub mod events;
pub mod exports;
pub mod external_ids;
pub mod fabriques;
pub mod fault;
pub mod figures;
pub mod funding;
pub mod journal;
pub mod lessons;
pub mod map;
pub mod organizations;
pub mod page;
pub mod participations;
pub mod problem;
pub mod programmes;
pub mod progress;
pub mod reference;
pub mod roadmaps;
pub mod seminars;
pub mod stats;
pub mod territories;
pub mod testimonies;
pub mod tiers;
pub mod versions;
pub mod webhooks;
pub mod working_groups;

pub use error::{StoreError, StoreResult};
pub use fault::DbFault;
pub use journal::Actor;
pub use page::Page;
pub use problem::FieldProblem;

/// Starts a transaction that will write. On SQLite it takes the write lock first
/// (`BEGIN IMMEDIATE`), waiting up to the busy timeout for another writer: a transaction that
/// read first and then wrote could otherwise fail at once when another connection wrote in
/// between (WAL lets readers run beside the one writer). PostgreSQL ignores the mode.
pub async fn begin_write<C>(db: &C) -> Result<C::Transaction, sea_orm::DbErr>
where
    C: sea_orm::TransactionTrait,
{
    db.begin_with_options(sea_orm::TransactionOptions {
        sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}
