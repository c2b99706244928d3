//! Disputes: opened by acceptors, merchants or customers (as order transitions in
//! `orders::service`), discussed and resolved by admins here.

pub mod http;
pub mod model;
pub mod store;
