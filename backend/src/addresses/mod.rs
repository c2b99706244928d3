//! Blockchain addresses: validation and normalization per network (TRON base58check,
//! EVM EIP-55), used by `POST /api/v1/public/addresses/validate` and by withdrawals.
//!
//! - `model.rs`: [`validate`] and [`AddressError`], pure functions (base58check through
//!   the `bs58` crate).
//! - `txid.rs`: [`Txid`], transaction ids as typed and their canonical form per network.

pub mod model;
pub mod txid;

pub use model::{AddressError, eip55, validate};
pub use txid::Txid;
