//! Acceptor use cases.
//!
//! Admin actions (create, approve, freeze, unfreeze, update, deposit) are one database
//! transaction each, with their audit entry in the same transaction. Every change that
//! affects matching is committed first and then told to the engine
//! ([`AppState::notify_engine`]); the command is built from the row as committed (re-read after
//! the commit), so concurrent changes converge on the database's last word.
//!
//! Acceptor calls that add exposure (going online, quoting, adding a payment method,
//! acting on orders) need an `active` acceptor; calls that reduce it (going offline,
//! withdrawing a quote or a payment method) are allowed in any status, so that a frozen
//! acceptor can still step back.

use std::collections::HashMap;

use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ConnectionTrait, IntoActiveModel, TransactionTrait,
};
use serde_json::{Map, Value, json};

use super::engine_sync::{
    requeue_unpaid, sync_max_concurrent_orders, sync_payment_methods, sync_presence, sync_quote,
    sync_status,
};
use super::entity::{acceptor, payment_method, quote};
use super::history;
use super::model::{
    AcceptorPatch, AcceptorStatus, AcceptorView, BalanceView, NewAcceptor, NewPaymentMethod,
    NewQuote, StatsView, StatusAction,
};
use super::store;
use crate::audit::{self, AuditEntry};
use crate::auth::Role;
use crate::auth::service::{CreateUserError, create_user};
use crate::db::now_ms;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::ids::{AcceptorId, OrderId, UserId};
use crate::ledger::{self, AccountKey};
use crate::money::FiatCurrency;
use crate::orders;
use crate::orders::order;
use crate::orders::service::Scope;
use crate::pagination::Page;
use crate::state::AppState;

/// Who performs an admin action, for the audit log.
#[derive(Debug, Clone, Copy)]
pub struct AdminContext<'a> {
    pub admin_id: &'a str,
    pub ip: Option<&'a str>,
}

impl AdminContext<'_> {
    pub(super) fn entry<'e>(
        &'e self,
        action: &'e str,
        acceptor_id: &'e str,
        details: Value,
    ) -> AuditEntry<'e> {
        AuditEntry {
            actor_id: Some(self.admin_id),
            actor_role: "admin",
            action,
            target_type: "acceptor",
            target_id: Some(acceptor_id),
            details,
            ip: self.ip,
        }
    }
}

pub(super) fn not_found() -> ApiError {
    ApiError::not_found("acceptor")
}

pub(super) use crate::db::is_unique_violation;

/// `403 forbidden` unless the acceptor is active.
pub fn require_active(a: &acceptor::Model) -> ApiResult<()> {
    match a.status {
        AcceptorStatus::Active => Ok(()),
        AcceptorStatus::Pending => Err(ApiError::new(
            ErrorCode::Forbidden,
            "Your acceptor account is waiting for an admin's approval; trading is not allowed yet.",
        )),
        AcceptorStatus::Frozen => Err(ApiError::new(
            ErrorCode::Forbidden,
            "Your acceptor account is frozen; trading is not allowed. Contact the platform.",
        )),
    }
}

// ---------------------------------------------------------------------------------------
// Reading

/// An acceptor by id, or `404 not_found`.
pub async fn get(
    db: &impl ConnectionTrait,
    acceptor_id: &AcceptorId,
) -> ApiResult<acceptor::Model> {
    store::find_acceptor(db, acceptor_id)
        .await?
        .ok_or_else(not_found)
}

/// The acceptor of a logged-in acceptor user; a user without an acceptor profile is
/// `403 forbidden`.
pub async fn acceptor_of_user(
    db: &impl ConnectionTrait,
    user_id: &UserId,
) -> ApiResult<acceptor::Model> {
    store::find_acceptor_by_user(db, user_id)
        .await?
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::Forbidden,
                "No acceptor profile is linked to this account.",
            )
        })
}

/// The acceptor objects of these acceptors (email, live balance, stats), loaded with a
/// fixed number of queries whatever their count.
pub async fn views(
    db: &impl ConnectionTrait,
    acceptors: &[acceptor::Model],
) -> ApiResult<Vec<AcceptorView>> {
    let ids: Vec<AcceptorId> = acceptors.iter().map(|a| a.id.clone()).collect();
    let user_ids: Vec<UserId> = acceptors.iter().map(|a| a.user_id.clone()).collect();
    let account_ids: Vec<String> = ids
        .iter()
        .map(|id| AccountKey::acceptor(id.clone(), true).id())
        .collect();
    let emails = store::emails_of(db, &user_ids).await?;
    let balances: HashMap<String, ledger::Balance> = ledger::find_accounts(db, &account_ids)
        .await?
        .into_iter()
        .map(|account| (account.owner.clone(), account.balance()))
        .collect();
    let counts = store::order_counts(db, &ids).await?;
    let disputes = store::dispute_counts(db, &ids).await?;
    Ok(acceptors
        .iter()
        .map(|a| {
            AcceptorView::new(
                a,
                emails.get(&a.user_id).cloned().unwrap_or_default(),
                BalanceView::new(balances.get(a.id.as_str()).copied().unwrap_or_default()),
                StatsView::new(
                    counts.get(&a.id).copied().unwrap_or_default(),
                    disputes.get(&a.id).copied().unwrap_or(0),
                ),
            )
        })
        .collect())
}

/// The acceptor object of one acceptor.
pub async fn view(db: &impl ConnectionTrait, a: &acceptor::Model) -> ApiResult<AcceptorView> {
    views(db, std::slice::from_ref(a))
        .await?
        .pop()
        .ok_or_else(|| ApiError::internal("acceptor view missing"))
}

/// A page of acceptor objects, newest first.
pub async fn list(
    db: &impl ConnectionTrait,
    status: Option<AcceptorStatus>,
    starting_after: Option<&str>,
    limit: u64,
) -> ApiResult<Page<AcceptorView>> {
    let rows = store::list_acceptors(
        db,
        status.map(AcceptorStatus::as_str),
        starting_after,
        limit + 1,
    )
    .await?;
    let page = Page::from_rows(rows, limit);
    Ok(Page {
        data: views(db, &page.data).await?,
        has_more: page.has_more,
    })
}

// ---------------------------------------------------------------------------------------
// Admin actions

/// Creates the acceptor's login (role acceptor) and the acceptor, `active`, in one
/// transaction, then registers it with the engine.
pub async fn create(
    state: &AppState,
    ctx: AdminContext<'_>,
    new: NewAcceptor,
) -> ApiResult<acceptor::Model> {
    let txn = state.db.begin().await?;
    let user = acceptor_login(&txn, state, &new).await?;
    let created = insert_acceptor(&txn, &user.id, &new, AcceptorStatus::Active).await?;
    audit::record(
        &txn,
        ctx.entry(
            "acceptor.create",
            &created.id,
            json!({
                "email": new.email,
                "display_name": created.display_name,
                "commission_rate": created.commission_rate,
                "max_concurrent_orders": created.max_concurrent_orders,
            }),
        ),
    )
    .await?;
    txn.commit().await?;
    state
        .notify_engine_all(super::engine_sync::register_commands(&created))
        .await;
    Ok(created)
}

/// The login (role acceptor) of a new acceptor, in the caller's transaction. An email
/// taken meanwhile by another request fails on the unique index: `409`, and the dropped
/// transaction rolls back.
async fn acceptor_login(
    txn: &impl ConnectionTrait,
    state: &AppState,
    new: &NewAcceptor,
) -> ApiResult<crate::auth::user::Model> {
    match create_user(
        txn,
        &state.settings,
        &new.email,
        &new.password,
        Role::Acceptor,
        &new.display_name,
    )
    .await
    {
        Ok(user) => Ok(user),
        Err(CreateUserError::Db(err)) if is_unique_violation(&err) => {
            Err(CreateUserError::EmailTaken.into())
        }
        Err(err) => Err(err.into()),
    }
}

/// The acceptor row of a new login and its ledger account, in the caller's transaction.
async fn insert_acceptor(
    txn: &impl ConnectionTrait,
    user_id: &UserId,
    new: &NewAcceptor,
    status: AcceptorStatus,
) -> ApiResult<acceptor::Model> {
    let now = now_ms();
    let created = acceptor::ActiveModel {
        id: Set(AcceptorId::generate()),
        user_id: Set(user_id.clone()),
        display_name: Set(new.display_name.clone()),
        status: Set(status),
        online: Set(false),
        commission_rate: Set(new.commission_rate.to_string()),
        max_concurrent_orders: Set(new.max_concurrent_orders),
        created_at: Set(now),
        updated_at: Set(now),
        live_seen_at: Set(None),
        notify_new_orders: Set(false),
    }
    .insert(txn)
    .await?;
    ledger::open_account(txn, &AccountKey::acceptor(created.id.clone(), true)).await?;
    Ok(created)
}

/// `POST /api/v1/auth/register`: a new acceptor signs up. Its login is created with an
/// unverified email, the acceptor `pending` (an admin approves it), and the verification
/// mail written in the same transaction.
pub async fn register(
    state: &AppState,
    new: NewAcceptor,
    lang: crate::i18n::Lang,
) -> ApiResult<acceptor::Model> {
    let txn = state.db.begin().await?;
    let user = acceptor_login(&txn, state, &new).await?;
    crate::auth::service::set_email_verified(&txn, &user.id, false, now_ms()).await?;
    crate::auth::service::set_lang(&txn, &user.id, lang.code()).await?;
    let created = insert_acceptor(&txn, &user.id, &new, AcceptorStatus::Pending).await?;
    let token = crate::auth::tokens::issue(
        &txn,
        &state.keys,
        &user.id,
        crate::auth::tokens::Purpose::VerifyEmail,
    )
    .await?;
    crate::mail::enqueue(
        &txn,
        &crate::mail::Letter {
            kind: crate::mail::MailKind::VerifyEmail,
            tr: crate::i18n::Tr(lang),
            to: &user.email,
            name: &created.display_name,
            link: Some(format!("{}/verify-email?token={token}", state.public_url)),
            args: Vec::new(),
            keyed_args: Vec::new(),
        },
    )
    .await?;
    txn.commit().await?;
    state
        .notify_engine_all(super::engine_sync::register_commands(&created))
        .await;
    Ok(created)
}

/// Approve (`pending → active`), freeze (`active → frozen`) or unfreeze
/// (`frozen → active`); any other starting status is `409 invalid_state`. Freezing
/// also hands the acceptor's assigned-but-unpaid orders to other acceptors: a frozen
/// acceptor cannot confirm them.
pub async fn change_status(
    state: &AppState,
    ctx: AdminContext<'_>,
    acceptor_id: &AcceptorId,
    action: StatusAction,
) -> ApiResult<acceptor::Model> {
    let txn = state.db.begin().await?;
    let current = store::lock_acceptor(&txn, acceptor_id)
        .await?
        .ok_or_else(not_found)?;
    let from = current.status;
    let to = action.apply_to(from)?;
    let mut active = current.into_active_model();
    active.status = Set(to);
    active.updated_at = Set(now_ms());
    let updated = active.update(&txn).await?;
    audit::record(
        &txn,
        ctx.entry(
            action.audit_action(),
            &updated.id,
            json!({"from": from.as_str(), "to": to.as_str()}),
        ),
    )
    .await?;
    if action == StatusAction::Approve {
        crate::acceptor_directory::mail_to(
            &txn,
            &state.public_url,
            &updated.id,
            crate::mail::MailKind::AccountApproved,
            "/acceptor",
            Vec::new(),
            Vec::new(),
        )
        .await?;
    }
    txn.commit().await?;
    sync_status(state, acceptor_id).await;
    if action == StatusAction::Freeze {
        requeue_unpaid(state, acceptor_id).await;
    }
    Ok(updated)
}

/// Changes the display name, commission rate or concurrency limit.
pub async fn update(
    state: &AppState,
    ctx: AdminContext<'_>,
    acceptor_id: &AcceptorId,
    patch: AcceptorPatch,
) -> ApiResult<acceptor::Model> {
    let txn = state.db.begin().await?;
    let current = store::lock_acceptor(&txn, acceptor_id)
        .await?
        .ok_or_else(not_found)?;
    let mut changes = Map::new();
    let mut active = current.clone().into_active_model();
    if let Some(name) = patch.display_name.filter(|n| *n != current.display_name) {
        changes.insert("display_name".into(), json!(name));
        active.display_name = Set(name);
    }
    if let Some(rate) = patch.commission_rate {
        let rate = rate.to_string();
        if rate != current.commission_rate {
            changes.insert("commission_rate".into(), json!(rate));
            active.commission_rate = Set(rate);
        }
    }
    let max_changed = patch
        .max_concurrent_orders
        .filter(|max| *max != current.max_concurrent_orders);
    if let Some(max) = max_changed {
        changes.insert("max_concurrent_orders".into(), json!(max));
        active.max_concurrent_orders = Set(max);
    }
    if changes.is_empty() {
        txn.rollback().await?;
        return Ok(current);
    }
    active.updated_at = Set(now_ms());
    let updated = active.update(&txn).await?;
    audit::record(
        &txn,
        ctx.entry("acceptor.update", &updated.id, Value::Object(changes)),
    )
    .await?;
    txn.commit().await?;
    if max_changed.is_some() {
        sync_max_concurrent_orders(state, acceptor_id).await;
    }
    Ok(updated)
}

// ---------------------------------------------------------------------------------------
// The acceptor's own calls

/// Goes online (active acceptors only) or offline (always allowed). Going offline hands
/// the acceptor's assigned-but-unpaid orders to other acceptors.
pub async fn set_online(
    state: &AppState,
    a: &acceptor::Model,
    online: bool,
) -> ApiResult<acceptor::Model> {
    if online {
        require_active(a)?;
    }
    let mut active = a.clone().into_active_model();
    active.online = Set(online);
    active.updated_at = Set(now_ms());
    let updated = active.update(&state.db).await?;
    sync_presence(state, &a.id).await;
    if !online {
        requeue_unpaid(state, &a.id).await;
    }
    Ok(updated)
}

/// The acceptor's choice of a mail on each new order assigned to it.
pub async fn set_new_order_mail(state: &AppState, a: &acceptor::Model, on: bool) -> ApiResult<()> {
    store::set_notify_new_orders(&state.db, &a.id, on, now_ms()).await?;
    Ok(())
}

/// Sets or replaces the quote in a fiat.
pub async fn put_quote(
    state: &AppState,
    a: &acceptor::Model,
    new: NewQuote,
) -> ApiResult<quote::Model> {
    require_active(a)?;
    let saved = store::upsert_quote(&state.db, &a.id, &new, now_ms()).await?;
    sync_quote(state, &a.id, new.fiat).await;
    Ok(saved)
}

/// Withdraws the quote in a fiat; `404` when there is none.
pub async fn delete_quote(
    state: &AppState,
    a: &acceptor::Model,
    fiat: FiatCurrency,
) -> ApiResult<()> {
    if !store::delete_quote(&state.db, &a.id, fiat.code).await? {
        return Err(ApiError::not_found("quote"));
    }
    sync_quote(state, &a.id, fiat).await;
    Ok(())
}

pub async fn add_payment_method(
    state: &AppState,
    a: &acceptor::Model,
    new: NewPaymentMethod,
) -> ApiResult<payment_method::Model> {
    require_active(a)?;
    let created = store::insert_payment_method(&state.db, &a.id, &new, now_ms()).await?;
    sync_payment_methods(state, &a.id, &created.fiat).await;
    Ok(created)
}

/// Deletes one of the acceptor's payment methods; another acceptor's is `404`.
/// Orders already assigned keep the details they were given.
pub async fn delete_payment_method(
    state: &AppState,
    a: &acceptor::Model,
    method_id: &str,
) -> ApiResult<()> {
    let method = store::find_payment_method(&state.db, &a.id, method_id)
        .await?
        .ok_or_else(|| ApiError::not_found("payment method"))?;
    if !store::delete_payment_method(&state.db, &a.id, &method.id).await? {
        return Err(ApiError::not_found("payment method"));
    }
    sync_payment_methods(state, &a.id, &method.fiat).await;
    Ok(())
}

/// A page of the acceptor's orders, newest first.
pub async fn orders_page(
    db: &impl ConnectionTrait,
    a: &acceptor::Model,
    status: Option<orders::model::OrderStatus>,
    starting_after: Option<&str>,
    limit: u64,
) -> ApiResult<Page<order::Model>> {
    let rows = history::orders_of(db, &a.id, status, starting_after, limit + 1).await?;
    Ok(Page::from_rows(rows, limit))
}

/// One of the acceptor's orders; any other order is `404`.
pub async fn order_of(
    db: &impl ConnectionTrait,
    a: &acceptor::Model,
    order_id: &OrderId,
) -> ApiResult<order::Model> {
    orders::service::find_by_acceptor(db, &a.id, order_id)
        .await?
        .ok_or_else(|| ApiError::not_found("order"))
}

/// Releases an order (`assigned | paid → completed`). With two-factor authentication
/// enabled on the acceptor's login, a code is required.
pub async fn confirm_order(
    state: &AppState,
    a: &acceptor::Model,
    order_id: &OrderId,
    totp_code: Option<&str>,
) -> ApiResult<order::Model> {
    require_active(a)?;
    check_release_totp(state, a, totp_code).await?;
    orders::service::confirm(state, &a.id, order_id).await
}

/// Declines an assigned order: it goes back to matching without this acceptor.
pub async fn reject_order(
    state: &AppState,
    a: &acceptor::Model,
    order_id: &OrderId,
    reason: Option<String>,
) -> ApiResult<order::Model> {
    require_active(a)?;
    orders::service::reject(state, &a.id, order_id, reason).await
}

/// "Not received": a paid order goes to dispute.
pub async fn dispute_order(
    state: &AppState,
    a: &acceptor::Model,
    order_id: &OrderId,
    reason: String,
) -> ApiResult<order::Model> {
    require_active(a)?;
    let (updated, _dispute) = orders::service::open_dispute(
        state,
        order_id,
        Scope::Acceptor { acceptor_id: &a.id },
        reason,
        None,
    )
    .await?;
    Ok(updated)
}

/// DESIGN.md: TOTP is required for acceptor releases when enabled. Like every code, it
/// is throttled per user and accepted once (`auth::second_factor`).
async fn check_release_totp(
    state: &AppState,
    a: &acceptor::Model,
    totp_code: Option<&str>,
) -> ApiResult<()> {
    let user = crate::auth::service::find_by_id(&state.db, &a.user_id)
        .await?
        .ok_or_else(|| ApiError::internal("acceptor's user is missing"))?;
    crate::auth::second_factor::require(
        state,
        &user,
        totp_code,
        crate::auth::second_factor::Purpose::Release,
    )
    .await?;
    Ok(())
}

/// The display names of several acceptors by id, in one query (ids that do not exist
/// are left out): the admin lists show a name beside each row.
pub async fn names_of(
    db: &impl ConnectionTrait,
    acceptor_ids: impl IntoIterator<Item = AcceptorId>,
) -> Result<HashMap<AcceptorId, String>, sea_orm::DbErr> {
    Ok(store::find_acceptors(db, acceptor_ids)
        .await?
        .into_iter()
        .map(|a| (a.id, a.display_name))
        .collect())
}

// Reads other features and the pages may use; the queries stay in `store.rs`.
pub use super::store::{payment_methods_of, quotes_of};
pub use crate::acceptor_directory::find_acceptor;
