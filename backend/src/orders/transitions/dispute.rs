//! `paid → disputed` (acceptor, merchant, customer, or the release window running out)
//! and `expired → disputed` (merchant or customer within the appeal window): opens a
//! dispute, mails the acceptor and tells the admin console.

use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DatabaseTransaction};

use crate::error::{ApiError, ApiResult};
use crate::ids::{DisputeId, OrderId};
use crate::mail::MailKind;
use crate::orders::deadlines::{release_window_over, within_appeal_window};
use crate::orders::dispute::{self, DisputeStatus};
use crate::orders::model::{Actor, OrderStatus, Rail};
use crate::orders::store::order;
use crate::orders::transition::{self, Effects, Scope, Step, Transition, lock_order};
use crate::state::AppState;

struct OpenDispute<'a> {
    order_id: &'a OrderId,
    scope: Scope<'a>,
    reason: String,
    contact: Option<String>,
    opened: Option<dispute::Model>,
}

impl Transition for OpenDispute<'_> {
    type Output = (order::Model, dispute::Model);
    const KIND: &'static str = "order.disputed";

    fn actor(&self) -> (Actor, Option<String>) {
        self.scope.actor()
    }

    async fn lock(&mut self, txn: &DatabaseTransaction) -> ApiResult<order::Model> {
        lock_order(txn, self.order_id, self.scope).await
    }

    fn target(&self, _o: &order::Model) -> OrderStatus {
        OrderStatus::Disputed
    }

    fn check(&self, o: &order::Model, step: &Step<'_>) -> ApiResult<()> {
        if step.from == OrderStatus::Expired && !within_appeal_window(o, step.now) {
            return Err(ApiError::invalid_state(
                "The appeal window of this expired order is over.",
            ));
        }
        if step.from == OrderStatus::Paid && o.rail == Rail::Onchain {
            return Err(ApiError::invalid_state(
                "The on-chain payment is confirming; the order completes by itself.",
            ));
        }
        if step.from == OrderStatus::Paid
            && matches!(self.scope, Scope::System)
            && !release_window_over(o, step.now)
        {
            return Err(ApiError::invalid_state("The release window is not over."));
        }
        Ok(())
    }

    async fn write(
        &mut self,
        _step: &Step<'_>,
        _o: &order::Model,
        _active: &mut order::ActiveModel,
        _effects: &mut Effects,
    ) -> ApiResult<()> {
        Ok(())
    }

    async fn write_after(
        &mut self,
        step: &Step<'_>,
        updated: &order::Model,
        effects: &mut Effects,
    ) -> ApiResult<()> {
        let opened = dispute::ActiveModel {
            id: Set(DisputeId::generate()),
            order_id: Set(updated.id.clone()),
            merchant_id: Set(updated.merchant_id.clone()),
            acceptor_id: Set(updated.acceptor_id.clone()),
            livemode: Set(updated.livemode),
            status: Set(DisputeStatus::Open),
            opened_by: Set(self.scope.actor().0.as_str().to_owned()),
            reason: Set(self.reason.clone()),
            contact: Set(self.contact.take()),
            outcome: Set(None),
            released_amount: Set(None),
            resolution_note: Set(None),
            resolved_by: Set(None),
            created_at: Set(step.now),
            resolved_at: Set(None),
        }
        .insert(step.txn)
        .await?;
        mail_acceptor_about_dispute(step.txn, step.state, updated, MailKind::DisputeOpened, None)
            .await?;
        effects.admin_event = Some((
            "dispute.opened",
            serde_json::json!({"dispute_id": opened.id, "order_id": updated.id}),
        ));
        self.opened = Some(opened);
        Ok(())
    }

    fn note(&self) -> Option<String> {
        Some(self.reason.clone())
    }

    async fn answer(self, _state: &AppState, updated: order::Model) -> ApiResult<Self::Output> {
        let opened = self
            .opened
            .ok_or_else(|| ApiError::internal("the dispute was not opened"))?;
        Ok((updated, opened))
    }
}

/// Opens a dispute on the order, as whoever `scope` names.
pub async fn open_dispute(
    state: &AppState,
    order_id: &OrderId,
    scope: Scope<'_>,
    reason: String,
    contact: Option<String>,
) -> ApiResult<(order::Model, dispute::Model)> {
    let t = OpenDispute {
        order_id,
        scope,
        reason,
        contact,
        opened: None,
    };
    transition::changed(transition::run(state, t).await?)
}

/// Tells the order's acceptor by mail that a dispute was opened or resolved on its order
/// (same transaction as the change).
pub(super) async fn mail_acceptor_about_dispute(
    txn: &impl ConnectionTrait,
    state: &AppState,
    o: &order::Model,
    kind: MailKind,
    outcome_key: Option<&'static str>,
) -> ApiResult<()> {
    let Some(acceptor_id) = &o.acceptor_id else {
        return Ok(());
    };
    let args = vec![
        ("reference", o.reference.clone()),
        ("amount", crate::money::format_usdt(o.amount)),
    ];
    let keyed_args = outcome_key
        .map(|key| ("outcome", key))
        .into_iter()
        .collect();
    crate::acceptor_directory::mail_to(
        txn,
        &state.public_url,
        acceptor_id,
        kind,
        &format!("/acceptor/orders/{}", o.id),
        args,
        keyed_args,
    )
    .await
}
