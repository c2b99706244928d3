//! The `merchants` and `api_keys` tables and their tenant-scoped queries.

use sea_orm::entity::prelude::*;

pub mod merchant {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "merchants")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: crate::ids::MerchantId,
        pub user_id: Option<crate::ids::UserId>,
        pub name: String,
        pub email: String,
        /// `active` | `suspended`.
        pub status: crate::merchants::status::MerchantStatus,
        /// Decimal fraction, e.g. "0.01".
        pub fee_rate: String,
        pub default_fiat: Option<String>,
        pub webhook_url: Option<String>,
        /// The `whsec_…` secret sealed with the master key.
        pub webhook_secret_enc: String,
        /// The secret before the last rotation, sealed; deliveries are signed with it
        /// too until `webhook_secret_prev_expires_at` (ms).
        pub webhook_secret_prev_enc: Option<String>,
        pub webhook_secret_prev_expires_at: Option<i64>,
        pub rate_limit_per_minute: i32,
        /// Micro-USDT; withdrawals below it are approved automatically.
        pub auto_approve_withdrawals_below: Option<i64>,
        pub created_at: i64,
        pub updated_at: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod api_key {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "api_keys")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: crate::ids::ApiKeyId,
        /// Keyed hash of the public key id (`MasterKey::lookup_hash`).
        pub key_id_hash: String,
        /// The first characters of the key id, for display (`mk_live_AbC1…`).
        pub key_id_prefix: String,
        pub merchant_id: crate::ids::MerchantId,
        pub livemode: bool,
        /// `hmac` | `ecdsa_p256`.
        pub kind: crate::merchants::status::KeyKind,
        /// HMAC secret sealed with the master key.
        pub secret_enc: Option<String>,
        pub public_key_pem: Option<String>,
        pub revoked_at: Option<i64>,
        pub last_used_at: Option<i64>,
        pub created_at: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "super::merchant::Entity",
            from = "Column::MerchantId",
            to = "super::merchant::Column::Id"
        )]
        Merchant,
    }

    impl Related<super::merchant::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Merchant.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub async fn find_merchant(
    db: &impl ConnectionTrait,
    merchant_id: &crate::ids::MerchantId,
) -> Result<Option<merchant::Model>, DbErr> {
    merchant::Entity::find_by_id(merchant_id.clone())
        .one(db)
        .await
}

/// The merchant whose contact email (its login) is `email`.
pub async fn find_merchant_by_email(
    db: &impl ConnectionTrait,
    email: &str,
) -> Result<Option<merchant::Model>, DbErr> {
    merchant::Entity::find()
        .filter(merchant::Column::Email.eq(email))
        .one(db)
        .await
}

/// The merchant whose login user is `user_id`.
pub async fn find_merchant_of_user(
    db: &impl ConnectionTrait,
    user_id: &str,
) -> Result<Option<merchant::Model>, DbErr> {
    merchant::Entity::find()
        .filter(merchant::Column::UserId.eq(user_id))
        .one(db)
        .await
}

/// Several merchants by id, in one query (ids that do not exist are left out).
pub async fn find_merchants(
    db: &impl ConnectionTrait,
    merchant_ids: impl IntoIterator<Item = crate::ids::MerchantId>,
) -> Result<Vec<merchant::Model>, DbErr> {
    merchant::Entity::find()
        .filter(merchant::Column::Id.is_in(merchant_ids))
        .all(db)
        .await
}

/// An API key by the keyed hash of its public id (an indexed lookup, never a scan),
/// with its merchant, in one query: every signed request starts here.
pub async fn find_key_with_merchant(
    db: &impl ConnectionTrait,
    key_id_hash: &str,
) -> Result<Option<(api_key::Model, merchant::Model)>, DbErr> {
    Ok(api_key::Entity::find()
        .filter(api_key::Column::KeyIdHash.eq(key_id_hash))
        .find_also_related(merchant::Entity)
        .one(db)
        .await?
        .and_then(|(key, merchant)| Some((key, merchant?))))
}

/// Merchants newest first; ids are time-ordered, so `starting_after` is an id comparison.
pub async fn list_merchants(
    db: &impl ConnectionTrait,
    starting_after: Option<&str>,
    limit: u64,
) -> Result<Vec<merchant::Model>, DbErr> {
    use sea_orm::{QueryOrder, QuerySelect};
    let mut query = merchant::Entity::find().order_by_desc(merchant::Column::Id);
    if let Some(cursor) = starting_after {
        query = query.filter(merchant::Column::Id.lt(cursor));
    }
    query.limit(limit).all(db).await
}

/// The API keys of some merchants (revoked ones included), oldest first.
pub async fn keys_of_merchants(
    db: &impl ConnectionTrait,
    merchant_ids: &[crate::ids::MerchantId],
) -> Result<Vec<api_key::Model>, DbErr> {
    use sea_orm::QueryOrder;
    if merchant_ids.is_empty() {
        return Ok(Vec::new());
    }
    api_key::Entity::find()
        .filter(api_key::Column::MerchantId.is_in(merchant_ids.iter().cloned()))
        .order_by_asc(api_key::Column::CreatedAt)
        .order_by_asc(api_key::Column::Id)
        .all(db)
        .await
}

/// A merchant's API key by the keyed hash of its public id (tenant-scoped).
pub async fn find_key_of_merchant(
    db: &impl ConnectionTrait,
    merchant_id: &crate::ids::MerchantId,
    key_id_hash: &str,
) -> Result<Option<api_key::Model>, DbErr> {
    api_key::Entity::find()
        .filter(api_key::Column::KeyIdHash.eq(key_id_hash))
        .filter(api_key::Column::MerchantId.eq(merchant_id))
        .one(db)
        .await
}

/// Records that a key was used at `now`, unless that was already recorded less than
/// `resolution_ms` ago (by this or another node): at most one write per key and period.
pub async fn touch_key_last_used(
    db: &impl ConnectionTrait,
    api_key_row_id: &str,
    now: i64,
    resolution_ms: i64,
) -> Result<(), DbErr> {
    use sea_orm::sea_query::Expr;
    use sea_orm::{Condition, QueryFilter};
    api_key::Entity::update_many()
        .col_expr(api_key::Column::LastUsedAt, Expr::value(now))
        .filter(api_key::Column::Id.eq(api_key_row_id))
        .filter(
            Condition::any()
                .add(api_key::Column::LastUsedAt.is_null())
                .add(api_key::Column::LastUsedAt.lt(now - resolution_ms)),
        )
        .exec(db)
        .await?;
    Ok(())
}
