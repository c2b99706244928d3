//! A merchant's dashboard login: the contact email is the login, created with the
//! merchant and invited by mail to choose its password (`/set-password?token=…`, a
//! single-use token stored hashed, valid 7 days). One email names one account.

use sea_orm::ConnectionTrait;

use super::model::NewMerchant;
use super::store;
use crate::auth::service::email_taken;
use crate::auth::service::{self as users, NewUser};
use crate::auth::tokens::{self, Purpose};
use crate::auth::{Role, user};
use crate::error::ApiResult;
use crate::i18n::{Lang, Tr};
use crate::ids;
use crate::mail::{Letter, MailKind};
use crate::state::AppState;

/// Creates the merchant's login user (role `merchant`, email not yet verified: the
/// invitation's link verifies it) with a password hash nobody knows, inside the
/// merchant's transaction. An email already used → `409 email_taken`.
pub async fn create_login(
    txn: &impl ConnectionTrait,
    input: &NewMerchant,
    placeholder_hash: String,
    now: i64,
) -> ApiResult<user::Model> {
    let taken_by_user = users::find_by_email(txn, &input.email).await?.is_some();
    let taken_by_merchant = store::find_merchant_by_email(txn, &input.email)
        .await?
        .is_some();
    if taken_by_user || taken_by_merchant {
        return Err(email_taken());
    }
    Ok(users::insert_user(
        txn,
        NewUser {
            id: ids::UserId::generate(),
            email: &input.email,
            password_hash: placeholder_hash,
            role: Role::Merchant,
            display_name: &input.name,
            email_verified: false,
            now,
        },
    )
    .await?)
}

/// Writes the invitation mail (and its token) with the caller's transaction.
pub async fn send(
    txn: &impl ConnectionTrait,
    state: &AppState,
    user: &user::Model,
    merchant_name: &str,
) -> ApiResult<()> {
    let token = tokens::issue(txn, &state.keys, &user.id, Purpose::SetPassword).await?;
    crate::mail::enqueue(
        txn,
        &Letter {
            kind: MailKind::MerchantInvitation,
            tr: Tr(Lang::parse(&user.lang).unwrap_or_default()),
            to: &user.email,
            name: merchant_name,
            link: Some(format!("{}/set-password?token={token}", state.public_url)),
            args: Vec::new(),
            keyed_args: Vec::new(),
        },
    )
    .await
}
