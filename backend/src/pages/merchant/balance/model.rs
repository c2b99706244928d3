//! The balance page's data: the live and test balances and one page of a mode's
//! statement.

use askama::Template;

use crate::pages::PageCtx;
use crate::pages::top_up::TopUp;
use crate::withdrawals::model::StatementEntry;

pub struct BalanceView {
    pub available: String,
    pub pending: String,
}

pub struct EntryRow {
    pub id: String,
    pub kind: String,
    pub amount: String,
    pub credit: bool,
    pub balance_after: String,
    pub reference: String,
    pub at: String,
    pub at_text: String,
}

impl From<StatementEntry> for EntryRow {
    fn from(e: StatementEntry) -> Self {
        Self {
            credit: !e.amount.starts_with('-'),
            at_text: crate::pages::human_time_of(&e.created_at),
            id: e.id,
            kind: e.kind,
            amount: e.amount,
            balance_after: e.balance_after,
            reference: e.reference,
            at: e.created_at,
        }
    }
}

#[derive(Template)]
#[template(path = "merchant/balance.html")]
pub struct BalancePage {
    pub ctx: PageCtx,
    pub live: BalanceView,
    pub test: BalanceView,
    /// The mode of the statement shown.
    pub livemode: bool,
    pub entries: Vec<EntryRow>,
    pub next_href: Option<String>,
    /// On-chain top-up addresses and deposits; `None` when no chain is followed.
    pub top_up: Option<TopUp>,
}

impl BalancePage {
    /// The words of a statement line's kind (`order_credit`, `withdrawal`, …).
    pub fn kind_words<'a>(&self, kind: &'a str) -> &'a str {
        match kind {
            "order_credit" => self.ctx.t("merchant_balance.kind_order_credit"),
            "withdrawal" => self.ctx.t("merchant_balance.kind_withdrawal"),
            "withdrawal_fee" => self.ctx.t("merchant_balance.kind_withdrawal_fee"),
            "deposit" => self.ctx.t("merchant_balance.kind_deposit"),
            "order_excess" => self.ctx.t("merchant_balance.kind_order_excess"),
            other => other,
        }
    }

    /// The link to a line's business object, when the dashboard has a page for it.
    pub fn reference_href(&self, reference: &str) -> Option<String> {
        reference
            .starts_with("ord_")
            .then(|| format!("/merchant/orders/{reference}"))
    }
}
