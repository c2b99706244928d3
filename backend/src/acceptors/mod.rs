//! Acceptors: OTC liquidity providers — admin management (create, approve, freeze,
//! deposits), the acceptor's own profile, presence, quotes and payment methods, its
//! orders and its live event stream.
//!
//! - `model.rs`: statuses, request bodies and their validation, API views;
//! - `validation.rs`: the field rules and limits the request bodies share;
//! - `stats.rs`: order counters and the figures the acceptor object shows;
//! - `store.rs`: the acceptor-scoped queries (acceptors, quotes, payment methods,
//!   deposits);
//! - `service.rs`: use cases (one transaction each, audited for admins);
//! - `deposits.rs`: crediting an on-chain deposit (ledger transfer + row, idempotent);
//! - `history.rs`: the acceptor's orders, read only (lists, desk, replay, history,
//!   earnings);
//! - `engine_sync.rs`: the matching-engine updates sent after each commit;
//! - `presence.rs`: the desk's heartbeat and the sweeper;
//! - `http.rs`: the routes of `/api/v1/admin/acceptors…` and `/api/v1/acceptor/…`.
//!
//! The records (tables `acceptors`, `quotes`, `payment_methods`, `deposits`) and the
//! reads the order path needs are in `crate::acceptor_directory`, below `orders`;
//! this feature owns every write to them. Other features use [`service`] and the
//! records re-exported here; `store` is this feature's own.

pub mod deposits;
pub mod engine_sync;
pub mod history;
pub mod http;
pub mod model;
pub mod presence;
pub mod service;
pub mod stats;
pub mod store;
pub mod validation;

pub use crate::acceptor_directory::{acceptor, deposit, payment_method, quote};
pub use crate::acceptor_directory::{entity, status};
