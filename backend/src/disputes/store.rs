//! Reads of the `disputes` table (its record is `orders::dispute`: the order
//! transitions write it) and the `dispute_messages` table, this feature's own.

use sea_orm::entity::prelude::*;

pub use crate::orders::dispute;

pub mod message {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "dispute_messages")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub dispute_id: String,
        pub author_role: String,
        pub author_id: Option<String>,
        pub body: String,
        pub created_at: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub async fn open_dispute_of_order(
    db: &impl ConnectionTrait,
    order_id: &str,
) -> Result<Option<dispute::Model>, DbErr> {
    dispute::Entity::find()
        .filter(dispute::Column::OrderId.eq(order_id))
        .filter(dispute::Column::Status.eq("open"))
        .one(db)
        .await
}

/// The order's most recent dispute, open or resolved.
pub async fn latest_of_order(
    db: &impl ConnectionTrait,
    order_id: &str,
) -> Result<Option<dispute::Model>, DbErr> {
    use sea_orm::QueryOrder;
    dispute::Entity::find()
        .filter(dispute::Column::OrderId.eq(order_id))
        .order_by_desc(dispute::Column::Id)
        .one(db)
        .await
}

pub async fn find(
    db: &impl ConnectionTrait,
    id: &crate::ids::DisputeId,
) -> Result<Option<dispute::Model>, DbErr> {
    dispute::Entity::find_by_id(id.clone()).one(db).await
}

/// Disputes newest first, optionally of one status.
pub async fn list(
    db: &impl ConnectionTrait,
    status: Option<&str>,
    starting_after: Option<&str>,
    limit: u64,
) -> Result<Vec<dispute::Model>, DbErr> {
    use sea_orm::{QueryOrder, QuerySelect};
    let mut query = dispute::Entity::find();
    if let Some(status) = status {
        query = query.filter(dispute::Column::Status.eq(status));
    }
    if let Some(cursor) = starting_after {
        query = query.filter(dispute::Column::Id.lt(cursor));
    }
    query
        .order_by_desc(dispute::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

pub async fn messages_of(
    db: &impl ConnectionTrait,
    dispute_id: &str,
) -> Result<Vec<message::Model>, DbErr> {
    use sea_orm::QueryOrder;
    message::Entity::find()
        .filter(message::Column::DisputeId.eq(dispute_id))
        .order_by_asc(message::Column::Id)
        .all(db)
        .await
}

/// How many disputes are open (the admin overview).
pub async fn count_open(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    use sea_orm::PaginatorTrait;
    dispute::Entity::find()
        .filter(dispute::Column::Status.eq("open"))
        .count(db)
        .await
}

/// The number of messages of each of these disputes (absent: none).
pub async fn message_counts(
    db: &impl ConnectionTrait,
    dispute_ids: &[crate::ids::DisputeId],
) -> Result<std::collections::HashMap<crate::ids::DisputeId, i64>, DbErr> {
    use sea_orm::QuerySelect;
    if dispute_ids.is_empty() {
        return Ok(Default::default());
    }
    let rows: Vec<(crate::ids::DisputeId, i64)> = message::Entity::find()
        .select_only()
        .column(message::Column::DisputeId)
        .column_as(message::Column::Id.count(), "n")
        .filter(message::Column::DisputeId.is_in(dispute_ids.iter().cloned()))
        .group_by(message::Column::DisputeId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().collect())
}
