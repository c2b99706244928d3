//! `/acceptor/security`, `/admin/security`, `/merchant/security`: two-factor
//! authentication (TOTP) — set up, turn on with a code, turn off with a code — through
//! the same auth service as the API; one handler set for every role.

pub mod http;
pub mod model;
