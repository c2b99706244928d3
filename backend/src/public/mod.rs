//! Unauthenticated endpoints: server time, currencies and networks, rates, address
//! validation.
//!
//! - `networks.rs`: the network table (ids, names, chain ids, withdrawal fees and
//!   minimums) — also used by withdrawals.
//! - `model.rs`: response and request shapes, and the pure depth aggregation.
//! - `service.rs`: the rates query (quotes of active, online acceptors + their ledger
//!   balances, two queries).
//! - `http.rs`: the routes under `/api/v1/public/`.

pub mod http;
pub mod model;
pub mod networks;
pub mod service;

pub use networks::{AddressFormat, NETWORKS, Network};
