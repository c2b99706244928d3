//! An on-chain order's payment, as the chain watcher reports it (actor `chain`):
//! `assigned → paid` when the transfers seen at the order's address cover its amount
//! (they are confirming), `assigned | paid → completed` once the confirmed ones cover
//! it. Completion credits the merchant `amount − fee` from custody (the USDT is at an
//! address of the platform's key), the fee to revenue, and anything received beyond
//! the amount to the merchant as `order_excess` — in the transaction of the change.
//! Less than the amount leaves the order `assigned` with `paid_amount` shown; it
//! expires at its deadline with the partial amount recorded.

use sea_orm::{ActiveModelTrait, ActiveValue::Set, DatabaseTransaction, IntoActiveModel};

use crate::error::ApiResult;
use crate::ids::OrderId;
use crate::orders::announce::{self, state_event};
use crate::orders::model::{Actor, OrderStatus, Rail, Settlement};
use crate::orders::settlement::settle_from_custody;
use crate::orders::store::{self, order};
use crate::orders::transition::{self, Effects, Scope, Step, Transition, lock_order};
use crate::state::AppState;

/// What the chain says of an order's payment: micro-USDT seen in blocks and confirmed,
/// the least confirmations of what is still confirming, the last transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainPayment {
    pub seen: i64,
    pub confirmed: i64,
    pub confirmations: i64,
    pub txid: Option<String>,
}

impl ChainPayment {
    fn write(&self, active: &mut order::ActiveModel, received: i64) {
        active.paid_amount = Set(Some(received));
        active.confirmations = Set(Some(self.confirmations));
        active.txid = Set(self.txid.clone());
    }
}

struct ChainPaid<'a> {
    order_id: &'a OrderId,
    payment: &'a ChainPayment,
}

impl Transition for ChainPaid<'_> {
    type Output = order::Model;
    const KIND: &'static str = "order.paid";

    fn actor(&self) -> (Actor, Option<String>) {
        (Actor::Chain, None)
    }

    async fn lock(&mut self, txn: &DatabaseTransaction) -> ApiResult<order::Model> {
        lock_order(txn, self.order_id, Scope::System).await
    }

    fn is_moot(&self, o: &order::Model, _now: i64) -> bool {
        o.rail != Rail::Onchain || o.status != OrderStatus::Assigned
    }

    fn target(&self, _o: &order::Model) -> OrderStatus {
        OrderStatus::Paid
    }

    async fn write(
        &mut self,
        step: &Step<'_>,
        _o: &order::Model,
        active: &mut order::ActiveModel,
        _effects: &mut Effects,
    ) -> ApiResult<()> {
        active.paid_at = Set(Some(step.now));
        self.payment.write(active, self.payment.seen);
        Ok(())
    }

    fn note(&self) -> Option<String> {
        self.payment.txid.clone()
    }

    async fn answer(self, _state: &AppState, updated: order::Model) -> ApiResult<order::Model> {
        Ok(updated)
    }
}

struct ChainCompleted<'a> {
    order_id: &'a OrderId,
    payment: &'a ChainPayment,
}

impl Transition for ChainCompleted<'_> {
    type Output = order::Model;
    const KIND: &'static str = "order.completed";

    fn actor(&self) -> (Actor, Option<String>) {
        (Actor::Chain, None)
    }

    async fn lock(&mut self, txn: &DatabaseTransaction) -> ApiResult<order::Model> {
        lock_order(txn, self.order_id, Scope::System).await
    }

    fn is_moot(&self, o: &order::Model, _now: i64) -> bool {
        o.rail != Rail::Onchain
            || !matches!(o.status, OrderStatus::Assigned | OrderStatus::Paid)
            || self.payment.confirmed < o.amount
    }

    fn target(&self, _o: &order::Model) -> OrderStatus {
        OrderStatus::Completed
    }

    async fn write(
        &mut self,
        step: &Step<'_>,
        o: &order::Model,
        active: &mut order::ActiveModel,
        _effects: &mut Effects,
    ) -> ApiResult<()> {
        let settlement = Settlement::compute(o.amount, o.fee, o.amount, |_| 0);
        let excess = self.payment.confirmed - o.amount;
        settle_from_custody(step.txn, o, &settlement, excess, step.now).await?;
        if o.paid_at.is_none() {
            active.paid_at = Set(Some(step.now));
        }
        active.completed_at = Set(Some(step.now));
        self.payment.write(active, self.payment.confirmed);
        Ok(())
    }

    fn note(&self) -> Option<String> {
        self.payment.txid.clone()
    }

    async fn answer(self, _state: &AppState, updated: order::Model) -> ApiResult<order::Model> {
        Ok(updated)
    }
}

/// Brings an on-chain order in line with its payment: completed, paid, or only its
/// `paid_amount` / `confirmations` / `txid` updated (a live event, no webhook). `None`
/// when nothing changed.
pub async fn settle_on_chain(
    state: &AppState,
    order_id: &OrderId,
    payment: &ChainPayment,
) -> ApiResult<Option<order::Model>> {
    let Some(o) = store::find(&state.db, order_id).await? else {
        return Ok(None);
    };
    if o.rail != Rail::Onchain || !matches!(o.status, OrderStatus::Assigned | OrderStatus::Paid) {
        return Ok(None);
    }
    if payment.confirmed >= o.amount {
        return transition::run(state, ChainCompleted { order_id, payment }).await;
    }
    if o.status == OrderStatus::Assigned && payment.seen >= o.amount {
        transition::run(state, ChainPaid { order_id, payment }).await?;
    }
    record_progress(state, order_id, payment).await
}

/// `paid_amount`, `confirmations` and `txid` as the chain says them, with a live event
/// of the order's state (the cashier page counts confirmations).
async fn record_progress(
    state: &AppState,
    order_id: &OrderId,
    payment: &ChainPayment,
) -> ApiResult<Option<order::Model>> {
    let Some(o) = store::find(&state.db, order_id).await? else {
        return Ok(None);
    };
    let received = if o.status == OrderStatus::Paid {
        payment.seen.max(o.paid_amount.unwrap_or(0))
    } else {
        payment.seen
    };
    if o.paid_amount == Some(received)
        && o.confirmations == Some(payment.confirmations)
        && o.txid == payment.txid
    {
        return Ok(None);
    }
    let mut active = o.into_active_model();
    payment.write(&mut active, received);
    active.updated_at = Set(crate::db::now_ms());
    let updated = active.update(&state.db).await?;
    if let Some((kind, view)) = state_event(&updated, &state.public_url) {
        let events = announce::live_events(&updated, &kind, view);
        announce::publish(
            state.infra.event_bus.as_ref(),
            &state.webhook_wakeup,
            &events,
        )
        .await;
    }
    Ok(Some(updated))
}
