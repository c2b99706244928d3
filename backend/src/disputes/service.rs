//! Dispute use cases that are not order transitions: the message thread, and reading an
//! admin's resolution request. (Opening and resolving a dispute change the order, so
//! they are transitions in `orders::service`.) Admins are told live (`live::ADMIN_TOPIC`)
//! of every new message.

use sea_orm::{ActiveModelTrait, ActiveValue::Set, TransactionTrait};
use serde_json::json;

use super::store::{self, dispute, message};
use crate::audit;
use crate::db::now_ms;
use crate::error::{ApiError, ApiResult};
use crate::ids;
use crate::ids::DisputeId;
use crate::state::AppState;
use crate::values::{bounded_text, parse_usdt};

/// Who writes a message.
pub enum Author<'a> {
    Admin {
        user_id: &'a str,
        ip: Option<&'a str>,
    },
    Acceptor {
        acceptor_id: &'a str,
    },
    /// The paying customer, on the cashier page (the token is the capability).
    Customer,
}

/// Adds a message (1–5000 characters) to an open or resolved dispute. An admin's message
/// is audited in the same transaction. The other parties are told: the order's acceptor
/// by mail (in the same transaction) unless it wrote the message, and everyone watching
/// live (the cashier page, the acceptor's pages, the admin's dispute desk) after the
/// commit.
pub async fn post_message(
    state: &AppState,
    d: &dispute::Model,
    author: Author<'_>,
    body: Option<String>,
) -> ApiResult<message::Model> {
    let text = bounded_text("body", body, 5000)?;
    let (role, author_id) = match &author {
        Author::Admin { user_id, .. } => ("admin", Some((*user_id).to_owned())),
        Author::Acceptor { acceptor_id } => ("acceptor", Some((*acceptor_id).to_owned())),
        Author::Customer => ("customer", None),
    };
    let txn = state.db.begin().await?;
    let saved = message::ActiveModel {
        id: Set(ids::new("dmsg")),
        dispute_id: Set(d.id.to_string()),
        author_role: Set(role.to_owned()),
        author_id: Set(author_id),
        body: Set(text),
        created_at: Set(now_ms()),
    }
    .insert(&txn)
    .await?;
    if let Author::Admin { user_id, ip } = author {
        audit::record(
            &txn,
            audit::AuditEntry {
                actor_id: Some(user_id),
                actor_role: "admin",
                action: "dispute.message",
                target_type: "dispute",
                target_id: Some(&d.id),
                details: json!({"message_id": saved.id}),
                ip,
            },
        )
        .await?;
    }
    let order = crate::orders::service::find(&txn, &d.order_id).await?;
    if role != "acceptor"
        && let Some(acceptor_id) = order.as_ref().and_then(|o| o.acceptor_id.as_ref())
        && let Some(o) = &order
    {
        crate::acceptor_directory::mail_to(
            &txn,
            &state.public_url,
            acceptor_id,
            crate::mail::MailKind::DisputeMessage,
            &format!("/acceptor/orders/{}", o.id),
            vec![("reference", o.reference.clone())],
            vec![("author", author_key(role))],
        )
        .await?;
    }
    txn.commit().await?;
    if let Some(o) = &order {
        announce_message(state, o, d, &saved).await;
    }
    Ok(saved)
}

/// The catalogue key of an author role, as the acceptor's mail names it.
fn author_key(role: &str) -> &'static str {
    match role {
        "admin" => "mail.author_admin",
        _ => "mail.author_customer",
    }
}

/// `dispute.message` to the order's topic (the cashier), its acceptor's and the admins'.
async fn announce_message(
    state: &AppState,
    o: &crate::orders::order::Model,
    d: &dispute::Model,
    saved: &message::Model,
) {
    let payload = json!({
        "order_id": o.id,
        "dispute_id": d.id,
        "message": super::model::MessageView::from(saved),
    });
    let mut topics = vec![
        format!("order:{}", o.id),
        crate::live::ADMIN_TOPIC.to_owned(),
    ];
    if let Some(acceptor) = &o.acceptor_id {
        topics.push(format!("acceptor:{acceptor}"));
    }
    let events: Vec<_> = topics
        .into_iter()
        .map(|topic| crate::infra::event_bus::BusEvent {
            topic,
            kind: "dispute.message".to_owned(),
            payload: payload.clone(),
        })
        .collect();
    if let Err(err) = state.infra.event_bus.publish_all(&events).await {
        tracing::warn!(error = %err, "live event not published");
    }
}

/// An admin's resolution as sent (JSON body or page form), not yet validated.
#[derive(Debug, Default, Clone)]
pub struct ResolveInput {
    /// `release` | `cancel`.
    pub outcome: Option<String>,
    /// For a release: the USDT to release (a decimal string); absent or null: the whole
    /// order.
    pub amount: Option<serde_json::Value>,
    pub note: Option<String>,
}

/// Resolves a dispute as an admin asked (`POST /api/v1/admin/disputes/{id}/resolve` and
/// the console's form): validates the request, then the transition
/// (`orders::service::resolve_dispute`, which writes the audit entry in its
/// transaction). The caller has checked that the admin may move money.
pub async fn resolve(
    state: &AppState,
    dispute_id: &DisputeId,
    input: ResolveInput,
    admin_id: &str,
) -> ApiResult<(crate::orders::order::Model, dispute::Model)> {
    use crate::orders::service::{Resolution, resolve_dispute};
    let note = bounded_text("note", input.note, 2000)?;
    let dispute = store::find(&state.db, dispute_id)
        .await?
        .ok_or_else(|| ApiError::not_found("dispute"))?;
    let resolution = match input.outcome.as_deref() {
        Some("release") => {
            let amount = match input.amount {
                None | Some(serde_json::Value::Null) => {
                    crate::orders::service::find(&state.db, &dispute.order_id)
                        .await?
                        .ok_or_else(|| ApiError::not_found("order"))?
                        .amount
                }
                some => parse_usdt(some, "amount")?.micros(),
            };
            Resolution::Release { amount }
        }
        Some("cancel") => Resolution::Cancel,
        _ => {
            return Err(
                ApiError::invalid_request("outcome must be release or cancel.")
                    .with_param("outcome"),
            );
        }
    };
    resolve_dispute(state, &dispute.id, resolution, note, admin_id).await
}

/// The open dispute of an order the caller may see, or `409 invalid_state` when there is
/// none.
pub async fn open_of_order(state: &AppState, order_id: &str) -> ApiResult<dispute::Model> {
    store::open_dispute_of_order(&state.db, order_id)
        .await?
        .ok_or_else(|| ApiError::invalid_state("This order has no open dispute."))
}

/// Everything an admin looks at to decide a dispute: the dispute, its order and both
/// parties, the thread and the order's history.
pub struct DisputeCase {
    pub dispute: dispute::Model,
    pub order: crate::orders::order::Model,
    pub merchant: crate::merchants::merchant::Model,
    pub acceptor: Option<crate::acceptors::acceptor::Model>,
    pub messages: Vec<message::Model>,
    pub events: Vec<crate::orders::order_event::Model>,
}

/// The [`DisputeCase`] of `dispute_id`, or `404 not_found`.
pub async fn case_of(state: &AppState, dispute_id: &DisputeId) -> ApiResult<DisputeCase> {
    let dispute = store::find(&state.db, dispute_id)
        .await?
        .ok_or_else(|| ApiError::not_found("dispute"))?;
    let order = crate::orders::service::find(&state.db, &dispute.order_id)
        .await?
        .ok_or_else(|| ApiError::not_found("order"))?;
    let (merchant, _) =
        crate::merchants::service::get_merchant(&state.db, &order.merchant_id).await?;
    let acceptor = match &dispute.acceptor_id {
        Some(id) => Some(crate::acceptors::service::get(&state.db, id).await?),
        None => None,
    };
    let messages = store::messages_of(&state.db, &dispute.id).await?;
    let events = crate::orders::service::events_of(&state.db, &order.id).await?;
    Ok(DisputeCase {
        dispute,
        order,
        merchant,
        acceptor,
        messages,
        events,
    })
}

// Reads other features and the pages may use; the queries stay in `store.rs`.
pub use super::store::{
    count_open, find, latest_of_order, list, message_counts, messages_of, open_dispute_of_order,
};
