//! The `mail_outbox` table.

use sea_orm::entity::prelude::*;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveModelTrait, ConnectionTrait, QueryOrder, QuerySelect};

/// `mail_outbox.status`: `pending` until sent, or `failed` once the retries are spent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, sea_orm::DeriveValueType)]
#[sea_orm(value_type = "String")]
pub enum MailStatus {
    Pending,
    Sent,
    Failed,
}

crate::db::stored_as_text!(MailStatus {
    Pending => "pending",
    Sent => "sent",
    Failed => "failed",
});

/// The `mail_outbox` table: one row per mail, pending until sent or given up.
pub mod outbox {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "mail_outbox")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub to_address: String,
        pub kind: String,
        pub subject: String,
        pub text_body: String,
        pub html_body: String,
        pub status: super::MailStatus,
        pub attempts: i32,
        pub next_attempt_at: Option<i64>,
        pub last_error: Option<String>,
        pub created_at: i64,
        pub sent_at: Option<i64>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub use outbox::{ActiveModel, Column, Entity, Model};

pub async fn insert(db: &impl ConnectionTrait, row: Model) -> Result<(), DbErr> {
    ActiveModel::from(row).insert(db).await?;
    Ok(())
}

pub async fn insert_all(db: &impl ConnectionTrait, rows: Vec<Model>) -> Result<(), DbErr> {
    Entity::insert_many(rows.into_iter().map(ActiveModel::from))
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Mails due now, oldest first.
pub async fn due(db: &impl ConnectionTrait, now: i64, limit: u64) -> Result<Vec<Model>, DbErr> {
    Entity::find()
        .filter(Column::Status.eq(MailStatus::Pending.as_str()))
        .filter(Column::NextAttemptAt.lte(now))
        .order_by_asc(Column::NextAttemptAt)
        .limit(limit)
        .all(db)
        .await
}

/// Takes a due mail for `lease_ms` (its next attempt moves past the lease); false when
/// another worker took it first. Whoever holds the lease sends it.
pub async fn claim(
    db: &impl ConnectionTrait,
    id: &str,
    seen_next_attempt: i64,
    now: i64,
    lease_ms: i64,
) -> Result<bool, DbErr> {
    let result = Entity::update_many()
        .col_expr(Column::NextAttemptAt, Expr::value(now + lease_ms))
        .filter(Column::Id.eq(id))
        .filter(Column::Status.eq(MailStatus::Pending.as_str()))
        .filter(Column::NextAttemptAt.eq(seen_next_attempt))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

pub async fn mark_sent(db: &impl ConnectionTrait, id: &str, now: i64) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(Column::Status, Expr::value(MailStatus::Sent.as_str()))
        .col_expr(Column::SentAt, Expr::value(now))
        .col_expr(Column::NextAttemptAt, Expr::value(Option::<i64>::None))
        .col_expr(Column::Attempts, Expr::col(Column::Attempts).add(1))
        .filter(Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// A failed attempt: retried at `next` (or given up when `next` is `None`).
pub async fn mark_failed(
    db: &impl ConnectionTrait,
    id: &str,
    error: &str,
    next: Option<i64>,
) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(
            Column::Status,
            Expr::value(if next.is_some() {
                MailStatus::Pending.as_str()
            } else {
                MailStatus::Failed.as_str()
            }),
        )
        .col_expr(Column::NextAttemptAt, Expr::value(next))
        .col_expr(
            Column::LastError,
            Expr::value(error.chars().take(500).collect::<String>()),
        )
        .col_expr(Column::Attempts, Expr::col(Column::Attempts).add(1))
        .filter(Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}
