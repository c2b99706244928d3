//! The `audit_log` table.

use sea_orm::entity::prelude::*;
use sea_orm::{QueryOrder, QuerySelect};

/// The `audit_log` table: one row per audited action.
pub mod entry {
    use sea_orm::entity::prelude::*;

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
}

pub use entry::{ActiveModel, Column, Entity, Model};

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

/// Filters of the console's audit log; every set field narrows the list.
#[derive(Debug, Default, Clone)]
pub struct AuditFilter {
    /// The acting user's id (who).
    pub actor_id: Option<String>,
    /// The action, or its start (`acceptor.` finds every acceptor action).
    pub action: Option<String>,
    /// When: `created_at` in `[from_ms, until_ms)`.
    pub from_ms: Option<i64>,
    pub until_ms: Option<i64>,
    /// The object: its type (`acceptor`, `dispute`, …) and id.
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub starting_after: Option<String>,
}

/// [`list`] narrowed by a filter; newest first.
pub async fn list_filtered(
    db: &impl ConnectionTrait,
    filter: &AuditFilter,
    limit: u64,
) -> Result<Vec<Model>, DbErr> {
    let mut query = Entity::find().order_by_desc(Column::Id);
    if let Some(actor) = &filter.actor_id {
        query = query.filter(Column::ActorId.eq(actor.as_str()));
    }
    if let Some(action) = &filter.action {
        query = query.filter(
            sea_orm::Condition::any()
                .add(Column::Action.eq(action.as_str()))
                .add(Column::Action.starts_with(format!("{}.", action.trim_end_matches('.')))),
        );
    }
    if let Some(from) = filter.from_ms {
        query = query.filter(Column::CreatedAt.gte(from));
    }
    if let Some(until) = filter.until_ms {
        query = query.filter(Column::CreatedAt.lt(until));
    }
    if let Some(kind) = &filter.target_type {
        query = query.filter(Column::TargetType.eq(kind.as_str()));
    }
    if let Some(id) = &filter.target_id {
        query = query.filter(Column::TargetId.eq(id.as_str()));
    }
    if let Some(cursor) = &filter.starting_after {
        query = query.filter(Column::Id.lt(cursor.as_str()));
    }
    query.limit(limit).all(db).await
}
