//! Order use cases. Every transition is one database transaction that locks the order
//! row, checks the transition table, writes the new state, the ledger transfers it
//! implies, the order's history and the webhook outbox row; only after the commit is
//! the matching engine told and the live event published.

use matching_engine::{Command, Event, NewOrder};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DatabaseTransaction, EntityTrait,
    IntoActiveModel, QuerySelect, TransactionTrait,
};
use serde_json::Value;

use super::model::{Actor, OrderStatus, Settlement, transfer_ids};
use super::sandbox;
use super::store::{self, order, order_event};
use super::view::OrderView;
use crate::acceptors::store as acceptors_store;
use crate::db::{self, now_ms};
use crate::disputes::store::dispute;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::ids;
use crate::infra::event_bus::BusEvent;
use crate::ledger::{self, AccountCode, AccountKey, TransferRequest};
use crate::mail::MailKind;
use crate::money::Rate;
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
    fn actor(&self) -> (Actor, Option<String>) {
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

/// The escrow account of an acceptor's reservations. Escrow is partitioned per acceptor
/// so that concurrent assignments to different acceptors never wait on one hot row.
pub fn escrow_of(acceptor_id: &str, livemode: bool) -> AccountKey {
    AccountKey::new(AccountCode::Escrow, acceptor_id, livemode)
}

/// Loads the order for update (row lock on PostgreSQL) within the caller's scope.
pub async fn lock_order(
    txn: &DatabaseTransaction,
    order_id: &str,
    scope: Scope<'_>,
) -> ApiResult<order::Model> {
    let mut query = order::Entity::find_by_id(order_id.to_owned());
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

pub fn status_of(o: &order::Model) -> ApiResult<OrderStatus> {
    OrderStatus::parse(&o.status).ok_or_else(|| {
        ApiError::internal(format!("order {} has unknown status {}", o.id, o.status))
    })
}

fn require_transition(o: &order::Model, to: OrderStatus) -> ApiResult<OrderStatus> {
    let from = status_of(o)?;
    if from.can_become(to) {
        Ok(from)
    } else {
        Err(ApiError::invalid_state(format!(
            "The order is {from}; it cannot become {to}."
        )))
    }
}

/// Appends to the order's history.
pub async fn record_event(
    conn: &impl ConnectionTrait,
    order_id: &str,
    kind: &str,
    from: Option<OrderStatus>,
    to: OrderStatus,
    actor: (Actor, Option<String>),
    note: Option<String>,
) -> ApiResult<()> {
    history_row(order_id, kind, from, to, actor, note)
        .insert(conn)
        .await?;
    Ok(())
}

/// One row of an order's history, for [`record_event`] or a multi-row insert.
fn history_row(
    order_id: &str,
    kind: &str,
    from: Option<OrderStatus>,
    to: OrderStatus,
    actor: (Actor, Option<String>),
    note: Option<String>,
) -> order_event::ActiveModel {
    order_event::ActiveModel {
        id: Set(ids::new("oev")),
        order_id: Set(order_id.to_owned()),
        kind: Set(kind.to_owned()),
        from_status: Set(from.map(|s| s.as_str().to_owned())),
        to_status: Set(to.as_str().to_owned()),
        actor: Set(actor.0.as_str().to_owned()),
        actor_id: Set(actor.1),
        note: Set(note),
        created_at: Set(now_ms()),
    }
}

/// Writes the order's webhook (`order.*`) to the outbox in the transaction.
async fn enqueue_webhook(
    txn: &DatabaseTransaction,
    state: &AppState,
    o: &order::Model,
    event_type: &str,
) -> ApiResult<()> {
    let row = webhook_row(o, &state.public_url, event_type)?;
    webhooks::service::enqueue_all(txn, vec![row]).await?;
    Ok(())
}

/// The outbox row of the order's webhook `event_type`, sent to the order's
/// `callback_url` if it has one.
fn webhook_row(
    o: &order::Model,
    public_url: &str,
    event_type: &str,
) -> ApiResult<webhooks::store::event::ActiveModel> {
    Ok(webhook_row_of(o, event_type, event_view(o, public_url)?))
}

/// The order as its webhooks and live events carry it (without `qr_code`).
pub(super) fn event_view(o: &order::Model, public_url: &str) -> ApiResult<Value> {
    serde_json::to_value(OrderView::new(o, public_url, false)).map_err(ApiError::internal)
}

/// The live event that tells an order's current state (`order.<status>` and its view),
/// for a stream's replay; none while it is still matching.
pub fn state_event(o: &order::Model, public_url: &str) -> Option<(String, Value)> {
    if o.status == OrderStatus::Matching.as_str() {
        return None;
    }
    let view = event_view(o, public_url).ok()?;
    Some((format!("order.{}", o.status), view))
}

/// [`webhook_row`] with the order's [`event_view`] already made.
fn webhook_row_of(
    o: &order::Model,
    event_type: &str,
    data: Value,
) -> webhooks::store::event::ActiveModel {
    webhooks::service::outbox_row(
        &ids::new("evt"),
        &o.merchant_id,
        o.livemode,
        event_type,
        data,
        o.callback_url.as_deref(),
    )
}

/// After a commit: wake the webhook dispatcher and tell live listeners (the acceptor's
/// portal, the cashier page). Live events are best effort; clients re-read on reconnect.
pub async fn announce(state: &AppState, o: &order::Model, kind: &str) {
    state.webhook_wakeup.notify_one();
    let events = live_events(o, &state.public_url, kind);
    if let Err(err) = state.infra.event_bus.publish_all(&events).await {
        tracing::warn!(error = %err, "live event not published");
    }
}

/// The live events of an order's change `kind`: one for the order's own topic (the
/// cashier page), one for its acceptor's (the portal), one for its merchant's (the
/// dashboard). They are published together, in one round trip.
pub(super) fn live_events(o: &order::Model, public_url: &str, kind: &str) -> Vec<BusEvent> {
    live_events_of(o, kind, event_view(o, public_url).unwrap_or(Value::Null))
}

/// [`live_events`] with the order's [`event_view`] already made.
pub(super) fn live_events_of(o: &order::Model, kind: &str, payload: Value) -> Vec<BusEvent> {
    let mut topics = vec![format!("order:{}", o.id)];
    if let Some(acceptor) = &o.acceptor_id {
        topics.push(format!("acceptor:{acceptor}"));
    }
    topics.push(merchant_topic(&o.merchant_id));
    topics
        .into_iter()
        .map(|topic| BusEvent {
            topic,
            kind: kind.to_owned(),
            payload: payload.clone(),
        })
        .collect()
}

/// The live topic of a merchant's dashboard.
pub fn merchant_topic(merchant_id: &str) -> String {
    format!("merchant:{merchant_id}")
}

fn deadline_after(now: i64, seconds: u64) -> i64 {
    now.saturating_add(i64::try_from(seconds.saturating_mul(1000)).unwrap_or(i64::MAX / 2))
}

/// The earliest deadline the scheduler must act on in `status`.
pub fn next_deadline_for(o: &order::ActiveModel) -> Option<i64> {
    let status = match &o.status {
        sea_orm::ActiveValue::Set(s) | sea_orm::ActiveValue::Unchanged(s) => s.clone(),
        sea_orm::ActiveValue::NotSet => return None,
    };
    let get = |v: &sea_orm::ActiveValue<Option<i64>>| match v {
        sea_orm::ActiveValue::Set(x) | sea_orm::ActiveValue::Unchanged(x) => *x,
        sea_orm::ActiveValue::NotSet => None,
    };
    let expires_at = match &o.expires_at {
        sea_orm::ActiveValue::Set(x) | sea_orm::ActiveValue::Unchanged(x) => Some(*x),
        sea_orm::ActiveValue::NotSet => None,
    };
    match OrderStatus::parse(&status)? {
        OrderStatus::Matching => match (get(&o.match_deadline), expires_at) {
            (Some(m), Some(e)) => Some(m.min(e)),
            (m, e) => m.or(e),
        },
        OrderStatus::Assigned => {
            let acceptor = match &o.acceptor_id {
                sea_orm::ActiveValue::Set(a) | sea_orm::ActiveValue::Unchanged(a) => a.clone(),
                sea_orm::ActiveValue::NotSet => None,
            };
            // The sandbox acceptor confirms at its release deadline.
            match (
                acceptor
                    .as_deref()
                    .is_some_and(sandbox::is_sandbox_acceptor),
                get(&o.release_deadline),
                expires_at,
            ) {
                (true, Some(r), Some(e)) => Some(r.min(e)),
                (_, _, e) => e,
            }
        }
        OrderStatus::Paid => get(&o.release_deadline),
        _ => None,
    }
}

async fn save(
    txn: &DatabaseTransaction,
    mut active: order::ActiveModel,
) -> ApiResult<order::Model> {
    active.next_deadline = Set(next_deadline_for(&active));
    active.updated_at = Set(now_ms());
    Ok(active.update(txn).await?)
}

// ---------------------------------------------------------------------------------------
// Engine decisions

/// Persists what the engine decided: assignments of waiting orders. Called by whoever
/// sent the command, after its own commit.
pub async fn handle_engine_events(state: &AppState, events: Vec<Event>) {
    for event in events {
        if let Event::Assigned {
            order,
            acceptor,
            rate,
            fiat_amount,
        } = event
        {
            let assignment = EngineAssignment {
                acceptor,
                rate: Rate::from_decimal(rate),
                fiat_amount,
            };
            if let Err(err) = persist_assignment(state, &order, &assignment).await {
                tracing::warn!(order = %order, error = %err, "assignment not persisted; undoing it in the engine");
                undo_assignment(state, &order).await;
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct EngineAssignment {
    pub acceptor: String,
    pub rate: Rate,
    pub fiat_amount: i64,
}

pub(crate) fn assignment_of(events: &[Event], order_id: &str) -> Option<EngineAssignment> {
    events.iter().find_map(|e| match e {
        Event::Assigned {
            order,
            acceptor,
            rate,
            fiat_amount,
        } if order == order_id => Some(EngineAssignment {
            acceptor: acceptor.clone(),
            rate: Rate::from_decimal(*rate),
            fiat_amount: *fiat_amount,
        }),
        _ => None,
    })
}

async fn undo_assignment(state: &AppState, order_id: &str) {
    if let Err(err) = state
        .engine
        .apply(Command::OrderReleased {
            order: order_id.to_owned(),
        })
        .await
    {
        tracing::warn!(order = %order_id, error = %err, "engine undo refused");
    }
}

/// Fills an order's assignment fields, reserves the acceptor's liquidity and records the
/// `order.assigned` history row and webhook, inside the caller's transaction. The order
/// must be `matching`.
pub(crate) async fn apply_assignment(
    txn: &DatabaseTransaction,
    state: &AppState,
    o: order::Model,
    assignment: &EngineAssignment,
    now: i64,
) -> ApiResult<order::Model> {
    let (active, reservation) = prepare_assignment(txn, o, assignment, now).await?;
    let assigned = save(txn, active).await?;
    record_assignment(txn, state, &assigned).await?;
    reservation.apply(txn, now).await?;
    Ok(assigned)
}

/// The ledger half of an assignment. Callers apply it last in their transaction: its
/// account row locks are then held only until the commit, which matters for the
/// best-rate acceptors that take most orders.
#[derive(Default)]
pub(super) struct Reservation {
    accounts: Vec<AccountKey>,
    batch: Vec<TransferRequest>,
}

impl Reservation {
    /// Adds another order's reservation: one ledger batch for several orders.
    pub(super) fn absorb(&mut self, other: Reservation) {
        self.accounts.extend(other.accounts);
        self.batch.extend(other.batch);
    }

    /// Leaves out of the "open if missing" step the accounts `known` to exist; returns
    /// the ids of those left in.
    pub(super) fn forget_accounts(&mut self, known: impl Fn(&str) -> bool) -> Vec<String> {
        self.accounts.retain(|key| !known(&key.id()));
        self.accounts.iter().map(AccountKey::id).collect()
    }

    pub(super) async fn apply(self, txn: &DatabaseTransaction, now: i64) -> ApiResult<()> {
        ledger::open_accounts(txn, &self.accounts).await?;
        ledger::apply(txn, &self.batch, now).await?;
        Ok(())
    }

    /// [`Self::apply`] for the reservations of orders inserted in this transaction: their
    /// transfer ids are derived from the new order ids, so no lookup is needed
    /// (`ledger::apply_new`).
    pub(super) async fn apply_to_new_orders(
        self,
        txn: &DatabaseTransaction,
        now: i64,
    ) -> ApiResult<()> {
        ledger::open_accounts(txn, &self.accounts).await?;
        ledger::apply_new(txn, &self.batch, now).await?;
        Ok(())
    }
}

/// The order with its assignment fields set (not yet written) and the reservation of
/// its amount on the acceptor (not yet applied).
async fn prepare_assignment(
    txn: &DatabaseTransaction,
    o: order::Model,
    assignment: &EngineAssignment,
    now: i64,
) -> ApiResult<(order::ActiveModel, Reservation)> {
    let methods = if sandbox::is_sandbox_acceptor(&assignment.acceptor) {
        Vec::new()
    } else {
        acceptors_store::payment_methods_of_acceptors(
            txn,
            std::slice::from_ref(&assignment.acceptor),
        )
        .await?
    };
    assigned_fields(o, assignment, &methods, now)
}

/// [`prepare_assignment`] once the acceptors' payment methods are read: `methods` holds
/// at least the assigned acceptor's (see [`acceptors_store::payment_methods_of_acceptors`]).
pub(super) fn assigned_fields(
    o: order::Model,
    assignment: &EngineAssignment,
    methods: &[acceptors_store::payment_method::Model],
    now: i64,
) -> ApiResult<(order::ActiveModel, Reservation)> {
    require_transition(&o, OrderStatus::Assigned)?;
    let sandboxed = sandbox::is_sandbox_acceptor(&assignment.acceptor);
    let method = acceptors_store::choose_payment_method(
        methods,
        &assignment.acceptor,
        &o.fiat_currency,
        o.payment_method.as_deref(),
    );
    let (method_name, details) = match method {
        None if sandboxed => (
            Some("bank_transfer".to_owned()),
            Some(sandbox::payment_details(&o.reference).to_string()),
        ),
        Some(m) => {
            let mut details: Value = serde_json::from_str(&m.details).unwrap_or(Value::Null);
            if let Value::Object(map) = &mut details {
                map.insert("method".to_owned(), Value::String(m.method.clone()));
                map.insert("reference".to_owned(), Value::String(o.reference.clone()));
            }
            (Some(m.method.clone()), Some(details.to_string()))
        }
        None => (o.payment_method.clone(), None),
    };
    let seq = o.assignment_seq + 1;
    let acceptor = AccountKey::acceptor(assignment.acceptor.clone(), o.livemode);
    let escrow = escrow_of(&assignment.acceptor, o.livemode);
    let mut reservation = Reservation {
        accounts: vec![acceptor.clone(), escrow.clone()],
        batch: Vec::with_capacity(2),
    };
    if sandboxed {
        reservation.accounts.push(AccountKey::custody(false));
        reservation.batch.push(sandbox::funding(&o.id, o.amount));
    }
    reservation.batch.push(
        TransferRequest::pending(
            transfer_ids::reserve(&o.id, seq),
            acceptor,
            escrow,
            o.amount,
        )
        .with_kind("order_reserve")
        .with_reference(o.id.clone()),
    );
    let mut active = o.into_active_model();
    active.status = Set(OrderStatus::Assigned.as_str().to_owned());
    active.acceptor_id = Set(Some(assignment.acceptor.clone()));
    active.rate = Set(Some(assignment.rate.to_string()));
    active.fiat_amount = Set(Some(assignment.fiat_amount));
    active.payment_method = Set(method_name);
    active.payment_details = Set(details);
    active.assignment_seq = Set(seq);
    active.assigned_at = Set(Some(now));
    Ok((active, reservation))
}

/// The `order.assigned` history row and webhook of an assigned order.
async fn record_assignment(
    txn: &DatabaseTransaction,
    state: &AppState,
    assigned: &order::Model,
) -> ApiResult<()> {
    let (history, webhook) = assignment_rows(assigned, event_view(assigned, &state.public_url)?);
    history.insert(txn).await?;
    webhooks::service::enqueue_all(txn, vec![webhook]).await?;
    if let Some(acceptor) = &assigned.acceptor_id
        && !sandbox::is_sandbox_acceptor(acceptor)
    {
        let acceptor_ids = [acceptor.clone()];
        super::writer::mail_new_orders(
            txn,
            &state.public_url,
            &acceptor_ids,
            std::iter::once(assigned),
        )
        .await?;
    }
    Ok(())
}

/// What [`record_assignment`] writes, as rows for a multi-row insert; `view` is the
/// order's [`event_view`].
pub(super) fn assignment_rows(
    assigned: &order::Model,
    view: Value,
) -> (
    order_event::ActiveModel,
    webhooks::store::event::ActiveModel,
) {
    let history = history_row(
        &assigned.id,
        "order.assigned",
        Some(OrderStatus::Matching),
        OrderStatus::Assigned,
        (Actor::System, None),
        None,
    );
    (history, webhook_row_of(assigned, "order.assigned", view))
}

async fn persist_assignment(
    state: &AppState,
    order_id: &str,
    assignment: &EngineAssignment,
) -> ApiResult<()> {
    let txn = state.db.begin().await?;
    let o = lock_order(&txn, order_id, Scope::System).await?;
    let updated = apply_assignment(&txn, state, o, assignment, now_ms()).await?;
    txn.commit().await?;
    announce(state, &updated, "order.assigned").await;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Transitions

/// `assigned → paid`: the customer says they have paid.
pub async fn mark_paid(
    state: &AppState,
    token: &str,
    payer_name: Option<String>,
) -> ApiResult<order::Model> {
    let txn = state.db.begin().await?;
    let o = lock_order(
        &txn,
        &lookup_by_token(&txn, token).await?,
        Scope::Cashier { token },
    )
    .await?;
    let from = require_transition(&o, OrderStatus::Paid)?;
    let now = now_ms();
    let mut active = o.into_active_model();
    active.status = Set(OrderStatus::Paid.as_str().to_owned());
    active.paid_at = Set(Some(now));
    active.payer_name = Set(payer_name);
    active.release_deadline = Set(Some(deadline_after(
        now,
        state.settings.release_window_seconds,
    )));
    let updated = save(&txn, active).await?;
    record_event(
        &txn,
        &updated.id,
        "order.paid",
        Some(from),
        OrderStatus::Paid,
        (Actor::Customer, None),
        None,
    )
    .await?;
    enqueue_webhook(&txn, state, &updated, "order.paid").await?;
    txn.commit().await?;
    announce(state, &updated, "order.paid").await;
    Ok(updated)
}

async fn lookup_by_token(conn: &impl ConnectionTrait, token: &str) -> ApiResult<String> {
    store::find_by_cashier_token(conn, token)
        .await?
        .map(|o| o.id)
        .ok_or_else(|| ApiError::not_found("order"))
}

/// The ledger batch that releases `released` micro-USDT of an order to the merchant:
/// post the reservation (or capture from the acceptor when it was already voided), then
/// split escrow into merchant credit, platform revenue and acceptor commission.
async fn settlement_batch(
    txn: &DatabaseTransaction,
    o: &order::Model,
    acceptor_id: &str,
    released: i64,
    reservation_held: bool,
) -> ApiResult<(Vec<TransferRequest>, Settlement)> {
    let zero = Rate::from_decimal(rust_decimal::Decimal::ZERO);
    let commission_rate = if sandbox::is_sandbox_acceptor(acceptor_id) {
        zero
    } else {
        let acceptor = acceptors_store::find_acceptor(txn, acceptor_id)
            .await?
            .ok_or_else(|| ApiError::internal("order's acceptor is missing"))?;
        Rate::parse_fraction(&acceptor.commission_rate).unwrap_or(zero)
    };
    let settlement = Settlement::compute(o.amount, o.fee, released, |r| {
        commission_rate.apply_to_micros(r)
    });
    let live = o.livemode;
    let escrow = escrow_of(acceptor_id, live);
    let acceptor_key = AccountKey::acceptor(acceptor_id.to_owned(), live);
    let merchant = AccountKey::merchant(o.merchant_id.clone(), live);
    ledger::open_accounts(
        txn,
        &[
            merchant.clone(),
            AccountKey::revenue(live),
            escrow.clone(),
            acceptor_key.clone(),
        ],
    )
    .await?;
    let mut batch = Vec::with_capacity(4);
    if reservation_held {
        let seq = o.assignment_seq;
        let partial = (released < o.amount).then_some(released);
        batch.push(
            TransferRequest::post_pending(
                transfer_ids::post(&o.id, seq),
                transfer_ids::reserve(&o.id, seq),
                partial,
            )
            .with_kind("order_release")
            .with_reference(o.id.clone()),
        );
    } else {
        batch.push(
            TransferRequest::posted(
                transfer_ids::capture(&o.id),
                acceptor_key.clone(),
                escrow.clone(),
                released,
            )
            .with_kind("order_capture")
            .with_reference(o.id.clone()),
        );
    }
    if settlement.net > 0 {
        batch.push(
            TransferRequest::posted(
                transfer_ids::credit(&o.id),
                escrow.clone(),
                merchant,
                settlement.net,
            )
            .with_kind("order_credit")
            .with_reference(o.id.clone()),
        );
    }
    if settlement.revenue > 0 {
        batch.push(
            TransferRequest::posted(
                transfer_ids::fee(&o.id),
                escrow.clone(),
                AccountKey::revenue(live),
                settlement.revenue,
            )
            .with_kind("order_fee")
            .with_reference(o.id.clone()),
        );
    }
    if settlement.commission > 0 {
        batch.push(
            TransferRequest::posted(
                transfer_ids::commission(&o.id),
                escrow,
                acceptor_key,
                settlement.commission,
            )
            .with_kind("order_commission")
            .with_reference(o.id.clone()),
        );
    }
    Ok((batch, settlement))
}

/// Engine commands after a settlement: the released amount leaves the acceptor's
/// liquidity (or was captured outside the engine), and the commission comes back.
fn settlement_commands(
    o: &order::Model,
    acceptor_id: &str,
    s: &Settlement,
    reservation_held: bool,
) -> Vec<Command> {
    let mut commands = Vec::new();
    if !o.livemode {
        return commands;
    }
    if reservation_held {
        commands.push(Command::OrderSettled {
            order: o.id.clone(),
            released_amount: s.released,
        });
    } else {
        commands.push(Command::AdjustLiquidity {
            acceptor: acceptor_id.to_owned(),
            delta: -s.released,
        });
    }
    if s.commission > 0 {
        commands.push(Command::AdjustLiquidity {
            acceptor: acceptor_id.to_owned(),
            delta: s.commission,
        });
    }
    commands
}

/// `assigned | paid → completed`: the acceptor confirms the fiat arrived.
pub async fn confirm(
    state: &AppState,
    acceptor_id: &str,
    order_id: &str,
) -> ApiResult<order::Model> {
    let txn = state.db.begin().await?;
    let o = lock_order(&txn, order_id, Scope::Acceptor { acceptor_id }).await?;
    let from = require_transition(&o, OrderStatus::Completed)?;
    if from == OrderStatus::Disputed {
        return Err(ApiError::invalid_state(
            "The order is disputed; an admin resolves it.",
        ));
    }
    let now = now_ms();
    let (batch, settlement) = settlement_batch(&txn, &o, acceptor_id, o.amount, true).await?;
    ledger::apply(&txn, &batch, now).await?;
    let mut active = o.clone().into_active_model();
    active.status = Set(OrderStatus::Completed.as_str().to_owned());
    active.completed_at = Set(Some(now));
    active.released_amount = Set(Some(settlement.released));
    let updated = save(&txn, active).await?;
    record_event(
        &txn,
        &updated.id,
        "order.completed",
        Some(from),
        OrderStatus::Completed,
        (Actor::Acceptor, Some(acceptor_id.to_owned())),
        None,
    )
    .await?;
    enqueue_webhook(&txn, state, &updated, "order.completed").await?;
    txn.commit().await?;
    crate::engine::notify_all(
        state,
        settlement_commands(&o, acceptor_id, &settlement, true),
    )
    .await;
    announce(state, &updated, "order.completed").await;
    Ok(updated)
}

/// Voids an order's live reservation in the transaction.
async fn void_reservation(txn: &DatabaseTransaction, o: &order::Model, now: i64) -> ApiResult<()> {
    if o.acceptor_id.is_none() || o.assignment_seq == 0 {
        return Ok(());
    }
    let seq = o.assignment_seq;
    ledger::apply(
        txn,
        &[TransferRequest::void_pending(
            transfer_ids::void(&o.id, seq),
            transfer_ids::reserve(&o.id, seq),
        )
        .with_kind("order_void")
        .with_reference(o.id.clone())],
        now,
    )
    .await?;
    Ok(())
}

/// `assigned → matching`: the acceptor declines; the order goes back to matching
/// without it (and usually straight to another acceptor).
pub async fn reject(
    state: &AppState,
    acceptor_id: &str,
    order_id: &str,
    reason: Option<String>,
) -> ApiResult<order::Model> {
    let txn = state.db.begin().await?;
    let o = lock_order(&txn, order_id, Scope::Acceptor { acceptor_id }).await?;
    let from = require_transition(&o, OrderStatus::Matching)?;
    let now = now_ms();
    void_reservation(&txn, &o, now).await?;
    let mut excluded: Vec<String> = serde_json::from_str(&o.excluded_acceptors).unwrap_or_default();
    if !excluded.iter().any(|a| a == acceptor_id) {
        excluded.push(acceptor_id.to_owned());
    }
    let match_deadline =
        deadline_after(now, state.settings.match_timeout_seconds).min(o.expires_at);
    let mut active = o.into_active_model();
    active.status = Set(OrderStatus::Matching.as_str().to_owned());
    active.acceptor_id = Set(None);
    active.rate = Set(None);
    active.fiat_amount = Set(None);
    active.payment_details = Set(None);
    active.assigned_at = Set(None);
    active.excluded_acceptors =
        Set(serde_json::to_string(&excluded).unwrap_or_else(|_| "[]".to_owned()));
    active.match_deadline = Set(Some(match_deadline));
    let updated = save(&txn, active).await?;
    record_event(
        &txn,
        &updated.id,
        "order.rejected",
        Some(from),
        OrderStatus::Matching,
        (Actor::Acceptor, Some(acceptor_id.to_owned())),
        reason,
    )
    .await?;
    txn.commit().await?;
    if updated.livemode {
        crate::engine::notify(
            state,
            Command::Reject {
                order: updated.id.clone(),
                acceptor: acceptor_id.to_owned(),
            },
        )
        .await;
    }
    store::find(&state.db, &updated.id)
        .await?
        .ok_or_else(|| ApiError::not_found("order"))
}

/// `matching | assigned → cancelled` by the merchant.
pub async fn cancel(
    state: &AppState,
    merchant_id: &str,
    livemode: bool,
    order_id: &str,
) -> ApiResult<order::Model> {
    let txn = state.db.begin().await?;
    let o = lock_order(
        &txn,
        order_id,
        Scope::Merchant {
            merchant_id,
            livemode,
        },
    )
    .await?;
    let from = require_transition(&o, OrderStatus::Cancelled)?;
    if from == OrderStatus::Disputed {
        return Err(ApiError::invalid_state(
            "The order is disputed; an admin resolves it.",
        ));
    }
    let now = now_ms();
    void_reservation(&txn, &o, now).await?;
    let mut active = o.into_active_model();
    active.status = Set(OrderStatus::Cancelled.as_str().to_owned());
    let updated = save(&txn, active).await?;
    record_event(
        &txn,
        &updated.id,
        "order.cancelled",
        Some(from),
        OrderStatus::Cancelled,
        (Actor::Merchant, Some(merchant_id.to_owned())),
        None,
    )
    .await?;
    enqueue_webhook(&txn, state, &updated, "order.cancelled").await?;
    txn.commit().await?;
    if updated.livemode {
        crate::engine::notify(
            state,
            Command::Cancel {
                order: updated.id.clone(),
            },
        )
        .await;
    }
    announce(state, &updated, "order.cancelled").await;
    Ok(updated)
}

/// The transition a passed deadline calls for, judged from the deadlines themselves
/// (not from `next_deadline`, which the scheduler uses as a claim lease).
pub fn due_transition(o: &order::Model, now: i64) -> Option<OrderStatus> {
    match OrderStatus::parse(&o.status)? {
        OrderStatus::Matching => {
            let deadline = o.match_deadline.unwrap_or(o.expires_at).min(o.expires_at);
            (now >= deadline).then_some(OrderStatus::Expired)
        }
        OrderStatus::Assigned
            if o.acceptor_id
                .as_deref()
                .is_some_and(sandbox::is_sandbox_acceptor) =>
        {
            let confirm_at = o.release_deadline.unwrap_or(o.expires_at).min(o.expires_at);
            (now >= confirm_at).then_some(OrderStatus::Completed)
        }
        OrderStatus::Assigned => (now >= o.expires_at).then_some(OrderStatus::Expired),
        OrderStatus::Paid => o
            .release_deadline
            .filter(|d| now >= *d)
            .map(|_| OrderStatus::Disputed),
        _ => None,
    }
}

/// `matching | assigned → expired` when a deadline passes (scheduler).
pub async fn expire(state: &AppState, order_id: &str) -> ApiResult<Option<order::Model>> {
    let txn = state.db.begin().await?;
    let o = lock_order(&txn, order_id, Scope::System).await?;
    let now = now_ms();
    let from = status_of(&o)?;
    if due_transition(&o, now) != Some(OrderStatus::Expired) {
        // Someone else moved it first (confirm racing expiry): nothing to do.
        return Ok(None);
    }
    void_reservation(&txn, &o, now).await?;
    let mut active = o.into_active_model();
    active.status = Set(OrderStatus::Expired.as_str().to_owned());
    active.appeal_deadline = Set(Some(deadline_after(
        now,
        state.settings.appeal_window_seconds,
    )));
    let updated = save(&txn, active).await?;
    record_event(
        &txn,
        &updated.id,
        "order.expired",
        Some(from),
        OrderStatus::Expired,
        (Actor::System, None),
        None,
    )
    .await?;
    enqueue_webhook(&txn, state, &updated, "order.expired").await?;
    txn.commit().await?;
    if updated.livemode {
        let command = if from == OrderStatus::Matching {
            Command::Cancel {
                order: updated.id.clone(),
            }
        } else {
            Command::OrderReleased {
                order: updated.id.clone(),
            }
        };
        crate::engine::notify(state, command).await;
    }
    announce(state, &updated, "order.expired").await;
    Ok(Some(updated))
}

/// `paid → disputed` (acceptor, merchant, customer, or the release window running out)
/// and `expired → disputed` (merchant or customer within the appeal window).
pub async fn open_dispute(
    state: &AppState,
    order_id: &str,
    scope: Scope<'_>,
    reason: String,
    contact: Option<String>,
) -> ApiResult<(order::Model, dispute::Model)> {
    let txn = state.db.begin().await?;
    let o = lock_order(&txn, order_id, scope).await?;
    let from = require_transition(&o, OrderStatus::Disputed)?;
    let now = now_ms();
    let (actor, actor_id) = scope.actor();
    if from == OrderStatus::Expired {
        let within = o.appeal_deadline.is_some_and(|d| now <= d);
        if !within || matches!(actor, Actor::Acceptor) {
            return Err(ApiError::invalid_state(
                "The appeal window of this expired order is over.",
            ));
        }
    }
    if from == OrderStatus::Paid
        && matches!(scope, Scope::System)
        && o.release_deadline.is_none_or(|d| d > now)
    {
        return Err(ApiError::invalid_state("The release window is not over."));
    }
    let opened = dispute::ActiveModel {
        id: Set(ids::new("dsp")),
        order_id: Set(o.id.clone()),
        merchant_id: Set(o.merchant_id.clone()),
        acceptor_id: Set(o.acceptor_id.clone()),
        livemode: Set(o.livemode),
        status: Set("open".to_owned()),
        opened_by: Set(actor.as_str().to_owned()),
        reason: Set(reason.clone()),
        contact: Set(contact),
        outcome: Set(None),
        released_amount: Set(None),
        resolution_note: Set(None),
        resolved_by: Set(None),
        created_at: Set(now),
        resolved_at: Set(None),
    }
    .insert(&txn)
    .await?;
    let mut active = o.into_active_model();
    active.status = Set(OrderStatus::Disputed.as_str().to_owned());
    let updated = save(&txn, active).await?;
    record_event(
        &txn,
        &updated.id,
        "order.disputed",
        Some(from),
        OrderStatus::Disputed,
        (actor, actor_id),
        Some(reason),
    )
    .await?;
    enqueue_webhook(&txn, state, &updated, "order.disputed").await?;
    mail_acceptor_about_dispute(&txn, state, &updated, MailKind::DisputeOpened, None).await?;
    txn.commit().await?;
    announce(state, &updated, "order.disputed").await;
    crate::live::announce_to_admins(
        state,
        "dispute.opened",
        serde_json::json!({"dispute_id": opened.id, "order_id": updated.id}),
    )
    .await;
    Ok((updated, opened))
}

/// Tells the order's acceptor by mail that a dispute was opened or resolved on its order
/// (same transaction as the change).
async fn mail_acceptor_about_dispute(
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
    crate::mail::service::to_acceptor(
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

/// How an admin ends a dispute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// Release `amount` (the whole order, or less: a partial release) to the merchant.
    Release {
        amount: i64,
    },
    Cancel,
}

/// `disputed → completed | cancelled`, by an admin.
pub async fn resolve_dispute(
    state: &AppState,
    dispute_id: &str,
    resolution: Resolution,
    note: String,
    admin_id: &str,
) -> ApiResult<(order::Model, dispute::Model)> {
    let txn = state.db.begin().await?;
    let mut dq = dispute::Entity::find_by_id(dispute_id.to_owned());
    if db::supports_row_locks(&txn) {
        dq = dq.lock_exclusive();
    }
    let d = dq
        .one(&txn)
        .await?
        .ok_or_else(|| ApiError::not_found("dispute"))?;
    if d.status != "open" {
        return Err(ApiError::invalid_state("The dispute is already resolved."));
    }
    let o = lock_order(&txn, &d.order_id, Scope::Admin).await?;
    let now = now_ms();
    let reservation_held = o.paid_at.is_some();
    let (to, commands, settled) = match resolution {
        Resolution::Release { amount } => {
            if amount <= 0 || amount > o.amount {
                return Err(ApiError::new(
                    ErrorCode::InvalidAmount,
                    "The amount must be more than zero and at most the order amount.",
                )
                .with_param("amount"));
            }
            let acceptor_id = o.acceptor_id.clone().ok_or_else(|| {
                ApiError::invalid_state("The order has no acceptor to release from.")
            })?;
            require_transition(&o, OrderStatus::Completed)?;
            let (batch, settlement) =
                settlement_batch(&txn, &o, &acceptor_id, amount, reservation_held).await?;
            ledger::apply(&txn, &batch, now).await.map_err(|e| {
                if e.is_exceeds_credits() {
                    ApiError::new(
                        ErrorCode::InsufficientBalance,
                        "The acceptor's balance does not cover the release.",
                    )
                } else {
                    e.into()
                }
            })?;
            (
                OrderStatus::Completed,
                settlement_commands(&o, &acceptor_id, &settlement, reservation_held),
                Some(settlement),
            )
        }
        Resolution::Cancel => {
            require_transition(&o, OrderStatus::Cancelled)?;
            let mut commands = Vec::new();
            if reservation_held {
                void_reservation(&txn, &o, now).await?;
                if o.livemode {
                    commands.push(Command::OrderReleased {
                        order: o.id.clone(),
                    });
                }
            }
            (OrderStatus::Cancelled, commands, None)
        }
    };
    let released = settled.map(|s| s.released);
    let mut active = o.into_active_model();
    active.status = Set(to.as_str().to_owned());
    if let Some(settlement) = settled {
        // The fee actually kept: pro rata for a partial release.
        active.fee = Set(settlement.fee);
        active.completed_at = Set(Some(now));
        active.released_amount = Set(Some(settlement.released));
    }
    let updated = save(&txn, active).await?;
    let mut dactive = d.into_active_model();
    dactive.status = Set("resolved".to_owned());
    dactive.outcome = Set(Some(
        if to == OrderStatus::Completed {
            "release"
        } else {
            "cancel"
        }
        .to_owned(),
    ));
    dactive.released_amount = Set(released);
    dactive.resolution_note = Set(Some(note.clone()));
    dactive.resolved_by = Set(Some(admin_id.to_owned()));
    dactive.resolved_at = Set(Some(now));
    let resolved = dactive.update(&txn).await?;
    record_event(
        &txn,
        &updated.id,
        "order.dispute_resolved",
        Some(OrderStatus::Disputed),
        to,
        (Actor::Admin, Some(admin_id.to_owned())),
        Some(note),
    )
    .await?;
    enqueue_webhook(&txn, state, &updated, "order.dispute_resolved").await?;
    crate::audit::record(
        &txn,
        crate::audit::AuditEntry {
            actor_id: Some(admin_id),
            actor_role: "admin",
            action: "dispute.resolve",
            target_type: "dispute",
            target_id: Some(&resolved.id),
            details: serde_json::json!({"order_id": updated.id, "outcome": resolved.outcome, "released_amount": released}),
            ip: None,
        },
    )
    .await?;
    let outcome = if to == OrderStatus::Completed {
        "mail.outcome_release"
    } else {
        "mail.outcome_cancel"
    };
    mail_acceptor_about_dispute(
        &txn,
        state,
        &updated,
        MailKind::DisputeResolved,
        Some(outcome),
    )
    .await?;
    txn.commit().await?;
    crate::engine::notify_all(state, commands).await;
    announce(state, &updated, "order.dispute_resolved").await;
    Ok((updated, resolved))
}

/// Orders the acceptor holds but the customer has not paid yet go back to matching when
/// the acceptor goes offline: the customer needs someone who answers.
pub async fn requeue_unpaid_orders_of(state: &AppState, acceptor_id: &str) -> ApiResult<usize> {
    use sea_orm::{ColumnTrait, QueryFilter};
    let held = order::Entity::find()
        .filter(order::Column::AcceptorId.eq(acceptor_id))
        .filter(order::Column::Status.eq(OrderStatus::Assigned.as_str()))
        .all(&state.db)
        .await?;
    let mut moved = 0;
    for o in held {
        match reject(
            state,
            acceptor_id,
            &o.id,
            Some("acceptor went offline".to_owned()),
        )
        .await
        {
            Ok(_) => moved += 1,
            Err(err) if err.code == ErrorCode::InvalidState => {}
            Err(err) => return Err(err),
        }
    }
    Ok(moved)
}

/// Builds the engine's view of a new order.
pub fn engine_order(o: &order::Model) -> NewOrder {
    NewOrder {
        id: o.id.clone(),
        fiat: o.fiat_currency.clone(),
        amount: o.amount,
        payment_method: o.payment_method.clone(),
        excluded_acceptors: serde_json::from_str(&o.excluded_acceptors).unwrap_or_default(),
        match_deadline: o.match_deadline.unwrap_or(o.expires_at),
    }
}

// ---------------------------------------------------------------------------------------
// Creation

/// A short code the customer writes in the transfer memo (no 0/O/1/I confusion).
fn payment_reference() -> String {
    const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTVWXYZ";
    ids::random_bytes(6)
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect()
}

/// The outcome of `POST /api/v1/orders`.
pub struct Created {
    pub order: order::Model,
    /// True when `merchant_order_id` was seen before with the same parameters.
    pub replayed: bool,
}

async fn find_by_merchant_order_id(
    conn: &impl ConnectionTrait,
    merchant_id: &str,
    livemode: bool,
    merchant_order_id: &str,
) -> ApiResult<Option<order::Model>> {
    use sea_orm::{ColumnTrait, QueryFilter};
    Ok(order::Entity::find()
        .filter(order::Column::MerchantId.eq(merchant_id))
        .filter(order::Column::Livemode.eq(livemode))
        .filter(order::Column::MerchantOrderId.eq(merchant_order_id))
        .one(conn)
        .await?)
}

/// The insert of a new order found its `merchant_order_id` taken; `create` then answers
/// with the order that holds it ([`replay_of`]).
fn merchant_order_id_taken() -> ApiError {
    ApiError::new(
        ErrorCode::DuplicateMerchantOrderId,
        "An order with this merchant_order_id exists.",
    )
    .with_param("merchant_order_id")
}

fn replay_of(existing: order::Model, fingerprint: &str) -> ApiResult<Created> {
    if existing.params_hash == fingerprint {
        Ok(Created {
            order: existing,
            replayed: true,
        })
    } else {
        Err(ApiError::new(
            ErrorCode::DuplicateMerchantOrderId,
            "An order with this merchant_order_id exists with different parameters.",
        )
        .with_param("merchant_order_id"))
    }
}

/// Creates an order and, for live orders, matches it at once: the engine picks the
/// acceptor first, then the order row, its reservation, its history and its
/// `order.assigned` webhook are written in one transaction. If the transaction fails the
/// engine is told to forget the order. A `merchant_order_id` the merchant used before is
/// recognised by that write (its insert is skipped, nothing of the new order is
/// written): the engine forgets its match and the earlier order is the answer.
pub async fn create(
    state: &AppState,
    merchant: &crate::merchants::store::merchant::Model,
    livemode: bool,
    params: super::request::OrderParams,
) -> ApiResult<Created> {
    let fingerprint = params.fingerprint();
    let fee_rate = Rate::parse_fraction(&merchant.fee_rate).map_err(ApiError::internal)?;
    let fee = fee_rate.apply_to_micros(params.amount.micros());
    let now = now_ms();
    let expires_at = deadline_after(now, u64::from(params.expires_in.seconds()));
    let match_deadline = deadline_after(now, state.settings.match_timeout_seconds).min(expires_at);
    let row = order::Model {
        id: ids::new("ord"),
        merchant_id: merchant.id.clone(),
        livemode,
        merchant_order_id: params.merchant_order_id.clone(),
        status: OrderStatus::Matching.as_str().to_owned(),
        amount: params.amount.micros(),
        fee,
        fiat_currency: params.fiat.code.to_owned(),
        fiat_amount: None,
        rate: None,
        payment_method: params
            .payment_method
            .as_ref()
            .map(|m| m.as_str().to_owned()),
        payment_details: None,
        reference: payment_reference(),
        acceptor_id: None,
        callback_url: params.callback_url.as_ref().map(|u| u.as_str().to_owned()),
        return_url: params.return_url.as_ref().map(|u| u.as_str().to_owned()),
        expires_in: i32::try_from(params.expires_in.seconds())
            .map_err(|_| ApiError::internal("expires_in beyond i32"))?,
        metadata: params.metadata.as_ref().map(|raw| raw.get().to_owned()),
        cashier_token: ids::random_hex(24),
        params_hash: fingerprint.clone(),
        excluded_acceptors: "[]".to_owned(),
        assignment_seq: 0,
        released_amount: None,
        payer_name: None,
        expires_at,
        match_deadline: Some(match_deadline),
        // A sandbox order is confirmed by the simulated acceptor at this time.
        release_deadline: (!livemode)
            .then(|| deadline_after(now, state.settings.sandbox_confirm_after)),
        appeal_deadline: None,
        next_deadline: Some(match_deadline),
        assigned_at: None,
        paid_at: None,
        completed_at: None,
        created_at: now,
        updated_at: now,
    };

    let assignment = if livemode {
        let events = state
            .engine
            .apply(Command::SubmitOrder(engine_order(&row)))
            .await
            .map_err(|e| match e {
                crate::engine::EngineFailure::Refused(
                    matching_engine::EngineError::InvalidAmount { .. },
                ) => ApiError::new(
                    ErrorCode::InvalidAmount,
                    "The amount is larger than an order may be.",
                )
                .with_param("amount"),
                other => ApiError::internal(other),
            })?;
        assignment_of(&events, &row.id)
    } else {
        Some(EngineAssignment {
            acceptor: sandbox::SANDBOX_ACCEPTOR.to_owned(),
            rate: sandbox::rate_for(params.fiat.code),
            fiat_amount: sandbox::rate_for(params.fiat.code)
                .fiat_for(params.amount.micros(), params.fiat),
        })
    };

    let inserted = match &assignment {
        Some(a) => match state.order_writer.write(row.clone(), a.clone()).await {
            // Written and announced by the writer.
            Ok(Some(assigned)) => {
                return Ok(Created {
                    order: assigned,
                    replayed: false,
                });
            }
            Ok(None) => Err(merchant_order_id_taken()),
            // Its batch failed as a whole: alone, the order meets its own error (or none).
            Err(super::writer::Unbatched) => {
                insert_new_order(state, row.clone(), Some(a), now).await
            }
        },
        None => insert_new_order(state, row.clone(), None, now).await,
    };
    match inserted {
        Ok(created) => {
            if created.status == OrderStatus::Assigned.as_str() {
                announce(state, &created, "order.assigned").await;
            }
            Ok(Created {
                order: created,
                replayed: false,
            })
        }
        Err(err) => {
            if livemode {
                if let Err(e) = state
                    .engine
                    .apply(Command::Cancel {
                        order: row.id.clone(),
                    })
                    .await
                {
                    tracing::warn!(order = %row.id, error = %e, "engine did not forget a failed order");
                }
                // The ledger may have refused what the engine believed possible.
                if let (Some(a), false) =
                    (&assignment, err.code == ErrorCode::DuplicateMerchantOrderId)
                {
                    resync_acceptor_liquidity(state, &a.acceptor).await;
                }
            }
            // A retry, or a concurrent request with the same merchant_order_id that won
            // the insert: answered with that order.
            if let Some(existing) = find_by_merchant_order_id(
                &state.db,
                &merchant.id,
                livemode,
                &params.merchant_order_id,
            )
            .await?
            {
                return replay_of(existing, &fingerprint);
            }
            Err(err)
        }
    }
}

async fn insert_new_order(
    state: &AppState,
    row: order::Model,
    assignment: Option<&EngineAssignment>,
    now: i64,
) -> ApiResult<order::Model> {
    let txn = state.db.begin().await?;
    let created = match assignment {
        // Matched at once: the row is written already assigned, as a batch of one.
        Some(a) => {
            let (mut written, _) = super::writer::insert_assigned(
                &txn,
                &state.public_url,
                vec![(row, a)],
                &Default::default(),
                now,
            )
            .await?;
            written
                .pop()
                .flatten()
                .map(|written| written.order)
                .ok_or_else(merchant_order_id_taken)?
        }
        None => {
            let inserted = row.into_active_model().insert(&txn).await?;
            record_event(
                &txn,
                &inserted.id,
                "order.created",
                None,
                OrderStatus::Matching,
                (Actor::Merchant, Some(inserted.merchant_id.clone())),
                None,
            )
            .await?;
            inserted
        }
    };
    txn.commit().await?;
    Ok(created)
}

/// Sets the engine's idea of an acceptor's liquidity back to the ledger's, after the
/// ledger refused a reservation the engine believed possible.
async fn resync_acceptor_liquidity(state: &AppState, acceptor_id: &str) {
    match ledger::balance(
        &state.db,
        &AccountKey::acceptor(acceptor_id.to_owned(), true),
    )
    .await
    {
        Ok(balance) => {
            crate::engine::notify(
                state,
                Command::SetLiquidity {
                    acceptor: acceptor_id.to_owned(),
                    liquidity: balance.posted,
                },
            )
            .await;
        }
        Err(err) => {
            tracing::warn!(acceptor = %acceptor_id, error = %err, "liquidity resync failed")
        }
    }
}

/// The sandbox acceptor's part: the simulated customer pays and the simulated acceptor
/// confirms, with the same transitions, ledger movements and callbacks as live orders.
pub async fn complete_sandbox_order(state: &AppState, order_id: &str) -> ApiResult<order::Model> {
    let o = store::find(&state.db, order_id)
        .await?
        .ok_or_else(|| ApiError::not_found("order"))?;
    if o.livemode
        || !o
            .acceptor_id
            .as_deref()
            .is_some_and(sandbox::is_sandbox_acceptor)
    {
        return Err(ApiError::invalid_state(
            "Only sandbox orders complete by themselves.",
        ));
    }
    if o.status == OrderStatus::Assigned.as_str() {
        mark_paid(state, &o.cashier_token, Some("Sandbox Customer".to_owned())).await?;
    }
    confirm(state, sandbox::SANDBOX_ACCEPTOR, order_id).await
}

/// Ledger invariant of the order flow: every completed order is credited exactly once,
/// with `released − fee`, and nothing else is credited as an order. Added to the ledger
/// check by `ledger::audit`.
pub async fn check_credited_once(
    conn: &impl ConnectionTrait,
) -> Result<Vec<ledger::Violation>, sea_orm::DbErr> {
    use sea_orm::Statement;
    let backend = conn.get_database_backend();
    let queries = [
        (
            "order_not_credited",
            "SELECT o.id AS id FROM orders o WHERE o.status = 'completed' \
             AND COALESCE(o.released_amount, o.amount) - o.fee > 0 \
             AND NOT EXISTS (SELECT 1 FROM ledger_transfers t WHERE t.id = o.id || ':credit') LIMIT 1000",
        ),
        (
            "order_credit_mismatch",
            "SELECT o.id AS id FROM orders o JOIN ledger_transfers t ON t.id = o.id || ':credit' \
             WHERE t.amount <> COALESCE(o.released_amount, o.amount) - o.fee LIMIT 1000",
        ),
        (
            "credit_without_completed_order",
            "SELECT t.reference AS id FROM ledger_transfers t WHERE t.kind = 'order_credit' \
             AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.id = t.reference AND o.status = 'completed') LIMIT 1000",
        ),
        (
            "order_credited_twice",
            "SELECT t.reference AS id FROM ledger_transfers t WHERE t.kind = 'order_credit' \
             GROUP BY t.reference HAVING COUNT(*) > 1 LIMIT 1000",
        ),
    ];
    let mut violations = Vec::new();
    for (kind, sql) in queries {
        for row in conn
            .query_all_raw(Statement::from_string(backend, sql))
            .await?
        {
            let id: String = row.try_get("", "id")?;
            violations.push(ledger::Violation {
                kind: kind.to_owned(),
                account: None,
                transfer: None,
                detail: format!("order {id}"),
            });
        }
    }
    Ok(violations)
}
