//! The webhooks page's data: the endpoint (with the value entered after a refusal),
//! the rotation's state, a secret just made (shown once), and the delivery log.

use askama::Template;
use serde::Deserialize;

use crate::ids::EventId;
use crate::pages::PageCtx;
use crate::webhooks::model::DeliveryView;

#[derive(Debug, Default, Deserialize)]
pub struct EndpointForm {
    #[serde(default)]
    pub csrf_token: String,
    #[serde(default)]
    pub webhook_url: String,
}

pub struct DeliveryRow {
    pub event_id: EventId,
    pub event_type: String,
    pub success: bool,
    pub attempt: i32,
    pub status_code: Option<i32>,
    pub duration_ms: i64,
    pub response: Option<String>,
    pub at: String,
    pub at_text: String,
}

impl From<DeliveryView> for DeliveryRow {
    fn from(d: DeliveryView) -> Self {
        Self {
            at_text: crate::pages::human_time_of(&d.created_at),
            event_id: d.event_id,
            event_type: d.event_type,
            success: d.success,
            attempt: d.attempt,
            status_code: d.status_code,
            duration_ms: d.duration_ms,
            response: d.response_excerpt.or(d.error),
            at: d.created_at,
        }
    }
}

#[derive(Template)]
#[template(path = "merchant/webhooks.html")]
pub struct WebhooksPage {
    pub ctx: PageCtx,
    pub livemode: bool,
    /// The endpoint as saved, or as entered when it was refused.
    pub webhook_url: String,
    pub url_error: Option<String>,
    /// A secret just made by a rotation (this response only).
    pub new_secret: Option<String>,
    /// Until when the previous secret still signs, during an overlap.
    pub previous_until: Option<(String, String)>,
    pub deliveries: Vec<DeliveryRow>,
    pub next_href: Option<String>,
}

impl WebhooksPage {
    pub fn mode_value(&self) -> &'static str {
        if self.livemode { "live" } else { "test" }
    }

    pub fn overlap_text(&self, until: &str) -> String {
        self.ctx
            .fmt("merchant_webhooks.overlap", &[("until", until)])
    }

    pub fn redeliver_label(&self, d: &DeliveryRow) -> String {
        self.ctx.fmt(
            "merchant_webhooks.redeliver_label",
            &[("event", &d.event_type), ("id", &d.event_id)],
        )
    }
}
