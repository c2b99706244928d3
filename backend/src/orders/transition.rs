//! The transition runner: every change of an order's state after its creation goes
//! through [`run`], which owns the sequence
//!
//! lock the order (within the caller's [`Scope`]) → check the transition table
//! (`OrderStatus::can_become`) and the actor rule (`Actor::may_cause`) → let the
//! transition write what is special to it (fields, ledger transfers, its own rows) →
//! save the order with its next deadline → history row → webhook outbox row → commit
//! (one transaction for all of it) → after the commit, and only then: engine commands,
//! live events, dispatcher wake-up.
//!
//! A transition (`transitions/*.rs`) implements [`Transition`] and says only what is
//! special about it. It must not begin or commit a transaction, call the engine or
//! publish anything itself: it returns engine commands and admin events in [`Effects`]
//! for the runner to carry out after the commit.

use matching_engine::Command;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, DatabaseTransaction, EntityTrait, IntoActiveModel,
    QuerySelect, TransactionTrait,
};
use serde_json::Value;

use super::announce::{self, event_view, history_row, live_events, webhook_row};
use super::deadlines::next_deadline_for;
use super::model::{Actor, OrderStatus, Rail};
use super::side::AcceptorSide;
use super::store::order;
use crate::db::{self, now_ms};
use crate::error::{ApiError, ApiResult};
use crate::ids::OrderId;
use crate::state::AppState;
use crate::webhooks;

/// Which orders a caller may touch. Another tenant's order is "not found".
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    Merchant {
        merchant_id: &'a str,
        livemode: bool,
    },
    Acceptor {
        acceptor_id: &'a str,
    },
    Cashier {
        token: &'a str,
    },
    Admin,
    System,
}

impl Scope<'_> {
    /// Who acts through this scope, as the history records it.
    pub fn actor(&self) -> (Actor, Option<String>) {
        match self {
            Scope::Merchant { merchant_id, .. } => {
                (Actor::Merchant, Some((*merchant_id).to_owned()))
            }
            Scope::Acceptor { acceptor_id } => (Actor::Acceptor, Some((*acceptor_id).to_owned())),
            Scope::Cashier { .. } => (Actor::Customer, None),
            Scope::Admin => (Actor::Admin, None),
            Scope::System => (Actor::System, None),
        }
    }
}

/// Loads the order for update (row lock on PostgreSQL) within the caller's scope.
pub async fn lock_order(
    txn: &DatabaseTransaction,
    order_id: &OrderId,
    scope: Scope<'_>,
) -> ApiResult<order::Model> {
    let mut query = order::Entity::find_by_id(order_id.clone());
    if db::supports_row_locks(txn) {
        query = query.lock_exclusive();
    }
    let found = query.one(txn).await?;
    let visible = found.filter(|o| match scope {
        Scope::Merchant {
            merchant_id,
            livemode,
        } => o.merchant_id == merchant_id && o.livemode == livemode,
        Scope::Acceptor { acceptor_id } => o.acceptor_id.as_deref() == Some(acceptor_id),
        Scope::Cashier { token } => {
            crate::crypto::constant_time_eq(o.cashier_token.as_bytes(), token.as_bytes())
        }
        Scope::Admin | Scope::System => true,
    });
    visible.ok_or_else(|| ApiError::not_found("order"))
}

/// The transition table and the actor rule: the order's current status when `actor`
/// may move it to `to`, else `409 invalid_state`.
pub fn check_transition(o: &order::Model, actor: Actor, to: OrderStatus) -> ApiResult<OrderStatus> {
    let from = o.status;
    if !from.can_become(to) {
        return Err(ApiError::invalid_state(format!(
            "The order is {from}; it cannot become {to}."
        )));
    }
    actor.may_cause(from, to).map_err(ApiError::invalid_state)?;
    Ok(from)
}

/// Writes the changed order with its next deadline.
pub async fn save(
    txn: &DatabaseTransaction,
    mut active: order::ActiveModel,
) -> ApiResult<order::Model> {
    active.next_deadline = Set(next_deadline_for(&active));
    active.updated_at = Set(now_ms());
    Ok(active.update(txn).await?)
}

/// What a transition's writing steps see: the transaction and the checked change.
pub struct Step<'a> {
    pub txn: &'a DatabaseTransaction,
    pub state: &'a AppState,
    pub now: i64,
    pub from: OrderStatus,
    pub to: OrderStatus,
    pub side: AcceptorSide,
}

/// What the runner does after the commit besides announcing the order.
#[derive(Default)]
pub struct Effects {
    /// Sent to the engine in order (dropped for a sandbox order, which it never holds).
    pub engine: Vec<Command>,
    /// A live event for the admin console (`live::announce_to_admins`).
    pub admin_event: Option<(&'static str, Value)>,
}

/// One kind of order transition: what is special about it. See the module docs.
pub(crate) trait Transition {
    /// The caller's answer once the change is committed.
    type Output;
    /// The history row's kind, and the webhook's and live events' when [`Self::ANNOUNCED`].
    const KIND: &'static str;
    /// Whether the change gets a webhook and live events.
    const ANNOUNCED: bool = true;

    /// Who causes the change (checked against the actor rule, written in the history).
    fn actor(&self) -> (Actor, Option<String>);

    /// Finds and locks the order, within the caller's scope (and whatever else the
    /// transition must hold first).
    async fn lock(&mut self, txn: &DatabaseTransaction) -> ApiResult<order::Model>;

    /// True when there is nothing left to do (a deadline someone else already dealt
    /// with): the runner then changes nothing and answers `None`.
    fn is_moot(&self, _o: &order::Model, _now: i64) -> bool {
        false
    }

    /// The status the order moves to.
    fn target(&self, o: &order::Model) -> OrderStatus;

    /// Checks of its own, after the table and the actor rule (windows, amounts).
    fn check(&self, _o: &order::Model, _step: &Step<'_>) -> ApiResult<()> {
        Ok(())
    }

    /// Sets the fields it changes on `active` (the status is set), and writes what must
    /// precede the order's row (ledger transfers).
    async fn write(
        &mut self,
        step: &Step<'_>,
        o: &order::Model,
        active: &mut order::ActiveModel,
        effects: &mut Effects,
    ) -> ApiResult<()>;

    /// Writes what follows the order's row, its history and webhook (its own rows,
    /// audit, mail), in the same transaction.
    async fn write_after(
        &mut self,
        _step: &Step<'_>,
        _updated: &order::Model,
        _effects: &mut Effects,
    ) -> ApiResult<()> {
        Ok(())
    }

    /// The history row's note.
    fn note(&self) -> Option<String> {
        None
    }

    /// The answer, after the commit and its effects.
    async fn answer(self, state: &AppState, updated: order::Model) -> ApiResult<Self::Output>;
}

/// Runs transition `t` (see the module docs). `None`: it was moot, nothing changed.
pub(crate) async fn run<T: Transition>(state: &AppState, mut t: T) -> ApiResult<Option<T::Output>> {
    let txn = state.db.begin().await?;
    let o = t.lock(&txn).await?;
    let now = now_ms();
    if t.is_moot(&o, now) {
        return Ok(None);
    }
    let to = t.target(&o);
    let actor = t.actor();
    let from = check_transition(&o, actor.0, to)?;
    let step = Step {
        txn: &txn,
        state,
        now,
        from,
        to,
        side: AcceptorSide::of(&o),
    };
    t.check(&o, &step)?;
    let mut effects = Effects::default();
    let mut active = o.clone().into_active_model();
    active.status = Set(to);
    t.write(&step, &o, &mut active, &mut effects).await?;
    let updated = save(&txn, active).await?;
    history_row(&updated.id, T::KIND, Some(from), to, actor, t.note())
        .insert(&txn)
        .await?;
    let view = if T::ANNOUNCED {
        let view = event_view(&updated, &state.public_url)?;
        let row = webhook_row(&updated, T::KIND, view.clone());
        webhooks::service::enqueue_all(&txn, vec![row]).await?;
        Some(view)
    } else {
        None
    };
    t.write_after(&step, &updated, &mut effects).await?;
    let side = step.side;
    txn.commit().await?;

    // The engine never holds an on-chain order.
    if updated.rail == Rail::Otc {
        state
            .notify_engine_all(side.engine_commands(effects.engine))
            .await;
    }
    if let Some(view) = view {
        let events = live_events(&updated, T::KIND, view);
        announce::publish(
            state.infra.event_bus.as_ref(),
            &state.webhook_wakeup,
            &events,
        )
        .await;
    }
    if let Some((kind, payload)) = effects.admin_event {
        crate::live::announce_to_admins(state, kind, payload).await;
    }
    t.answer(state, updated).await.map(Some)
}

/// The answer of a transition that is never moot.
pub fn changed<T>(outcome: Option<T>) -> ApiResult<T> {
    outcome.ok_or_else(|| ApiError::invalid_state("The order changed meanwhile."))
}
