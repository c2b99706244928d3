//! Payment orders: creation by merchants, matching, the lifecycle state machine and its
//! timers.
//!
//! Other features use [`service`] (use cases and reads) and the records re-exported
//! here ([`order`], [`order_event`]); `store` is this feature's own.

pub mod announce;
pub mod create;
pub mod deadlines;
pub mod dispute;
pub mod engine_state;
pub mod http;
pub mod matching;
pub mod model;
pub mod onchain;
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

pub use store::{OrderFilter, order, order_event};
