//! `matching | assigned → expired` when the order's deadline passes (scheduler). The
//! deadline is re-checked under the row lock: if someone moved the order first
//! (confirm racing expiry), nothing happens. An expired order can be appealed within
//! the appeal window.

use matching_engine::Command;
use sea_orm::{ActiveValue::Set, DatabaseTransaction};

use crate::chain::entity::{OwnerKind, TransferStatus};
use crate::chain::store as chain_store;
use crate::error::{ApiError, ApiResult};
use crate::ids::OrderId;
use crate::money::format_usdt;
use crate::orders::deadlines::{deadline_after, due_transition};
use crate::orders::model::{Actor, OrderStatus, Rail};
use crate::orders::settlement::void_reservation;
use crate::orders::store::order;
use crate::orders::transition::{self, Effects, Scope, Step, Transition, lock_order};
use crate::state::AppState;

struct Expire<'a> {
    order_id: &'a OrderId,
}

impl Transition for Expire<'_> {
    type Output = order::Model;
    const KIND: &'static str = "order.expired";

    fn actor(&self) -> (Actor, Option<String>) {
        (Actor::System, None)
    }

    async fn lock(&mut self, txn: &DatabaseTransaction) -> ApiResult<order::Model> {
        lock_order(txn, self.order_id, Scope::System).await
    }

    fn is_moot(&self, o: &order::Model, now: i64) -> bool {
        due_transition(o, now) != Some(OrderStatus::Expired)
    }

    fn target(&self, _o: &order::Model) -> OrderStatus {
        OrderStatus::Expired
    }

    async fn write(
        &mut self,
        step: &Step<'_>,
        o: &order::Model,
        active: &mut order::ActiveModel,
        effects: &mut Effects,
    ) -> ApiResult<()> {
        let window = step.state.settings.appeal_window_seconds;
        active.appeal_deadline = Set(Some(deadline_after(step.now, window)));
        if o.rail == Rail::Onchain {
            return expire_onchain(step, o).await;
        }
        void_reservation(step.txn, o, step.now).await?;
        // A matching order leaves the engine's queue; an assigned one frees liquidity.
        let order = o.id.to_string();
        effects.engine = vec![if step.from == OrderStatus::Matching {
            Command::Cancel { order }
        } else {
            Command::OrderReleased { order }
        }];
        Ok(())
    }

    async fn answer(self, _state: &AppState, updated: order::Model) -> ApiResult<order::Model> {
        Ok(updated)
    }
}

/// An on-chain order at its deadline: not while the confirmed transfers to its address
/// cover it (the watcher completes it at its next scan); underpaid, its confirmed
/// transfers are listed for review with the partial amount — an admin completes it for
/// what was paid or refunds by hand. No engine holds it.
async fn expire_onchain(step: &Step<'_>, o: &order::Model) -> ApiResult<()> {
    let ids = [o.id.to_string()];
    let rows = chain_store::transfers_of_owners(step.txn, OwnerKind::Order, &ids).await?;
    let confirmed: i64 = rows
        .iter()
        .filter(|r| r.status == TransferStatus::Confirmed)
        .map(|r| r.amount)
        .sum();
    if confirmed >= o.amount {
        return Err(ApiError::invalid_state(
            "The order's payment is confirmed; it completes instead of expiring.",
        ));
    }
    let reason = format!(
        "order {} expired underpaid: {} of {} USDT received; an admin completes it for what was paid or refunds by hand",
        o.id,
        format_usdt(o.paid_amount.unwrap_or(confirmed)),
        format_usdt(o.amount)
    );
    chain_store::mark_for_review(step.txn, OwnerKind::Order, o.id.as_str(), &reason, step.now)
        .await?;
    Ok(())
}

/// `matching | assigned → expired` if its deadline has passed; `None` when it has not
/// (anymore).
pub async fn expire(state: &AppState, order_id: &OrderId) -> ApiResult<Option<order::Model>> {
    transition::run(state, Expire { order_id }).await
}
