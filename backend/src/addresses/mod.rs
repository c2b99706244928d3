//! Blockchain addresses: validation and normalization per network (TRON base58check,
//! EVM EIP-55), used by `POST /api/v1/public/addresses/validate` and by withdrawals.
//!
//! - `model.rs`: [`validate`] and [`AddressError`], pure functions (base58check through
//!   the `bs58` crate).

pub mod model;

pub use model::{AddressError, eip55, validate};
