//! The sea-orm entities of the feature: `acceptors`, `acceptor_quotes`,
//! `acceptor_payment_methods` and `deposits`. Only the table shapes: the queries are in
//! `store.rs`, the types built from these rows in `model.rs`.

pub mod acceptor {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "acceptors")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: crate::ids::AcceptorId,
        pub user_id: crate::ids::UserId,
        pub display_name: String,
        /// `pending` | `active` | `frozen`.
        pub status: crate::acceptor_directory::status::AcceptorStatus,
        pub online: bool,
        /// Decimal fraction of the order amount paid to the acceptor, e.g. "0.004".
        pub commission_rate: String,
        pub max_concurrent_orders: i32,
        pub created_at: i64,
        pub updated_at: i64,
        /// The last heartbeat of a live connection (the desk); null when none is open.
        pub live_seen_at: Option<i64>,
        /// Mail on each new assigned order (the acceptor's choice).
        pub notify_new_orders: bool,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod quote {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "acceptor_quotes")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub acceptor_id: crate::ids::AcceptorId,
        pub fiat: String,
        /// Fiat per USDT, decimal string.
        pub rate: String,
        /// Micro-USDT.
        pub min_amount: i64,
        pub max_amount: i64,
        pub updated_at: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod payment_method {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "acceptor_payment_methods")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub acceptor_id: crate::ids::AcceptorId,
        pub fiat: String,
        /// e.g. `bank_transfer`, `alipay`.
        pub method: String,
        /// JSON object shown to the customer (bank name, account name, number…).
        pub details: String,
        pub created_at: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod deposit {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "deposits")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub acceptor_id: crate::ids::AcceptorId,
        pub network: String,
        pub txid: String,
        /// Micro-USDT.
        pub amount: i64,
        pub note: Option<String>,
        pub transfer_id: String,
        pub created_by: Option<String>,
        pub created_at: i64,
        /// The transfer's log index when the chain watcher credited it; `-1` for an
        /// admin's deposit (the transaction as a whole).
        pub log_index: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
