//! Merchants: accounts managed by admins, API keys, signed-request authentication and
//! per-key rate limits.
//!
//! Other features use [`service`] and the records re-exported here ([`merchant`],
//! [`api_key`]); `store` is this feature's own.
//!
//! - `model.rs`: statuses, key modes and kinds, key and secret generation, validation of
//!   admin input, the JSON views (which never contain a secret).
//! - `store.rs`: the `merchants` and `api_keys` entities and their queries.
//! - `invite.rs`: the merchant's dashboard login and its invitation mail.
//! - `service.rs`: create / update merchants, issue / revoke keys — each in one
//!   transaction with its audit entry.
//! - `auth.rs`: the [`auth::SignedRequest`] extractor (HMAC or ECDSA P-256 signatures,
//!   time window, replay cache, per-key rate limits with bans, per-IP failure limit) and
//!   the [`auth::rate_limit_headers`] middleware.
//! - `http.rs`: the admin routes and `GET /api/v1/balance`.

pub mod auth;
pub mod http;
pub mod invite;
pub mod key_cache;
pub mod model;
pub mod service;
pub mod status;
pub mod store;

pub use auth::SignedRequest;
pub use store::{api_key, merchant};
