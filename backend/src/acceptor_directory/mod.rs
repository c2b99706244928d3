//! The directory of acceptors: their records (`entity.rs`: acceptors, quotes, payment
//! methods, deposits; `status.rs`) and the reads the order path and the matching engine
//! need — an acceptor by id, the payment methods of several acceptors and the one an
//! order is paid with, who wants a mail on each new order — and a mail to an
//! acceptor's login.
//!
//! It stands below both `orders` (which reads acceptors here) and the `acceptors`
//! feature (which owns every write to these tables and whose use cases call into
//! `orders`: the desk's actions, requeueing a frozen or offline acceptor's orders), so
//! the two never import each other. It depends on no feature but `auth` and `mail`.

pub mod entity;
pub mod status;

use sea_orm::entity::prelude::*;

use crate::error::ApiResult;
use crate::ids::AcceptorId;
use crate::mail::{Letter, MailKind};

pub use entity::{acceptor, deposit, payment_method, quote};
pub use status::AcceptorStatus;

/// A mail to the acceptor behind `acceptor_id` (in its language, to its login's email),
/// written with the caller's transaction. An acceptor without a login is skipped.
pub async fn mail_to(
    db: &impl ConnectionTrait,
    public_url: &str,
    acceptor_id: &AcceptorId,
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

pub async fn find_acceptor(
    db: &impl ConnectionTrait,
    acceptor_id: &AcceptorId,
) -> Result<Option<acceptor::Model>, DbErr> {
    acceptor::Entity::find_by_id(acceptor_id.clone())
        .one(db)
        .await
}

/// Where to mail an acceptor who asked for a mail on each new order.
#[derive(Debug, Clone)]
pub struct NewOrderMailRecipient {
    pub acceptor_id: AcceptorId,
    pub display_name: String,
    pub email: String,
    pub lang: String,
}

/// Those of `acceptor_ids` who asked for a mail on each new order. One query when none
/// did (the usual case on the order path), two when some did.
pub async fn new_order_mail_recipients(
    db: &impl ConnectionTrait,
    acceptor_ids: &[AcceptorId],
) -> Result<Vec<NewOrderMailRecipient>, DbErr> {
    if acceptor_ids.is_empty() {
        return Ok(Vec::new());
    }
    let wanting = acceptor::Entity::find()
        .filter(acceptor::Column::Id.is_in(acceptor_ids.iter().cloned()))
        .filter(acceptor::Column::NotifyNewOrders.eq(true))
        .all(db)
        .await?;
    if wanting.is_empty() {
        return Ok(Vec::new());
    }
    let users = crate::auth::user::Entity::find()
        .filter(crate::auth::user::Column::Id.is_in(wanting.iter().map(|a| a.user_id.clone())))
        .all(db)
        .await?;
    Ok(wanting
        .into_iter()
        .filter_map(|a| {
            let user = users.iter().find(|u| u.id == a.user_id)?;
            Some(NewOrderMailRecipient {
                acceptor_id: a.id,
                display_name: a.display_name,
                email: user.email.clone(),
                lang: user.lang.clone(),
            })
        })
        .collect())
}

pub async fn payment_methods_of_acceptors(
    db: &impl ConnectionTrait,
    acceptor_ids: &[AcceptorId],
) -> Result<Vec<payment_method::Model>, DbErr> {
    use sea_orm::QueryOrder;
    if acceptor_ids.is_empty() {
        return Ok(Vec::new());
    }
    payment_method::Entity::find()
        .filter(payment_method::Column::AcceptorId.is_in(acceptor_ids.iter().cloned()))
        .order_by_asc(payment_method::Column::Id)
        .all(db)
        .await
}

/// The method an order is paid with: the acceptor's oldest method for the fiat, of the
/// kind the merchant asked for if it did. `methods` as read by [`payment_methods_of_acceptors`].
pub fn choose_payment_method<'a>(
    methods: &'a [payment_method::Model],
    acceptor_id: &AcceptorId,
    fiat: &str,
    method: Option<&str>,
) -> Option<&'a payment_method::Model> {
    methods.iter().find(|m| {
        m.acceptor_id == *acceptor_id
            && m.fiat == fiat
            && method.is_none_or(|want| m.method == want)
    })
}
