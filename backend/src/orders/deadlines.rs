//! The deadline rule, in one place: how a deadline is computed from a window, which of
//! an order's stored deadlines the scheduler must act on next (`next_deadline`), and
//! which transition a passed deadline calls for. The scheduler and the transitions ask
//! here; nothing here reads or writes the database.

use sea_orm::ActiveValue;

use super::model::OrderStatus;
use super::side::AcceptorSide;
use super::store::order;

/// `seconds` after `now` (Unix ms), saturating rather than overflowing.
pub fn deadline_after(now: i64, seconds: u64) -> i64 {
    now.saturating_add(i64::try_from(seconds.saturating_mul(1000)).unwrap_or(i64::MAX / 2))
}

fn value<T: Clone + Into<sea_orm::Value>>(v: &ActiveValue<T>) -> Option<T> {
    match v {
        ActiveValue::Set(x) | ActiveValue::Unchanged(x) => Some(x.clone()),
        ActiveValue::NotSet => None,
    }
}

/// The earliest deadline the scheduler must act on in the order's status.
pub fn next_deadline_for(o: &order::ActiveModel) -> Option<i64> {
    let status = OrderStatus::parse(&value(&o.status)?)?;
    let get = |v: &ActiveValue<Option<i64>>| value(v).flatten();
    let expires_at = value(&o.expires_at);
    match status {
        OrderStatus::Matching => match (get(&o.match_deadline), expires_at) {
            (Some(m), Some(e)) => Some(m.min(e)),
            (m, e) => m.or(e),
        },
        OrderStatus::Assigned => {
            // An acceptor that confirms by itself does so at the release deadline.
            let side = value(&o.livemode).map(AcceptorSide::of_mode);
            match (side, get(&o.release_deadline), expires_at) {
                (Some(side), Some(r), Some(e)) if side.confirms_by_itself() => Some(r.min(e)),
                (_, _, e) => e,
            }
        }
        OrderStatus::Paid => get(&o.release_deadline),
        _ => None,
    }
}

/// The transition a passed deadline calls for, judged from the deadlines themselves
/// (not from `next_deadline`, which the scheduler uses as a claim lease).
pub fn due_transition(o: &order::Model, now: i64) -> Option<OrderStatus> {
    match OrderStatus::parse(&o.status)? {
        OrderStatus::Matching => {
            let deadline = o.match_deadline.unwrap_or(o.expires_at).min(o.expires_at);
            (now >= deadline).then_some(OrderStatus::Expired)
        }
        OrderStatus::Assigned if AcceptorSide::of(o).confirms_by_itself() => {
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

/// Whether an expired order may still be appealed at `now`.
pub fn within_appeal_window(o: &order::Model, now: i64) -> bool {
    o.appeal_deadline.is_some_and(|d| now <= d)
}

/// Whether a paid order's release window is over at `now` (then the system disputes it).
pub fn release_window_over(o: &order::Model, now: i64) -> bool {
    o.release_deadline.is_some_and(|d| d <= now)
}
