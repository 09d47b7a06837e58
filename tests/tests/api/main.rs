//! Black-box HTTP tests: one binary, modules by capability. Every scenario runs on SQLite and
//! on PostgreSQL (see `both_engines!`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod acceptance;
mod access;
mod auth;
mod browsers;
mod clients;
mod conformance;
mod contract;
mod demo;
mod directory;
mod errors;
mod exports;
mod external_ids;
mod faults;
mod feed;
mod guide;
mod helpers;
mod idempotency;
mod jwt_matrix;
mod keys;
mod lifecycle;
mod logs;
mod map;
mod metrics;
mod operations;
mod permissions;
mod preconditions;
mod ratelimit;
mod reference;
mod statements;
mod stats;
mod synthetic;
mod webhooks;
mod world;
mod year;
