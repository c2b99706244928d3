//! What the follower's steps do, inside the scan's transaction: a transfer seen is a
//! `pending` row; at its confirmations it is credited once — an acceptor's through the
//! deposit flow (`custody → acceptor`, a deposit row), a merchant's as a posted ledger
//! transfer `custody → merchant` — and the row is `confirmed`; a transfer whose block is
//! replaced first is `dropped`; a credited one whose block vanished is `vanished`, with
//! an audit entry and an admin alert, and its credit stands.

use std::collections::HashMap;

use sea_orm::{ActiveValue::Set, DatabaseTransaction, IntoActiveModel};
use serde_json::json;

use crate::acceptors::deposits::{DepositSource, credit_within};
use crate::acceptors::model::NewDeposit;
use crate::audit::{self, AuditEntry};
use crate::chain::config::ChainNetwork;
use crate::chain::entity::{OwnerKind, TransferStatus, deposit_address, transfer};
use crate::chain::follow::{Hash, Step, Transfer};
use crate::chain::service::ChainDepositView;
use crate::chain::store;
use crate::chain::units;
use crate::error::{ApiError, ApiResult};
use crate::ids::{AcceptorId, MerchantId, OrderId};
use crate::infra::event_bus::BusEvent;
use crate::ledger::{self, AccountKey, TransferRequest};
use crate::money::Usdt;
use crate::orders::announce::merchant_topic;
use crate::orders::model::OrderStatus;
use crate::webhooks;

/// The addresses the watcher follows, by the account logs carry.
pub type Owners = HashMap<[u8; 20], deposit_address::Model>;

/// What to do once the scan has committed.
#[derive(Debug, Default)]
pub struct AfterCommit {
    /// Liquidity the engine learns of (acceptor, micro-USDT).
    pub liquidity: Vec<(AcceptorId, i64)>,
    pub events: Vec<BusEvent>,
    /// Webhook events were written.
    pub webhooks: bool,
    /// Credits whose block vanished (admin alerts).
    pub vanished: Vec<serde_json::Value>,
    pub credited: u64,
}

/// One scan's context.
pub struct Scan<'a> {
    pub chain: &'a ChainNetwork,
    pub owners: &'a Owners,
    /// Hashes of the blocks the scan read, for the rows.
    pub block_hashes: &'a HashMap<u64, Hash>,
    pub now: i64,
}

pub async fn apply(
    txn: &DatabaseTransaction,
    scan: &Scan<'_>,
    steps: Vec<Step>,
    after: &mut AfterCommit,
) -> ApiResult<()> {
    for step in steps {
        match step {
            Step::Pending {
                transfer,
                block,
                confirmations,
            } => pending(txn, scan, &transfer, block, confirmations, after).await?,
            Step::Confirmed { transfer, block } => {
                confirmed(txn, scan, &transfer, block, after).await?
            }
            Step::Dropped { transfer, .. } => dropped(txn, scan, &transfer, after).await?,
            Step::Vanished { transfer, block } => {
                vanished(txn, scan, &transfer, block, after).await?
            }
        }
    }
    Ok(())
}

fn txid_of(scan: &Scan<'_>, transfer: &Transfer) -> String {
    let hex = hex::encode(transfer.txid);
    crate::addresses::Txid::parse(&hex)
        .map(|t| t.canonical(scan.chain.network))
        .unwrap_or(hex)
}

fn log_index(transfer: &Transfer) -> i64 {
    i64::try_from(transfer.log_index).unwrap_or(i64::MAX)
}

async fn find(
    txn: &DatabaseTransaction,
    scan: &Scan<'_>,
    transfer: &Transfer,
) -> ApiResult<Option<transfer::Model>> {
    Ok(store::find_transfer(
        txn,
        scan.chain.network.id,
        &txid_of(scan, transfer),
        log_index(transfer),
    )
    .await?)
}

/// The row of a transfer seen for the first time.
async fn insert(
    txn: &DatabaseTransaction,
    scan: &Scan<'_>,
    transfer: &Transfer,
    block: u64,
    confirmations: u64,
) -> ApiResult<Option<transfer::Model>> {
    let Some(owner) = scan.owners.get(&transfer.to) else {
        return Ok(None); // a log the filter should not have returned
    };
    let converted = units::to_micro_usdt(transfer.value, scan.chain.usdt_decimals);
    let (amount, reason) = match converted {
        Ok(c) => (c.micro_usdt, None),
        Err(e) => (0, Some(format!("not credited: {e}"))),
    };
    let row = transfer::ActiveModel {
        id: Set(crate::ids::new("ctr")),
        network: Set(scan.chain.network.id.to_owned()),
        txid: Set(txid_of(scan, transfer)),
        log_index: Set(log_index(transfer)),
        block_number: Set(as_i64(block)),
        block_hash: Set(block_hash(scan, block)),
        from_account: Set(crate::chain::service::account_hex(&transfer.from)),
        address_id: Set(owner.id.clone()),
        owner_kind: Set(owner.owner_kind),
        owner_id: Set(owner.owner_id.clone()),
        value_base: Set(transfer.value.to_string()),
        amount: Set(amount),
        status: Set(if reason.is_some() {
            TransferStatus::Review
        } else {
            TransferStatus::Pending
        }),
        confirmations: Set(as_i64(confirmations)),
        required_confirmations: Set(i64::from(scan.chain.confirmations)),
        review_reason: Set(reason),
        credit_ref: Set(None),
        seen_at: Set(scan.now),
        confirmed_at: Set(None),
        updated_at: Set(scan.now),
    };
    Ok(Some(store::insert_transfer(txn, row).await?))
}

/// A block number or count as the database stores it (`BIGINT`).
pub(super) fn as_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn block_hash(scan: &Scan<'_>, block: u64) -> String {
    scan.block_hashes
        .get(&block)
        .map(|h| format!("0x{}", hex::encode(h)))
        .unwrap_or_default()
}

async fn pending(
    txn: &DatabaseTransaction,
    scan: &Scan<'_>,
    transfer: &Transfer,
    block: u64,
    confirmations: u64,
    after: &mut AfterCommit,
) -> ApiResult<()> {
    match find(txn, scan, transfer).await? {
        None => {
            if let Some(row) = insert(txn, scan, transfer, block, confirmations).await? {
                announce(txn, scan, &row, "deposit.pending", after).await?;
            }
        }
        Some(row)
            if matches!(
                row.status,
                TransferStatus::Pending | TransferStatus::Dropped
            ) =>
        {
            let was_dropped = row.status == TransferStatus::Dropped;
            let mut active = row.into_active_model();
            active.status = Set(TransferStatus::Pending);
            active.block_number = Set(as_i64(block));
            active.block_hash = Set(block_hash(scan, block));
            active.confirmations = Set(as_i64(confirmations));
            active.updated_at = Set(scan.now);
            let row = store::update_transfer(txn, active).await?;
            if was_dropped {
                announce(txn, scan, &row, "deposit.pending", after).await?;
            } else {
                live_event(scan, &row, after);
            }
        }
        // Credited or under review: confirmations no longer matter.
        Some(_) => {}
    }
    Ok(())
}

async fn confirmed(
    txn: &DatabaseTransaction,
    scan: &Scan<'_>,
    transfer: &Transfer,
    block: u64,
    after: &mut AfterCommit,
) -> ApiResult<()> {
    let required = u64::from(scan.chain.confirmations);
    let row = match find(txn, scan, transfer).await? {
        Some(row) => row,
        None => match insert(txn, scan, transfer, block, required).await? {
            Some(row) => row,
            None => return Ok(()),
        },
    };
    if row.status != TransferStatus::Pending && row.status != TransferStatus::Dropped {
        return Ok(()); // credited once already, or under review: never twice
    }
    let (status, credit_ref, reason) = credit(txn, scan, &row, after).await?;
    let mut active = row.into_active_model();
    active.status = Set(status);
    active.block_number = Set(as_i64(block));
    active.block_hash = Set(block_hash(scan, block));
    active.confirmations = Set(as_i64(required));
    active.credit_ref = Set(credit_ref);
    active.review_reason = Set(reason);
    active.confirmed_at = Set(Some(scan.now));
    active.updated_at = Set(scan.now);
    let row = store::update_transfer(txn, active).await?;
    let kind = if row.status == TransferStatus::Confirmed {
        after.credited += 1;
        "deposit.confirmed"
    } else {
        "deposit.review"
    };
    announce(txn, scan, &row, kind, after).await
}

/// Credits the row's amount to its owner: `(status, credit reference, review reason)`.
async fn credit(
    txn: &DatabaseTransaction,
    scan: &Scan<'_>,
    row: &transfer::Model,
    after: &mut AfterCommit,
) -> ApiResult<(TransferStatus, Option<String>, Option<String>)> {
    let network = scan.chain.network.id;
    if row.amount <= 0 {
        // Dust below one micro-USDT: recorded, nothing to credit.
        return Ok((TransferStatus::Confirmed, None, None));
    }
    match row.owner_kind {
        OwnerKind::Acceptor => {
            let acceptor_id: AcceptorId = row
                .owner_id
                .parse()
                .map_err(|_| ApiError::internal("a deposit address names no acceptor"))?;
            let by_hand = crate::acceptors::store::find_deposit(txn, network, &row.txid).await?;
            if let Some(existing) = by_hand.filter(|d| d.log_index < 0) {
                return Ok((
                    TransferStatus::Review,
                    Some(existing.id.clone()),
                    Some(format!(
                        "this transaction was already credited by hand as deposit {}; not credited again",
                        existing.id
                    )),
                ));
            }
            let new = NewDeposit {
                amount: Usdt::from_micros(row.amount),
                network: scan.chain.network.id,
                txid: row.txid.clone(),
                note: Some(format!("on-chain, block {}", row.block_number)),
                log_index: u64::try_from(row.log_index).ok(),
            };
            let deposit = credit_within(txn, &acceptor_id, &new, DepositSource::Chain)
                .await?
                .ok_or_else(|| {
                    ApiError::internal("a chain transfer was credited as a deposit already")
                })?;
            after.liquidity.push((acceptor_id, row.amount));
            Ok((TransferStatus::Confirmed, Some(deposit.id), None))
        }
        OwnerKind::Merchant => {
            let merchant_id: MerchantId = row
                .owner_id
                .parse()
                .map_err(|_| ApiError::internal("a deposit address names no merchant"))?;
            let custody = AccountKey::custody(true);
            let account = AccountKey::merchant(merchant_id.clone(), true);
            ledger::open_accounts(txn, &[custody.clone(), account.clone()]).await?;
            let transfer_id = format!("dep:{network}:{}:{}", row.txid, row.log_index);
            ledger::apply(
                txn,
                &[
                    TransferRequest::posted(transfer_id.clone(), custody, account, row.amount)
                        .with_kind("deposit")
                        .with_reference(row.id.clone()),
                ],
                scan.now,
            )
            .await?;
            audit::record(
                txn,
                AuditEntry {
                    actor_id: None,
                    actor_role: "system",
                    action: "merchant.deposit",
                    target_type: "merchant",
                    target_id: Some(merchant_id.as_str()),
                    details: json!({
                        "transfer": row.id,
                        "amount": Usdt::from_micros(row.amount).to_string(),
                        "network": network,
                        "txid": row.txid,
                        "log_index": row.log_index,
                    }),
                    ip: None,
                },
            )
            .await?;
            Ok((TransferStatus::Confirmed, Some(transfer_id), None))
        }
        OwnerKind::Order => order_payment(txn, row).await,
    }
}

/// A confirmed transfer to an on-chain order's address: it pays the order (settled
/// after the commit, `chain_watcher::orders`) while the order waits for its payment;
/// after that (expired, cancelled, completed, disputed) it is listed for review — the
/// customer or merchant may appeal an expired order, an admin resolves.
async fn order_payment(
    txn: &DatabaseTransaction,
    row: &transfer::Model,
) -> ApiResult<(TransferStatus, Option<String>, Option<String>)> {
    let order_id: OrderId = row
        .owner_id
        .parse()
        .map_err(|_| ApiError::internal("a deposit address names no order"))?;
    let status = crate::orders::service::find(txn, &order_id)
        .await?
        .map(|o| o.status);
    match status {
        Some(OrderStatus::Assigned | OrderStatus::Paid) => {
            Ok((TransferStatus::Confirmed, Some(order_id.to_string()), None))
        }
        Some(status) => Ok((
            TransferStatus::Review,
            Some(order_id.to_string()),
            Some(format!(
                "paid to order {order_id} after it was {status}: not credited; the customer or the merchant may appeal an expired order, an admin resolves"
            )),
        )),
        None => Ok((
            TransferStatus::Review,
            None,
            Some(format!(
                "the address of order {order_id}, which does not exist"
            )),
        )),
    }
}

/// The transfer's row when it is in `status` (a step for a row in another state
/// changes nothing).
async fn find_in(
    txn: &DatabaseTransaction,
    scan: &Scan<'_>,
    transfer: &Transfer,
    status: TransferStatus,
) -> ApiResult<Option<transfer::Model>> {
    Ok(find(txn, scan, transfer)
        .await?
        .filter(|row| row.status == status))
}

async fn dropped(
    txn: &DatabaseTransaction,
    scan: &Scan<'_>,
    transfer: &Transfer,
    after: &mut AfterCommit,
) -> ApiResult<()> {
    let Some(row) = find_in(txn, scan, transfer, TransferStatus::Pending).await? else {
        return Ok(());
    };
    let mut active = row.into_active_model();
    active.status = Set(TransferStatus::Dropped);
    active.updated_at = Set(scan.now);
    let row = store::update_transfer(txn, active).await?;
    live_event(scan, &row, after);
    Ok(())
}

async fn vanished(
    txn: &DatabaseTransaction,
    scan: &Scan<'_>,
    transfer: &Transfer,
    block: u64,
    after: &mut AfterCommit,
) -> ApiResult<()> {
    let Some(row) = find_in(txn, scan, transfer, TransferStatus::Confirmed).await? else {
        return Ok(());
    };
    let reason = format!(
        "block {block} left the chain after this transfer was credited (a reorganisation deeper than {} confirmations); the credit stands until an admin reviews it",
        scan.chain.confirmations
    );
    let mut active = row.into_active_model();
    active.status = Set(TransferStatus::Vanished);
    active.review_reason = Set(Some(reason.clone()));
    active.updated_at = Set(scan.now);
    let row = store::update_transfer(txn, active).await?;
    let details = json!({
        "transfer": row.id,
        "network": row.network,
        "txid": row.txid,
        "log_index": row.log_index,
        "block": block,
        "amount": Usdt::from_micros(row.amount).to_string(),
        "owner_kind": row.owner_kind.as_str(),
        "owner_id": row.owner_id,
        "reason": reason,
    });
    audit::record(
        txn,
        AuditEntry {
            actor_id: None,
            actor_role: "system",
            action: "chain.transfer_vanished",
            target_type: "chain_transfer",
            target_id: Some(&row.id),
            details: details.clone(),
            ip: None,
        },
    )
    .await?;
    tracing::error!(
        network = %row.network, txid = %row.txid, log_index = row.log_index, block,
        "a credited transfer's block left the chain: listed for review"
    );
    after.vanished.push(details);
    live_event(scan, &row, after);
    Ok(())
}

/// The owner's live event, and for a merchant the webhook `kind`.
async fn announce(
    txn: &DatabaseTransaction,
    scan: &Scan<'_>,
    row: &transfer::Model,
    kind: &str,
    after: &mut AfterCommit,
) -> ApiResult<()> {
    if row.owner_kind == OwnerKind::Merchant && kind != "deposit.review" {
        let merchant_id: MerchantId = row
            .owner_id
            .parse()
            .map_err(|_| ApiError::internal("a deposit address names no merchant"))?;
        let data = serde_json::to_value(view(scan, row))
            .map_err(|e| ApiError::internal(format!("a deposit view: {e}")))?;
        webhooks::service::enqueue(txn, &merchant_id, true, kind, data, None).await?;
        after.webhooks = true;
    }
    live_event(scan, row, after);
    Ok(())
}

fn view(scan: &Scan<'_>, row: &transfer::Model) -> ChainDepositView {
    let address = scan
        .owners
        .values()
        .find(|a| a.id == row.address_id)
        .map_or("", |a| a.address.as_str());
    ChainDepositView::of(row, address)
}

fn live_event(scan: &Scan<'_>, row: &transfer::Model, after: &mut AfterCommit) {
    let topic = match row.owner_kind {
        OwnerKind::Acceptor => format!("acceptor:{}", row.owner_id),
        OwnerKind::Merchant => merchant_topic(&row.owner_id),
        // The order's own events tell its payment (`chain_watcher::orders`).
        OwnerKind::Order => return,
    };
    let payload = serde_json::to_value(view(scan, row)).unwrap_or_default();
    after.events.push(BusEvent {
        topic,
        kind: "deposit".to_owned(),
        payload,
    });
}
