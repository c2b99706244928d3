//! The orders pages' data: the filter as entered, the orders as rows (status in
//! words), one order with its history and the attempts of its webhooks.

use askama::Template;
use serde::Deserialize;

use crate::ids::OrderId;
use crate::money::format_usdt;
use crate::orders::model::OrderStatus;
use crate::orders::order;
use crate::pages::PageCtx;
use crate::pages::acceptor::history::model::status_key;
use crate::pages::context::urlencode;
use crate::pages::time_pair;

/// `GET /merchant?q=&status=&from=&to=&mode=&starting_after=` (and the CSV export).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct OrdersQuery {
    /// An order id, a reference or a merchant order id.
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub status: String,
    /// `YYYY-MM-DD` (UTC), the first day shown.
    #[serde(default)]
    pub from: String,
    /// `YYYY-MM-DD` (UTC), the last day shown.
    #[serde(default)]
    pub to: String,
    /// `live` (default) or `test`.
    #[serde(default)]
    pub mode: String,
    #[serde(default)]
    pub starting_after: Option<String>,
}

impl OrdersQuery {
    pub fn livemode(&self) -> bool {
        self.mode != "test"
    }

    /// The query string of this filter (without the cursor).
    pub fn filter_query(&self) -> String {
        [
            ("q", &self.q),
            ("status", &self.status),
            ("from", &self.from),
            ("to", &self.to),
            ("mode", &self.mode),
        ]
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", urlencode(v)))
        .collect::<Vec<_>>()
        .join("&")
    }
}

pub struct OrderRow {
    pub id: OrderId,
    pub reference: String,
    pub merchant_order_id: String,
    pub created: (String, String),
    pub usdt: String,
    pub fiat: Option<String>,
    pub fiat_currency: String,
    pub status: &'static str,
}

impl From<&order::Model> for OrderRow {
    fn from(o: &order::Model) -> Self {
        Self {
            id: o.id.clone(),
            reference: o.reference.clone(),
            merchant_order_id: o.merchant_order_id.clone(),
            created: time_pair(o.created_at),
            usdt: format_usdt(o.amount),
            fiat: crate::orders::view::fiat_amount_of(o),
            fiat_currency: o.fiat_currency.clone(),
            status: o.status.as_str(),
        }
    }
}

#[derive(Template)]
#[template(path = "merchant/orders.html")]
pub struct OrdersPage {
    pub ctx: PageCtx,
    pub query: OrdersQuery,
    pub orders: Vec<OrderRow>,
    /// The `Load more` link, when there are older orders.
    pub next_href: Option<String>,
    /// (field id, message) of a filter that could not be read.
    pub errors: Vec<(&'static str, String)>,
}

impl OrdersPage {
    pub fn statuses(&self) -> [&'static str; 7] {
        OrderStatus::ALL.map(OrderStatus::as_str)
    }

    pub fn status_is(&self, status: &str) -> bool {
        self.query.status == status
    }

    pub fn error_for(&self, id: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| *f == id)
            .map(|(_, m)| m.as_str())
    }

    pub fn filtered(&self) -> bool {
        !self.query.filter_query().is_empty()
    }

    pub fn status_words(&self, status: &str) -> &str {
        self.ctx.t(status_key(status))
    }

    pub fn csv_href(&self) -> String {
        let filter = self.query.filter_query();
        if filter.is_empty() {
            "/merchant/orders.csv".to_owned()
        } else {
            format!("/merchant/orders.csv?{filter}")
        }
    }
}

/// One step of an order's history.
pub struct EventRow {
    pub at: (String, String),
    pub status: String,
    pub actor: String,
    pub note: Option<String>,
}

/// One delivery attempt of one of the order's webhooks.
pub struct AttemptRow {
    pub event_type: String,
    pub attempt: i32,
    pub success: bool,
    pub status_code: Option<i32>,
    pub duration_ms: i64,
    pub excerpt: Option<String>,
    pub error: Option<String>,
    pub at: (String, String),
}

#[derive(Template)]
#[template(path = "merchant/order.html")]
pub struct OrderPage {
    pub ctx: PageCtx,
    pub row: OrderRow,
    pub livemode: bool,
    pub fee: String,
    pub net: String,
    pub cashier_url: String,
    pub callback_url: Option<String>,
    pub expires_at: (String, String),
    pub events: Vec<EventRow>,
    pub attempts: Vec<AttemptRow>,
    /// Webhook events not attempted yet (event type, status).
    pub pending: Vec<(String, String)>,
}

impl OrderPage {
    pub fn status_words(&self, status: &str) -> &str {
        self.ctx.t(status_key(status))
    }

    pub fn mode(&self) -> &str {
        self.ctx.t(super::super::mode_key(self.livemode))
    }

    /// Who made a step of the history, in words.
    pub fn actor_words<'a>(&self, actor: &'a str) -> &'a str {
        match actor {
            "merchant" => self.ctx.t("merchant_order.actor_merchant"),
            "acceptor" => self.ctx.t("merchant_order.actor_acceptor"),
            "customer" => self.ctx.t("merchant_order.actor_customer"),
            "admin" => self.ctx.t("merchant_order.actor_admin"),
            "system" => self.ctx.t("merchant_order.actor_system"),
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filter_survives_the_next_link_and_the_export() {
        let query = OrdersQuery {
            q: "shop order 1".into(),
            status: "completed".into(),
            mode: "test".into(),
            starting_after: Some("ord_x".into()),
            ..Default::default()
        };
        assert_eq!(
            query.filter_query(),
            "q=shop%20order%201&status=completed&mode=test"
        );
        assert!(!query.livemode());
    }
}
