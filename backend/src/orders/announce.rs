//! What an order's change tells the outside: its history row and webhook outbox row
//! (written in the change's transaction) and its live events (published after the
//! commit). Publishing after a commit is written here once, for the order writer and
//! the transitions alike. Nothing here writes the order itself or runs a transaction.

use sea_orm::ActiveValue::Set;
use serde_json::Value;
use tokio::sync::Notify;

use super::model::{Actor, OrderStatus};
use super::store::{order, order_event};
use super::view::OrderView;
use crate::db::now_ms;
use crate::error::{ApiError, ApiResult};
use crate::ids;
use crate::ids::{EventId, OrderId};
use crate::infra::event_bus::{BusEvent, EventBus};
use crate::state::AppState;
use crate::webhooks;

/// The order as its webhooks and live events carry it (without `qr_code`).
pub fn event_view(o: &order::Model, public_url: &str) -> ApiResult<Value> {
    serde_json::to_value(OrderView::new(o, public_url, false)).map_err(ApiError::internal)
}

/// The live event that tells an order's current state (`order.<status>` and its view),
/// for a stream's replay; none while it is still matching.
pub fn state_event(o: &order::Model, public_url: &str) -> Option<(String, Value)> {
    if o.status == OrderStatus::Matching {
        return None;
    }
    let view = event_view(o, public_url).ok()?;
    Some((format!("order.{}", o.status), view))
}

/// One row of an order's history.
pub fn history_row(
    order_id: &OrderId,
    kind: &str,
    from: Option<OrderStatus>,
    to: OrderStatus,
    actor: (Actor, Option<String>),
    note: Option<String>,
) -> order_event::ActiveModel {
    order_event::ActiveModel {
        id: Set(ids::new("oev")),
        order_id: Set(order_id.clone()),
        kind: Set(kind.to_owned()),
        from_status: Set(from.map(|s| s.as_str().to_owned())),
        to_status: Set(to.as_str().to_owned()),
        actor: Set(actor.0.as_str().to_owned()),
        actor_id: Set(actor.1),
        note: Set(note),
        created_at: Set(now_ms()),
    }
}

/// The outbox row of the order's webhook `event_type` carrying `data` (its
/// [`event_view`]), sent to the order's `callback_url` if it has one.
pub fn webhook_row(
    o: &order::Model,
    event_type: &str,
    data: Value,
) -> webhooks::event::ActiveModel {
    webhooks::service::outbox_row(
        &EventId::generate(),
        &o.merchant_id,
        o.livemode,
        event_type,
        data,
        o.callback_url.as_deref(),
    )
}

/// The live events of an order's change `kind`, carrying `payload` (its [`event_view`]):
/// one for the order's own topic (the cashier page), one for its acceptor's (the
/// portal), one for its merchant's (the dashboard).
pub fn live_events(o: &order::Model, kind: &str, payload: Value) -> Vec<BusEvent> {
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

/// After a commit, and only then: wake the webhook dispatcher (the transaction wrote
/// outbox rows) and publish `events` in one round trip. Live events are best effort;
/// clients re-read on reconnect.
pub async fn publish(event_bus: &dyn EventBus, webhook_wakeup: &Notify, events: &[BusEvent]) {
    webhook_wakeup.notify_one();
    if let Err(err) = event_bus.publish_all(events).await {
        tracing::warn!(error = %err, "live events not published");
    }
}

/// [`publish`] for one order's change `kind`.
pub async fn announce(state: &AppState, o: &order::Model, kind: &str) {
    let view = event_view(o, &state.public_url).unwrap_or_else(|err| {
        tracing::error!(order = %o.id, error = %err, "order view not made for its live events");
        Value::Null
    });
    let events = live_events(o, kind, view);
    publish(
        state.infra.event_bus.as_ref(),
        &state.webhook_wakeup,
        &events,
    )
    .await;
}
