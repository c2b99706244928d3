//! `/acceptor/security`: two-factor authentication (TOTP) — set up, turn on with a
//! code, turn off with a code — through the same auth service as the API.

pub mod http;
pub mod model;
