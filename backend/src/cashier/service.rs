//! The customer's actions, addressed by the cashier token: find the order, report the
//! payment, appeal. The JSON routes and the page call these.

use crate::disputes::dispute;
use crate::error::{ApiError, ApiResult};
use crate::orders::order;
use crate::orders::service::{self as orders, Scope};
use crate::state::AppState;

/// The order of a cashier token; a malformed or unknown token is `404`.
pub async fn find(state: &AppState, token: &str) -> ApiResult<order::Model> {
    // Tokens are 48 hex characters; anything else is not worth a query.
    if token.len() != 48 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ApiError::not_found("order"));
    }
    orders::find_by_cashier_token(&state.db, token)
        .await?
        .ok_or_else(|| ApiError::not_found("order"))
}

/// "I have paid", with the name the customer typed (trimmed, at most 100 characters).
pub async fn mark_paid(
    state: &AppState,
    token: &str,
    payer_name: Option<String>,
) -> ApiResult<order::Model> {
    let o = find(state, token).await?;
    let payer_name = payer_name
        .map(|n| {
            n.trim()
                .chars()
                .filter(|c| !c.is_control())
                .take(100)
                .collect::<String>()
        })
        .filter(|n| !n.is_empty());
    orders::mark_paid(state, &o.cashier_token, payer_name).await
}

/// The customer's appeal (while paid, or after expiry within the appeal window), with a
/// contact (trimmed, at most 200 characters).
pub async fn appeal(
    state: &AppState,
    token: &str,
    reason: Option<String>,
    contact: Option<String>,
) -> ApiResult<dispute::Model> {
    let reason = crate::values::parse_reason(reason)?;
    let contact = contact
        .map(|c| {
            c.trim()
                .chars()
                .filter(|c| !c.is_control())
                .take(200)
                .collect::<String>()
        })
        .filter(|c| !c.is_empty());
    let o = find(state, token).await?;
    let scope = Scope::Cashier {
        token: &o.cashier_token,
    };
    let (_, opened) = orders::open_dispute(state, &o.id, scope, reason, contact).await?;
    Ok(opened)
}

/// The customer's message in the order's open dispute (text evidence such as the bank
/// transaction reference). No open dispute → `409 invalid_state`.
pub async fn post_message(
    state: &AppState,
    token: &str,
    body: Option<String>,
) -> ApiResult<crate::disputes::message::Model> {
    let o = find(state, token).await?;
    let open = crate::disputes::service::open_of_order(state, &o.id).await?;
    crate::disputes::service::post_message(
        state,
        &open,
        crate::disputes::service::Author::Customer,
        body,
    )
    .await
}

/// The messages of the order's latest dispute, oldest first (none when it has none).
pub async fn thread(
    state: &AppState,
    o: &order::Model,
) -> ApiResult<Vec<crate::disputes::message::Model>> {
    let Some(d) = crate::disputes::service::latest_of_order(&state.db, &o.id).await? else {
        return Ok(Vec::new());
    };
    Ok(crate::disputes::service::messages_of(&state.db, &d.id).await?)
}
