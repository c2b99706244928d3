//! After each scan: every on-chain order of the network still waiting for its payment
//! or confirming it is brought in line with the transfers to its address
//! (`orders::service::settle_on_chain`). Derived from the rows each time, so a crash
//! between the scan's commit and this step only delays it to the next scan.

use std::collections::HashMap;

use crate::chain::entity::{OwnerKind, TransferStatus, transfer};
use crate::chain::store;
use crate::error::ApiResult;
use crate::orders::service::{ChainPayment, active_onchain, settle_on_chain};
use crate::state::AppState;

/// At most this many open on-chain orders are settled per scan (oldest first).
const ORDERS_PER_SCAN: u64 = 2_000;

pub async fn settle(state: &AppState, network: &str, required: u32) -> ApiResult<()> {
    let orders = active_onchain(&state.db, network, ORDERS_PER_SCAN).await?;
    if orders.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = orders.iter().map(|o| o.id.to_string()).collect();
    let rows = store::transfers_of_owners(&state.db, OwnerKind::Order, &ids).await?;
    let mut by_order: HashMap<&str, Vec<&transfer::Model>> = HashMap::new();
    for row in &rows {
        by_order.entry(row.owner_id.as_str()).or_default().push(row);
    }
    for o in &orders {
        let Some(rows) = by_order.get(o.id.as_str()) else {
            continue; // nothing seen yet
        };
        let payment = payment_of(rows, i64::from(required));
        if let Err(err) = settle_on_chain(state, &o.id, &payment).await {
            tracing::warn!(order = %o.id, error = %err, "on-chain order not settled; retrying next scan");
        }
    }
    Ok(())
}

/// The payment the transfers make: seen (pending or confirmed), confirmed, the least
/// confirmations of those still confirming (else the requirement), the newest txid.
fn payment_of(rows: &[&transfer::Model], required: i64) -> ChainPayment {
    let sum = |statuses: &[TransferStatus]| -> i64 {
        rows.iter()
            .filter(|r| statuses.contains(&r.status))
            .map(|r| r.amount)
            .sum()
    };
    let confirming = rows
        .iter()
        .filter(|r| r.status == TransferStatus::Pending)
        .map(|r| r.confirmations.min(required))
        .min();
    let newest = rows
        .iter()
        .filter(|r| {
            matches!(
                r.status,
                TransferStatus::Pending | TransferStatus::Confirmed
            )
        })
        .max_by_key(|r| (r.block_number, r.log_index));
    ChainPayment {
        seen: sum(&[TransferStatus::Pending, TransferStatus::Confirmed]),
        confirmed: sum(&[TransferStatus::Confirmed]),
        confirmations: confirming.unwrap_or(required),
        txid: newest.map(|r| r.txid.clone()),
    }
}
