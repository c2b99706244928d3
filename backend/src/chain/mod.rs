//! On-chain money in: USDT on Ethereum (ERC-20), BNB Smart Chain (BEP-20) and TRON
//! (TRC-20).
//!
//! - `config.rs`: the per-network settings (`[chain.ethereum]`, `[chain.bsc]`,
//!   `[chain.tron]` in `otcpay.toml`, or `OTCPAY_CHAIN_<NET>_*`); a network without
//!   them is off, and with none the server works as it does without chains.
//! - `hd.rs`: watch-only deposit addresses: derived from the network's extended public
//!   key (BIP-32), so the server never holds their private keys.
//! - `service.rs`: the address book (one address per acceptor and per merchant per
//!   network) and the views of addresses and deposits.
//! - `rpc.rs`: the node, through alloy (head, headers, `Transfer` logs).
//! - `follow.rs`: the confirmation and reorg rule, a deterministic state machine fed
//!   block by block (`Follower`), tested through random forks.
//! - `units.rs`: token base units (6 or 18 decimals) to micro-USDT, exactly.
//! - `store.rs`, `entity.rs`: the cursor, address book and transfer rows.
//!
//! This folder sits below the features (orders derive an on-chain order's address
//! here); `chain_watcher/`, above them, follows the chains and credits what arrives.

pub mod config;
pub mod entity;
pub mod follow;
pub mod hd;
pub mod rpc;
pub mod service;
pub mod store;
pub mod units;

pub use config::{ChainNetwork, enabled};
pub use hd::{DepositKey, KeyError};
pub use service::Chains;
