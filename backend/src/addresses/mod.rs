//! Blockchain addresses: validation and normalization per network (TRON base58check,
//! EVM EIP-55), used by `POST /api/v1/public/addresses/validate` and by withdrawals.
//!
//! - `model.rs`: [`validate`] and [`AddressError`], pure functions (base58check through
//!   the `bs58` crate); the 20-byte account of a public key and its spelling per
//!   network ([`account_of_public_key`], [`format_account`], [`account_of`]).
//! - `txid.rs`: [`Txid`], transaction ids as typed and their canonical form per network.

pub mod model;
pub mod txid;

pub use model::{AddressError, account_of, account_of_public_key, eip55, format_account, validate};
pub use txid::Txid;
