//! The dispute object of the API.

use serde::Serialize;

use super::store::{dispute, message};
use crate::db::rfc3339;
use crate::money::format_usdt;

#[derive(Debug, Serialize)]
pub struct DisputeView {
    pub id: String,
    pub order_id: String,
    pub status: String,
    pub opened_by: String,
    pub reason: String,
    pub contact: Option<String>,
    pub outcome: Option<String>,
    pub released_amount: Option<String>,
    pub resolution_note: Option<String>,
    pub created_at: String,
    pub resolved_at: Option<String>,
    pub livemode: bool,
}

impl From<&dispute::Model> for DisputeView {
    fn from(d: &dispute::Model) -> Self {
        Self {
            id: d.id.clone(),
            order_id: d.order_id.clone(),
            status: d.status.clone(),
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
