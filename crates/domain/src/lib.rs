//! The rules of the Fabriques prospectives, with no I/O.
//!
//! Policy of this crate: every lifecycle is a pure function from *facts* (a snapshot the caller
//! reads from wherever it stores things) and an *action* to either the effects to apply or the
//! complete list of unmet conditions. Every other refusal (edits, deletions, partners, funding,
//! lessons) is a function of the same kind returning [`Blockers`] or field errors. Who may see
//! and do what is one policy, [`access::Access`]. Nothing here knows about HTTP, SQL, async or
//! clocks: the caller passes `today`. Value types parse once at the edge and cannot hold
//! invalid data; the typed inputs of reads ([`query`]) and writes (`New…`, `…Changes`) are
//! what the HTTP edge hands to the store.

pub mod access;
pub mod blocker;
pub mod codes;
pub mod correction;
pub mod dates;
pub mod directory;
pub mod fabrique;
pub mod funding;
pub mod lesson;
pub mod organization;
pub mod participation;
pub mod query;
pub mod refusal;
pub mod roadmap;
pub mod seminar;
pub mod territory;
pub mod testimony;
pub mod text;
pub mod vocab;
pub mod working_group;

pub use access::{
    Access, Caller, Denied, Grant, Permission, Role, Scope, Tier, TokenScope, TokenScopes, View,
};
pub use blocker::{Blocker, Blockers};
pub use codes::{
    CodeError, DepartmentCode, InseeCode, RegionCode, Siren, TerritoryCode, TerritoryKind,
};
pub use dates::{BoundsError, DateError, TerritoryBounds, default_end, parse_day, parse_instant};
pub use fabrique::{FabriqueAction, FabriqueFacts, FabriqueStatus, ParticipationCounts};
pub use organization::{OrganizationKind, PartnerRole};
pub use participation::{ParticipationAction, ParticipationFacts, ParticipationStatus};
pub use refusal::{FieldError, Refusal};
pub use roadmap::RoadmapStatus;
pub use vocab::{
    ClientStatus, DeliveryStatus, EntityType, ExternalEntityType, FundingKind, LessonKind,
    MemberCategory, WebhookStatus,
};

#[cfg(test)]
mod invariants;
