//! sea-orm entities mirroring `migrations/` (the schema authority). Relations are left out:
//! the store in the api crate joins explicitly.

pub mod event;
pub mod fabrique;
pub mod fabrique_partner;
pub mod organization;
pub mod participation;
pub mod territory;

pub use sea_orm;
