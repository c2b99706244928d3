//! Portal authentication: users (admins, acceptors, merchant users), argon2id password
//! hashes, JWT sessions, login throttling, and the extractors that authorise routes.

pub mod extract;
pub mod http;
pub mod model;
pub mod service;
pub mod store;
pub mod totp;

pub use extract::{AdminUser, AuthUser};
pub use model::Role;
