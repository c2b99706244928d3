//! The sea-orm entity of the `withdrawals` table: only its shape. The queries are in
//! `store.rs`, the statuses and views built from these rows in `model.rs`.

pub mod withdrawal {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "withdrawals")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: crate::ids::WithdrawalId,
        pub merchant_id: crate::ids::MerchantId,
        pub livemode: bool,
        pub merchant_withdrawal_id: String,
        /// `tron` | `ethereum` | `bsc`.
        pub network: String,
        /// Normalized destination address.
        pub address: String,
        /// Micro-USDT sent on chain.
        pub amount: i64,
        /// Micro-USDT network fee, charged on top of `amount`.
        pub fee: i64,
        pub status: crate::withdrawals::status::WithdrawalStatus,
        pub params_hash: String,
        pub txid: Option<String>,
        pub reason: Option<String>,
        /// Admin user id, or `system` (automatic approval).
        pub reviewed_by: Option<String>,
        pub reviewed_at: Option<i64>,
        pub completed_at: Option<i64>,
        pub created_at: i64,
        pub updated_at: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
