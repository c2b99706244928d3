//! `matching | assigned → cancelled`, by the merchant: the reservation (if any) is
//! voided and the engine forgets the order.

use matching_engine::Command;
use sea_orm::DatabaseTransaction;

use crate::error::ApiResult;
use crate::ids::OrderId;
use crate::orders::model::{Actor, OrderStatus};
use crate::orders::settlement::void_reservation;
use crate::orders::store::order;
use crate::orders::transition::{self, Effects, Scope, Step, Transition, lock_order};
use crate::state::AppState;

struct Cancel<'a> {
    merchant_id: &'a str,
    livemode: bool,
    order_id: &'a OrderId,
}

impl Transition for Cancel<'_> {
    type Output = order::Model;
    const KIND: &'static str = "order.cancelled";

    fn actor(&self) -> (Actor, Option<String>) {
        (Actor::Merchant, Some(self.merchant_id.to_owned()))
    }

    async fn lock(&mut self, txn: &DatabaseTransaction) -> ApiResult<order::Model> {
        let scope = Scope::Merchant {
            merchant_id: self.merchant_id,
            livemode: self.livemode,
        };
        lock_order(txn, self.order_id, scope).await
    }

    fn target(&self, _o: &order::Model) -> OrderStatus {
        OrderStatus::Cancelled
    }

    async fn write(
        &mut self,
        step: &Step<'_>,
        o: &order::Model,
        _active: &mut order::ActiveModel,
        effects: &mut Effects,
    ) -> ApiResult<()> {
        void_reservation(step.txn, o, step.now).await?;
        effects.engine = vec![Command::Cancel {
            order: o.id.to_string(),
        }];
        Ok(())
    }

    async fn answer(self, _state: &AppState, updated: order::Model) -> ApiResult<order::Model> {
        Ok(updated)
    }
}

/// `matching | assigned → cancelled`, by the merchant (within its mode).
pub async fn cancel(
    state: &AppState,
    merchant_id: &str,
    livemode: bool,
    order_id: &OrderId,
) -> ApiResult<order::Model> {
    let t = Cancel {
        merchant_id,
        livemode,
        order_id,
    };
    transition::changed(transition::run(state, t).await?)
}
