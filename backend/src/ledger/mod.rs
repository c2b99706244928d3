//! The double-entry ledger: TigerBeetle's model on SQL, amounts in micro-USDT `i64`.
//!
//! - `model.rs`: account keys and codes, flags, transfer requests, errors and the check
//!   report types;
//! - `effect.rs`: the pure balance arithmetic of one transfer ([`effect::apply_effect`]);
//! - `store.rs`: the `ledger_accounts` / `ledger_transfers` entities and queries, including
//!   the SQL of the invariant check;
//! - `service.rs`: opening accounts, applying linked batches atomically (row locks on
//!   PostgreSQL), balances, statements;
//! - `check.rs`: the invariant check ([`check`]); the admin's audit, which adds the
//!   features' invariants, is `ops::audit`.
//!
//! Other features use the functions re-exported here and the records ([`accounts`],
//! [`transfers`]); `store` is this feature's own.
//!
//! Every balance change is a batch of transfers applied with [`apply`] inside the
//! caller's transaction (or [`transfer`] in its own). Accounts are opened on demand with
//! [`open_account`]. Invariants (checked by [`check`]): per livemode, debits equal credits
//! (posted and pending); no no-overdraft account overdrawn; cached balances equal a replay
//! of the transfers; a pending transfer resolves at most once and never for more than its
//! amount.

pub mod check;
pub mod effect;
pub mod model;
pub mod service;
pub mod store;

pub use check::{check, check_in};
pub use model::{
    Account, AccountCode, AccountKey, Balance, Balances, LedgerError, LedgerReport, PLATFORM_OWNER,
    RejectReason, Transfer, TransferOp, TransferOutcome, TransferRequest, Violation, account_flags,
    transfer_flags, violation_kind,
};
pub use service::{
    account, apply, apply_new, balance, find_accounts, find_transfer, open_account, open_accounts,
    transfer, transfers_of_account,
};
pub use store::{accounts, transfers};
