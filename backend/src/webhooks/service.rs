//! The transactional outbox: state changes enqueue their webhook event in the same
//! database transaction; the dispatcher delivers it afterwards (at least once).
//!
//! Also the dispatcher's claim and bookkeeping, the attempt log query and manual
//! redelivery.

use sea_orm::sea_query::{Expr, ExprTrait, LockBehavior, LockType};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait, TransactionTrait,
};
use serde_json::{Value, json};

use super::model::{AttemptFilter, DeliveryView, WebhookEvent};
use super::status::EventStatus;
use super::store::{delivery, event};
use crate::db::{now_ms, rfc3339, supports_row_locks};
use crate::error::{ApiError, ApiResult};
use crate::ids;
use crate::ids::{EventId, MerchantId};
use crate::pagination::{Page, PageQuery};

/// Writes an event to the outbox inside the caller's transaction and returns its id.
/// The body is fixed now (`{"id", "type", "created_at", "livemode", "data"}`), so every
/// delivery attempt sends — and signs — the same bytes.
pub async fn enqueue(
    conn: &impl ConnectionTrait,
    merchant_id: &MerchantId,
    livemode: bool,
    event_type: &str,
    data: Value,
    target_url: Option<&str>,
) -> Result<EventId, DbErr> {
    let id = EventId::generate();
    outbox_row(&id, merchant_id, livemode, event_type, data, target_url)
        .insert(conn)
        .await?;
    Ok(id)
}

/// The outbox row of one event, for [`enqueue_all`] (see [`enqueue`] for its body).
pub fn outbox_row(
    id: &EventId,
    merchant_id: &MerchantId,
    livemode: bool,
    event_type: &str,
    data: Value,
    target_url: Option<&str>,
) -> event::ActiveModel {
    let now = now_ms();
    let body = WebhookEvent {
        id: id.to_string(),
        event_type: event_type.to_owned(),
        created_at: rfc3339(now),
        livemode,
        data,
    };
    event::ActiveModel {
        id: Set(id.clone()),
        merchant_id: Set(merchant_id.clone()),
        livemode: Set(livemode),
        event_type: Set(event_type.to_owned()),
        // Strings, a bool and a JSON value: serializing cannot fail.
        payload: Set(serde_json::to_string(&body).unwrap_or_default()),
        target_url: Set(target_url.map(str::to_owned)),
        status: Set(EventStatus::Pending),
        attempts: Set(0),
        next_attempt_at: Set(Some(now)),
        last_attempt_at: Set(None),
        delivered_at: Set(None),
        created_at: Set(now),
    }
}

/// Writes several outbox rows in one statement, inside the caller's transaction.
pub async fn enqueue_all(
    conn: &impl ConnectionTrait,
    rows: Vec<event::ActiveModel>,
) -> Result<(), DbErr> {
    if rows.is_empty() {
        return Ok(());
    }
    event::Entity::insert_many(rows)
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// Claims up to `limit` due events (`pending`, `next_attempt_at <= now`, oldest due
/// first) and pushes their `next_attempt_at` to `now + lease_ms`, so that neither
/// another node nor the next round takes them while they are in flight; an attempt
/// that never reports back (crash) is retried when the lease runs out. One statement,
/// `UPDATE … WHERE id IN (SELECT … LIMIT n) RETURNING …`, so the claim needs no
/// transaction of its own; on PostgreSQL the subquery's rows are locked `FOR UPDATE
/// SKIP LOCKED`, so concurrent claims take disjoint events. The returned models (oldest
/// event first) carry the lease as `next_attempt_at`.
pub async fn claim_due(
    db: &DatabaseConnection,
    now: i64,
    limit: u64,
    lease_ms: i64,
) -> Result<Vec<event::Model>, DbErr> {
    let mut due = event::Entity::find()
        .select_only()
        .column(event::Column::Id)
        .filter(event::Column::Status.eq(EventStatus::Pending.as_str()))
        .filter(event::Column::NextAttemptAt.lte(now))
        .order_by_asc(event::Column::NextAttemptAt)
        .order_by_asc(event::Column::Id)
        .limit(limit);
    if supports_row_locks(db) {
        due = due.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    let mut events = event::Entity::update_many()
        .col_expr(event::Column::NextAttemptAt, Expr::value(now + lease_ms))
        .filter(event::Column::Id.in_subquery(due.into_query()))
        .exec_with_returning(db)
        .await?;
    events.sort_unstable_by(|a, b| a.id.cmp(&b.id));
    Ok(events)
}

/// One delivery attempt as it goes to the log.
#[derive(Debug, Clone)]
pub struct AttemptLog {
    pub url: String,
    pub success: bool,
    pub status_code: Option<i32>,
    pub error: Option<String>,
    pub response_excerpt: Option<String>,
    pub duration_ms: i64,
}

/// The event's state after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterAttempt {
    Delivered,
    /// Next attempt at this time (Unix ms).
    RetryAt(i64),
    Failed,
}

/// A finished attempt of a claimed event, for [`record_attempts`].
#[derive(Debug, Clone)]
pub struct Attempted {
    pub claimed: event::Model,
    pub log: AttemptLog,
    pub after: AfterAttempt,
}

/// Logs finished attempts and moves their events on, all in one transaction: one insert
/// for the log rows and one update per distinct outcome. An event moves only if it still
/// holds the lease it was claimed with; if it was redelivered while its attempt was in
/// flight, only its attempt counters change and the queued redelivery stands.
pub async fn record_attempts(
    db: &DatabaseConnection,
    attempts: &[Attempted],
    now: i64,
) -> Result<(), DbErr> {
    if attempts.is_empty() {
        return Ok(());
    }
    let txn = db.begin().await?;
    let log_rows = attempts.iter().map(|a| delivery::ActiveModel {
        id: Set(ids::new("whd")),
        event_id: Set(a.claimed.id.clone()),
        merchant_id: Set(a.claimed.merchant_id.clone()),
        livemode: Set(a.claimed.livemode),
        url: Set(a.log.url.clone()),
        attempt: Set(a.claimed.attempts + 1),
        success: Set(a.log.success),
        status_code: Set(a.log.status_code),
        error: Set(a.log.error.clone()),
        response_excerpt: Set(a.log.response_excerpt.clone()),
        duration_ms: Set(a.log.duration_ms),
        created_at: Set(now),
    });
    delivery::Entity::insert_many(log_rows)
        .exec_without_returning(&txn)
        .await?;

    // Events with the same outcome and the same lease move in one statement.
    let mut groups: Vec<(AfterAttempt, Option<i64>, Vec<EventId>)> = Vec::new();
    for a in attempts {
        let lease = a.claimed.next_attempt_at;
        match groups
            .iter_mut()
            .find(|(after, l, _)| *after == a.after && *l == lease)
        {
            Some((_, _, ids)) => ids.push(a.claimed.id.clone()),
            None => groups.push((a.after, lease, vec![a.claimed.id.clone()])),
        }
    }
    for (after, lease, ids) in groups {
        let (status, next_attempt_at, delivered_at) = match after {
            AfterAttempt::Delivered => (EventStatus::Delivered, None, Some(now)),
            AfterAttempt::RetryAt(at) => (EventStatus::Pending, Some(at), None),
            AfterAttempt::Failed => (EventStatus::Failed, None, None),
        };
        let leased = || {
            event::Column::Status
                .eq(EventStatus::Pending.as_str())
                .and(event::Column::NextAttemptAt.eq(lease))
        };
        let if_leased = |then: Expr, column: event::Column| -> Expr {
            Expr::case(leased(), then).finally(Expr::col(column)).into()
        };
        let mut update = event::Entity::update_many()
            .col_expr(
                event::Column::Attempts,
                Expr::col(event::Column::Attempts).add(1),
            )
            .col_expr(event::Column::LastAttemptAt, Expr::value(Some(now)))
            .col_expr(
                event::Column::Status,
                if_leased(Expr::value(status.as_str()), event::Column::Status),
            )
            .col_expr(
                event::Column::NextAttemptAt,
                if_leased(Expr::value(next_attempt_at), event::Column::NextAttemptAt),
            );
        if delivered_at.is_some() {
            update = update.col_expr(
                event::Column::DeliveredAt,
                if_leased(Expr::value(delivered_at), event::Column::DeliveredAt),
            );
        }
        update
            .filter(event::Column::Id.is_in(ids))
            .exec(&txn)
            .await?;
    }
    txn.commit().await
}

/// The attempt log of one merchant in one mode, newest first (`GET
/// /api/v1/webhooks/deliveries`).
pub async fn list_deliveries(
    db: &impl ConnectionTrait,
    merchant_id: &MerchantId,
    livemode: bool,
    event_id: Option<&str>,
    filter: Option<AttemptFilter>,
    page: &PageQuery,
) -> ApiResult<Page<DeliveryView>> {
    let limit = page.limit()?;
    let mut query = delivery::Entity::find()
        .filter(delivery::Column::MerchantId.eq(merchant_id))
        .filter(delivery::Column::Livemode.eq(livemode));
    if let Some(event_id) = event_id {
        query = query.filter(delivery::Column::EventId.eq(event_id));
    }
    if let Some(filter) = filter {
        query = query.filter(delivery::Column::Success.eq(filter.success()));
    }
    if let Some(cursor) = &page.starting_after {
        query = query.filter(delivery::Column::Id.lt(cursor.as_str()));
    }
    let rows = query
        .order_by_desc(delivery::Column::Id)
        .limit(limit + 1)
        .all(db)
        .await?;
    let page = Page::from_rows(rows, limit);

    let mut event_ids: Vec<EventId> = page.data.iter().map(|d| d.event_id.clone()).collect();
    event_ids.sort();
    event_ids.dedup();
    let types: std::collections::HashMap<EventId, String> = if event_ids.is_empty() {
        Default::default()
    } else {
        event::Entity::find()
            .filter(event::Column::Id.is_in(event_ids))
            .all(db)
            .await?
            .into_iter()
            .map(|e| (e.id, e.event_type))
            .collect()
    };
    Ok(page.map(|d| {
        let event_type = types.get(&d.event_id).cloned().unwrap_or_default();
        DeliveryView::new(d, event_type)
    }))
}

/// One event of this merchant and mode; another tenant's is "not found".
pub async fn find_event(
    db: &impl ConnectionTrait,
    merchant_id: &MerchantId,
    livemode: bool,
    event_id: &EventId,
) -> Result<Option<event::Model>, DbErr> {
    event::Entity::find_by_id(event_id.clone())
        .filter(event::Column::MerchantId.eq(merchant_id))
        .filter(event::Column::Livemode.eq(livemode))
        .one(db)
        .await
}

/// Queues one more immediate attempt of an event, whatever its state (`POST
/// /api/v1/webhooks/events/{id}/redeliver`). The caller wakes the dispatcher.
pub async fn redeliver(
    db: &impl ConnectionTrait,
    merchant_id: &MerchantId,
    livemode: bool,
    event_id: &EventId,
) -> ApiResult<event::Model> {
    let Some(mut found) = find_event(db, merchant_id, livemode, event_id).await? else {
        return Err(ApiError::not_found("event"));
    };
    let now = now_ms();
    event::Entity::update_many()
        .col_expr(
            event::Column::Status,
            Expr::value(EventStatus::Pending.as_str()),
        )
        .col_expr(event::Column::NextAttemptAt, Expr::value(Some(now)))
        .filter(event::Column::Id.eq(found.id.clone()))
        .exec(db)
        .await?;
    found.status = EventStatus::Pending;
    found.next_attempt_at = Some(now);
    Ok(found)
}

/// The event type of a test delivery.
pub const TEST_EVENT: &str = "webhook.test";

/// Enqueues a signed `webhook.test` event to the merchant's endpoint, through the
/// outbox like every event (so its attempts appear in the delivery log), and wakes the
/// dispatcher. Returns the event id.
pub async fn send_test_event(
    state: &crate::state::AppState,
    merchant_id: &MerchantId,
    livemode: bool,
) -> ApiResult<EventId> {
    let txn = state.db.begin().await?;
    let id = enqueue(
        &txn,
        merchant_id,
        livemode,
        TEST_EVENT,
        json!({ "message": "A test event from OTCPay." }),
        None,
    )
    .await?;
    txn.commit().await?;
    state.webhook_wakeup.notify_one();
    Ok(id)
}

/// The events of one business object (an order, a withdrawal) of this merchant and
/// mode, oldest first: those whose payload's `data.id` is `object_id`, created at or
/// after `since` (the object's creation, which bounds the scan).
pub async fn events_of_object(
    db: &impl ConnectionTrait,
    merchant_id: &MerchantId,
    livemode: bool,
    object_id: &str,
    since: i64,
) -> Result<Vec<event::Model>, DbErr> {
    // Object ids are opaque `[A-Za-z0-9_]` strings: nothing to escape in the pattern.
    let needle = serde_json::to_string(object_id).unwrap_or_default();
    let found = event::Entity::find()
        .filter(event::Column::MerchantId.eq(merchant_id))
        .filter(event::Column::Livemode.eq(livemode))
        .filter(event::Column::CreatedAt.gte(since))
        .filter(event::Column::Payload.contains(needle.as_str()))
        .order_by_asc(event::Column::Id)
        .all(db)
        .await?;
    Ok(found
        .into_iter()
        .filter(|e| {
            serde_json::from_str::<Value>(&e.payload)
                .is_ok_and(|body| body["data"]["id"].as_str() == Some(object_id))
        })
        .collect())
}

/// The delivery attempts of some events, oldest first.
pub async fn deliveries_of_events(
    db: &impl ConnectionTrait,
    event_ids: &[EventId],
) -> Result<Vec<delivery::Model>, DbErr> {
    if event_ids.is_empty() {
        return Ok(Vec::new());
    }
    delivery::Entity::find()
        .filter(delivery::Column::EventId.is_in(event_ids.iter().cloned()))
        .order_by_asc(delivery::Column::Id)
        .all(db)
        .await
}

// Reads other features and the pages may use; the queries stay in `store.rs`.
pub use super::store::backlog;
