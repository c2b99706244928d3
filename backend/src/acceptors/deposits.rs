//! On-chain deposits credited to an acceptor by an admin: the ledger transfer
//! `custody → acceptor` and the deposit row in one transaction, idempotent on
//! network + txid.

use matching_engine::Command;
use sea_orm::{DatabaseTransaction, TransactionTrait};
use serde_json::json;

use super::entity::deposit;
use super::model::NewDeposit;
use super::service::{AdminContext, get, is_unique_violation};
use super::store;
use crate::audit::{self, AuditEntry};
use crate::db::now_ms;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::ids::AcceptorId;
use crate::ledger::{self, AccountKey, TransferRequest};
use crate::state::AppState;

/// What [`deposit`] did.
#[derive(Debug, Clone)]
pub enum DepositOutcome {
    /// Credited now.
    Created(deposit::Model),
    /// The same transaction was already credited to this acceptor with this amount:
    /// nothing changed (an idempotent replay).
    Replayed(deposit::Model),
}

impl DepositOutcome {
    pub fn deposit(&self) -> &deposit::Model {
        match self {
            Self::Created(d) | Self::Replayed(d) => d,
        }
    }
}

/// Credits an on-chain deposit to the acceptor: a posted ledger transfer
/// `custody → acceptor` and the deposit row, in one transaction. Idempotent on
/// network + txid: the same transaction again for the same acceptor and amount is a
/// replay; with other values it is `409 conflict`.
pub async fn deposit(
    state: &AppState,
    ctx: AdminContext<'_>,
    acceptor_id: &AcceptorId,
    new: NewDeposit,
) -> ApiResult<DepositOutcome> {
    let target = get(&state.db, acceptor_id).await?;
    let outcome = match credit_deposit(state, ctx, &target.id, &new).await? {
        Some(created) => DepositOutcome::Created(created),
        None => {
            let existing = store::find_deposit(&state.db, new.network, &new.txid)
                .await?
                .ok_or_else(|| ApiError::internal("a deposit vanished after a conflict"))?;
            if existing.acceptor_id != target.id || existing.amount != new.amount.micros() {
                return Err(ApiError::new(
                    ErrorCode::Conflict,
                    format!(
                        "This transaction was already credited as deposit {} with another acceptor or amount.",
                        existing.id
                    ),
                )
                .with_param("txid"));
            }
            DepositOutcome::Replayed(existing)
        }
    };
    if let DepositOutcome::Created(d) = &outcome {
        state
            .notify_engine(Command::AdjustLiquidity {
                acceptor: d.acceptor_id.to_string(),
                delta: d.amount,
            })
            .await;
    }
    Ok(outcome)
}

/// Who credits a deposit: an admin (audited as theirs), or the chain watcher.
#[derive(Clone, Copy)]
pub enum DepositSource<'a> {
    Admin(AdminContext<'a>),
    Chain,
}

/// The deposit transaction. `None` when the network + txid is already recorded
/// (found first, or lost a race on the unique index).
async fn credit_deposit(
    state: &AppState,
    ctx: AdminContext<'_>,
    acceptor_id: &AcceptorId,
    new: &NewDeposit,
) -> ApiResult<Option<deposit::Model>> {
    let txn = state.db.begin().await?;
    if store::find_deposit(&txn, new.network, &new.txid)
        .await?
        .is_some()
    {
        txn.rollback().await?;
        return Ok(None);
    }
    let Some(created) = credit_within(&txn, acceptor_id, new, DepositSource::Admin(ctx)).await?
    else {
        txn.rollback().await?;
        return Ok(None);
    };
    txn.commit().await?;
    Ok(Some(created))
}

/// Credits a deposit inside the caller's transaction: the deposit row, the posted
/// ledger transfer `custody → acceptor`, and the audit entry. The caller tells the
/// engine about the new liquidity once its transaction has committed.
///
/// `None`: the unique index refused the row (the transfer is already credited — a
/// concurrent duplicate waits on the index and fails there, before it touches the
/// ledger); on PostgreSQL the transaction is then unusable: roll it back.
pub async fn credit_within(
    txn: &DatabaseTransaction,
    acceptor_id: &AcceptorId,
    new: &NewDeposit,
    source: DepositSource<'_>,
) -> ApiResult<Option<deposit::Model>> {
    let now = now_ms();
    let custody = AccountKey::custody(true);
    let account = AccountKey::acceptor(acceptor_id.clone(), true);
    ledger::open_accounts(txn, &[custody.clone(), account.clone()]).await?;
    let admin_id = match &source {
        DepositSource::Admin(ctx) => Some(ctx.admin_id),
        DepositSource::Chain => None,
    };
    let created = match store::insert_deposit(txn, acceptor_id, new, admin_id, now).await {
        Ok(created) => created,
        Err(err) if is_unique_violation(&err) => return Ok(None),
        Err(err) => return Err(err.into()),
    };
    ledger::apply(
        txn,
        &[
            TransferRequest::posted(new.transfer_id(), custody, account, new.amount.micros())
                .with_kind("deposit")
                .with_reference(created.id.clone()),
        ],
        now,
    )
    .await?;
    let details = json!({
        "deposit_id": created.id,
        "amount": new.amount.to_string(),
        "network": new.network,
        "txid": new.txid,
        "log_index": new.log_index,
    });
    let entry = match &source {
        DepositSource::Admin(ctx) => ctx.entry("acceptor.deposit", acceptor_id, details),
        DepositSource::Chain => AuditEntry {
            actor_id: None,
            actor_role: "system",
            action: "acceptor.deposit",
            target_type: "acceptor",
            target_id: Some(acceptor_id),
            details,
            ip: None,
        },
    };
    audit::record(txn, entry).await?;
    Ok(Some(created))
}
