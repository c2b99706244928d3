//! The tokens of links sent by mail (verify an email, reset a password, set a first
//! password): random, single-use, expiring, and stored only as a keyed hash — the token
//! itself exists in the mail alone.

use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::store::{self, auth_token};
use crate::crypto::MasterKey;
use crate::db::now_ms;
use crate::error::{ApiError, ApiResult};
use crate::ids;
use crate::ids::UserId;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    VerifyEmail,
    ResetPassword,
    SetPassword,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::VerifyEmail => "verify_email",
            Self::ResetPassword => "reset_password",
            Self::SetPassword => "set_password",
        }
    }

    /// How long a link works.
    pub fn ttl_ms(self) -> i64 {
        const HOUR: i64 = 3600 * 1000;
        match self {
            Self::VerifyEmail => 48 * HOUR,
            Self::ResetPassword => HOUR,
            Self::SetPassword => 7 * 24 * HOUR,
        }
    }
}

/// A new token for `user_id`, stored hashed in the caller's transaction; the raw token
/// goes into the mail.
pub async fn issue(
    db: &impl ConnectionTrait,
    keys: &MasterKey,
    user_id: &UserId,
    purpose: Purpose,
) -> Result<String, sea_orm::DbErr> {
    let token = ids::random_hex(32);
    let now = now_ms();
    auth_token::ActiveModel::from(auth_token::Model {
        id: ids::new("tok"),
        user_id: user_id.clone(),
        purpose: purpose.as_str().to_owned(),
        token_hash: keys.lookup_hash(&token),
        expires_at: now.saturating_add(purpose.ttl_ms()),
        used_at: None,
        created_at: now,
    })
    .insert(db)
    .await?;
    Ok(token)
}

fn unusable() -> ApiError {
    ApiError::invalid_request(
        "This link is not valid: it was used already, has expired, or is mistyped.",
    )
    .with_param("token")
}

/// Spends a token: one conditional update marks it used, so two concurrent uses
/// cannot both win. Returns its user.
pub async fn redeem(
    db: &impl ConnectionTrait,
    keys: &MasterKey,
    token: &str,
    purpose: Purpose,
) -> ApiResult<store::Model> {
    let token = token.trim();
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(unusable());
    }
    let hash = keys.lookup_hash(token);
    let now = now_ms();
    let spent = auth_token::Entity::update_many()
        .col_expr(auth_token::Column::UsedAt, Expr::value(now))
        .filter(auth_token::Column::TokenHash.eq(hash.clone()))
        .filter(auth_token::Column::Purpose.eq(purpose.as_str()))
        .filter(auth_token::Column::UsedAt.is_null())
        .filter(auth_token::Column::ExpiresAt.gt(now))
        .exec(db)
        .await?;
    if spent.rows_affected != 1 {
        return Err(unusable());
    }
    let row = auth_token::Entity::find()
        .filter(auth_token::Column::TokenHash.eq(hash))
        .one(db)
        .await?
        .ok_or_else(unusable)?;
    store::find_by_id(db, &row.user_id)
        .await?
        .ok_or_else(unusable)
}
