//! The customer's cashier: a page and JSON/SSE endpoints addressed by an unguessable
//! token.

pub mod http;
pub mod service;
