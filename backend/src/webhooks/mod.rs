//! Webhooks: the transactional outbox, Standard Webhooks signing, the dispatcher and the
//! delivery log.
//!
//! - `service::enqueue` writes an event in the caller's transaction; callers wake the
//!   dispatcher (`AppState::webhook_wakeup`) after the commit.
//! - `dispatcher::spawn` runs the delivery loop (claim, sign, send, log, retry).
//! - `signing` is Standard Webhooks (`webhook-id`, `webhook-timestamp`,
//!   `webhook-signature`); `signing::verify` is what a receiver does.
//! - the SSRF guard (`crate::ssrf`) keeps deliveries away from private and other non-public addresses.
//! - `model` holds the retry schedule and the delivery-log view; `http` the signed
//!   merchant routes (attempt log, redelivery).
//!
//! Other features use [`service`] and the records re-exported here ([`event`],
//! [`delivery`]); `store` is this feature's own.

pub mod dispatcher;
pub mod http;
pub mod model;
pub mod service;
pub mod signing;
pub mod status;
pub mod store;

pub use store::{delivery, event};
