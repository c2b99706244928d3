//! Ledger use cases: open accounts, apply linked batches of transfers, read balances and
//! statements, and check the invariants.
//!
//! # Applying a batch
//! [`apply`] runs inside the caller's transaction (order transitions pass the transaction
//! that also writes the state change and the outbox rows). It proceeds in phases:
//! 1. collect every account the batch touches (the accounts of a post/void are those of
//!    its pending transfer, read first: transfer rows are immutable);
//! 2. load those accounts, on PostgreSQL locking them `FOR UPDATE` in id order;
//! 3. after the locks, look up the batch's ids (idempotency) and the pending transfers
//!    and their resolutions (READ COMMITTED sees what the previous lock holder committed);
//! 4. validate and apply each transfer in order on an in-memory overlay, so later
//!    transfers see earlier ones' effects;
//! 5. only when all succeeded, insert the new rows and write the changed balances.
//!
//! [`apply_new`] skips the idempotency lookup of step 3 for a batch whose ids the caller
//! has just minted (the primary key still refuses a duplicate).
//!
//! A refused transfer therefore leaves the database untouched (no partial batch), and the
//! error names its index. Checks per transfer, in this order:
//! id not empty → amount > 0 (posted, pending, partial post) → debit ≠ credit → same
//! livemode → idempotency (same id: identical fields → `Exists`, else
//! `ExistsWithDifferentFields`) → for posted/pending: both accounts exist → for post/void:
//! pending exists → is pending → expected accounts match → not resolved yet → post amount
//! ≤ pending amount → then the balance arithmetic ([`apply_effect`]): overflow, no
//! overdraft on the debit account.

use std::collections::{BTreeSet, HashMap};

use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr, TransactionTrait};

use super::effect::{BalanceError, Effect, Side, apply_effect};
use super::model::{
    Account, AccountKey, Balance, Balances, LedgerError, RejectReason, Transfer, TransferOp,
    TransferOutcome, TransferRequest,
};
use super::store;
use crate::db::{now_ms, supports_row_locks};

/// Opens the account unless it exists (idempotent, race-safe). Returns whether it was
/// created now.
pub async fn open_account(conn: &impl ConnectionTrait, key: &AccountKey) -> Result<bool, DbErr> {
    Ok(store::insert_accounts_if_missing(conn, std::slice::from_ref(key), now_ms()).await? == 1)
}

/// [`open_account`] for several keys, in one statement.
pub async fn open_accounts(conn: &impl ConnectionTrait, keys: &[AccountKey]) -> Result<(), DbErr> {
    store::insert_accounts_if_missing(conn, keys, now_ms()).await?;
    Ok(())
}

pub async fn account(
    conn: &impl ConnectionTrait,
    key: &AccountKey,
) -> Result<Option<Account>, DbErr> {
    store::find_account(conn, &key.id()).await
}

/// Several accounts by id, in one query, without locking them (a read for display; an
/// account that does not exist is left out).
pub async fn find_accounts(
    conn: &impl ConnectionTrait,
    ids: &[String],
) -> Result<Vec<Account>, DbErr> {
    store::load_accounts(conn, ids, false).await
}

/// The account's balance; all zero when the account does not exist.
pub async fn balance(conn: &impl ConnectionTrait, key: &AccountKey) -> Result<Balance, DbErr> {
    Ok(account(conn, key)
        .await?
        .map(|a| a.balance())
        .unwrap_or_default())
}

pub async fn find_transfer(
    conn: &impl ConnectionTrait,
    id: &str,
) -> Result<Option<Transfer>, DbErr> {
    store::find_transfer(conn, id).await
}

/// Transfers of an account, newest first, for statements (see
/// [`store::transfers_of_account`]).
pub async fn transfers_of_account(
    conn: &impl ConnectionTrait,
    account_id: &str,
    starting_after: Option<&str>,
    limit: u64,
) -> Result<Vec<Transfer>, DbErr> {
    store::transfers_of_account(conn, account_id, starting_after, limit).await
}

/// Applies a linked batch in its own transaction: begin, [`apply`], commit.
pub async fn transfer(
    db: &DatabaseConnection,
    batch: &[TransferRequest],
) -> Result<Vec<TransferOutcome>, LedgerError> {
    let txn = db.begin().await?;
    match apply(&txn, batch, now_ms()).await {
        Ok(outcomes) => {
            txn.commit().await?;
            Ok(outcomes)
        }
        Err(err) => {
            txn.rollback().await?;
            Err(err)
        }
    }
}

/// An account as the batch sees it: loaded (and locked) columns plus the batch's effects.
struct Slot {
    flags: i32,
    livemode: bool,
    /// As loaded from the database.
    loaded: Balances,
    /// With the batch's effects so far.
    balances: Balances,
    dirty: bool,
}

/// Applies a linked batch all-or-nothing inside the caller's transaction. On `Ok`, every
/// transfer is either created now or already existed identically. On
/// [`LedgerError::Rejected`] nothing of the batch was written (the caller may still
/// commit its other work, or roll back); on [`LedgerError::Db`] the transaction must be
/// rolled back.
pub async fn apply(
    txn: &DatabaseTransaction,
    batch: &[TransferRequest],
    now_ms: i64,
) -> Result<Vec<TransferOutcome>, LedgerError> {
    apply_batch(txn, batch, now_ms, TransferIds::MayExist).await
}

/// [`apply`] for a batch of new posted and pending transfers whose ids the caller minted
/// for rows it inserted in this same transaction (an order's reservation, say), so none
/// can exist yet: the idempotency lookup of step 3 is skipped, one query fewer. Should an
/// id exist after all, inserting it violates the primary key and the statement fails
/// ([`LedgerError::Db`]; the transaction must be rolled back). A batch that resolves a
/// pending transfer is applied as by [`apply`].
pub async fn apply_new(
    txn: &DatabaseTransaction,
    batch: &[TransferRequest],
    now_ms: i64,
) -> Result<Vec<TransferOutcome>, LedgerError> {
    apply_batch(txn, batch, now_ms, TransferIds::New).await
}

/// Whether a batch's transfer ids may already exist (and need the idempotency lookup).
#[derive(Clone, Copy, PartialEq, Eq)]
enum TransferIds {
    MayExist,
    New,
}

async fn apply_batch(
    txn: &DatabaseTransaction,
    batch: &[TransferRequest],
    now_ms: i64,
    transfer_ids: TransferIds,
) -> Result<Vec<TransferOutcome>, LedgerError> {
    if batch.is_empty() {
        return Ok(Vec::new());
    }

    // 1. The accounts to lock. Pending transfers resolved by this batch are read before
    //    the locks to learn their accounts (transfer rows never change).
    let mut account_ids = BTreeSet::new();
    let mut pending_ids = BTreeSet::new();
    for req in batch {
        match &req.op {
            TransferOp::Posted { debit, credit, .. }
            | TransferOp::Pending { debit, credit, .. } => {
                account_ids.insert(debit.id());
                account_ids.insert(credit.id());
            }
            TransferOp::PostPending { pending_id, .. }
            | TransferOp::VoidPending { pending_id, .. } => {
                pending_ids.insert(pending_id.clone());
            }
        }
    }
    let pending_ids: Vec<String> = pending_ids.into_iter().collect();
    if !pending_ids.is_empty() {
        for pending in store::find_transfers_or_resolutions(txn, &pending_ids, &[]).await? {
            account_ids.insert(pending.debit_account_id);
            account_ids.insert(pending.credit_account_id);
        }
    }

    // 2. Lock (PostgreSQL) and load the accounts, in id order.
    let mut slots: HashMap<String, Slot> = HashMap::new();
    let ids: Vec<String> = account_ids.into_iter().collect();
    load_slots(txn, &ids, &mut slots).await?;

    // 3. After the locks: idempotency and pending lookups.
    let mut lookup_ids: Vec<String> = batch.iter().map(|r| r.id.clone()).collect();
    lookup_ids.extend(pending_ids.iter().cloned());
    lookup_ids.sort();
    lookup_ids.dedup();
    let found = if transfer_ids == TransferIds::New && pending_ids.is_empty() {
        // Nothing to look up: every id is new, and nothing pending is resolved.
        Vec::new()
    } else {
        store::find_transfers_or_resolutions(txn, &lookup_ids, &pending_ids).await?
    };
    let mut known: HashMap<String, Transfer> = HashMap::new();
    let mut resolved_by: HashMap<String, Transfer> = HashMap::new();
    let mut late_accounts = BTreeSet::new();
    for transfer in found {
        if let Some(pending_id) = &transfer.pending_id
            && pending_ids.binary_search(pending_id).is_ok()
        {
            resolved_by.insert(pending_id.clone(), transfer.clone());
        }
        if pending_ids.binary_search(&transfer.id).is_ok() {
            for id in [&transfer.debit_account_id, &transfer.credit_account_id] {
                if !slots.contains_key(id) {
                    late_accounts.insert(id.clone());
                }
            }
        }
        if lookup_ids.binary_search(&transfer.id).is_ok() {
            known.insert(transfer.id.clone(), transfer);
        }
    }
    if !late_accounts.is_empty() {
        // A pending transfer committed between step 1 and the locks: lock its accounts too.
        let late: Vec<String> = late_accounts.into_iter().collect();
        load_slots(txn, &late, &mut slots).await?;
    }

    // 4. Validate and apply in order on the overlay.
    let mut outcomes = Vec::with_capacity(batch.len());
    let mut created: Vec<Transfer> = Vec::new();
    for (index, req) in batch.iter().enumerate() {
        let reject = |reason: RejectReason| LedgerError::Rejected {
            index,
            id: req.id.clone(),
            reason,
        };
        let outcome =
            step(req, now_ms, &mut slots, &mut known, &mut resolved_by).map_err(reject)?;
        if let Some(row) = outcome {
            created.push(row);
            outcomes.push(TransferOutcome::Created);
        } else {
            outcomes.push(TransferOutcome::Exists);
        }
    }

    // 5. Write: the new rows, then the changed balances (in id order).
    store::insert_transfers(txn, &created).await?;
    let mut dirty: Vec<(&str, &Balances)> = Vec::new();
    for (id, slot) in slots.iter().filter(|(_, s)| s.dirty) {
        debug_assert!(
            !slot.loaded.is_non_negative() || slot.balances.is_non_negative(),
            "a balance column went negative"
        );
        dirty.push((id, &slot.balances));
    }
    dirty.sort_by(|a, b| a.0.cmp(b.0));
    store::update_balances_of(txn, &dirty).await?;
    Ok(outcomes)
}

async fn load_slots(
    txn: &DatabaseTransaction,
    ids: &[String],
    slots: &mut HashMap<String, Slot>,
) -> Result<(), DbErr> {
    let lock = supports_row_locks(txn);
    for account in store::load_accounts(txn, ids, lock).await? {
        slots.insert(
            account.id,
            Slot {
                flags: account.flags,
                livemode: account.livemode,
                loaded: account.balances,
                balances: account.balances,
                dirty: false,
            },
        );
    }
    Ok(())
}

/// Validates and applies one transfer on the overlay. `Ok(Some(row))`: created;
/// `Ok(None)`: exists with identical fields.
fn step(
    req: &TransferRequest,
    now_ms: i64,
    slots: &mut HashMap<String, Slot>,
    known: &mut HashMap<String, Transfer>,
    resolved_by: &mut HashMap<String, Transfer>,
) -> Result<Option<Transfer>, RejectReason> {
    // Static validation.
    if req.id.is_empty() {
        return Err(RejectReason::IdMustNotBeEmpty);
    }
    match &req.op {
        TransferOp::Posted {
            debit,
            credit,
            amount,
        }
        | TransferOp::Pending {
            debit,
            credit,
            amount,
        } => {
            if *amount <= 0 {
                return Err(RejectReason::AmountMustBePositive);
            }
            if debit == credit {
                return Err(RejectReason::SameAccount);
            }
            if debit.livemode != credit.livemode {
                return Err(RejectReason::LivemodeMismatch);
            }
        }
        TransferOp::PostPending { amount, .. } => {
            if amount.is_some_and(|a| a <= 0) {
                return Err(RejectReason::AmountMustBePositive);
            }
        }
        TransferOp::VoidPending { .. } => {}
    }

    // Idempotency.
    if let Some(existing) = known.get(&req.id) {
        return if same_fields(req, existing, known) {
            Ok(None)
        } else {
            Err(RejectReason::ExistsWithDifferentFields)
        };
    }

    // Resolve the accounts and the effect.
    let (debit_id, credit_id, amount, effect, pending_id) = match &req.op {
        TransferOp::Posted {
            debit,
            credit,
            amount,
        } => (
            debit.id(),
            credit.id(),
            *amount,
            Effect::Posted { amount: *amount },
            None,
        ),
        TransferOp::Pending {
            debit,
            credit,
            amount,
        } => (
            debit.id(),
            credit.id(),
            *amount,
            Effect::Pending { amount: *amount },
            None,
        ),
        TransferOp::PostPending {
            pending_id,
            amount,
            debit,
            credit,
        } => {
            let pending = pending_to_resolve(pending_id, debit, credit, known, resolved_by)?;
            let post = amount.unwrap_or(pending.amount);
            if post > pending.amount {
                return Err(RejectReason::PostAmountExceedsPending {
                    amount: post,
                    pending_amount: pending.amount,
                });
            }
            (
                pending.debit_account_id.clone(),
                pending.credit_account_id.clone(),
                post,
                Effect::PostPending {
                    pending_amount: pending.amount,
                    amount: post,
                },
                Some(pending_id.clone()),
            )
        }
        TransferOp::VoidPending {
            pending_id,
            debit,
            credit,
        } => {
            let pending = pending_to_resolve(pending_id, debit, credit, known, resolved_by)?;
            (
                pending.debit_account_id.clone(),
                pending.credit_account_id.clone(),
                pending.amount,
                Effect::VoidPending {
                    pending_amount: pending.amount,
                },
                Some(pending_id.clone()),
            )
        }
    };

    let (debit_flags, debit_balances, livemode) = match slots.get(&debit_id) {
        Some(slot) => (slot.flags, slot.balances, slot.livemode),
        None => return Err(RejectReason::AccountNotFound { account: debit_id }),
    };
    let credit_balances = match slots.get(&credit_id) {
        // Only reachable through a stored row whose accounts disagree (a corrupted ledger).
        Some(slot) if slot.livemode != livemode => return Err(RejectReason::LivemodeMismatch),
        Some(slot) => slot.balances,
        None => return Err(RejectReason::AccountNotFound { account: credit_id }),
    };
    let (new_debit, new_credit) =
        apply_effect(effect, debit_balances, debit_flags, credit_balances).map_err(
            |e| match e {
                BalanceError::ExceedsCredits => RejectReason::ExceedsCredits {
                    account: debit_id.clone(),
                },
                BalanceError::Overflow(Side::Debit) => RejectReason::Overflow {
                    account: debit_id.clone(),
                },
                BalanceError::Overflow(Side::Credit) => RejectReason::Overflow {
                    account: credit_id.clone(),
                },
            },
        )?;
    for (id, balances) in [(&debit_id, new_debit), (&credit_id, new_credit)] {
        if let Some(slot) = slots.get_mut(id) {
            slot.balances = balances;
            slot.dirty = true;
        }
    }

    let row = Transfer {
        id: req.id.clone(),
        debit_account_id: debit_id,
        credit_account_id: credit_id,
        amount,
        pending_id: pending_id.clone(),
        flags: req.op.flags(),
        kind: req.kind.clone(),
        reference: req.reference.clone(),
        livemode,
        created_at: now_ms,
    };
    debug_assert!(row.amount > 0);
    debug_assert!(row.debit_account_id != row.credit_account_id);
    if let Some(pending_id) = pending_id {
        resolved_by.insert(pending_id, row.clone());
    }
    known.insert(row.id.clone(), row.clone());
    Ok(Some(row))
}

/// The pending transfer a post/void resolves, after checking that it can be resolved.
fn pending_to_resolve<'a>(
    pending_id: &str,
    debit: &Option<AccountKey>,
    credit: &Option<AccountKey>,
    known: &'a HashMap<String, Transfer>,
    resolved_by: &HashMap<String, Transfer>,
) -> Result<&'a Transfer, RejectReason> {
    let Some(pending) = known.get(pending_id) else {
        return Err(RejectReason::PendingNotFound {
            pending_id: pending_id.to_owned(),
        });
    };
    if !pending.is_pending() {
        return Err(RejectReason::NotPending {
            pending_id: pending_id.to_owned(),
        });
    }
    if !expected_accounts_match(debit, credit, pending) {
        return Err(RejectReason::PendingAccountsMismatch {
            pending_id: pending_id.to_owned(),
        });
    }
    if let Some(resolution) = resolved_by.get(pending_id) {
        let pending_id = pending_id.to_owned();
        let by = resolution.id.clone();
        return Err(if resolution.is_void_pending() {
            RejectReason::PendingAlreadyVoided { pending_id, by }
        } else {
            RejectReason::PendingAlreadyPosted { pending_id, by }
        });
    }
    Ok(pending)
}

fn expected_accounts_match(
    debit: &Option<AccountKey>,
    credit: &Option<AccountKey>,
    row: &Transfer,
) -> bool {
    debit
        .as_ref()
        .is_none_or(|d| d.id() == row.debit_account_id)
        && credit
            .as_ref()
            .is_none_or(|c| c.id() == row.credit_account_id)
}

/// Whether `req` describes the stored transfer `existing` (same id): the idempotent retry.
fn same_fields(
    req: &TransferRequest,
    existing: &Transfer,
    known: &HashMap<String, Transfer>,
) -> bool {
    if existing.kind != req.kind
        || existing.reference != req.reference
        || existing.flags != req.op.flags()
        || existing.pending_id.as_deref() != req.op.pending_id()
    {
        return false;
    }
    match &req.op {
        TransferOp::Posted {
            debit,
            credit,
            amount,
        }
        | TransferOp::Pending {
            debit,
            credit,
            amount,
        } => {
            existing.debit_account_id == debit.id()
                && existing.credit_account_id == credit.id()
                && existing.amount == *amount
        }
        TransferOp::PostPending {
            pending_id,
            amount,
            debit,
            credit,
        } => {
            let amount_matches = match amount {
                Some(a) => existing.amount == *a,
                None => known
                    .get(pending_id)
                    .is_some_and(|pending| pending.amount == existing.amount),
            };
            amount_matches && expected_accounts_match(debit, credit, existing)
        }
        TransferOp::VoidPending { debit, credit, .. } => {
            expected_accounts_match(debit, credit, existing)
        }
    }
}
