//! The dispute object of the API.

use serde::Serialize;

pub use super::status::DisputeStatus;
use super::store::{dispute, message};
use crate::db::rfc3339;
use crate::money::format_usdt;

/// A dispute of an order.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Dispute)]
pub struct DisputeView {
    #[schema(example = "dsp_01JD3Q4ZK8M6W2X9V7T5R3P1NB")]
    pub id: String,
    pub order_id: String,
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

#[derive(Debug, Serialize)]
pub struct MessageView {
    pub id: String,
    pub author_role: String,
    pub author_id: Option<String>,
    pub body: String,
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
