//! The rules of the Fabriques prospectives, with no I/O.
//!
//! Policy of this crate: every lifecycle is a pure function from *facts* (a snapshot the caller
//! reads from wherever it stores things) and an *action* to either the effects to apply or the
//! complete list of unmet conditions. Nothing here knows about HTTP, SQL, async or clocks: the
//! caller passes `today`. Value types parse once at the edge and cannot hold invalid data.

pub mod blocker;
pub mod codes;
pub mod dates;
pub mod fabrique;
pub mod organization;
pub mod participation;
pub mod roadmap;
pub mod seminar;

pub use blocker::{Blocker, Blockers};
pub use codes::{
    CodeError, DepartmentCode, InseeCode, RegionCode, Siren, TerritoryCode, TerritoryKind,
};
pub use dates::{BoundsError, TerritoryBounds, default_end};
pub use fabrique::{FabriqueAction, FabriqueFacts, FabriqueStatus, ParticipationCounts};
pub use organization::{OrganizationKind, PartnerRole};
pub use participation::{ParticipationAction, ParticipationFacts, ParticipationStatus};

#[cfg(test)]
mod invariants;
