//! The chain feature's rows: the watcher's cursor per network, the deposit address
//! book, and the transfers seen to its addresses.

/// What a deposit address belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, sea_orm::DeriveValueType)]
#[sea_orm(value_type = "String")]
pub enum OwnerKind {
    /// An acceptor's liquidity top-up address: credits its USDT float.
    Acceptor,
    /// A merchant's balance top-up address: credits its live balance.
    Merchant,
    /// A direct on-chain order's own address: pays the order.
    Order,
}

crate::db::stored_as_text!(OwnerKind {
    Acceptor => "acceptor",
    Merchant => "merchant",
    Order => "order",
});

/// What became of a transfer to one of our addresses.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    sea_orm::DeriveValueType,
    serde::Serialize,
    utoipa::ToSchema,
)]
#[sea_orm(value_type = "String")]
#[serde(rename_all = "snake_case")]
pub enum TransferStatus {
    /// In a block, waiting for its confirmations.
    Pending,
    /// Its block was replaced before it had its confirmations: never credited.
    Dropped,
    /// Credited, once.
    Confirmed,
    /// Credited, then its block left the chain (a reorg deeper than the
    /// confirmations): the credit stands and an admin reviews it.
    Vanished,
    /// Confirmed on chain but not credited by the watcher (the transaction was already
    /// credited by hand): an admin reviews it.
    Review,
}

crate::db::stored_as_text!(TransferStatus {
    Pending => "pending",
    Dropped => "dropped",
    Confirmed => "confirmed",
    Vanished => "vanished",
    Review => "review",
});

pub mod cursor {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "chain_cursors")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub network: String,
        pub next_block: i64,
        pub follower: String,
        pub head: Option<i64>,
        pub version: i64,
        /// Why the watcher stopped on this network (a reorg deeper than it can follow),
        /// until an operator restarts it.
        pub halted: Option<String>,
        pub updated_at: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod deposit_address {
    use sea_orm::entity::prelude::*;

    use super::OwnerKind;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "deposit_addresses")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub network: String,
        pub derivation_index: i64,
        /// `0x` + 40 lower-case hex digits.
        pub account: String,
        pub address: String,
        pub owner_kind: OwnerKind,
        pub owner_id: String,
        pub created_at: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod transfer {
    use sea_orm::entity::prelude::*;

    use super::{OwnerKind, TransferStatus};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "chain_transfers")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub network: String,
        pub txid: String,
        pub log_index: i64,
        pub block_number: i64,
        pub block_hash: String,
        pub from_account: String,
        pub address_id: String,
        pub owner_kind: OwnerKind,
        pub owner_id: String,
        pub value_base: String,
        /// Micro-USDT.
        pub amount: i64,
        pub status: TransferStatus,
        pub confirmations: i64,
        pub required_confirmations: i64,
        pub review_reason: Option<String>,
        pub credit_ref: Option<String>,
        pub seen_at: i64,
        pub confirmed_at: Option<i64>,
        pub updated_at: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
