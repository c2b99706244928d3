//! `assigned → matching`: the acceptor declines; the order goes back to matching without
//! it (and usually straight to another acceptor, which the engine decides after the
//! commit). No webhook: to the merchant the order is still being matched.

use matching_engine::Command;
use sea_orm::{ActiveValue::Set, DatabaseTransaction};

use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::ids::OrderId;
use crate::orders::deadlines::deadline_after;
use crate::orders::model::{Actor, OrderStatus};
use crate::orders::settlement::void_reservation;
use crate::orders::store::{self, order};
use crate::orders::transition::{self, Effects, Scope, Step, Transition, lock_order};
use crate::state::AppState;

struct Reject<'a> {
    acceptor_id: &'a str,
    order_id: &'a OrderId,
    reason: Option<String>,
}

impl Transition for Reject<'_> {
    type Output = order::Model;
    const KIND: &'static str = "order.rejected";
    const ANNOUNCED: bool = false;

    fn actor(&self) -> (Actor, Option<String>) {
        (Actor::Acceptor, Some(self.acceptor_id.to_owned()))
    }

    async fn lock(&mut self, txn: &DatabaseTransaction) -> ApiResult<order::Model> {
        let scope = Scope::Acceptor {
            acceptor_id: self.acceptor_id,
        };
        lock_order(txn, self.order_id, scope).await
    }

    fn target(&self, _o: &order::Model) -> OrderStatus {
        OrderStatus::Matching
    }

    async fn write(
        &mut self,
        step: &Step<'_>,
        o: &order::Model,
        active: &mut order::ActiveModel,
        effects: &mut Effects,
    ) -> ApiResult<()> {
        void_reservation(step.txn, o, step.now).await?;
        let mut excluded: Vec<String> =
            serde_json::from_str(&o.excluded_acceptors).map_err(|err| {
                tracing::error!(order = %o.id, error = %err, "unreadable stored excluded acceptors");
                ApiError::internal(format!("order {} has unreadable excluded acceptors", o.id))
            })?;
        if !excluded.iter().any(|a| a == self.acceptor_id) {
            excluded.push(self.acceptor_id.to_owned());
        }
        let match_window = step.state.settings.match_timeout_seconds;
        active.acceptor_id = Set(None);
        active.rate = Set(None);
        active.fiat_amount = Set(None);
        active.payment_details = Set(None);
        active.assigned_at = Set(None);
        active.excluded_acceptors =
            Set(serde_json::to_string(&excluded).map_err(ApiError::internal)?);
        active.match_deadline = Set(Some(
            deadline_after(step.now, match_window).min(o.expires_at),
        ));
        effects.engine = vec![Command::Reject {
            order: o.id.to_string(),
            acceptor: self.acceptor_id.to_owned(),
        }];
        Ok(())
    }

    fn note(&self) -> Option<String> {
        self.reason.clone()
    }

    /// Re-read: the engine may have assigned the order again meanwhile.
    async fn answer(self, state: &AppState, updated: order::Model) -> ApiResult<order::Model> {
        store::find(&state.db, &updated.id)
            .await?
            .ok_or_else(|| ApiError::not_found("order"))
    }
}

/// `assigned → matching`, by the order's acceptor.
pub async fn reject(
    state: &AppState,
    acceptor_id: &str,
    order_id: &OrderId,
    reason: Option<String>,
) -> ApiResult<order::Model> {
    let t = Reject {
        acceptor_id,
        order_id,
        reason,
    };
    transition::changed(transition::run(state, t).await?)
}

/// Orders the acceptor holds but the customer has not paid yet go back to matching when
/// the acceptor goes offline: the customer needs someone who answers.
pub async fn requeue_unpaid_orders_of(state: &AppState, acceptor_id: &str) -> ApiResult<usize> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let held = order::Entity::find()
        .filter(order::Column::AcceptorId.eq(acceptor_id))
        .filter(order::Column::Status.eq(OrderStatus::Assigned.as_str()))
        .all(&state.db)
        .await?;
    let mut moved = 0;
    for o in held {
        let reason = Some("acceptor went offline".to_owned());
        match reject(state, acceptor_id, &o.id, reason).await {
            Ok(_) => moved += 1,
            Err(err) if err.code == ErrorCode::InvalidState => {}
            Err(err) => return Err(err),
        }
    }
    Ok(moved)
}
