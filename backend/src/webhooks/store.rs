//! The `webhook_events` outbox and the `webhook_deliveries` attempt log.

pub mod event {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "webhook_events")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: crate::ids::EventId,
        pub merchant_id: crate::ids::MerchantId,
        pub livemode: bool,
        pub event_type: String,
        /// The exact JSON body that is signed and sent.
        pub payload: String,
        /// Overrides the merchant endpoint (the order's `callback_url`).
        pub target_url: Option<String>,
        /// `pending` | `delivered` | `failed`.
        pub status: crate::webhooks::status::EventStatus,
        pub attempts: i32,
        pub next_attempt_at: Option<i64>,
        pub last_attempt_at: Option<i64>,
        pub delivered_at: Option<i64>,
        pub created_at: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod delivery {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "webhook_deliveries")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub event_id: crate::ids::EventId,
        pub merchant_id: crate::ids::MerchantId,
        pub livemode: bool,
        pub url: String,
        pub attempt: i32,
        pub success: bool,
        pub status_code: Option<i32>,
        pub error: Option<String>,
        pub response_excerpt: Option<String>,
        pub duration_ms: i64,
        pub created_at: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The outbox backlog of both modes: `(pending, failed)` webhook events (the admin
/// overview).
pub async fn backlog(db: &impl sea_orm::ConnectionTrait) -> Result<(u64, u64), sea_orm::DbErr> {
    use crate::webhooks::status::EventStatus;
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let count = |status: EventStatus| {
        event::Entity::find()
            .filter(event::Column::Status.eq(status.as_str()))
            .count(db)
    };
    Ok((
        count(EventStatus::Pending).await?,
        count(EventStatus::Failed).await?,
    ))
}
