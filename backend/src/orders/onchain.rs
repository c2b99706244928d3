//! Direct on-chain orders (`"rail": "onchain"`): the customer sends USDT to an address
//! derived for this order alone, so no amount games are needed to tell payments apart.
//! The order is created `assigned` (waiting for the transfer at its address); the chain
//! watcher moves it to `paid` when the transfers seen cover the amount and to
//! `completed` once they have their confirmations (`transitions::chain_payment`). No
//! acceptor and no engine take part; the merchant's fee applies as for OTC orders.

use sea_orm::{ActiveModelTrait, IntoActiveModel, TransactionTrait};
use serde_json::json;

use super::announce::{self, event_view, history_row, live_events, webhook_row};
use super::create::{Created, fee_of, find_by_merchant_order_id, payment_reference, replay_of};
use super::deadlines::deadline_after;
use super::model::{Actor, OrderStatus, Rail};
use super::request::OnchainParams;
use super::store::order;
use crate::chain::entity::OwnerKind;
use crate::chain::service::{Chains, address_for, payment_uri};
use crate::chain::units::to_base_units;
use crate::db::{is_unique_violation, now_ms};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::ids::{self, OrderId};
use crate::money::format_usdt;
use crate::state::AppState;
use crate::webhooks;

/// Creates an on-chain order: its own address, then the order row, its history and its
/// `order.assigned` webhook in one transaction. A `merchant_order_id` used before is
/// answered with that order (same parameters) or `409 duplicate_merchant_order_id`.
pub async fn create(
    state: &AppState,
    merchant: &crate::merchants::merchant::Model,
    livemode: bool,
    params: OnchainParams,
) -> ApiResult<Created> {
    if !livemode {
        return Err(ApiError::invalid_request(
            "On-chain orders need a live key: the sandbox has no chain.",
        )
        .with_param("rail"));
    }
    let network = params.network.id;
    let chains = Chains::of(state)?;
    let chain = chains.get(network).ok_or_else(|| {
        ApiError::new(
            ErrorCode::UnsupportedNetwork,
            format!("On-chain payments are not enabled on {network}."),
        )
        .with_param("network")
    })?;
    let fingerprint = params.fingerprint();
    let taken =
        || find_by_merchant_order_id(&state.db, &merchant.id, true, &params.merchant_order_id);
    if let Some(existing) = taken().await? {
        return replay_of(existing, &fingerprint);
    }
    let id = OrderId::generate();
    let address = address_for(&state.db, chain, OwnerKind::Order, id.as_str()).await?;
    let amount = params.amount.micros();
    let base_units = to_base_units(amount, chain.usdt_decimals)
        .map_err(|e| ApiError::invalid_request(format!("amount {e}.")).with_param("amount"))?;
    let details = json!({
        "method": "onchain",
        "network": network,
        "address": address.address,
        "token_contract": chain.usdt_contract,
        "amount": format_usdt(amount),
        "uri": payment_uri(chain, &address.address, Some(base_units)),
    });
    let now = now_ms();
    let expires_at = deadline_after(now, u64::from(params.expires_in.seconds()));
    let row = order::Model {
        id,
        merchant_id: merchant.id.clone(),
        livemode: true,
        merchant_order_id: params.merchant_order_id.clone(),
        status: OrderStatus::Assigned,
        amount,
        fee: fee_of(merchant, amount)?,
        fiat_currency: String::new(),
        fiat_amount: None,
        rate: None,
        payment_method: Some("onchain".to_owned()),
        payment_details: Some(details.to_string()),
        reference: payment_reference(),
        acceptor_id: None,
        callback_url: params.callback_url.as_ref().map(|u| u.as_str().to_owned()),
        return_url: params.return_url.as_ref().map(|u| u.as_str().to_owned()),
        expires_in: i32::try_from(params.expires_in.seconds()).map_err(ApiError::internal)?,
        metadata: params.metadata.as_ref().map(|raw| raw.get().to_owned()),
        cashier_token: ids::random_hex(24),
        params_hash: fingerprint.clone(),
        excluded_acceptors: "[]".to_owned(),
        assignment_seq: 0,
        released_amount: None,
        payer_name: None,
        expires_at,
        match_deadline: None,
        release_deadline: None,
        appeal_deadline: None,
        // The scheduler expires it unless the chain moved it first.
        next_deadline: Some(expires_at),
        assigned_at: Some(now),
        paid_at: None,
        completed_at: None,
        created_at: now,
        updated_at: now,
        rail: Rail::Onchain,
        network: Some(network.to_owned()),
        txid: None,
        paid_amount: Some(0),
        confirmations: Some(0),
    };
    let txn = state.db.begin().await?;
    let created = match row.into_active_model().insert(&txn).await {
        Ok(created) => created,
        Err(err) if is_unique_violation(&err) => {
            txn.rollback().await?;
            let existing = taken()
                .await?
                .ok_or_else(|| ApiError::internal("a taken merchant_order_id has no order"))?;
            return replay_of(existing, &fingerprint);
        }
        Err(err) => return Err(err.into()),
    };
    history_row(
        &created.id,
        "order.assigned",
        None,
        OrderStatus::Assigned,
        (Actor::Merchant, Some(created.merchant_id.to_string())),
        Some(format!("on-chain, {network}")),
    )
    .insert(&txn)
    .await?;
    let view = event_view(&created, &state.public_url)?;
    webhooks::service::enqueue_all(
        &txn,
        vec![webhook_row(&created, "order.assigned", view.clone())],
    )
    .await?;
    txn.commit().await?;
    announce::publish(
        state.infra.event_bus.as_ref(),
        &state.webhook_wakeup,
        &live_events(&created, "order.assigned", view),
    )
    .await;
    Ok(Created {
        order: created,
        replayed: false,
    })
}
