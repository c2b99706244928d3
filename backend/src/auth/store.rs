//! The `users`, `sessions` and `auth_tokens` tables and their queries.

use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, ConnectionTrait, QueryFilter};

/// The `users` table: every portal login (admins, acceptors, merchant users).
pub mod user {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "users")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: crate::ids::UserId,
        pub email: String,
        pub password_hash: String,
        pub role: crate::auth::model::Role,
        pub display_name: String,
        pub status: crate::auth::model::UserStatus,
        pub email_verified: bool,
        pub totp_secret_enc: Option<String>,
        pub totp_enabled: bool,
        pub created_at: i64,
        pub updated_at: i64,
        /// The language of the user's mail (`en`, `zh-CN`).
        pub lang: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub use user::{ActiveModel, Column, Entity, Model};

pub async fn find_by_email(db: &impl ConnectionTrait, email: &str) -> Result<Option<Model>, DbErr> {
    Entity::find().filter(Column::Email.eq(email)).one(db).await
}

pub async fn find_by_id(
    db: &impl ConnectionTrait,
    id: &crate::ids::UserId,
) -> Result<Option<Model>, DbErr> {
    Entity::find_by_id(id.clone()).one(db).await
}

pub async fn admin_exists(db: &impl ConnectionTrait) -> Result<bool, DbErr> {
    Ok(Entity::find()
        .filter(Column::Role.eq("admin"))
        .one(db)
        .await?
        .is_some())
}

pub struct NewUser<'a> {
    pub id: crate::ids::UserId,
    pub email: &'a str,
    pub password_hash: String,
    pub role: super::model::Role,
    pub display_name: &'a str,
    pub email_verified: bool,
    pub now: i64,
}

pub async fn insert(db: &impl ConnectionTrait, user: NewUser<'_>) -> Result<Model, DbErr> {
    ActiveModel {
        id: Set(user.id),
        email: Set(user.email.to_owned()),
        password_hash: Set(user.password_hash),
        role: Set(user.role),
        display_name: Set(user.display_name.to_owned()),
        status: Set(super::model::UserStatus::Active),
        email_verified: Set(user.email_verified),
        totp_secret_enc: Set(None),
        totp_enabled: Set(false),
        created_at: Set(user.now),
        updated_at: Set(user.now),
        lang: Set(crate::i18n::Lang::default().code().to_owned()),
    }
    .insert(db)
    .await
}

/// Stores a user's two-factor state: a sealed secret (none once turned off) and whether
/// it is in force (set up but not yet confirmed with a code: `enabled` false).
pub async fn set_totp(
    db: &impl ConnectionTrait,
    user_id: &crate::ids::UserId,
    secret_enc: Option<String>,
    enabled: bool,
    now: i64,
) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(Column::TotpSecretEnc, Expr::value(secret_enc))
        .col_expr(Column::TotpEnabled, Expr::value(enabled))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::Id.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

/// The `sessions` table: one row per login, checked by every authenticated request.
pub mod session {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "sessions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub user_id: crate::ids::UserId,
        pub role: crate::auth::model::Role,
        pub second_factor: bool,
        pub created_at: i64,
        pub expires_at: i64,
        pub revoked_at: Option<i64>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub async fn insert_session(
    db: &impl ConnectionTrait,
    row: session::Model,
) -> Result<session::Model, DbErr> {
    session::ActiveModel::from(row).insert(db).await
}

pub async fn find_session(
    db: &impl ConnectionTrait,
    id: &str,
) -> Result<Option<session::Model>, DbErr> {
    session::Entity::find_by_id(id.to_owned()).one(db).await
}

/// Revokes one session (logout); a session already revoked keeps its first time.
pub async fn revoke_session(db: &impl ConnectionTrait, id: &str, now: i64) -> Result<(), DbErr> {
    session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(now))
        .filter(session::Column::Id.eq(id))
        .filter(session::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Records that a session passed the second factor (2FA was turned on in it).
pub async fn mark_second_factor(db: &impl ConnectionTrait, id: &str) -> Result<(), DbErr> {
    session::Entity::update_many()
        .col_expr(session::Column::SecondFactor, Expr::value(true))
        .filter(session::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Turning 2FA off withdraws the second factor from every session of the user.
pub async fn clear_second_factor(
    db: &impl ConnectionTrait,
    user_id: &crate::ids::UserId,
) -> Result<(), DbErr> {
    session::Entity::update_many()
        .col_expr(session::Column::SecondFactor, Expr::value(false))
        .filter(session::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn set_email_verified(
    db: &impl ConnectionTrait,
    user_id: &crate::ids::UserId,
    verified: bool,
    now: i64,
) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(Column::EmailVerified, Expr::value(verified))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::Id.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn set_password_hash(
    db: &impl ConnectionTrait,
    user_id: &crate::ids::UserId,
    hash: String,
    now: i64,
) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(Column::PasswordHash, Expr::value(hash))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::Id.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Ends every session of a user (a password reset).
pub async fn revoke_sessions_of(
    db: &impl ConnectionTrait,
    user_id: &crate::ids::UserId,
    now: i64,
) -> Result<(), DbErr> {
    session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(now))
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// The `auth_tokens` table: single-use tokens of the links sent by mail.
pub mod auth_token {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "auth_tokens")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub user_id: crate::ids::UserId,
        pub purpose: String,
        pub token_hash: String,
        pub expires_at: i64,
        pub used_at: Option<i64>,
        pub created_at: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub async fn set_lang(
    db: &impl ConnectionTrait,
    user_id: &crate::ids::UserId,
    lang: &str,
) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(Column::Lang, Expr::value(lang))
        .filter(Column::Id.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}
