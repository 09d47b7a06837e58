//! Background jobs, one per instance: webhook delivery ([`webhooks`]), purges ([`purge`]) and,
//! on SQLite, the write-ahead log's truncation ([`checkpoint`]).

pub mod checkpoint;
pub mod purge;
pub mod webhooks;
