//! Merchant withdrawals (money out) and the merchant statement.
//!
//! - `model.rs`: the state machine (`review → approved → completed`, or `rejected`, or
//!   `failed`), the request parser, ledger transfer ids and the JSON views.
//! - `entity.rs`: the `withdrawals` entity (the table shape only); `status.rs`: its
//!   status enum, which `model.rs` re-exports.
//! - `store.rs`: the `withdrawals` queries; the statement queries on
//!   `ledger_transfers`.
//! - `service.rs`: creation with its ledger hold (and automatic approval below the
//!   merchant's threshold), admin transitions — each one transaction with the row lock,
//!   ledger batch, outbox row and audit entry — and the statement with running balances.
//! - `http.rs`: the signed merchant routes (`/api/v1/withdrawals…`,
//!   `/api/v1/ledger/entries`) and the admin routes (`/api/v1/admin/withdrawals…`).
//!
//! Money (DESIGN.md "Ledger"): creation holds `amount + fee` with one pending transfer
//! `merchant → withdrawals`; rejection and failure void it; completion posts it and moves
//! `amount` to `custody` (paid out) and `fee` to `revenue`. Test-mode keys use the
//! `livemode = false` accounts only.
//!
//! Other features use [`service`] and the record re-exported here ([`withdrawal`]);
//! `store` and `entity` are this feature's own.

pub mod entity;
pub mod http;
pub mod model;
pub mod service;
pub mod status;
pub mod store;

pub use entity::withdrawal;
pub use store::WithdrawalFilter;
