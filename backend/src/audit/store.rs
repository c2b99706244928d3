//! The `audit_log` table.

use sea_orm::entity::prelude::*;
use sea_orm::{QueryOrder, QuerySelect};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub actor_id: Option<String>,
    pub actor_role: String,
    pub action: String,
    pub target_type: String,
    pub target_id: Option<String>,
    pub details: String,
    pub ip: Option<String>,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Newest first; ids are time-ordered, so `starting_after` is an id comparison.
pub async fn list(
    db: &impl ConnectionTrait,
    starting_after: Option<&str>,
    limit: u64,
) -> Result<Vec<Model>, DbErr> {
    let mut query = Entity::find().order_by_desc(Column::Id);
    if let Some(cursor) = starting_after {
        query = query.filter(Column::Id.lt(cursor));
    }
    query.limit(limit).all(db).await
}
