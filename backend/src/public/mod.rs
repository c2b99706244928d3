//! Unauthenticated endpoints: server time, currencies and networks, rates, address
//! validation.
//!
//! The network table it lists is `values::networks` (shared with addresses and
//! withdrawals).
//! - `model.rs`: response and request shapes, and the pure depth aggregation.
//! - `service.rs`: the rates query (quotes of active, online acceptors + their ledger
//!   balances, two queries).
//! - `http.rs`: the routes under `/api/v1/public/`.

pub mod http;
pub mod model;
pub mod service;
