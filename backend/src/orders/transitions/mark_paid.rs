//! `assigned → paid`: the customer says they have paid (cashier token). The acceptor
//! then has the release window to confirm.

use sea_orm::{ActiveValue::Set, DatabaseTransaction};

use crate::error::{ApiError, ApiResult};
use crate::orders::deadlines::deadline_after;
use crate::orders::model::{Actor, OrderStatus, Rail};
use crate::orders::store::{self, order};
use crate::orders::transition::{self, Effects, Scope, Step, Transition, lock_order};
use crate::state::AppState;

struct MarkPaid<'a> {
    token: &'a str,
    payer_name: Option<String>,
}

impl Transition for MarkPaid<'_> {
    type Output = order::Model;
    const KIND: &'static str = "order.paid";

    fn actor(&self) -> (Actor, Option<String>) {
        (Actor::Customer, None)
    }

    async fn lock(&mut self, txn: &DatabaseTransaction) -> ApiResult<order::Model> {
        let id = store::find_by_cashier_token(txn, self.token)
            .await?
            .map(|o| o.id)
            .ok_or_else(|| ApiError::not_found("order"))?;
        lock_order(txn, &id, Scope::Cashier { token: self.token }).await
    }

    fn target(&self, _o: &order::Model) -> OrderStatus {
        OrderStatus::Paid
    }

    fn check(&self, o: &order::Model, _step: &Step<'_>) -> ApiResult<()> {
        if o.rail == Rail::Onchain {
            return Err(ApiError::invalid_state(
                "An on-chain order is paid by its transfer; this page follows it by itself.",
            ));
        }
        Ok(())
    }

    async fn write(
        &mut self,
        step: &Step<'_>,
        _o: &order::Model,
        active: &mut order::ActiveModel,
        _effects: &mut Effects,
    ) -> ApiResult<()> {
        let window = step.state.settings.release_window_seconds;
        active.paid_at = Set(Some(step.now));
        active.payer_name = Set(self.payer_name.take());
        active.release_deadline = Set(Some(deadline_after(step.now, window)));
        Ok(())
    }

    async fn answer(self, _state: &AppState, updated: order::Model) -> ApiResult<order::Model> {
        Ok(updated)
    }
}

/// `assigned → paid`, by the customer holding the cashier `token`.
pub async fn mark_paid(
    state: &AppState,
    token: &str,
    payer_name: Option<String>,
) -> ApiResult<order::Model> {
    transition::changed(transition::run(state, MarkPaid { token, payer_name }).await?)
}
