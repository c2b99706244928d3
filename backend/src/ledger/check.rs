//! The ledger's invariant check: per livemode debits equal credits, no overdrawn
//! no-overdraft account, cached balances equal a replay of the transfers, pending
//! transfers resolved at most once and for at most their amount. Read only.

use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};

use super::model::{Balances, LedgerReport, Violation, mode_str, transfer_flags, violation_kind};
use super::store;

/// Checks the ledger on a consistent snapshot: a read-only REPEATABLE READ transaction on
/// PostgreSQL, a read transaction on SQLite. See [`check_in`] for what is checked.
pub async fn check(db: &DatabaseConnection) -> Result<LedgerReport, DbErr> {
    let txn = crate::db::read_snapshot(db).await?;
    let report = check_in(&txn).await;
    txn.rollback().await?;
    report
}

/// Runs the ledger's invariant checks on `conn` as it is (inside a caller's transaction,
/// for instance):
/// - per livemode, Σ debits_posted = Σ credits_posted and Σ debits_pending = Σ credits_pending;
/// - no negative column; no no-overdraft account with debits_pending + debits_posted >
///   credits_posted;
/// - every account's cached columns equal a replay of the transfers (SQL aggregates);
/// - no pending transfer resolved twice; every post/void fits its pending transfer (post
///   amount ≤ pending amount, void amount = pending amount, same accounts);
/// - no malformed transfer row.
pub async fn check_in(conn: &impl ConnectionTrait) -> Result<LedgerReport, DbErr> {
    let counts = store::check_counts(conn).await?;
    let mut violations = Vec::new();

    for t in store::check_totals(conn).await? {
        let mode = mode_str(t.livemode);
        if t.debits_posted != t.credits_posted {
            violations.push(Violation::new(
                violation_kind::UNBALANCED_POSTED,
                format!(
                    "{mode}: sum of debits_posted {} != sum of credits_posted {}",
                    t.debits_posted, t.credits_posted
                ),
            ));
        }
        if t.debits_pending != t.credits_pending {
            violations.push(Violation::new(
                violation_kind::UNBALANCED_PENDING,
                format!(
                    "{mode}: sum of debits_pending {} != sum of credits_pending {}",
                    t.debits_pending, t.credits_pending
                ),
            ));
        }
    }

    for a in store::check_account_columns(conn).await? {
        let b = Balances {
            debits_pending: a.debits_pending,
            debits_posted: a.debits_posted,
            credits_pending: a.credits_pending,
            credits_posted: a.credits_posted,
        };
        if !b.is_non_negative() {
            violations.push(
                Violation::new(
                    violation_kind::NEGATIVE_BALANCE,
                    format!("a balance column is negative: {b:?}"),
                )
                .with_account(a.id.clone()),
            );
        }
        if a.flags & super::model::account_flags::DEBITS_MUST_NOT_EXCEED_CREDITS != 0
            && b.debits_exceed_credits()
        {
            violations.push(
                Violation::new(
                    violation_kind::OVERDRAFT,
                    format!(
                        "debits_pending {} + debits_posted {} > credits_posted {}",
                        b.debits_pending, b.debits_posted, b.credits_posted
                    ),
                )
                .with_account(a.id),
            );
        }
    }

    for m in store::check_replay(conn).await? {
        violations.push(
            Violation::new(
                violation_kind::BALANCE_MISMATCH,
                format!(
                    "cached (debits_pending {}, debits_posted {}, credits_pending {}, \
                     credits_posted {}) != replayed ({}, {}, {}, {})",
                    m.debits_pending,
                    m.debits_posted,
                    m.credits_pending,
                    m.credits_posted,
                    m.r_debits_pending,
                    m.r_debits_posted,
                    m.r_credits_pending,
                    m.r_credits_posted
                ),
            )
            .with_account(m.id),
        );
    }

    for r in store::check_resolved_twice(conn).await? {
        violations.push(
            Violation::new(
                violation_kind::PENDING_RESOLVED_TWICE,
                format!("resolved by {} transfers", r.resolutions),
            )
            .with_transfer(r.pending_id),
        );
    }

    for r in store::check_resolutions(conn).await? {
        let is_post = r.flags & transfer_flags::POST_PENDING != 0;
        let post_too_large = is_post
            && r.p_flags.is_some_and(|f| f & transfer_flags::PENDING != 0)
            && r.same_accounts
            && r.p_amount.is_some_and(|p| r.amount > p);
        let (kind, detail) = if post_too_large {
            (
                violation_kind::POST_EXCEEDS_PENDING,
                format!(
                    "posts {} of pending {} whose amount is {}",
                    r.amount,
                    r.pending_id,
                    r.p_amount.unwrap_or_default()
                ),
            )
        } else if r.p_id.is_none() {
            (
                violation_kind::INVALID_RESOLUTION,
                format!("resolves missing transfer {}", r.pending_id),
            )
        } else if r.p_flags.is_some_and(|f| f & transfer_flags::PENDING == 0) {
            (
                violation_kind::INVALID_RESOLUTION,
                format!("resolves {}, which is not pending", r.pending_id),
            )
        } else if !r.same_accounts {
            (
                violation_kind::INVALID_RESOLUTION,
                format!("accounts differ from those of pending {}", r.pending_id),
            )
        } else {
            (
                violation_kind::INVALID_RESOLUTION,
                format!(
                    "amount {} does not fit pending {} of {}",
                    r.amount,
                    r.pending_id,
                    r.p_amount.unwrap_or_default()
                ),
            )
        };
        violations.push(Violation::new(kind, detail).with_transfer(r.id));
    }

    for t in store::check_malformed(conn).await? {
        violations.push(
            Violation::new(
                violation_kind::MALFORMED_TRANSFER,
                format!(
                    "amount {}, {} -> {}, flags {}, pending_id {:?}, livemode {} (accounts {}/{})",
                    t.amount,
                    t.debit_account_id,
                    t.credit_account_id,
                    t.flags,
                    t.pending_id,
                    mode_str(t.livemode),
                    mode_str(t.debit_livemode),
                    mode_str(t.credit_livemode)
                ),
            )
            .with_transfer(t.id),
        );
    }

    Ok(LedgerReport::new(
        u64::try_from(counts.accounts).unwrap_or_default(),
        u64::try_from(counts.transfers).unwrap_or_default(),
        violations,
    ))
}
