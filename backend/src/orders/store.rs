//! The `orders` and `order_events` tables and their tenant-scoped queries.

use sea_orm::entity::prelude::*;

use crate::ids::OrderId;

pub mod order {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "orders")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: crate::ids::OrderId,
        pub merchant_id: crate::ids::MerchantId,
        pub livemode: bool,
        pub merchant_order_id: String,
        pub status: crate::orders::model::OrderStatus,
        /// Micro-USDT the customer pays for.
        pub amount: i64,
        /// Micro-USDT kept from the merchant's credit.
        pub fee: i64,
        pub fiat_currency: String,
        /// Fiat minor units, fixed at assignment.
        pub fiat_amount: Option<i64>,
        pub rate: Option<String>,
        pub payment_method: Option<String>,
        /// JSON snapshot of the acceptor's payment details at assignment.
        pub payment_details: Option<String>,
        pub reference: String,
        pub acceptor_id: Option<crate::ids::AcceptorId>,
        pub callback_url: Option<String>,
        pub return_url: Option<String>,
        pub expires_in: i32,
        pub metadata: Option<String>,
        pub cashier_token: String,
        pub params_hash: String,
        /// JSON array of acceptor ids that rejected the order.
        pub excluded_acceptors: String,
        pub assignment_seq: i32,
        pub released_amount: Option<i64>,
        pub payer_name: Option<String>,
        pub expires_at: i64,
        pub match_deadline: Option<i64>,
        pub release_deadline: Option<i64>,
        pub appeal_deadline: Option<i64>,
        pub next_deadline: Option<i64>,
        pub assigned_at: Option<i64>,
        pub paid_at: Option<i64>,
        pub completed_at: Option<i64>,
        pub created_at: i64,
        pub updated_at: i64,
        /// `otc` (an acceptor takes fiat) or `onchain` (USDT to the order's own address).
        pub rail: crate::orders::model::Rail,
        /// The network of an on-chain order.
        pub network: Option<String>,
        /// The last transaction that paid an on-chain order.
        pub txid: Option<String>,
        /// Micro-USDT an on-chain order received (seen in blocks).
        pub paid_amount: Option<i64>,
        /// Confirmations of that payment (the least of its transfers').
        pub confirmations: Option<i64>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod order_event {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "order_events")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub order_id: crate::ids::OrderId,
        /// The event type, e.g. `order.assigned`.
        pub kind: String,
        pub from_status: Option<String>,
        pub to_status: String,
        /// `merchant` | `acceptor` | `customer` | `admin` | `system`.
        pub actor: String,
        pub actor_id: Option<String>,
        pub note: Option<String>,
        pub created_at: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub async fn find(
    db: &impl ConnectionTrait,
    order_id: &OrderId,
) -> Result<Option<order::Model>, DbErr> {
    order::Entity::find_by_id(order_id.clone()).one(db).await
}

/// On-chain orders of `network` still waiting for their payment or confirming it
/// (the chain watcher settles them), oldest first.
pub async fn active_onchain(
    db: &impl ConnectionTrait,
    network: &str,
    limit: u64,
) -> Result<Vec<order::Model>, DbErr> {
    use crate::orders::model::{OrderStatus, Rail};
    use sea_orm::{QueryOrder, QuerySelect};
    order::Entity::find()
        .filter(order::Column::Rail.eq(Rail::Onchain))
        .filter(order::Column::Network.eq(network))
        .filter(order::Column::Status.is_in([OrderStatus::Assigned, OrderStatus::Paid]))
        .order_by_asc(order::Column::CreatedAt)
        .limit(limit)
        .all(db)
        .await
}

/// An order of this merchant in this mode; another tenant's order is `None` (a 404).
pub async fn find_by_merchant(
    db: &impl ConnectionTrait,
    merchant_id: &str,
    livemode: bool,
    order_id: &OrderId,
) -> Result<Option<order::Model>, DbErr> {
    order::Entity::find_by_id(order_id.clone())
        .filter(order::Column::MerchantId.eq(merchant_id))
        .filter(order::Column::Livemode.eq(livemode))
        .one(db)
        .await
}

/// An order assigned to this acceptor (now or before); anything else is `None`.
pub async fn find_by_acceptor(
    db: &impl ConnectionTrait,
    acceptor_id: &str,
    order_id: &OrderId,
) -> Result<Option<order::Model>, DbErr> {
    order::Entity::find_by_id(order_id.clone())
        .filter(order::Column::AcceptorId.eq(acceptor_id))
        .one(db)
        .await
}

pub async fn find_by_cashier_token(
    db: &impl ConnectionTrait,
    token: &str,
) -> Result<Option<order::Model>, DbErr> {
    order::Entity::find()
        .filter(order::Column::CashierToken.eq(token))
        .one(db)
        .await
}

pub async fn events_of(
    db: &impl ConnectionTrait,
    order_id: &OrderId,
) -> Result<Vec<order_event::Model>, DbErr> {
    use sea_orm::QueryOrder;
    order_event::Entity::find()
        .filter(order_event::Column::OrderId.eq(order_id))
        .order_by_asc(order_event::Column::Id)
        .all(db)
        .await
}

/// Filters of the merchant's order list.
#[derive(Debug, Default, Clone)]
pub struct OrderFilter {
    pub merchant_order_id: Option<String>,
    pub status: Option<super::model::OrderStatus>,
    pub created_gte: Option<i64>,
    pub created_lt: Option<i64>,
    pub starting_after: Option<String>,
}

/// The merchant's orders in one mode, newest first (ids are time-ordered).
pub async fn list_by_merchant(
    db: &impl ConnectionTrait,
    merchant_id: &str,
    livemode: bool,
    filter: &OrderFilter,
    limit: u64,
) -> Result<Vec<order::Model>, DbErr> {
    search_by_merchant(db, merchant_id, livemode, filter, None, limit).await
}

/// [`list_by_merchant`] narrowed by a search text that is the order's id, its
/// reference or its `merchant_order_id` (exactly; the dashboard's one search field).
/// Keyset-paged on the id, so a caller may walk every matching order in batches (the
/// CSV export) without an offset.
pub async fn search_by_merchant(
    db: &impl ConnectionTrait,
    merchant_id: &str,
    livemode: bool,
    filter: &OrderFilter,
    search: Option<&str>,
    limit: u64,
) -> Result<Vec<order::Model>, DbErr> {
    use sea_orm::{Condition, QueryOrder, QuerySelect};
    let mut query = order::Entity::find()
        .filter(order::Column::MerchantId.eq(merchant_id))
        .filter(order::Column::Livemode.eq(livemode));
    if let Some(id) = &filter.merchant_order_id {
        query = query.filter(order::Column::MerchantOrderId.eq(id.as_str()));
    }
    if let Some(text) = search.map(str::trim).filter(|t| !t.is_empty()) {
        query = query.filter(
            Condition::any()
                .add(order::Column::Id.eq(text))
                .add(order::Column::Reference.eq(text.to_uppercase()))
                .add(order::Column::MerchantOrderId.eq(text)),
        );
    }
    if let Some(status) = filter.status {
        query = query.filter(order::Column::Status.eq(status.as_str()));
    }
    if let Some(t) = filter.created_gte {
        query = query.filter(order::Column::CreatedAt.gte(t));
    }
    if let Some(t) = filter.created_lt {
        query = query.filter(order::Column::CreatedAt.lt(t));
    }
    if let Some(cursor) = &filter.starting_after {
        query = query.filter(order::Column::Id.lt(cursor.as_str()));
    }
    query
        .order_by_desc(order::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// An order of this merchant in either mode (the dashboard shows both); another
/// tenant's order is `None`.
pub async fn find_of_merchant(
    db: &impl ConnectionTrait,
    merchant_id: &str,
    order_id: &OrderId,
) -> Result<Option<order::Model>, DbErr> {
    order::Entity::find_by_id(order_id.clone())
        .filter(order::Column::MerchantId.eq(merchant_id))
        .one(db)
        .await
}

/// The acceptor's orders, newest first.
pub async fn list_by_acceptor(
    db: &impl ConnectionTrait,
    acceptor_id: &str,
    status: Option<super::model::OrderStatus>,
    starting_after: Option<&str>,
    limit: u64,
) -> Result<Vec<order::Model>, DbErr> {
    use sea_orm::{QueryOrder, QuerySelect};
    let mut query = order::Entity::find().filter(order::Column::AcceptorId.eq(acceptor_id));
    if let Some(status) = status {
        query = query.filter(order::Column::Status.eq(status.as_str()));
    }
    if let Some(cursor) = starting_after {
        query = query.filter(order::Column::Id.lt(cursor));
    }
    query
        .order_by_desc(order::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// How many orders of one mode were created since `since` (Unix ms), per status (the
/// admin overview's "orders today").
pub async fn count_by_status_since(
    db: &impl ConnectionTrait,
    livemode: bool,
    since: i64,
) -> Result<Vec<(String, i64)>, DbErr> {
    use sea_orm::{QueryOrder, QuerySelect};
    order::Entity::find()
        .select_only()
        .column(order::Column::Status)
        .column_as(order::Column::Id.count(), "n")
        .filter(order::Column::Livemode.eq(livemode))
        .filter(order::Column::CreatedAt.gte(since))
        .group_by(order::Column::Status)
        .order_by_asc(order::Column::Status)
        .into_tuple::<(String, i64)>()
        .all(db)
        .await
}

/// Orders by id (any tenant: for admin pages), in no particular order.
pub async fn find_many(
    db: &impl ConnectionTrait,
    ids: &[crate::ids::OrderId],
) -> Result<Vec<order::Model>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    order::Entity::find()
        .filter(order::Column::Id.is_in(ids.iter().cloned()))
        .all(db)
        .await
}
