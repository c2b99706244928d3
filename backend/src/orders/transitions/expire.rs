//! `matching | assigned → expired` when the order's deadline passes (scheduler). The
//! deadline is re-checked under the row lock: if someone moved the order first
//! (confirm racing expiry), nothing happens. An expired order can be appealed within
//! the appeal window.

use matching_engine::Command;
use sea_orm::{ActiveValue::Set, DatabaseTransaction};

use crate::error::ApiResult;
use crate::ids::OrderId;
use crate::orders::deadlines::{deadline_after, due_transition};
use crate::orders::model::{Actor, OrderStatus};
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
        void_reservation(step.txn, o, step.now).await?;
        let window = step.state.settings.appeal_window_seconds;
        active.appeal_deadline = Set(Some(deadline_after(step.now, window)));
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

/// `matching | assigned → expired` if its deadline has passed; `None` when it has not
/// (anymore).
pub async fn expire(state: &AppState, order_id: &OrderId) -> ApiResult<Option<order::Model>> {
    transition::run(state, Expire { order_id }).await
}
