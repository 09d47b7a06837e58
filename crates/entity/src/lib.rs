//! sea-orm entities mirroring `migrations/` (the schema authority). Relations are left out:
//! the store in the api crate joins explicitly.

pub mod api_client;
pub mod event;
pub mod external_id;
pub mod fabrique;
pub mod fabrique_partner;
pub mod funding_line;
pub mod idempotency_key;
pub mod lesson;
pub mod lesson_source;
pub mod organization;
pub mod participation;
pub mod programme;
pub mod ref_commune;
pub mod ref_department;
pub mod ref_epci;
pub mod ref_region;
pub mod roadmap;
pub mod roadmap_action;
pub mod seminar;
pub mod seminar_organization;
pub mod territory;
pub mod testimony;
pub mod webhook_delivery;
pub mod webhook_subscription;
pub mod working_group_member;

pub use sea_orm;
