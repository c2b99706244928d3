//! Operations endpoints: liveness, readiness, metrics.

pub mod http;
