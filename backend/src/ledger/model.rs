//! Ledger types and the pure balance arithmetic (no I/O).
//!
//! The model is TigerBeetle's: accounts hold four cached columns (`debits_pending`,
//! `debits_posted`, `credits_pending`, `credits_posted`) in micro-USDT; transfers are
//! append-only rows that move an amount from a debit account to a credit account, either
//! at once (posted) or in two phases (pending, then post — in full or in part — or void).
//! [`apply_effect`] is the one place where balances change: the SQL path in
//! `service.rs` and the reference models in tests use it or mirror it.

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

/// The balance effect of one transfer, independent of storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Posted {
        amount: i64,
    },
    Pending {
        amount: i64,
    },
    /// Both sides' pending − `pending_amount`; posted + `amount` (`amount ≤ pending_amount`).
    PostPending {
        pending_amount: i64,
        amount: i64,
    },
    /// Both sides' pending − `pending_amount`.
    VoidPending {
        pending_amount: i64,
    },
}

/// Which account of a transfer a [`BalanceError`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Debit,
    Credit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BalanceError {
    /// A column would leave the `i64` range, or (only on a corrupted ledger) a pending
    /// column would go negative.
    #[error("balance overflow on the {0:?} account")]
    Overflow(Side),
    /// The debit account has no-overdraft and would end with debits above credits.
    #[error("debits would exceed credits")]
    ExceedsCredits,
}

fn add(value: i64, amount: i64, side: Side) -> Result<i64, BalanceError> {
    value
        .checked_add(amount)
        .ok_or(BalanceError::Overflow(side))
}

/// Subtracts a pending amount; a negative result can only come from a corrupted cache.
fn release(value: i64, amount: i64, side: Side) -> Result<i64, BalanceError> {
    match value.checked_sub(amount) {
        Some(v) if v >= 0 => Ok(v),
        _ => Err(BalanceError::Overflow(side)),
    }
}

/// Applies one transfer's effect to the two accounts' columns: the one function through
/// which balances change. `debit_flags` are the debit account's flags (only the debit side
/// can be overdrawn: credits never decrease a credit account's `credits_posted`).
/// Returns the new `(debit, credit)` columns or why the transfer is refused.
pub fn apply_effect(
    effect: Effect,
    debit: Balances,
    debit_flags: i32,
    credit: Balances,
) -> Result<(Balances, Balances), BalanceError> {
    use Side::{Credit, Debit};
    let mut d = debit;
    let mut c = credit;
    let mut increases_debits = false;
    match effect {
        Effect::Posted { amount } => {
            debug_assert!(amount > 0);
            d.debits_posted = add(d.debits_posted, amount, Debit)?;
            c.credits_posted = add(c.credits_posted, amount, Credit)?;
            increases_debits = true;
        }
        Effect::Pending { amount } => {
            debug_assert!(amount > 0);
            d.debits_pending = add(d.debits_pending, amount, Debit)?;
            c.credits_pending = add(c.credits_pending, amount, Credit)?;
            increases_debits = true;
        }
        Effect::PostPending {
            pending_amount,
            amount,
        } => {
            debug_assert!(0 < amount && amount <= pending_amount);
            d.debits_pending = release(d.debits_pending, pending_amount, Debit)?;
            c.credits_pending = release(c.credits_pending, pending_amount, Credit)?;
            d.debits_posted = add(d.debits_posted, amount, Debit)?;
            c.credits_posted = add(c.credits_posted, amount, Credit)?;
        }
        Effect::VoidPending { pending_amount } => {
            debug_assert!(pending_amount > 0);
            d.debits_pending = release(d.debits_pending, pending_amount, Debit)?;
            c.credits_pending = release(c.credits_pending, pending_amount, Credit)?;
        }
    }
    let no_overdraft = debit_flags & account_flags::DEBITS_MUST_NOT_EXCEED_CREDITS != 0;
    if no_overdraft && increases_debits && d.debits_exceed_credits() {
        return Err(BalanceError::ExceedsCredits);
    }
    // Resolving a pending transfer never increases debits, so an account that was within
    // its credits stays within them.
    debug_assert!(
        !no_overdraft || debit.debits_exceed_credits() || !d.debits_exceed_credits(),
        "a transfer overdrew a no-overdraft account"
    );
    debug_assert!(
        !debit.is_non_negative() || d.is_non_negative(),
        "a debit column went negative"
    );
    debug_assert!(
        !credit.is_non_negative() || c.is_non_negative(),
        "a credit column went negative"
    );
    // Double entry: both sides move by the same amounts.
    debug_assert_eq!(
        i128::from(d.debits_posted) - i128::from(debit.debits_posted),
        i128::from(c.credits_posted) - i128::from(credit.credits_posted)
    );
    debug_assert_eq!(
        i128::from(d.debits_pending) - i128::from(debit.debits_pending),
        i128::from(c.credits_pending) - i128::from(credit.credits_pending)
    );
    Ok((d, c))
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    /// One of [`violation_kind`], or a feature's own kind (e.g. `order_not_credited`).
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

/// The result of the invariant check (`GET /api/v1/admin/ledger/check`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerReport {
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
mod tests {
    use super::*;

    const NO_OVERDRAFT: i32 = account_flags::DEBITS_MUST_NOT_EXCEED_CREDITS;

    fn funded(credits_posted: i64) -> Balances {
        Balances {
            credits_posted,
            ..Balances::default()
        }
    }

    #[test]
    fn account_ids_are_deterministic_and_parse_back() {
        let key = AccountKey::merchant("mch_01ABC", true);
        assert_eq!(key.id(), "merchant:mch_01ABC:live");
        assert_eq!(key.to_string(), key.id());
        assert_eq!(AccountKey::escrow(false).id(), "escrow:platform:test");
        assert_eq!(AccountKey::parse_id(&key.id()), Some(key));
        for code in AccountCode::ALL {
            let key = AccountKey::new(code, "own:er", false);
            assert_eq!(AccountKey::parse_id(&key.id()), Some(key));
        }
        for bad in [
            "",
            "merchant",
            "merchant:x",
            "merchant::live",
            "nope:x:live",
            "merchant:x:prod",
        ] {
            assert_eq!(AccountKey::parse_id(bad), None, "{bad}");
        }
    }

    #[test]
    fn only_custody_may_go_negative() {
        for code in AccountCode::ALL {
            let expected = if code == AccountCode::Custody {
                0
            } else {
                NO_OVERDRAFT
            };
            assert_eq!(code.default_flags(), expected, "{code}");
        }
        assert!(AccountCode::Escrow.is_platform());
        assert!(!AccountCode::Merchant.is_platform());
    }

    #[test]
    fn balance_view_is_credit_normal() {
        let b = Balances {
            debits_pending: 10,
            debits_posted: 30,
            credits_pending: 5,
            credits_posted: 100,
        };
        assert_eq!(
            b.balance(),
            Balance {
                posted: 70,
                pending_debits: 10,
                pending_credits: 5,
                available: 60
            }
        );
        assert!(!b.debits_exceed_credits());
    }

    #[test]
    fn posted_moves_posted_columns_and_refuses_overdraft() {
        let (d, c) = apply_effect(
            Effect::Posted { amount: 40 },
            funded(100),
            NO_OVERDRAFT,
            Balances::default(),
        )
        .unwrap();
        assert_eq!(d.debits_posted, 40);
        assert_eq!(c.credits_posted, 40);
        assert_eq!(
            apply_effect(Effect::Posted { amount: 61 }, d, NO_OVERDRAFT, c),
            Err(BalanceError::ExceedsCredits)
        );
        // Exactly the available amount is fine.
        let (d, _) = apply_effect(Effect::Posted { amount: 60 }, d, NO_OVERDRAFT, c).unwrap();
        assert_eq!(d.balance().available, 0);
        // Custody (no flag) goes negative.
        let (custody, _) = apply_effect(
            Effect::Posted { amount: 5 },
            Balances::default(),
            0,
            Balances::default(),
        )
        .unwrap();
        assert_eq!(custody.balance().posted, -5);
    }

    #[test]
    fn pending_reserves_and_counts_against_available() {
        let (d, c) = apply_effect(
            Effect::Pending { amount: 70 },
            funded(100),
            NO_OVERDRAFT,
            Balances::default(),
        )
        .unwrap();
        assert_eq!(d.balance().available, 30);
        assert_eq!(c.balance().pending_credits, 70);
        assert_eq!(
            apply_effect(Effect::Posted { amount: 31 }, d, NO_OVERDRAFT, c),
            Err(BalanceError::ExceedsCredits)
        );
    }

    #[test]
    fn partial_post_releases_the_rest_and_void_releases_all() {
        let (d, c) = apply_effect(
            Effect::Pending { amount: 70 },
            funded(100),
            NO_OVERDRAFT,
            Balances::default(),
        )
        .unwrap();
        let (d2, c2) = apply_effect(
            Effect::PostPending {
                pending_amount: 70,
                amount: 50,
            },
            d,
            NO_OVERDRAFT,
            c,
        )
        .unwrap();
        assert_eq!(d2.debits_pending, 0);
        assert_eq!(d2.debits_posted, 50);
        assert_eq!(d2.balance().available, 50);
        assert_eq!(c2.credits_pending, 0);
        assert_eq!(c2.credits_posted, 50);
        let (d3, c3) = apply_effect(
            Effect::VoidPending { pending_amount: 70 },
            d,
            NO_OVERDRAFT,
            c,
        )
        .unwrap();
        assert_eq!(d3, funded(100));
        assert_eq!(c3, Balances::default());
    }

    #[test]
    fn overflow_is_an_error_not_a_wrap() {
        let full = Balances {
            credits_posted: i64::MAX,
            ..Balances::default()
        };
        assert_eq!(
            apply_effect(Effect::Posted { amount: 1 }, Balances::default(), 0, full),
            Err(BalanceError::Overflow(Side::Credit))
        );
        let debit = Balances {
            debits_posted: i64::MAX,
            credits_posted: i64::MAX,
            ..Balances::default()
        };
        assert_eq!(
            apply_effect(Effect::Pending { amount: 1 }, debit, 0, Balances::default()),
            Ok((
                Balances {
                    debits_pending: 1,
                    ..debit
                },
                Balances {
                    credits_pending: 1,
                    ..Balances::default()
                }
            ))
        );
        // …but for a no-overdraft account the sum check does not overflow either.
        assert_eq!(
            apply_effect(
                Effect::Pending { amount: 1 },
                debit,
                NO_OVERDRAFT,
                Balances::default()
            ),
            Err(BalanceError::ExceedsCredits)
        );
        // Releasing more than is pending (only on a corrupted cache) is refused.
        assert_eq!(
            apply_effect(
                Effect::VoidPending { pending_amount: 1 },
                Balances::default(),
                0,
                Balances::default()
            ),
            Err(BalanceError::Overflow(Side::Debit))
        );
    }

    #[test]
    fn report_extension_hook_updates_ok() {
        let mut report = LedgerReport::new(2, 1, Vec::new());
        assert!(report.ok);
        report.add_violations([Violation::new("order_not_credited", "ord_1").with_transfer("t1")]);
        assert!(!report.ok);
        assert!(report.has("order_not_credited"));
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["ok"], false);
        assert_eq!(json["violations"][0]["transfer"], "t1");
        assert!(json["violations"][0].get("account").is_none());
    }

    #[test]
    fn request_builders_set_kind_and_expectations() {
        let a = AccountKey::acceptor("acc_1", true);
        let e = AccountKey::escrow(true);
        let r = TransferRequest::pending("t1", a.clone(), e.clone(), 5).with_reference("ord_1");
        assert_eq!(r.kind, "pending");
        assert_eq!(r.reference, "ord_1");
        let p = TransferRequest::post_pending("t2", "t1", None)
            .with_kind("order_release")
            .expecting_accounts(a.clone(), e.clone());
        assert_eq!(p.op.pending_id(), Some("t1"));
        assert_eq!(p.op.flags(), transfer_flags::POST_PENDING);
        match p.op {
            TransferOp::PostPending { debit, credit, .. } => {
                assert_eq!(debit, Some(a));
                assert_eq!(credit, Some(e));
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
