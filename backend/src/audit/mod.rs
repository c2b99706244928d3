//! The audit log: every admin action, append-only, readable by admins.
//!
//! Other features use [`service`] and the record re-exported here ([`entry`]); `store`
//! is this feature's own.

pub mod service;
pub mod store;

pub use service::{AuditEntry, record};
pub use store::{AuditFilter, entry};
