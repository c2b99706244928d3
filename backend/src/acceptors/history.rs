//! An acceptor's orders, read only: the portal's list and desk, a stream's replay, the
//! order history and the commission earned per day. Every query is scoped to the
//! acceptor in SQL.

use sea_orm::entity::prelude::*;
use sea_orm::{FromQueryResult, QueryOrder, QuerySelect};

use super::entity::acceptor;
use crate::error::ApiResult;
use crate::ledger::AccountKey;
use crate::orders::model::OrderStatus;
use crate::orders::order;
use crate::pagination::Page;

/// The acceptor's orders (those it holds or held to the end), newest first, optionally
/// of one status; up to `limit` rows after the cursor.
pub async fn orders_of(
    db: &impl ConnectionTrait,
    acceptor_id: &str,
    status: Option<OrderStatus>,
    starting_after: Option<&str>,
    limit: u64,
) -> Result<Vec<order::Model>, DbErr> {
    let mut query = order::Entity::find()
        .filter(order::Column::AcceptorId.eq(acceptor_id))
        .order_by_desc(order::Column::Id);
    if let Some(status) = status {
        query = query.filter(order::Column::Status.eq(status.as_str()));
    }
    if let Some(cursor) = starting_after {
        query = query.filter(order::Column::Id.lt(cursor));
    }
    query.limit(limit).all(db).await
}

/// The desk's orders, oldest first: those that wait for the acceptor (assigned, paid,
/// disputed), and those that ended since `finished_since` (so the acceptor sees how a
/// release or an expiry ended). Bounded by the acceptor's concurrency limit in practice.
pub async fn desk_orders_of(
    db: &impl ConnectionTrait,
    acceptor_id: &str,
    finished_since: i64,
) -> Result<Vec<order::Model>, DbErr> {
    use sea_orm::Condition;
    order::Entity::find()
        .filter(order::Column::AcceptorId.eq(acceptor_id))
        .filter(
            Condition::any()
                .add(order::Column::Status.is_in([
                    OrderStatus::Assigned.as_str(),
                    OrderStatus::Paid.as_str(),
                    OrderStatus::Disputed.as_str(),
                ]))
                .add(
                    Condition::all()
                        .add(order::Column::Status.is_in([
                            OrderStatus::Completed.as_str(),
                            OrderStatus::Expired.as_str(),
                            OrderStatus::Cancelled.as_str(),
                        ]))
                        .add(order::Column::UpdatedAt.gte(finished_since)),
                ),
        )
        .order_by_asc(order::Column::Id)
        .limit(500)
        .all(db)
        .await
}

/// The acceptor's orders changed at or after `since`, oldest change first (a stream's
/// replay after a reconnect).
pub async fn changed_since(
    db: &impl ConnectionTrait,
    acceptor_id: &str,
    since: i64,
) -> Result<Vec<order::Model>, DbErr> {
    order::Entity::find()
        .filter(order::Column::AcceptorId.eq(acceptor_id))
        .filter(order::Column::UpdatedAt.gte(since))
        .order_by_asc(order::Column::UpdatedAt)
        .limit(500)
        .all(db)
        .await
}

/// The acceptor's orders for its history: newest first, optionally of one status and
/// created within `[from_ms, until_ms)`; up to `limit` rows after the cursor. Always
/// scoped to the acceptor in SQL.
pub async fn history_of(
    db: &impl ConnectionTrait,
    acceptor_id: &str,
    filter: &HistoryFilter,
    starting_after: Option<&str>,
    limit: u64,
) -> Result<Vec<order::Model>, DbErr> {
    let mut query = order::Entity::find()
        .filter(order::Column::AcceptorId.eq(acceptor_id))
        .order_by_desc(order::Column::Id);
    if let Some(status) = filter.status {
        query = query.filter(order::Column::Status.eq(status.as_str()));
    }
    if let Some(from) = filter.from_ms {
        query = query.filter(order::Column::CreatedAt.gte(from));
    }
    if let Some(until) = filter.until_ms {
        query = query.filter(order::Column::CreatedAt.lt(until));
    }
    if let Some(cursor) = starting_after {
        query = query.filter(order::Column::Id.lt(cursor));
    }
    query.limit(limit).all(db).await
}

/// What the order history is narrowed to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HistoryFilter {
    pub status: Option<OrderStatus>,
    /// Created at or after (ms).
    pub from_ms: Option<i64>,
    /// Created before (ms).
    pub until_ms: Option<i64>,
}

/// The ledger transfer kind of an acceptor's commission on a completed order (see
/// `orders::service`, the settlement of an order).
pub const COMMISSION_KIND: &str = "order_commission";

pub const DAY_MS: i64 = 86_400_000;

#[derive(Debug, FromQueryResult)]
struct DayTotalRow {
    day: i64,
    micros: i64,
}

/// Commission credited to the ledger account `account_id` per UTC day since `since_ms`,
/// in micro-USDT (integer sums), newest day first: `(day number since the epoch, sum)`.
pub async fn commission_per_day(
    db: &impl ConnectionTrait,
    account_id: &str,
    since_ms: i64,
) -> Result<Vec<(i64, i64)>, DbErr> {
    use crate::ledger::transfers;
    let day = format!("CAST(created_at / {DAY_MS} AS BIGINT)");
    let rows = transfers::Entity::find()
        .select_only()
        .column_as(Expr::cust(day.clone()), "day")
        .column_as(Expr::cust("CAST(SUM(amount) AS BIGINT)"), "micros")
        .filter(transfers::Column::CreditAccountId.eq(account_id))
        .filter(transfers::Column::Kind.eq(COMMISSION_KIND))
        .filter(transfers::Column::CreatedAt.gte(since_ms))
        .group_by(Expr::cust(day.clone()))
        .order_by_desc(Expr::cust(day))
        .into_model::<DayTotalRow>()
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|r| (r.day, r.micros)).collect())
}

// ---------------------------------------------------------------------------------------
// History and earnings

/// A page of the acceptor's order history, newest first, narrowed by `filter`.
pub async fn history_page(
    db: &impl ConnectionTrait,
    a: &acceptor::Model,
    filter: &HistoryFilter,
    starting_after: Option<&str>,
    limit: u64,
) -> ApiResult<Page<order::Model>> {
    let rows = history_of(db, &a.id, filter, starting_after, limit + 1).await?;
    Ok(Page::from_rows(rows, limit))
}

/// Commission earned on one UTC day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayEarnings {
    /// Midnight UTC of the day, ms.
    pub day_start_ms: i64,
    /// Micro-USDT credited to the acceptor as commission that day.
    pub commission: i64,
}

/// The commission the acceptor earned per UTC day over the last `days` days (today
/// included), newest first; days without commission are left out.
pub async fn earnings_per_day(
    db: &impl ConnectionTrait,
    a: &acceptor::Model,
    days: i64,
    now: i64,
) -> ApiResult<Vec<DayEarnings>> {
    let today = now.div_euclid(DAY_MS);
    let since = (today - days.max(1) + 1) * DAY_MS;
    let account = AccountKey::acceptor(a.id.clone(), true).id();
    Ok(commission_per_day(db, &account, since)
        .await?
        .into_iter()
        .map(|(day, commission)| DayEarnings {
            day_start_ms: day * DAY_MS,
            commission,
        })
        .collect())
}
