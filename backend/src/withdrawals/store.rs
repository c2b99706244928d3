//! The tenant-scoped queries of the `withdrawals` table (its entity is in `entity.rs`),
//! plus the statement queries on `ledger_transfers` (the merchant's posted entries and
//! their signed sums).

use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

pub use super::entity::withdrawal;
use super::model::WithdrawalStatus;
use crate::ids::{MerchantId, WithdrawalId};
use crate::ledger::model::transfer_flags;
use crate::ledger::transfers;

pub async fn find(
    db: &impl ConnectionTrait,
    withdrawal_id: &WithdrawalId,
) -> Result<Option<withdrawal::Model>, DbErr> {
    withdrawal::Entity::find_by_id(withdrawal_id.clone())
        .one(db)
        .await
}

/// A withdrawal of this merchant in this mode; another tenant's (or the other mode's)
/// is `None` (a 404).
pub async fn find_by_merchant(
    db: &impl ConnectionTrait,
    merchant_id: &str,
    livemode: bool,
    withdrawal_id: &WithdrawalId,
) -> Result<Option<withdrawal::Model>, DbErr> {
    withdrawal::Entity::find_by_id(withdrawal_id.clone())
        .filter(withdrawal::Column::MerchantId.eq(merchant_id))
        .filter(withdrawal::Column::Livemode.eq(livemode))
        .one(db)
        .await
}

pub async fn find_by_merchant_withdrawal_id(
    db: &impl ConnectionTrait,
    merchant_id: &str,
    livemode: bool,
    merchant_withdrawal_id: &str,
) -> Result<Option<withdrawal::Model>, DbErr> {
    withdrawal::Entity::find()
        .filter(withdrawal::Column::MerchantId.eq(merchant_id))
        .filter(withdrawal::Column::Livemode.eq(livemode))
        .filter(withdrawal::Column::MerchantWithdrawalId.eq(merchant_withdrawal_id))
        .one(db)
        .await
}

/// Filters of the withdrawal lists.
#[derive(Debug, Default, Clone)]
pub struct WithdrawalFilter {
    /// `Some((merchant, livemode))` for the merchant API; `None` for admins.
    pub merchant: Option<(MerchantId, bool)>,
    /// Admins may narrow to one mode.
    pub livemode: Option<bool>,
    pub status: Option<WithdrawalStatus>,
    pub starting_after: Option<String>,
}

/// Withdrawals newest first (ids are time-ordered).
pub async fn list(
    db: &impl ConnectionTrait,
    filter: &WithdrawalFilter,
    limit: u64,
) -> Result<Vec<withdrawal::Model>, DbErr> {
    let mut query = withdrawal::Entity::find();
    if let Some((merchant_id, livemode)) = &filter.merchant {
        query = query
            .filter(withdrawal::Column::MerchantId.eq(merchant_id.as_str()))
            .filter(withdrawal::Column::Livemode.eq(*livemode));
    }
    if let Some(livemode) = filter.livemode {
        query = query.filter(withdrawal::Column::Livemode.eq(livemode));
    }
    if let Some(status) = filter.status {
        query = query.filter(withdrawal::Column::Status.eq(status.as_str()));
    }
    if let Some(cursor) = &filter.starting_after {
        query = query.filter(withdrawal::Column::Id.lt(cursor.as_str()));
    }
    query
        .order_by_desc(withdrawal::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

// ---------------------------------------------------------------------------------------
// Statement queries

/// Transfers with a posted effect: single-phase (no flag) and posts of a pending
/// transfer. Pending holds and voids never change a posted balance.
fn posted_effects(account_id: &str) -> Condition {
    Condition::all()
        .add(
            Condition::any()
                .add(transfers::Column::DebitAccountId.eq(account_id))
                .add(transfers::Column::CreditAccountId.eq(account_id)),
        )
        .add(transfers::Column::Flags.is_in([0, transfer_flags::POST_PENDING]))
}

/// Entries strictly older than `(created_at, id)` in the statement order
/// (`created_at DESC, id DESC`).
fn older_than(created_at: i64, id: &str) -> Condition {
    Condition::any()
        .add(transfers::Column::CreatedAt.lt(created_at))
        .add(
            Condition::all()
                .add(transfers::Column::CreatedAt.eq(created_at))
                .add(transfers::Column::Id.lt(id)),
        )
}

/// The statement entry `id` of `account_id`, if it is one (a posted effect on it).
pub async fn find_entry(
    db: &impl ConnectionTrait,
    account_id: &str,
    id: &str,
) -> Result<Option<transfers::Model>, DbErr> {
    transfers::Entity::find_by_id(id.to_owned())
        .filter(posted_effects(account_id))
        .one(db)
        .await
}

/// Up to `limit` statement entries of `account_id`, newest first, strictly after the
/// entry `after` (its `(created_at, id)`) when given.
pub async fn entries(
    db: &impl ConnectionTrait,
    account_id: &str,
    after: Option<(i64, &str)>,
    limit: u64,
) -> Result<Vec<transfers::Model>, DbErr> {
    let mut query = transfers::Entity::find().filter(posted_effects(account_id));
    if let Some((created_at, id)) = after {
        query = query.filter(older_than(created_at, id));
    }
    query
        .order_by_desc(transfers::Column::CreatedAt)
        .order_by_desc(transfers::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// Σ of the signed amounts (+ credit, − debit) of the entries of `account_id` that are
/// at or newer than `(created_at, id)` in the statement order. One aggregate, cast to
/// BIGINT so that PostgreSQL (which sums BIGINT as NUMERIC) and SQLite both give i64.
pub async fn signed_sum_from(
    db: &impl ConnectionTrait,
    account_id: &str,
    created_at: i64,
    id: &str,
) -> Result<i64, DbErr> {
    let signed = Expr::case(
        Expr::col(transfers::Column::CreditAccountId).eq(account_id),
        Expr::col(transfers::Column::Amount),
    )
    .finally(Expr::val(0i64).sub(Expr::col(transfers::Column::Amount)));
    let total = Func::cast_as(
        Func::coalesce([Expr::from(Func::sum(signed)), Expr::val(0i64)]),
        "BIGINT",
    );
    let sum: Option<i64> = transfers::Entity::find()
        .select_only()
        .expr_as(total, "total")
        .filter(posted_effects(account_id))
        .filter(older_than(created_at, id).not())
        .into_tuple()
        .one(db)
        .await?;
    Ok(sum.unwrap_or(0))
}

/// How many withdrawals (both modes) are in `status` (the admin overview).
pub async fn count_with_status(
    db: &impl ConnectionTrait,
    status: WithdrawalStatus,
) -> Result<u64, DbErr> {
    use sea_orm::PaginatorTrait;
    withdrawal::Entity::find()
        .filter(withdrawal::Column::Status.eq(status.as_str()))
        .count(db)
        .await
}
