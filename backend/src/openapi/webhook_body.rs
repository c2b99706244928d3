//! Document-only shapes of the webhook body: `WebhookEvent::data` is stored and sent as
//! the JSON of an order, a withdrawal or an on-chain deposit view, and its `type` is one of the `KIND`
//! strings of the order transitions and the withdrawal events. The webhooks feature
//! carries both as JSON and does not depend on orders or withdrawals; the document,
//! which sits above every feature, names them here.

use serde::Serialize;
use utoipa::openapi::schema::Schema;
use utoipa::openapi::{Components, Ref, RefOr};

use crate::chain::service::ChainDepositView;
use crate::error::{ApiError, ApiResult};
use crate::orders::view::OrderView;
use crate::withdrawals::model::WithdrawalView;

/// The shapes of `WebhookEvent.data`.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum WebhookData {
    Order(Box<OrderView>),
    Withdrawal(Box<WithdrawalView>),
    Deposit(Box<ChainDepositView>),
}

/// The kinds of `WebhookEvent`.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub enum WebhookEventType {
    #[schema(rename = "order.assigned")]
    OrderAssigned,
    #[schema(rename = "order.paid")]
    OrderPaid,
    #[schema(rename = "order.completed")]
    OrderCompleted,
    #[schema(rename = "order.expired")]
    OrderExpired,
    #[schema(rename = "order.cancelled")]
    OrderCancelled,
    #[schema(rename = "order.disputed")]
    OrderDisputed,
    #[schema(rename = "order.dispute_resolved")]
    OrderDisputeResolved,
    #[schema(rename = "withdrawal.reviewed")]
    WithdrawalReviewed,
    #[schema(rename = "withdrawal.completed")]
    WithdrawalCompleted,
    #[schema(rename = "withdrawal.failed")]
    WithdrawalFailed,
    /// A transfer to the merchant's top-up address is in a block, confirming.
    #[schema(rename = "deposit.pending")]
    DepositPending,
    /// The transfer has its confirmations and is credited to the live balance.
    #[schema(rename = "deposit.confirmed")]
    DepositConfirmed,
}

/// Points `WebhookEvent.data` and `WebhookEvent.type` at the shapes above.
pub(super) fn name_shapes(components: &mut Components) -> ApiResult<()> {
    let Some(RefOr::T(Schema::Object(event))) = components.schemas.get_mut("WebhookEvent") else {
        return Err(ApiError::internal(
            "the document has no WebhookEvent object",
        ));
    };
    for (property, shape) in [("data", "WebhookData"), ("type", "WebhookEventType")] {
        let Some(slot) = event.properties.get_mut(property) else {
            return Err(ApiError::internal(format!(
                "WebhookEvent has no `{property}`"
            )));
        };
        let description = match slot {
            RefOr::T(Schema::Object(o)) => o.description.clone(),
            _ => None,
        };
        let mut named = Ref::from_schema_name(shape);
        if let Some(text) = description {
            named.description = text;
        }
        *slot = RefOr::Ref(named);
    }
    Ok(())
}
