//! Ledger types (no I/O).
//!
//! The model is TigerBeetle's: accounts hold four cached columns (`debits_pending`,
//! `debits_posted`, `credits_pending`, `credits_posted`) in micro-USDT; transfers are
//! append-only rows that move an amount from a debit account to a credit account, either
//! at once (posted) or in two phases (pending, then post — in full or in part — or void).
//! The arithmetic that changes balances is in `effect.rs`.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Account flags (bitset in `ledger_accounts.flags`).
pub mod account_flags {
    /// No overdraft: after any transfer, `debits_pending + debits_posted ≤ credits_posted`.
    pub const DEBITS_MUST_NOT_EXCEED_CREDITS: i32 = 1;
}

/// Transfer flags (bitset in `ledger_transfers.flags`). A single-phase (posted) transfer
/// has none of them.
pub mod transfer_flags {
    /// Reserves the amount: `debits_pending`/`credits_pending` grow.
    pub const PENDING: i32 = 1;
    /// Resolves a pending transfer by posting (all or part of) it.
    pub const POST_PENDING: i32 = 2;
    /// Resolves a pending transfer by releasing it.
    pub const VOID_PENDING: i32 = 4;
}

/// The owner of the platform's own accounts.
pub const PLATFORM_OWNER: &str = "platform";

/// What an account is for. The string form is the `code` column and the first part of
/// the account id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountCode {
    /// A merchant's balance (owner = merchant id).
    Merchant,
    /// An acceptor's USDT liquidity (owner = acceptor id).
    Acceptor,
    /// Funds reserved for orders in flight.
    Escrow,
    /// Platform fees.
    Revenue,
    /// Merchant withdrawals between approval and payout.
    Withdrawals,
    /// The outside world: deposits come from it, payouts go to it. The one account
    /// allowed to go negative.
    Custody,
}

impl AccountCode {
    pub const ALL: [Self; 6] = [
        Self::Merchant,
        Self::Acceptor,
        Self::Escrow,
        Self::Revenue,
        Self::Withdrawals,
        Self::Custody,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Merchant => "merchant",
            Self::Acceptor => "acceptor",
            Self::Escrow => "escrow",
            Self::Revenue => "revenue",
            Self::Withdrawals => "withdrawals",
            Self::Custody => "custody",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|code| code.as_str() == text)
    }

    /// The flags an account of this code is opened with.
    pub fn default_flags(self) -> i32 {
        match self {
            Self::Custody => 0,
            _ => account_flags::DEBITS_MUST_NOT_EXCEED_CREDITS,
        }
    }

    /// Platform accounts are owned by [`PLATFORM_OWNER`].
    pub fn is_platform(self) -> bool {
        !matches!(self, Self::Merchant | Self::Acceptor)
    }
}

impl fmt::Display for AccountCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Identifies an account: code + owner + livemode. The account id is derived from it
/// deterministically: `{code}:{owner}:{live|test}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountKey {
    pub code: AccountCode,
    pub owner: String,
    pub livemode: bool,
}

impl AccountKey {
    pub fn new(code: AccountCode, owner: impl Into<String>, livemode: bool) -> Self {
        Self {
            code,
            owner: owner.into(),
            livemode,
        }
    }

    pub fn merchant(merchant_id: impl Into<String>, livemode: bool) -> Self {
        Self::new(AccountCode::Merchant, merchant_id, livemode)
    }

    pub fn acceptor(acceptor_id: impl Into<String>, livemode: bool) -> Self {
        Self::new(AccountCode::Acceptor, acceptor_id, livemode)
    }

    /// A platform account (`escrow`, `revenue`, `withdrawals`, `custody`).
    pub fn platform(code: AccountCode, livemode: bool) -> Self {
        Self::new(code, PLATFORM_OWNER, livemode)
    }

    pub fn escrow(livemode: bool) -> Self {
        Self::platform(AccountCode::Escrow, livemode)
    }

    pub fn revenue(livemode: bool) -> Self {
        Self::platform(AccountCode::Revenue, livemode)
    }

    pub fn withdrawals(livemode: bool) -> Self {
        Self::platform(AccountCode::Withdrawals, livemode)
    }

    pub fn custody(livemode: bool) -> Self {
        Self::platform(AccountCode::Custody, livemode)
    }

    /// The account id, e.g. `merchant:mch_01…:live`, `escrow:platform:test`.
    pub fn id(&self) -> String {
        format!("{}:{}:{}", self.code, self.owner, mode_str(self.livemode))
    }

    /// The inverse of [`AccountKey::id`].
    pub fn parse_id(id: &str) -> Option<Self> {
        let (code, rest) = id.split_once(':')?;
        let (owner, mode) = rest.rsplit_once(':')?;
        let livemode = match mode {
            "live" => true,
            "test" => false,
            _ => return None,
        };
        if owner.is_empty() {
            return None;
        }
        Some(Self::new(AccountCode::parse(code)?, owner, livemode))
    }

    /// The flags the account is opened with.
    pub fn flags(&self) -> i32 {
        self.code.default_flags()
    }
}

impl fmt::Display for AccountKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}",
            self.code,
            self.owner,
            mode_str(self.livemode)
        )
    }
}

/// `live` or `test`.
pub fn mode_str(livemode: bool) -> &'static str {
    if livemode { "live" } else { "test" }
}

/// The four cached columns of an account, in micro-USDT.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Balances {
    pub debits_pending: i64,
    pub debits_posted: i64,
    pub credits_pending: i64,
    pub credits_posted: i64,
}

impl Balances {
    /// The credit-normal view of the columns.
    pub fn balance(&self) -> Balance {
        let posted = self.credits_posted.saturating_sub(self.debits_posted);
        Balance {
            posted,
            pending_debits: self.debits_pending,
            pending_credits: self.credits_pending,
            available: posted.saturating_sub(self.debits_pending),
        }
    }

    /// True when `debits_pending + debits_posted > credits_posted` (an overdraft for a
    /// no-overdraft account). Computed without overflow.
    pub fn debits_exceed_credits(&self) -> bool {
        i128::from(self.debits_pending) + i128::from(self.debits_posted)
            > i128::from(self.credits_posted)
    }

    /// True when no column is negative.
    pub fn is_non_negative(&self) -> bool {
        self.debits_pending >= 0
            && self.debits_posted >= 0
            && self.credits_pending >= 0
            && self.credits_posted >= 0
    }
}

/// An account's balance as features use it (credit-normal: money the owner has).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Balance {
    /// `credits_posted − debits_posted`.
    pub posted: i64,
    /// Reserved out of the account (`debits_pending`).
    pub pending_debits: i64,
    /// On the way in (`credits_pending`).
    pub pending_credits: i64,
    /// What can be spent: `posted − pending_debits`.
    pub available: i64,
}

/// A ledger account row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: String,
    pub code: String,
    pub owner: String,
    pub livemode: bool,
    pub flags: i32,
    pub balances: Balances,
    pub created_at: i64,
}

impl Account {
    pub fn balance(&self) -> Balance {
        self.balances.balance()
    }

    pub fn no_overdraft(&self) -> bool {
        self.flags & account_flags::DEBITS_MUST_NOT_EXCEED_CREDITS != 0
    }
}

/// A stored (append-only) transfer row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Transfer {
    pub id: String,
    pub debit_account_id: String,
    pub credit_account_id: String,
    /// Posted: the amount moved. Pending: the amount reserved. Post: the amount posted
    /// (≤ the pending amount; the rest was released). Void: the amount released.
    pub amount: i64,
    /// For a post or void: the pending transfer it resolves.
    pub pending_id: Option<String>,
    pub flags: i32,
    pub kind: String,
    pub reference: String,
    pub livemode: bool,
    pub created_at: i64,
}

impl Transfer {
    pub fn is_pending(&self) -> bool {
        self.flags & transfer_flags::PENDING != 0
    }

    pub fn is_post_pending(&self) -> bool {
        self.flags & transfer_flags::POST_PENDING != 0
    }

    pub fn is_void_pending(&self) -> bool {
        self.flags & transfer_flags::VOID_PENDING != 0
    }

    /// A single-phase transfer (no flag).
    pub fn is_posted(&self) -> bool {
        self.flags
            & (transfer_flags::PENDING
                | transfer_flags::POST_PENDING
                | transfer_flags::VOID_PENDING)
            == 0
    }
}

/// What a transfer request does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransferOp {
    /// Single phase: `debit.debits_posted += amount; credit.credits_posted += amount`.
    Posted {
        debit: AccountKey,
        credit: AccountKey,
        amount: i64,
    },
    /// Reserve: `debit.debits_pending += amount; credit.credits_pending += amount`.
    Pending {
        debit: AccountKey,
        credit: AccountKey,
        amount: i64,
    },
    /// Post a pending transfer: `None` posts it in full; `Some(a)` with
    /// `0 < a ≤ pending amount` posts `a` and releases the rest. The accounts are the
    /// pending transfer's; `debit`/`credit`, when given, must match them.
    PostPending {
        pending_id: String,
        amount: Option<i64>,
        debit: Option<AccountKey>,
        credit: Option<AccountKey>,
    },
    /// Release a pending transfer. `debit`/`credit`, when given, must match it.
    VoidPending {
        pending_id: String,
        debit: Option<AccountKey>,
        credit: Option<AccountKey>,
    },
}

impl TransferOp {
    /// `posted`, `pending`, `post_pending`, `void_pending`: the default `kind`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Posted { .. } => "posted",
            Self::Pending { .. } => "pending",
            Self::PostPending { .. } => "post_pending",
            Self::VoidPending { .. } => "void_pending",
        }
    }

    /// The `flags` column of the row this operation writes.
    pub fn flags(&self) -> i32 {
        match self {
            Self::Posted { .. } => 0,
            Self::Pending { .. } => transfer_flags::PENDING,
            Self::PostPending { .. } => transfer_flags::POST_PENDING,
            Self::VoidPending { .. } => transfer_flags::VOID_PENDING,
        }
    }

    /// The pending transfer a post or void resolves.
    pub fn pending_id(&self) -> Option<&str> {
        match self {
            Self::PostPending { pending_id, .. } | Self::VoidPending { pending_id, .. } => {
                Some(pending_id)
            }
            _ => None,
        }
    }
}

/// One transfer of a batch. The `id` is chosen by the caller and is the idempotency key:
/// the same id with the same fields is a no-op ([`TransferOutcome::Exists`]); with other
/// fields it is an error ([`RejectReason::ExistsWithDifferentFields`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferRequest {
    pub id: String,
    pub op: TransferOp,
    /// What the movement is for, a short snake_case label (`deposit`, `order_reserve`,
    /// `order_release`, `fee`, …). Defaults to the operation's name.
    pub kind: String,
    /// The business object it belongs to (order id, withdrawal id, …); may be empty.
    pub reference: String,
}

impl TransferRequest {
    pub fn new(id: impl Into<String>, op: TransferOp) -> Self {
        let kind = op.name().to_owned();
        Self {
            id: id.into(),
            op,
            kind,
            reference: String::new(),
        }
    }

    pub fn posted(
        id: impl Into<String>,
        debit: AccountKey,
        credit: AccountKey,
        amount: i64,
    ) -> Self {
        Self::new(
            id,
            TransferOp::Posted {
                debit,
                credit,
                amount,
            },
        )
    }

    pub fn pending(
        id: impl Into<String>,
        debit: AccountKey,
        credit: AccountKey,
        amount: i64,
    ) -> Self {
        Self::new(
            id,
            TransferOp::Pending {
                debit,
                credit,
                amount,
            },
        )
    }

    /// Posts `pending_id` in full (`amount = None`) or in part.
    pub fn post_pending(
        id: impl Into<String>,
        pending_id: impl Into<String>,
        amount: Option<i64>,
    ) -> Self {
        Self::new(
            id,
            TransferOp::PostPending {
                pending_id: pending_id.into(),
                amount,
                debit: None,
                credit: None,
            },
        )
    }

    pub fn void_pending(id: impl Into<String>, pending_id: impl Into<String>) -> Self {
        Self::new(
            id,
            TransferOp::VoidPending {
                pending_id: pending_id.into(),
                debit: None,
                credit: None,
            },
        )
    }

    pub fn with_kind(mut self, kind: impl Into<String>) -> Self {
        self.kind = kind.into();
        self
    }

    pub fn with_reference(mut self, reference: impl Into<String>) -> Self {
        self.reference = reference.into();
        self
    }

    /// For a post or void: asserts the pending transfer's accounts (rejected with
    /// [`RejectReason::PendingAccountsMismatch`] otherwise). No effect on other ops.
    pub fn expecting_accounts(
        mut self,
        expected_debit: AccountKey,
        expected_credit: AccountKey,
    ) -> Self {
        match &mut self.op {
            TransferOp::PostPending { debit, credit, .. }
            | TransferOp::VoidPending { debit, credit, .. } => {
                *debit = Some(expected_debit);
                *credit = Some(expected_credit);
            }
            TransferOp::Posted { .. } | TransferOp::Pending { .. } => {}
        }
        self
    }
}

/// What happened to one transfer of a successful batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferOutcome {
    /// Applied now.
    Created,
    /// Already recorded with identical fields: nothing changed.
    Exists,
}

/// Why a transfer was refused. The whole batch is then refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RejectReason {
    #[error("the transfer id must not be empty")]
    IdMustNotBeEmpty,
    #[error("the amount must be greater than zero")]
    AmountMustBePositive,
    #[error("the debit and credit accounts must differ")]
    SameAccount,
    #[error("the debit and credit accounts must be both live or both test")]
    LivemodeMismatch,
    #[error("account {account} does not exist")]
    AccountNotFound { account: String },
    #[error("debits would exceed credits on account {account}")]
    ExceedsCredits { account: String },
    #[error("pending transfer {pending_id} does not exist")]
    PendingNotFound { pending_id: String },
    #[error("transfer {pending_id} is not a pending transfer")]
    NotPending { pending_id: String },
    #[error("the accounts do not match those of pending transfer {pending_id}")]
    PendingAccountsMismatch { pending_id: String },
    #[error("pending transfer {pending_id} was already posted by {by}")]
    PendingAlreadyPosted { pending_id: String, by: String },
    #[error("pending transfer {pending_id} was already voided by {by}")]
    PendingAlreadyVoided { pending_id: String, by: String },
    #[error("the amount {amount} exceeds the pending amount {pending_amount}")]
    PostAmountExceedsPending { amount: i64, pending_amount: i64 },
    #[error("a transfer with this id exists with different fields")]
    ExistsWithDifferentFields,
    #[error("a balance of account {account} would leave the representable range")]
    Overflow { account: String },
}

/// A failed batch: a refused transfer (nothing of the batch was written) or a database
/// error (the caller's transaction must be rolled back).
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("transfer #{index} ({id}) rejected: {reason}")]
    Rejected {
        /// Position of the refused transfer in the batch.
        index: usize,
        id: String,
        reason: RejectReason,
    },
    #[error("ledger database error: {0}")]
    Db(#[from] sea_orm::DbErr),
}

impl LedgerError {
    pub fn reason(&self) -> Option<&RejectReason> {
        match self {
            Self::Rejected { reason, .. } => Some(reason),
            Self::Db(_) => None,
        }
    }

    /// Index of the refused transfer in the batch.
    pub fn index(&self) -> Option<usize> {
        match self {
            Self::Rejected { index, .. } => Some(*index),
            Self::Db(_) => None,
        }
    }

    pub fn is_exceeds_credits(&self) -> bool {
        matches!(self.reason(), Some(RejectReason::ExceedsCredits { .. }))
    }
}

impl From<LedgerError> for crate::error::ApiError {
    fn from(err: LedgerError) -> Self {
        use crate::error::{ApiError, ErrorCode};
        match err.reason() {
            Some(RejectReason::ExceedsCredits { .. }) => ApiError::new(
                ErrorCode::InsufficientBalance,
                "The available balance is not sufficient.",
            ),
            Some(RejectReason::ExistsWithDifferentFields) => ApiError::new(
                ErrorCode::Conflict,
                "A ledger transfer with this id already exists with different fields.",
            ),
            Some(
                RejectReason::PendingAlreadyPosted { .. }
                | RejectReason::PendingAlreadyVoided { .. },
            ) => ApiError::invalid_state("The reservation was already settled."),
            _ => ApiError::internal(err),
        }
    }
}

/// Kinds of [`Violation`] reported by the ledger check.
pub mod violation_kind {
    /// Σ debits_posted ≠ Σ credits_posted within one livemode.
    pub const UNBALANCED_POSTED: &str = "unbalanced_posted";
    /// Σ debits_pending ≠ Σ credits_pending within one livemode.
    pub const UNBALANCED_PENDING: &str = "unbalanced_pending";
    /// A no-overdraft account with debits_pending + debits_posted > credits_posted.
    pub const OVERDRAFT: &str = "overdraft";
    /// A cached column is negative.
    pub const NEGATIVE_BALANCE: &str = "negative_balance";
    /// The cached columns differ from a replay of the transfers.
    pub const BALANCE_MISMATCH: &str = "balance_mismatch";
    /// More than one transfer resolves the same pending transfer.
    pub const PENDING_RESOLVED_TWICE: &str = "pending_resolved_twice";
    /// A post resolves more than its pending amount.
    pub const POST_EXCEEDS_PENDING: &str = "post_exceeds_pending";
    /// A post/void whose pending transfer is missing, not pending, on other accounts, or
    /// (void) of another amount.
    pub const INVALID_RESOLUTION: &str = "invalid_resolution";
    /// A transfer row that no valid request produces (amount ≤ 0, same account, bad
    /// flags, livemode differing from its accounts).
    pub const MALFORMED_TRANSFER: &str = "malformed_transfer";
}

/// One broken invariant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = LedgerViolation)]
pub struct Violation {
    // One of [`violation_kind`], or a feature's own kind.
    /// What is wrong, e.g. `balance_mismatch` or `order_not_credited`.
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer: Option<String>,
    pub detail: String,
}

impl Violation {
    pub fn new(kind: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            kind: kind.into(),
            account: None,
            transfer: None,
            detail: detail.into(),
        }
    }

    pub fn with_account(mut self, account: impl Into<String>) -> Self {
        self.account = Some(account.into());
        self
    }

    pub fn with_transfer(mut self, transfer: impl Into<String>) -> Self {
        self.transfer = Some(transfer.into());
        self
    }
}

// The result of the invariant check (`GET /api/v1/admin/ledger/check`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = LedgerCheck, example = json!({"ok": true, "accounts": 42, "transfers": 1337, "violations": []}))]
pub struct LedgerReport {
    /// `true` when no invariant is violated.
    pub ok: bool,
    pub accounts: u64,
    pub transfers: u64,
    pub violations: Vec<Violation>,
}

impl LedgerReport {
    pub fn new(accounts: u64, transfers: u64, violations: Vec<Violation>) -> Self {
        Self {
            ok: violations.is_empty(),
            accounts,
            transfers,
            violations,
        }
    }

    /// The extension hook: feature-level invariants (e.g. "every completed order is
    /// credited exactly once") add their violations here; `ok` follows.
    pub fn add_violations(&mut self, violations: impl IntoIterator<Item = Violation>) {
        self.violations.extend(violations);
        self.ok = self.violations.is_empty();
    }

    pub fn has(&self, kind: &str) -> bool {
        self.violations.iter().any(|v| v.kind == kind)
    }
}

#[cfg(test)]
mod tests;
