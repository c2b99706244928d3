//! Payment orders: creation by merchants, matching, the lifecycle state machine and its
//! timers.

pub mod announce;
pub mod create;
pub mod deadlines;
pub mod http;
pub mod matching;
pub mod model;
pub mod request;
pub mod sandbox;
pub mod scheduler;
pub mod service;
pub mod settlement;
pub mod side;
pub mod store;
pub mod transition;
pub mod transitions;
pub mod view;
pub mod writer;
