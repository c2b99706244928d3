//! Portal authentication: users (admins, acceptors, merchant users), argon2id password
//! hashes, sessions (a JWT naming a revocable row), login and second-factor throttling,
//! CSRF tokens, and the extractors that authorise routes.
//!
//! Other features use [`service`] and the record re-exported here ([`user`]); `store`
//! is this feature's own.

pub mod extract;
pub mod http;
pub mod model;
pub mod second_factor;
pub mod service;
pub mod session;
pub mod store;
pub mod tokens;
pub mod totp;

pub use extract::{AdminUser, AuthUser};
pub use model::Role;
pub use store::user;
