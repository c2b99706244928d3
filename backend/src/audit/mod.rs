//! The audit log: every admin action, append-only, readable by admins.

pub mod http;
pub mod service;
pub mod store;

pub use service::{AuditEntry, record};
