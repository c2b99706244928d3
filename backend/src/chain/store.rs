//! The chain feature's queries.

use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect,
};

use super::entity::{OwnerKind, TransferStatus, cursor, deposit_address, transfer};

// ---------------------------------------------------------------------------------------
// Cursors

pub async fn cursor(
    db: &impl ConnectionTrait,
    network: &str,
) -> Result<Option<cursor::Model>, DbErr> {
    cursor::Entity::find_by_id(network.to_owned()).one(db).await
}

/// Creates the network's cursor at `next_block` unless another node did first.
pub async fn create_cursor(
    db: &impl ConnectionTrait,
    network: &str,
    next_block: i64,
    follower: String,
    now: i64,
) -> Result<(), DbErr> {
    cursor::Entity::insert(cursor::ActiveModel {
        network: Set(network.to_owned()),
        next_block: Set(next_block),
        follower: Set(follower),
        head: Set(None),
        version: Set(0),
        halted: Set(None),
        updated_at: Set(now),
    })
    .on_conflict(
        OnConflict::column(cursor::Column::Network)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// What a scan leaves in the cursor.
pub struct CursorUpdate {
    pub next_block: i64,
    pub follower: String,
    pub head: i64,
    pub halted: Option<String>,
}

/// Moves the cursor on if it is still at `version`: `false` when another node moved it
/// first (its scan stands, this one is dropped). On PostgreSQL the row stays locked
/// until the caller's transaction ends, so a second node's update waits, then finds the
/// version changed.
pub async fn advance_cursor(
    db: &impl ConnectionTrait,
    network: &str,
    version: i64,
    update: CursorUpdate,
    now: i64,
) -> Result<bool, DbErr> {
    let result = cursor::Entity::update_many()
        .col_expr(cursor::Column::NextBlock, Expr::value(update.next_block))
        .col_expr(cursor::Column::Follower, Expr::value(update.follower))
        .col_expr(cursor::Column::Head, Expr::value(update.head))
        .col_expr(cursor::Column::Halted, Expr::value(update.halted))
        .col_expr(cursor::Column::Version, Expr::value(version + 1))
        .col_expr(cursor::Column::UpdatedAt, Expr::value(now))
        .filter(cursor::Column::Network.eq(network))
        .filter(cursor::Column::Version.eq(version))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

// ---------------------------------------------------------------------------------------
// Deposit addresses

pub async fn address_of(
    db: &impl ConnectionTrait,
    network: &str,
    owner_kind: OwnerKind,
    owner_id: &str,
) -> Result<Option<deposit_address::Model>, DbErr> {
    deposit_address::Entity::find()
        .filter(deposit_address::Column::Network.eq(network))
        .filter(deposit_address::Column::OwnerKind.eq(owner_kind))
        .filter(deposit_address::Column::OwnerId.eq(owner_id))
        .one(db)
        .await
}

/// The next derivation index of `network` (indexes are never reused).
pub async fn next_index(db: &impl ConnectionTrait, network: &str) -> Result<i64, DbErr> {
    let max: Option<Option<i64>> = deposit_address::Entity::find()
        .select_only()
        .column_as(deposit_address::Column::DerivationIndex.max(), "max")
        .filter(deposit_address::Column::Network.eq(network))
        .into_tuple()
        .one(db)
        .await?;
    Ok(max.flatten().map_or(0, |m| m + 1))
}

pub async fn insert_address(
    db: &impl ConnectionTrait,
    row: deposit_address::ActiveModel,
) -> Result<deposit_address::Model, DbErr> {
    row.insert(db).await
}

/// Every address the watcher follows on `network`.
pub async fn addresses_of_network(
    db: &impl ConnectionTrait,
    network: &str,
) -> Result<Vec<deposit_address::Model>, DbErr> {
    deposit_address::Entity::find()
        .filter(deposit_address::Column::Network.eq(network))
        .all(db)
        .await
}

// ---------------------------------------------------------------------------------------
// Transfers

pub async fn find_transfer(
    db: &impl ConnectionTrait,
    network: &str,
    txid: &str,
    log_index: i64,
) -> Result<Option<transfer::Model>, DbErr> {
    transfer::Entity::find()
        .filter(transfer::Column::Network.eq(network))
        .filter(transfer::Column::Txid.eq(txid))
        .filter(transfer::Column::LogIndex.eq(log_index))
        .one(db)
        .await
}

pub async fn insert_transfer(
    db: &impl ConnectionTrait,
    row: transfer::ActiveModel,
) -> Result<transfer::Model, DbErr> {
    row.insert(db).await
}

pub async fn update_transfer(
    db: &impl ConnectionTrait,
    row: transfer::ActiveModel,
) -> Result<transfer::Model, DbErr> {
    row.update(db).await
}

/// The latest transfers to one owner's addresses, newest first.
pub async fn transfers_of_owner(
    db: &impl ConnectionTrait,
    owner_kind: OwnerKind,
    owner_id: &str,
    limit: u64,
) -> Result<Vec<transfer::Model>, DbErr> {
    transfer::Entity::find()
        .filter(transfer::Column::OwnerKind.eq(owner_kind))
        .filter(transfer::Column::OwnerId.eq(owner_id))
        .filter(transfer::Column::Status.ne(TransferStatus::Dropped))
        .order_by_desc(transfer::Column::SeenAt)
        .order_by_desc(transfer::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// The pending and confirmed transfers to these owners' addresses.
pub async fn transfers_of_owners(
    db: &impl ConnectionTrait,
    owner_kind: OwnerKind,
    owner_ids: &[String],
) -> Result<Vec<transfer::Model>, DbErr> {
    transfer::Entity::find()
        .filter(transfer::Column::OwnerKind.eq(owner_kind))
        .filter(transfer::Column::OwnerId.is_in(owner_ids.iter().cloned()))
        .filter(
            transfer::Column::Status.is_in([TransferStatus::Pending, TransferStatus::Confirmed]),
        )
        .all(db)
        .await
}

/// Lists an owner's pending and confirmed transfers for an admin's review, with why.
pub async fn mark_for_review(
    db: &impl ConnectionTrait,
    owner_kind: OwnerKind,
    owner_id: &str,
    reason: &str,
    now: i64,
) -> Result<u64, DbErr> {
    let result = transfer::Entity::update_many()
        .col_expr(
            transfer::Column::Status,
            Expr::value(TransferStatus::Review),
        )
        .col_expr(transfer::Column::ReviewReason, Expr::value(reason))
        .col_expr(transfer::Column::UpdatedAt, Expr::value(now))
        .filter(transfer::Column::OwnerKind.eq(owner_kind))
        .filter(transfer::Column::OwnerId.eq(owner_id))
        .filter(
            transfer::Column::Status.is_in([TransferStatus::Pending, TransferStatus::Confirmed]),
        )
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

/// Transfers in `statuses`, newest first (the admin's review list).
pub async fn transfers_in(
    db: &impl ConnectionTrait,
    statuses: &[TransferStatus],
    limit: u64,
) -> Result<Vec<transfer::Model>, DbErr> {
    transfer::Entity::find()
        .filter(transfer::Column::Status.is_in(statuses.iter().copied()))
        .order_by_desc(transfer::Column::SeenAt)
        .order_by_desc(transfer::Column::Id)
        .limit(limit)
        .all(db)
        .await
}
