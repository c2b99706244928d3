//! Withdrawal use cases and the merchant statement.
//!
//! Every state change is one database transaction that locks the withdrawal row
//! (`SELECT … FOR UPDATE` on PostgreSQL), checks the transition table, applies the
//! ledger batch it implies, writes the new state, the `withdrawal.*` webhook outbox row
//! and the audit entry; the webhook dispatcher is woken after the commit.

use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, DatabaseConnection, DatabaseTransaction, DbErr,
    EntityTrait, IntoActiveModel, QuerySelect, TransactionTrait,
};
use serde_json::json;

use super::model::{
    SYSTEM_REVIEWER, StatementEntry, WithdrawalParams, WithdrawalStatus, WithdrawalView, events,
    transfer_ids, transfer_kinds,
};
use super::store::{self, withdrawal};
use crate::addresses::Txid;
use crate::db::{self, now_ms, rfc3339};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::ids::WithdrawalId;
use crate::ledger::{self, AccountKey, TransferRequest};
use crate::merchants::merchant;
use crate::money::format_usdt;
use crate::pagination::Page;
use crate::state::AppState;
use crate::values::networks::Network;
use crate::{audit, ids, webhooks};

/// The outcome of `POST /api/v1/withdrawals`.
pub struct Created {
    pub withdrawal: withdrawal::Model,
    /// True when `merchant_withdrawal_id` was seen before with the same parameters.
    pub replayed: bool,
}

/// The ledger accounts a withdrawal of this mode touches.
fn accounts(merchant_id: &str, livemode: bool) -> [AccountKey; 4] {
    [
        AccountKey::merchant(merchant_id.to_owned(), livemode),
        AccountKey::withdrawals(livemode),
        AccountKey::custody(livemode),
        AccountKey::revenue(livemode),
    ]
}

/// The network a stored withdrawal is on; an unknown one is a corrupt row.
fn network_of(w: &withdrawal::Model) -> ApiResult<Network> {
    Network::find(&w.network).ok_or_else(|| {
        ApiError::internal(format!(
            "withdrawal {} has unknown network {}",
            w.id, w.network
        ))
    })
}

fn replay_of(existing: withdrawal::Model, fingerprint: &str) -> ApiResult<Created> {
    if existing.params_hash == fingerprint {
        Ok(Created {
            withdrawal: existing,
            replayed: true,
        })
    } else {
        Err(ApiError::new(
            ErrorCode::DuplicateMerchantWithdrawalId,
            "A withdrawal with this merchant_withdrawal_id exists with different parameters.",
        )
        .with_param("merchant_withdrawal_id"))
    }
}

/// Writes the withdrawal's webhook to the outbox in the transaction (the merchant's
/// endpoint; withdrawals have no per-request callback URL).
async fn enqueue_webhook(
    txn: &DatabaseTransaction,
    w: &withdrawal::Model,
    event_type: &str,
) -> ApiResult<()> {
    let data = serde_json::to_value(WithdrawalView::from(w)).map_err(ApiError::internal)?;
    webhooks::service::enqueue(txn, &w.merchant_id, w.livemode, event_type, data, None).await?;
    Ok(())
}

/// Why creation did not commit.
enum CreateFailure {
    /// Another request with the same `merchant_withdrawal_id` inserted first.
    Duplicate,
    Api(ApiError),
}

impl From<ApiError> for CreateFailure {
    fn from(err: ApiError) -> Self {
        Self::Api(err)
    }
}

impl From<DbErr> for CreateFailure {
    fn from(err: DbErr) -> Self {
        if crate::db::is_unique_violation(&err) {
            Self::Duplicate
        } else {
            Self::Api(err.into())
        }
    }
}

/// Creates a withdrawal and holds `amount + fee` of the merchant's available balance in
/// the key's mode, in one transaction: the row, the pending `merchant → withdrawals`
/// transfer and — when the amount is below the merchant's
/// `auto_approve_withdrawals_below` — the automatic approval with its
/// `withdrawal.reviewed` outbox row and audit entry. Idempotent on
/// `merchant_withdrawal_id` (same parameters → the existing withdrawal, `replayed`;
/// others → `409 duplicate_merchant_withdrawal_id`). Not enough available balance →
/// `422 insufficient_balance`, and nothing is written.
pub async fn create(
    state: &AppState,
    merchant: &merchant::Model,
    livemode: bool,
    params: WithdrawalParams,
) -> ApiResult<Created> {
    let fingerprint = params.fingerprint();
    if let Some(existing) = store::find_by_merchant_withdrawal_id(
        &state.db,
        &merchant.id,
        livemode,
        &params.merchant_withdrawal_id,
    )
    .await?
    {
        return replay_of(existing, &fingerprint);
    }
    let now = now_ms();
    let auto_approve = merchant
        .auto_approve_withdrawals_below
        .is_some_and(|threshold| params.amount.micros() < threshold);
    let status = if auto_approve {
        WithdrawalStatus::Approved
    } else {
        WithdrawalStatus::Review
    };
    let row = withdrawal::Model {
        id: ids::WithdrawalId::generate(),
        merchant_id: merchant.id.clone(),
        livemode,
        merchant_withdrawal_id: params.merchant_withdrawal_id.clone(),
        network: params.network.id.to_owned(),
        address: params.address.clone(),
        amount: params.amount.micros(),
        fee: params.fee(),
        status,
        params_hash: fingerprint.clone(),
        txid: None,
        reason: None,
        reviewed_by: auto_approve.then(|| SYSTEM_REVIEWER.to_owned()),
        reviewed_at: auto_approve.then_some(now),
        completed_at: None,
        created_at: now,
        updated_at: now,
    };

    let txn = state.db.begin().await?;
    match insert_and_hold(&txn, row, auto_approve, now).await {
        Ok(created) => {
            txn.commit().await?;
            if auto_approve {
                state.webhook_wakeup.notify_one();
            }
            crate::live::announce_to_admins(
                state,
                if auto_approve {
                    "withdrawal.approved"
                } else {
                    "withdrawal.review"
                },
                json!({"withdrawal_id": created.id, "status": created.status}),
            )
            .await;
            Ok(Created {
                withdrawal: created,
                replayed: false,
            })
        }
        Err(failure) => {
            txn.rollback().await?;
            match failure {
                CreateFailure::Api(err) => Err(err),
                CreateFailure::Duplicate => {
                    // A concurrent request with the same merchant_withdrawal_id won.
                    let existing = store::find_by_merchant_withdrawal_id(
                        &state.db,
                        &merchant.id,
                        livemode,
                        &params.merchant_withdrawal_id,
                    )
                    .await?
                    .ok_or_else(|| ApiError::internal("duplicate withdrawal vanished"))?;
                    replay_of(existing, &fingerprint)
                }
            }
        }
    }
}

async fn insert_and_hold(
    txn: &DatabaseTransaction,
    row: withdrawal::Model,
    auto_approve: bool,
    now: i64,
) -> Result<withdrawal::Model, CreateFailure> {
    let inserted = row.into_active_model().insert(txn).await?;
    let [merchant_account, withdrawals_account, ..] =
        accounts(&inserted.merchant_id, inserted.livemode);
    ledger::open_accounts(txn, &accounts(&inserted.merchant_id, inserted.livemode)).await?;
    let total = inserted.amount + inserted.fee;
    let hold = TransferRequest::pending(
        transfer_ids::hold(&inserted.id),
        merchant_account,
        withdrawals_account,
        total,
    )
    .with_kind(transfer_kinds::HOLD)
    .with_reference(inserted.id.clone());
    ledger::apply(txn, &[hold], now).await.map_err(|e| {
        if e.is_exceeds_credits() {
            ApiError::new(
                ErrorCode::InsufficientBalance,
                format!(
                    "The amount plus the network fee ({} USDT) is more than the available balance.",
                    format_usdt(total)
                ),
            )
        } else {
            e.into()
        }
    })?;
    if auto_approve {
        enqueue_webhook(txn, &inserted, events::REVIEWED).await?;
        audit::record(
            txn,
            audit::AuditEntry {
                actor_id: None,
                actor_role: SYSTEM_REVIEWER,
                action: "withdrawal.auto_approve",
                target_type: "withdrawal",
                target_id: Some(&inserted.id),
                details: json!({
                    "merchant_id": inserted.merchant_id,
                    "livemode": inserted.livemode,
                    "amount": format_usdt(inserted.amount),
                    "fee": format_usdt(inserted.fee),
                }),
                ip: None,
            },
        )
        .await?;
    }
    Ok(inserted)
}

// ---------------------------------------------------------------------------------------
// Admin transitions

/// What an admin does to a withdrawal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// `review → approved`.
    Approve,
    /// `review → rejected`: the hold is voided.
    Reject { reason: String },
    /// `approved → completed`: the hold is posted and paid out.
    Complete { txid: Txid },
    /// `approved → failed`: the hold is voided.
    Fail { reason: String },
}

impl Action {
    pub fn target(&self) -> WithdrawalStatus {
        match self {
            Self::Approve => WithdrawalStatus::Approved,
            Self::Reject { .. } => WithdrawalStatus::Rejected,
            Self::Complete { .. } => WithdrawalStatus::Completed,
            Self::Fail { .. } => WithdrawalStatus::Failed,
        }
    }

    /// The audit action.
    fn audit_action(&self) -> &'static str {
        match self {
            Self::Approve => "withdrawal.approve",
            Self::Reject { .. } => "withdrawal.reject",
            Self::Complete { .. } => "withdrawal.complete",
            Self::Fail { .. } => "withdrawal.fail",
        }
    }

    fn event(&self) -> &'static str {
        match self {
            Self::Approve | Self::Reject { .. } => events::REVIEWED,
            Self::Complete { .. } => events::COMPLETED,
            Self::Fail { .. } => events::FAILED,
        }
    }
}

/// The admin acting, for `reviewed_by` and the audit log.
#[derive(Debug, Clone, Copy)]
pub struct Reviewer<'a> {
    pub user_id: &'a str,
    pub ip: Option<&'a str>,
}

/// Loads the withdrawal for update (row lock on PostgreSQL).
pub async fn lock_withdrawal(
    txn: &DatabaseTransaction,
    withdrawal_id: &WithdrawalId,
) -> ApiResult<withdrawal::Model> {
    let mut query = withdrawal::Entity::find_by_id(withdrawal_id.clone());
    if db::supports_row_locks(txn) {
        query = query.lock_exclusive();
    }
    query
        .one(txn)
        .await?
        .ok_or_else(|| ApiError::not_found("withdrawal"))
}

/// The ledger batch of a transition (empty for an approval).
fn ledger_batch(w: &withdrawal::Model, action: &Action) -> Vec<TransferRequest> {
    let [_, withdrawals_account, custody, revenue] = accounts(&w.merchant_id, w.livemode);
    let hold = transfer_ids::hold(&w.id);
    match action {
        Action::Approve => Vec::new(),
        Action::Reject { .. } | Action::Fail { .. } => vec![
            TransferRequest::void_pending(transfer_ids::void(&w.id), hold)
                .with_kind(transfer_kinds::VOID)
                .with_reference(w.id.clone()),
        ],
        Action::Complete { .. } => {
            let mut batch = vec![
                TransferRequest::post_pending(transfer_ids::post(&w.id), hold, None)
                    .with_kind(transfer_kinds::POST)
                    .with_reference(w.id.clone()),
                TransferRequest::posted(
                    transfer_ids::payout(&w.id),
                    withdrawals_account.clone(),
                    custody,
                    w.amount,
                )
                .with_kind(transfer_kinds::PAYOUT)
                .with_reference(w.id.clone()),
            ];
            if w.fee > 0 {
                batch.push(
                    TransferRequest::posted(
                        transfer_ids::fee(&w.id),
                        withdrawals_account,
                        revenue,
                        w.fee,
                    )
                    .with_kind(transfer_kinds::FEE)
                    .with_reference(w.id.clone()),
                );
            }
            batch
        }
    }
}

/// Applies an admin action: lock, check the transition, ledger, state, outbox, audit —
/// one transaction. A withdrawal not in the state the action starts from is
/// `409 invalid_state`; an unknown one `404 not_found`.
pub async fn transition(
    state: &AppState,
    withdrawal_id: &WithdrawalId,
    action: Action,
    reviewer: Reviewer<'_>,
) -> ApiResult<withdrawal::Model> {
    let txn = state.db.begin().await?;
    let w = lock_withdrawal(&txn, withdrawal_id).await?;
    let from = w.status;
    let to = action.target();
    if !from.can_become(to) {
        return Err(ApiError::invalid_state(format!(
            "The withdrawal is {from}; it cannot become {to}."
        )));
    }
    let network = network_of(&w)?;
    let now = now_ms();
    let batch = ledger_batch(&w, &action);
    if !batch.is_empty() {
        ledger::open_accounts(&txn, &accounts(&w.merchant_id, w.livemode)).await?;
        ledger::apply(&txn, &batch, now).await?;
    }
    let mut active = w.into_active_model();
    active.status = Set(to);
    active.updated_at = Set(now);
    let detail = match &action {
        Action::Approve => json!({}),
        Action::Reject { reason } => {
            active.reason = Set(Some(reason.clone()));
            json!({"reason": reason})
        }
        Action::Fail { reason } => {
            active.reason = Set(Some(reason.clone()));
            json!({"reason": reason})
        }
        Action::Complete { txid } => {
            let txid = txid.canonical(network);
            active.txid = Set(Some(txid.clone()));
            active.completed_at = Set(Some(now));
            json!({"txid": txid})
        }
    };
    if matches!(action, Action::Approve | Action::Reject { .. }) {
        active.reviewed_by = Set(Some(reviewer.user_id.to_owned()));
        active.reviewed_at = Set(Some(now));
    }
    let updated = active.update(&txn).await?;
    enqueue_webhook(&txn, &updated, action.event()).await?;
    let mut details = json!({
        "merchant_id": updated.merchant_id,
        "livemode": updated.livemode,
        "amount": format_usdt(updated.amount),
        "fee": format_usdt(updated.fee),
        "from": from.as_str(),
        "to": to.as_str(),
    });
    if let (Some(map), serde_json::Value::Object(extra)) = (details.as_object_mut(), detail) {
        map.extend(extra);
    }
    audit::record(
        &txn,
        audit::AuditEntry {
            actor_id: Some(reviewer.user_id),
            actor_role: "admin",
            action: action.audit_action(),
            target_type: "withdrawal",
            target_id: Some(&updated.id),
            details,
            ip: reviewer.ip,
        },
    )
    .await?;
    txn.commit().await?;
    state.webhook_wakeup.notify_one();
    crate::live::announce_to_admins(
        state,
        "withdrawal.updated",
        json!({"withdrawal_id": updated.id, "status": updated.status}),
    )
    .await;
    Ok(updated)
}

// ---------------------------------------------------------------------------------------
// Statement

/// One page of the merchant's statement (`GET /api/v1/ledger/entries`): the posted
/// effects on `account`, newest first (`created_at DESC, id DESC`, the ledger's order).
/// A pending hold is not a line; the post that settles it is. `balance_after` is the
/// account's posted balance right after the entry.
///
/// How `balance_after` is computed, so that it is right on every page: in one
/// consistent snapshot (REPEATABLE READ, read-only, on PostgreSQL; SQLite's single
/// connection), read the account's current posted balance `B` (`credits_posted −
/// debits_posted`, which the ledger check proves equal to the replay of its posted
/// transfers). The first entry of a page has `balance_after = B − S`, where `S` is the
/// signed sum of the entries newer than it — for the first page `S = 0`; after a cursor,
/// `S` is the signed sum of the cursor entry and everything newer (one SQL aggregate).
/// Walking down the page, each next (older) entry has `balance_after = previous
/// balance_after − previous amount`. Walking back from the balance keeps the common
/// first page free of aggregates; the snapshot keeps `B`, `S` and the page consistent
/// with one another while transfers are being written.
///
/// A cursor that is not an entry of this account gives an empty page.
pub async fn statement(
    db: &DatabaseConnection,
    account: &AccountKey,
    starting_after: Option<&str>,
    limit: u64,
) -> ApiResult<Page<StatementEntry>> {
    let txn = crate::db::read_snapshot(db).await?;
    let page = statement_in(&txn, account, starting_after, limit).await;
    txn.rollback().await?;
    page
}

async fn statement_in(
    txn: &DatabaseTransaction,
    account: &AccountKey,
    starting_after: Option<&str>,
    limit: u64,
) -> ApiResult<Page<StatementEntry>> {
    let account_id = account.id();
    let posted = ledger::balance(txn, account).await?.posted;
    let (cursor, newer_sum) = match starting_after {
        None => (None, 0),
        Some(id) => match store::find_entry(txn, &account_id, id).await? {
            None => {
                return Ok(Page {
                    data: Vec::new(),
                    has_more: false,
                });
            }
            Some(entry) => {
                let sum =
                    store::signed_sum_from(txn, &account_id, entry.created_at, &entry.id).await?;
                (Some((entry.created_at, entry.id)), sum)
            }
        },
    };
    let rows = store::entries(
        txn,
        &account_id,
        cursor.as_ref().map(|(t, id)| (*t, id.as_str())),
        limit + 1,
    )
    .await?;
    let page = Page::from_rows(rows, limit);
    let mut balance_after = posted - newer_sum;
    let mut data = Vec::with_capacity(page.data.len());
    for t in page.data {
        let signed = if t.credit_account_id == account_id {
            t.amount
        } else {
            -t.amount
        };
        data.push(StatementEntry {
            id: t.id,
            kind: t.kind,
            amount: format_usdt(signed),
            balance_after: format_usdt(balance_after),
            reference: t.reference,
            created_at: rfc3339(t.created_at),
        });
        balance_after -= signed;
    }
    Ok(Page {
        data,
        has_more: page.has_more,
    })
}

// ---------------------------------------------------------------------------------------
// Invariant check

/// Feature-level ledger invariants of withdrawals, for `ops::audit` (the admin ledger
/// check): every withdrawal has exactly its hold (`merchant → withdrawals`, pending,
/// `amount + fee`); the hold is open while the withdrawal is `review` or `approved`,
/// posted in full when `completed` (with the payout of `amount` to custody and the fee
/// to revenue), voided when `rejected` or `failed`; and no withdrawal transfer exists
/// without its withdrawal. Plain SQL that runs unchanged on SQLite and PostgreSQL.
pub async fn check_withdrawals(
    conn: &impl sea_orm::ConnectionTrait,
) -> Result<Vec<ledger::Violation>, DbErr> {
    use crate::ledger::model::transfer_flags::{PENDING, POST_PENDING, VOID_PENDING};
    let merchant_account =
        "'merchant:' || w.merchant_id || CASE WHEN w.livemode THEN ':live' ELSE ':test' END";
    let queries = [
        (
            "withdrawal_hold_mismatch",
            format!(
                "SELECT w.id AS id FROM withdrawals w \
                 LEFT JOIN ledger_transfers h ON h.id = w.id || ':hold' \
                 WHERE h.id IS NULL OR h.flags <> {PENDING} OR h.amount <> w.amount + w.fee \
                    OR h.debit_account_id <> {merchant_account} LIMIT 1000"
            ),
        ),
        (
            "withdrawal_hold_state_mismatch",
            format!(
                "SELECT w.id AS id FROM withdrawals w \
                 LEFT JOIN ledger_transfers r ON r.pending_id = w.id || ':hold' \
                 WHERE (w.status IN ('review', 'approved') AND r.id IS NOT NULL) \
                    OR (w.status = 'completed' AND (r.id IS NULL OR r.flags <> {POST_PENDING} \
                        OR r.amount <> w.amount + w.fee)) \
                    OR (w.status IN ('rejected', 'failed') AND (r.id IS NULL \
                        OR r.flags <> {VOID_PENDING})) LIMIT 1000"
            ),
        ),
        (
            "withdrawal_payout_mismatch",
            "SELECT w.id AS id FROM withdrawals w WHERE w.status = 'completed' AND ( \
               NOT EXISTS (SELECT 1 FROM ledger_transfers p \
                 WHERE p.id = w.id || ':payout' AND p.amount = w.amount) \
               OR (w.fee > 0 AND NOT EXISTS (SELECT 1 FROM ledger_transfers f \
                 WHERE f.id = w.id || ':fee' AND f.amount = w.fee))) LIMIT 1000"
                .to_owned(),
        ),
        (
            "withdrawal_transfer_without_withdrawal",
            format!(
                "SELECT t.id AS id FROM ledger_transfers t \
                 WHERE t.kind IN ('{}', '{}', '{}', '{}', '{}') \
                 AND NOT EXISTS (SELECT 1 FROM withdrawals w WHERE w.id = t.reference) \
                 LIMIT 1000",
                transfer_kinds::HOLD,
                transfer_kinds::VOID,
                transfer_kinds::POST,
                transfer_kinds::PAYOUT,
                transfer_kinds::FEE,
            ),
        ),
        (
            "withdrawal_paid_out_but_not_completed",
            format!(
                "SELECT t.id AS id FROM ledger_transfers t \
                 WHERE t.kind IN ('{}', '{}') AND NOT EXISTS (SELECT 1 FROM withdrawals w \
                   WHERE w.id = t.reference AND w.status = 'completed') LIMIT 1000",
                transfer_kinds::PAYOUT,
                transfer_kinds::FEE,
            ),
        ),
    ];
    let backend = conn.get_database_backend();
    let mut violations = Vec::new();
    for (kind, sql) in queries {
        for row in conn
            .query_all_raw(sea_orm::Statement::from_string(backend, sql))
            .await?
        {
            let id: String = row.try_get("", "id")?;
            violations.push(ledger::Violation::new(kind, format!("withdrawal {id}")));
        }
    }
    Ok(violations)
}

// Reads other features and the pages may use; the queries stay in `store.rs`.
pub use super::store::{count_with_status, find, list};
