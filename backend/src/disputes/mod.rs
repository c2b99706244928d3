//! Disputes: opened by acceptors, merchants or customers (as order transitions, which
//! write the record `orders::dispute`), discussed in a message thread by admins and the order's acceptor
//! (`service.rs`), resolved by admins.
//!
//! Other features use [`service`] and the records re-exported here.

pub mod http;
pub mod model;
pub mod service;
pub mod store;

pub use store::{dispute, message};
