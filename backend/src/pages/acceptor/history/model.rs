//! The history page's data: the filter as entered, the orders as rows (status in
//! words), the link to the next page, and the commission earned per day.

use askama::Template;
use serde::Deserialize;

use crate::db::rfc3339;
use crate::ids::OrderId;
use crate::money::format_usdt;
use crate::orders::model::OrderStatus;
use crate::orders::order;
use crate::pages::PageCtx;
use crate::pages::context::urlencode;

/// `GET /acceptor/history?status=&from=&to=&starting_after=`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct HistoryQuery {
    #[serde(default)]
    pub status: String,
    /// `YYYY-MM-DD` (UTC), the first day shown.
    #[serde(default)]
    pub from: String,
    /// `YYYY-MM-DD` (UTC), the last day shown.
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub starting_after: Option<String>,
}

impl HistoryQuery {
    /// The query string of this filter (without the cursor).
    pub fn filter_query(&self) -> String {
        [
            ("status", &self.status),
            ("from", &self.from),
            ("to", &self.to),
        ]
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", urlencode(v)))
        .collect::<Vec<_>>()
        .join("&")
    }
}

/// A readable UTC time (`2026-03-01 14:05 UTC`).
pub fn readable_time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

pub struct OrderRow {
    pub id: OrderId,
    pub reference: String,
    pub created_at: String,
    pub created_text: String,
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
            created_at: rfc3339(o.created_at),
            created_text: readable_time(o.created_at),
            usdt: format_usdt(o.amount),
            fiat: crate::orders::view::fiat_amount_of(o),
            fiat_currency: o.fiat_currency.clone(),
            status: o.status.as_str(),
        }
    }
}

pub struct EarningRow {
    /// `YYYY-MM-DD`.
    pub date: String,
    pub commission: String,
}

#[derive(Template)]
#[template(path = "acceptor/history.html")]
pub struct HistoryPage {
    pub ctx: PageCtx,
    pub query: HistoryQuery,
    pub orders: Vec<OrderRow>,
    /// The `Load more` link, when there are older orders.
    pub next_href: Option<String>,
    /// (field id, message) of a filter that could not be read.
    pub errors: Vec<(&'static str, String)>,
    pub earnings: Vec<EarningRow>,
    pub earnings_total: String,
    pub earnings_days: i64,
}

impl HistoryPage {
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

    /// The status in words, as on the desk.
    pub fn status_words(&self, status: &str) -> &str {
        self.ctx.t(status_key(status))
    }

    pub fn earnings_caption(&self) -> String {
        self.ctx.fmt(
            "history.earnings_total",
            &[
                ("total", &self.earnings_total),
                ("days", &self.earnings_days.to_string()),
            ],
        )
    }
}

/// The catalogue key of a status word.
pub fn status_key(status: &str) -> &'static str {
    match status {
        "assigned" => "history.status_assigned",
        "paid" => "history.status_paid",
        "completed" => "history.status_completed",
        "expired" => "history.status_expired",
        "cancelled" => "history.status_cancelled",
        "disputed" => "history.status_disputed",
        _ => "history.status_matching",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filter_survives_the_next_link() {
        let query = HistoryQuery {
            status: "completed".into(),
            from: "2026-03-01".into(),
            to: String::new(),
            starting_after: Some("ord_x".into()),
        };
        assert_eq!(query.filter_query(), "status=completed&from=2026-03-01");
    }
}
