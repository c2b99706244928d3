//! Portal authentication: users (admins, acceptors, merchant users), argon2id password
//! hashes, sessions (a JWT naming a revocable row), login and second-factor throttling,
//! CSRF tokens, and the extractors that authorise routes.

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
