//! The acceptor reads the order path needs — an acceptor by id, the payment methods of
//! several acceptors and the one an order is paid with, who wants a mail on each new
//! order — and a mail to an acceptor's login.
//!
//! It stands below [`super::service`], whose use cases call into `orders` (the desk's
//! actions, requeueing a frozen or offline acceptor's orders): `orders` reads acceptors
//! here, so the two never import each other. The queries stay in `store.rs`.

use sea_orm::ConnectionTrait;

use crate::error::ApiResult;
use crate::mail::{Letter, MailKind};

pub use super::store::{
    NewOrderMailRecipient, choose_payment_method, find_acceptor, new_order_mail_recipients,
    payment_methods_of_acceptors,
};

/// A mail to the acceptor behind `acceptor_id` (in its language, to its login's email),
/// written with the caller's transaction. An acceptor without a login is skipped.
pub async fn mail_to(
    db: &impl ConnectionTrait,
    public_url: &str,
    acceptor_id: &str,
    kind: MailKind,
    link_path: &str,
    args: Vec<(&str, String)>,
    keyed_args: Vec<(&str, &'static str)>,
) -> ApiResult<()> {
    let Some(acceptor) = find_acceptor(db, acceptor_id).await? else {
        return Ok(());
    };
    let Some(user) = crate::auth::service::find_by_id(db, &acceptor.user_id).await? else {
        return Ok(());
    };
    let lang = crate::i18n::Lang::parse(&user.lang).unwrap_or_default();
    crate::mail::enqueue(
        db,
        &Letter {
            kind,
            tr: crate::i18n::Tr(lang),
            to: &user.email,
            name: &acceptor.display_name,
            link: Some(format!("{public_url}{link_path}")),
            args,
            keyed_args,
        },
    )
    .await
}
