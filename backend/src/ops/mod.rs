//! Operations: liveness, readiness, metrics (`http.rs`) and the money audit
//! (`audit.rs`).

pub mod audit;
pub mod http;
