//! The dispute object of the API.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::store::{dispute, message};
use crate::db::rfc3339;
use crate::ids::{AcceptorId, DisputeId, MerchantId, OrderId};
use crate::money::format_usdt;
pub use crate::orders::dispute::DisputeStatus;
use crate::orders::order_event;
use crate::orders::view::OrderView;

/// A dispute of an order.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Dispute)]
pub struct DisputeView {
    #[schema(example = "dsp_01JD3Q4ZK8M6W2X9V7T5R3P1NB")]
    pub id: DisputeId,
    pub order_id: OrderId,
    /// `open` or `resolved`.
    #[schema(example = "open")]
    pub status: String,
    /// Who opened it: `merchant`, `acceptor`, `customer`, `admin` or `system`.
    #[schema(example = "merchant")]
    pub opened_by: String,
    pub reason: String,
    /// The customer's contact, when the customer opened it.
    #[schema(required = true)]
    pub contact: Option<String>,
    /// `release` or `cancel` once resolved.
    #[schema(required = true)]
    pub outcome: Option<String>,
    /// USDT released by the resolution.
    #[schema(required = true, format = "decimal")]
    pub released_amount: Option<String>,
    #[schema(required = true)]
    pub resolution_note: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(required = true, format = DateTime)]
    pub resolved_at: Option<String>,
    pub livemode: bool,
}

impl From<&dispute::Model> for DisputeView {
    fn from(d: &dispute::Model) -> Self {
        Self {
            id: d.id.clone(),
            order_id: d.order_id.clone(),
            status: d.status.as_str().to_owned(),
            opened_by: d.opened_by.clone(),
            reason: d.reason.clone(),
            contact: d.contact.clone(),
            outcome: d.outcome.clone(),
            released_amount: d.released_amount.map(format_usdt),
            resolution_note: d.resolution_note.clone(),
            created_at: rfc3339(d.created_at),
            resolved_at: d.resolved_at.map(rfc3339),
            livemode: d.livemode,
        }
    }
}

crate::page_schema!(
    /// A page of disputes.
    DisputeList,
    DisputeView
);

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = DisputeMessage)]
pub struct MessageView {
    pub id: String,
    /// `admin`, `acceptor` or `customer`.
    pub author_role: String,
    #[schema(required = true)]
    pub author_id: Option<String>,
    pub body: String,
    #[schema(format = DateTime)]
    pub created_at: String,
}

impl From<&message::Model> for MessageView {
    fn from(m: &message::Model) -> Self {
        Self {
            id: m.id.clone(),
            author_role: m.author_role.clone(),
            author_id: m.author_id.clone(),
            body: m.body.clone(),
            created_at: rfc3339(m.created_at),
        }
    }
}

/// A dispute with everything an admin needs to decide it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DisputeDetail {
    pub dispute: DisputeView,
    /// The order (without `qr_code`).
    pub order: OrderView,
    pub parties: DisputeParties,
    pub messages: Vec<MessageView>,
    /// The order's history, oldest first.
    pub events: Vec<OrderEventView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DisputeParties {
    #[schema(required = true, value_type = Option<DisputeMerchant>)]
    pub merchant: DisputeMerchant,
    #[schema(required = true)]
    pub acceptor: Option<DisputeAcceptor>,
    /// The name the customer gave when marking the order paid.
    #[schema(required = true)]
    pub payer_name: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DisputeMerchant {
    pub id: MerchantId,
    pub name: String,
    pub email: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DisputeAcceptor {
    pub id: AcceptorId,
    pub display_name: String,
}

/// One state change of an order.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = OrderEvent)]
pub struct OrderEventView {
    pub id: String,
    /// The event kind, e.g. `order.paid`.
    #[serde(rename = "type")]
    pub kind: String,
    #[schema(required = true)]
    pub from_status: Option<String>,
    #[schema(required = true, value_type = Option<String>)]
    pub to_status: String,
    /// `merchant`, `acceptor`, `customer`, `admin` or `system`.
    pub actor: String,
    #[schema(required = true)]
    pub actor_id: Option<String>,
    #[schema(required = true)]
    pub note: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
}

impl From<&order_event::Model> for OrderEventView {
    fn from(e: &order_event::Model) -> Self {
        Self {
            id: e.id.clone(),
            kind: e.kind.clone(),
            from_status: e.from_status.clone(),
            to_status: e.to_status.clone(),
            actor: e.actor.clone(),
            actor_id: e.actor_id.clone(),
            note: e.note.clone(),
            created_at: rfc3339(e.created_at),
        }
    }
}

// The answer of a resolution: the dispute and its order after it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DisputeResolution {
    pub dispute: DisputeView,
    pub order: OrderView,
}

// `POST /api/v1/admin/disputes/{id}/messages`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = DisputeMessageRequest, example = json!({"body": "Please upload the bank receipt."}))]
pub struct MessageRequest {
    /// 1–5000 characters, not blank.
    #[schema(
        required = true,
        value_type = String,
        min_length = 1,
        max_length = 5000,
        pattern = "\\S"
    )]
    pub body: Option<String>,
}

// `POST /api/v1/admin/disputes/{id}/resolve`; checked by `service::resolve`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = ResolveDisputeRequest, example = json!({"outcome": "release", "amount": "60.00", "note": "Partial payment proven by receipt."}))]
pub struct ResolveRequest {
    #[schema(required = true, value_type = DisputeOutcome)]
    pub outcome: Option<String>,
    /// USDT to release (`release` only; default the whole order amount). Below the
    /// order amount it is a partial release.
    #[schema(
        value_type = Option<String>,
        format = "decimal",
        min_length = 1,
        pattern = "^[0-9]{1,18}(\\.[0-9]{1,6})?$"
    )]
    pub amount: Option<Value>,
    /// 1–2000 characters, not blank.
    #[schema(required = true, value_type = String, min_length = 1, max_length = 2000, pattern = "\\S")]
    pub note: Option<String>,
}

/// `release`: the order completes and the merchant is credited; `cancel`: the order is
/// cancelled and the acceptor's reservation returns.
// In the document only: the request carries it as a string, read by `service::resolve`.
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum DisputeOutcome {
    Release,
    Cancel,
}
