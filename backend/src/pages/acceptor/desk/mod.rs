//! `/acceptor` and `/acceptor/orders/{id}`: the orders that wait for the acceptor, live.

pub mod http;
pub mod model;
