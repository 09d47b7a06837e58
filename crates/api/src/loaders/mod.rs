//! Data loaders: the official geography compiled into the binary ([`reference`]), the demo
//! data of the public record ([`seed`]) and the synthetic dataset of the benchmark
//! ([`synthetic`]). They write domain values through the store's entities, and the journal
//! as a live write would where they say so.

pub mod reference;
pub mod seed;
pub mod synthetic;
