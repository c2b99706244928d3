//! The balance arithmetic of one transfer, independent of storage: the one place where
//! the four columns of an account change. Checked arithmetic (an overflow is an error,
//! never a wrap) and the no-overdraft rule; no I/O.

use super::model::{Balances, account_flags};

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
