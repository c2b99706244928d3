//! Operations: liveness, readiness, metrics (`http.rs`), the money audit
//! (`audit.rs`) and the admin audit-log route (`audit_log.rs`).

pub mod audit;
pub mod audit_log;
pub mod http;
