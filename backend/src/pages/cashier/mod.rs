//! The paying customer's page, `/pay/{token}` (the token is the capability; no account).

pub mod http;
pub mod model;
