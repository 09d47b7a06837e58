//! Background jobs, one per instance: webhook delivery ([`webhooks`]) and purges
//! ([`purge`]).

pub mod purge;
pub mod webhooks;
