//! The overview's data.

use askama::Template;

use crate::pages::PageCtx;
use crate::pages::admin::{Chrome, order_status_key};

/// Orders of one state created today (UTC).
pub struct StateCount {
    pub status: String,
    pub count: i64,
}

#[derive(Template)]
#[template(path = "admin/overview.html")]
pub struct OverviewPage {
    pub ctx: PageCtx,
    pub chrome: Chrome,
    pub orders_today: Vec<StateCount>,
    pub orders_today_total: i64,
    pub open_disputes: u64,
    pub withdrawals_in_review: u64,
    pub webhooks_pending: u64,
    pub webhooks_failed: u64,
    pub ledger_ok: bool,
    pub ledger_violations: usize,
    /// `(kind, detail)` of the first violations.
    pub violations: Vec<(String, String)>,
    pub checked_at: (String, String),
}

impl OverviewPage {
    pub fn status(&self, row: &StateCount) -> &str {
        self.ctx.t(order_status_key(&row.status))
    }

    pub fn ledger_bad(&self) -> String {
        self.ctx.fmt(
            "admin_overview.ledger_bad",
            &[("count", &self.ledger_violations.to_string())],
        )
    }
}
