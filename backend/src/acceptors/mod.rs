//! Acceptors: OTC liquidity providers — admin management (create, approve, freeze,
//! deposits), the acceptor's own profile, presence, quotes and payment methods, its
//! orders and its live event stream.
//!
//! - `model.rs`: statuses, request bodies and their validation, API views;
//! - `store.rs`: the entities and the acceptor-scoped queries;
//! - `service.rs`: use cases (one transaction each, audited for admins), and the
//!   matching-engine updates sent after each commit;
//! - `http.rs`: the routes of `/api/v1/admin/acceptors…` and `/api/v1/acceptor/…`.

pub mod http;
pub mod model;
pub mod presence;
pub mod service;
pub mod store;
