//! The acceptor-scoped queries on the `acceptors`, `acceptor_quotes`,
//! `acceptor_payment_methods` and `deposits` tables (entities in `entity.rs`; an acceptor
//! only ever sees its own quotes and payment methods: every query here takes its id).

use std::collections::HashMap;

use sea_orm::entity::prelude::*;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ActiveValue::Set, DatabaseTransaction, FromQueryResult, QueryOrder, QuerySelect};

pub use super::entity::{acceptor, deposit, payment_method, quote};
use super::model::{NewDeposit, NewPaymentMethod, NewQuote};
use super::stats::OrderCounts;
pub use crate::acceptor_directory::{choose_payment_method, find_acceptor};
use crate::db::supports_row_locks;
use crate::ids::{AcceptorId, UserId};
use crate::orders::dispute;
use crate::orders::model::OrderStatus;
use crate::orders::order;

/// Several acceptors by id, in one query (ids that do not exist are left out).
pub async fn find_acceptors(
    db: &impl ConnectionTrait,
    acceptor_ids: impl IntoIterator<Item = AcceptorId>,
) -> Result<Vec<acceptor::Model>, DbErr> {
    acceptor::Entity::find()
        .filter(acceptor::Column::Id.is_in(acceptor_ids))
        .all(db)
        .await
}

pub async fn find_acceptor_by_user(
    db: &impl ConnectionTrait,
    user_id: &str,
) -> Result<Option<acceptor::Model>, DbErr> {
    acceptor::Entity::find()
        .filter(acceptor::Column::UserId.eq(user_id))
        .one(db)
        .await
}

/// Loads the acceptor for update (row lock on PostgreSQL; SQLite serialises writers).
pub async fn lock_acceptor(
    txn: &DatabaseTransaction,
    acceptor_id: &AcceptorId,
) -> Result<Option<acceptor::Model>, DbErr> {
    let mut query = acceptor::Entity::find_by_id(acceptor_id.clone());
    if supports_row_locks(txn) {
        query = query.lock_exclusive();
    }
    query.one(txn).await
}

/// Acceptors newest first (ids are time-ordered), optionally of one status; up to
/// `limit` rows after the cursor.
pub async fn list_acceptors(
    db: &impl ConnectionTrait,
    status: Option<&str>,
    starting_after: Option<&str>,
    limit: u64,
) -> Result<Vec<acceptor::Model>, DbErr> {
    let mut query = acceptor::Entity::find().order_by_desc(acceptor::Column::Id);
    if let Some(status) = status {
        query = query.filter(acceptor::Column::Status.eq(status));
    }
    if let Some(cursor) = starting_after {
        query = query.filter(acceptor::Column::Id.lt(cursor));
    }
    query.limit(limit).all(db).await
}

/// Login emails by user id.
pub async fn emails_of(
    db: &impl ConnectionTrait,
    user_ids: &[UserId],
) -> Result<HashMap<UserId, String>, DbErr> {
    use crate::auth::user as users;
    if user_ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(users::Entity::find()
        .filter(users::Column::Id.is_in(user_ids.iter().cloned()))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u.email))
        .collect())
}

#[derive(Debug, FromQueryResult)]
struct OrderCountsRow {
    acceptor_id: Option<AcceptorId>,
    completed: i64,
    finished: i64,
    timed: i64,
    release_ms: Option<i64>,
}

/// Order counters per acceptor (see [`OrderCounts`]), in one grouped query. Acceptors
/// without orders are absent from the map.
pub async fn order_counts(
    db: &impl ConnectionTrait,
    acceptor_ids: &[AcceptorId],
) -> Result<HashMap<AcceptorId, OrderCounts>, DbErr> {
    if acceptor_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let completed = OrderStatus::Completed.as_str();
    let finished = [
        OrderStatus::Completed,
        OrderStatus::Expired,
        OrderStatus::Cancelled,
    ]
    .map(|s| format!("'{}'", s.as_str()))
    .join(", ");
    let timed =
        format!("status = '{completed}' AND paid_at IS NOT NULL AND completed_at IS NOT NULL");
    let rows = order::Entity::find()
        .select_only()
        .column(order::Column::AcceptorId)
        .column_as(
            Expr::cust(format!(
                "COUNT(CASE WHEN status = '{completed}' THEN 1 END)"
            )),
            "completed",
        )
        .column_as(
            Expr::cust(format!(
                "COUNT(CASE WHEN status IN ({finished}) THEN 1 END)"
            )),
            "finished",
        )
        .column_as(
            Expr::cust(format!("COUNT(CASE WHEN {timed} THEN 1 END)")),
            "timed",
        )
        .column_as(
            Expr::cust(format!(
                "CAST(SUM(CASE WHEN {timed} THEN completed_at - paid_at END) AS BIGINT)"
            )),
            "release_ms",
        )
        .filter(order::Column::AcceptorId.is_in(acceptor_ids.iter().cloned()))
        .group_by(order::Column::AcceptorId)
        .into_model::<OrderCountsRow>()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let id = r.acceptor_id?;
            Some((
                id,
                OrderCounts {
                    completed: r.completed,
                    finished: r.finished,
                    timed: r.timed,
                    release_ms_total: r.release_ms.unwrap_or(0),
                },
            ))
        })
        .collect())
}

#[derive(Debug, FromQueryResult)]
struct DisputeCountRow {
    acceptor_id: Option<AcceptorId>,
    disputes: i64,
}

/// Disputes per acceptor (any status).
pub async fn dispute_counts(
    db: &impl ConnectionTrait,
    acceptor_ids: &[AcceptorId],
) -> Result<HashMap<AcceptorId, i64>, DbErr> {
    if acceptor_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = dispute::Entity::find()
        .select_only()
        .column(dispute::Column::AcceptorId)
        .column_as(Expr::cust("COUNT(*)"), "disputes")
        .filter(dispute::Column::AcceptorId.is_in(acceptor_ids.iter().cloned()))
        .group_by(dispute::Column::AcceptorId)
        .into_model::<DisputeCountRow>()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| Some((r.acceptor_id?, r.disputes)))
        .collect())
}

// ---------------------------------------------------------------------------------------
// Quotes

/// The acceptor's quotes, by fiat.
pub async fn quotes_of(
    db: &impl ConnectionTrait,
    acceptor_id: &AcceptorId,
) -> Result<Vec<quote::Model>, DbErr> {
    quote::Entity::find()
        .filter(quote::Column::AcceptorId.eq(acceptor_id))
        .order_by_asc(quote::Column::Fiat)
        .all(db)
        .await
}

pub async fn find_quote(
    db: &impl ConnectionTrait,
    acceptor_id: &AcceptorId,
    fiat: &str,
) -> Result<Option<quote::Model>, DbErr> {
    quote::Entity::find()
        .filter(quote::Column::AcceptorId.eq(acceptor_id))
        .filter(quote::Column::Fiat.eq(fiat))
        .one(db)
        .await
}

/// Inserts or replaces the acceptor's quote in the fiat (one per fiat: the unique
/// index on `(acceptor_id, fiat)` makes concurrent upserts converge).
pub async fn upsert_quote(
    db: &impl ConnectionTrait,
    acceptor_id: &AcceptorId,
    new: &NewQuote,
    now: i64,
) -> Result<quote::Model, DbErr> {
    let row = quote::ActiveModel {
        id: Set(crate::ids::new("quo")),
        acceptor_id: Set(acceptor_id.clone()),
        fiat: Set(new.fiat.code.to_owned()),
        rate: Set(new.rate.to_string()),
        min_amount: Set(new.min_amount.micros()),
        max_amount: Set(new.max_amount.micros()),
        updated_at: Set(now),
    };
    quote::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([quote::Column::AcceptorId, quote::Column::Fiat])
                .update_columns([
                    quote::Column::Rate,
                    quote::Column::MinAmount,
                    quote::Column::MaxAmount,
                    quote::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    find_quote(db, acceptor_id, new.fiat.code)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("the quote just written".to_owned()))
}

/// Deletes the acceptor's quote in the fiat; false when there was none.
pub async fn delete_quote(
    db: &impl ConnectionTrait,
    acceptor_id: &AcceptorId,
    fiat: &str,
) -> Result<bool, DbErr> {
    let result = quote::Entity::delete_many()
        .filter(quote::Column::AcceptorId.eq(acceptor_id))
        .filter(quote::Column::Fiat.eq(fiat))
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

// ---------------------------------------------------------------------------------------
// Payment methods

/// The acceptor's payment methods, newest first.
pub async fn payment_methods_of(
    db: &impl ConnectionTrait,
    acceptor_id: &AcceptorId,
) -> Result<Vec<payment_method::Model>, DbErr> {
    payment_method::Entity::find()
        .filter(payment_method::Column::AcceptorId.eq(acceptor_id))
        .order_by_desc(payment_method::Column::Id)
        .all(db)
        .await
}

/// The payment methods of these acceptors, in id order (the order
/// [`choose_payment_method`] relies on).
/// Turns the acceptor's mail on each new order on or off.
pub async fn set_notify_new_orders(
    db: &impl ConnectionTrait,
    acceptor_id: &AcceptorId,
    on: bool,
    now: i64,
) -> Result<(), DbErr> {
    acceptor::Entity::update_many()
        .col_expr(acceptor::Column::NotifyNewOrders, Expr::value(on))
        .col_expr(acceptor::Column::UpdatedAt, Expr::value(now))
        .filter(acceptor::Column::Id.eq(acceptor_id))
        .exec(db)
        .await?;
    Ok(())
}

/// One of the acceptor's payment methods; another acceptor's is `None`.
pub async fn find_payment_method(
    db: &impl ConnectionTrait,
    acceptor_id: &AcceptorId,
    id: &str,
) -> Result<Option<payment_method::Model>, DbErr> {
    payment_method::Entity::find_by_id(id.to_owned())
        .filter(payment_method::Column::AcceptorId.eq(acceptor_id))
        .one(db)
        .await
}

pub async fn insert_payment_method(
    db: &impl ConnectionTrait,
    acceptor_id: &AcceptorId,
    new: &NewPaymentMethod,
    now: i64,
) -> Result<payment_method::Model, DbErr> {
    payment_method::ActiveModel {
        id: Set(crate::ids::new("pm")),
        acceptor_id: Set(acceptor_id.clone()),
        fiat: Set(new.fiat.code.to_owned()),
        method: Set(new.method.clone()),
        details: Set(new.details.clone()),
        created_at: Set(now),
    }
    .insert(db)
    .await
}

/// Deletes one of the acceptor's payment methods; false when it has no such method.
pub async fn delete_payment_method(
    db: &impl ConnectionTrait,
    acceptor_id: &AcceptorId,
    id: &str,
) -> Result<bool, DbErr> {
    let result = payment_method::Entity::delete_many()
        .filter(payment_method::Column::Id.eq(id))
        .filter(payment_method::Column::AcceptorId.eq(acceptor_id))
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

/// The distinct methods the acceptor offers in the fiat (what the engine matches on).
pub async fn methods_for_fiat(
    db: &impl ConnectionTrait,
    acceptor_id: &AcceptorId,
    fiat: &str,
) -> Result<Vec<String>, DbErr> {
    let rows = payment_method::Entity::find()
        .filter(payment_method::Column::AcceptorId.eq(acceptor_id))
        .filter(payment_method::Column::Fiat.eq(fiat))
        .order_by_asc(payment_method::Column::Id)
        .all(db)
        .await?;
    let mut methods: Vec<String> = Vec::with_capacity(rows.len());
    for row in rows {
        if !methods.contains(&row.method) {
            methods.push(row.method);
        }
    }
    Ok(methods)
}

// ---------------------------------------------------------------------------------------
// Deposits

/// The deposit of an on-chain transaction, whoever it credited.
pub async fn find_deposit(
    db: &impl ConnectionTrait,
    network: &str,
    txid: &str,
) -> Result<Option<deposit::Model>, DbErr> {
    deposit::Entity::find()
        .filter(deposit::Column::Network.eq(network))
        .filter(deposit::Column::Txid.eq(txid))
        .one(db)
        .await
}

pub async fn insert_deposit(
    db: &impl ConnectionTrait,
    acceptor_id: &AcceptorId,
    new: &NewDeposit,
    created_by: Option<&str>,
    now: i64,
) -> Result<deposit::Model, DbErr> {
    deposit::ActiveModel {
        id: Set(crate::ids::new("dep")),
        acceptor_id: Set(acceptor_id.clone()),
        network: Set(new.network.to_owned()),
        txid: Set(new.txid.clone()),
        amount: Set(new.amount.micros()),
        note: Set(new.note.clone()),
        transfer_id: Set(new.transfer_id()),
        created_by: Set(created_by.map(str::to_owned)),
        created_at: Set(now),
        log_index: Set(new.stored_log_index()),
    }
    .insert(db)
    .await
}
