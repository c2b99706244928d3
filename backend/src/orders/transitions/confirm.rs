//! `assigned | paid → completed`: the acceptor confirms the fiat arrived; the
//! reservation is posted and split between merchant, platform and acceptor.

use sea_orm::{ActiveValue::Set, DatabaseTransaction};

use crate::error::ApiResult;
use crate::ids::{AcceptorId, OrderId};
use crate::ledger;
use crate::orders::model::{Actor, OrderStatus};
use crate::orders::settlement::{settlement_batch, settlement_commands};
use crate::orders::store::order;
use crate::orders::transition::{self, Effects, Scope, Step, Transition, lock_order};
use crate::state::AppState;

struct Confirm<'a> {
    acceptor_id: &'a AcceptorId,
    order_id: &'a OrderId,
}

impl Transition for Confirm<'_> {
    type Output = order::Model;
    const KIND: &'static str = "order.completed";

    fn actor(&self) -> (Actor, Option<String>) {
        (Actor::Acceptor, Some(self.acceptor_id.to_string()))
    }

    async fn lock(&mut self, txn: &DatabaseTransaction) -> ApiResult<order::Model> {
        let scope = Scope::Acceptor {
            acceptor_id: self.acceptor_id,
        };
        lock_order(txn, self.order_id, scope).await
    }

    fn target(&self, _o: &order::Model) -> OrderStatus {
        OrderStatus::Completed
    }

    async fn write(
        &mut self,
        step: &Step<'_>,
        o: &order::Model,
        active: &mut order::ActiveModel,
        effects: &mut Effects,
    ) -> ApiResult<()> {
        let (batch, settlement) =
            settlement_batch(step.txn, o, self.acceptor_id, o.amount, true).await?;
        ledger::apply(step.txn, &batch, step.now).await?;
        active.completed_at = Set(Some(step.now));
        active.released_amount = Set(Some(settlement.released));
        effects.engine = settlement_commands(o, self.acceptor_id, &settlement, true);
        Ok(())
    }

    async fn answer(self, _state: &AppState, updated: order::Model) -> ApiResult<order::Model> {
        Ok(updated)
    }
}

/// `assigned | paid → completed`, by the order's acceptor.
pub async fn confirm(
    state: &AppState,
    acceptor_id: &AcceptorId,
    order_id: &OrderId,
) -> ApiResult<order::Model> {
    let t = Confirm {
        acceptor_id,
        order_id,
    };
    transition::changed(transition::run(state, t).await?)
}
