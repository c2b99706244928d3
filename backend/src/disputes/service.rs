//! Dispute use cases that are not order transitions: the message thread. (Opening and
//! resolving a dispute change the order, so they are transitions in `orders::service`.)

use sea_orm::{ActiveModelTrait, ActiveValue::Set, TransactionTrait};
use serde_json::json;

use super::store::{self, dispute, message};
use crate::audit;
use crate::db::now_ms;
use crate::error::{ApiError, ApiResult};
use crate::ids;
use crate::orders::request::bounded_text;
use crate::state::AppState;

/// Who writes a message.
pub enum Author<'a> {
    Admin {
        user_id: &'a str,
        ip: Option<&'a str>,
    },
    Acceptor {
        acceptor_id: &'a str,
    },
}

/// Adds a message (1–5000 characters) to an open or resolved dispute. An admin's message
/// is audited in the same transaction.
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
    };
    let txn = state.db.begin().await?;
    let saved = message::ActiveModel {
        id: Set(ids::new("dmsg")),
        dispute_id: Set(d.id.clone()),
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
    txn.commit().await?;
    Ok(saved)
}

/// The open dispute of an order the caller may see, or `409 invalid_state` when there is
/// none.
pub async fn open_of_order(state: &AppState, order_id: &str) -> ApiResult<dispute::Model> {
    store::open_dispute_of_order(&state.db, order_id)
        .await?
        .ok_or_else(|| ApiError::invalid_state("This order has no open dispute."))
}
