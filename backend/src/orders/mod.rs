//! Payment orders: creation by merchants, matching, the lifecycle state machine and its
//! timers.

pub mod http;
pub mod model;
pub mod request;
pub mod sandbox;
pub mod scheduler;
pub mod service;
pub mod store;
pub mod view;
pub mod writer;
