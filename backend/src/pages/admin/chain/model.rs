//! The admins' list of on-chain transfers: those to review (credited, then their block
//! left the chain; or not credited and waiting for a decision), and the pending and
//! credited ones for reference.

use askama::Template;
use serde::Deserialize;

use crate::pages::PageCtx;
use crate::pages::admin::Chrome;

/// `GET /admin/chain?status=review|pending|confirmed`.
#[derive(Debug, Default, Deserialize)]
pub struct ChainQuery {
    #[serde(default)]
    pub status: String,
}

pub struct TransferRow {
    pub at: (String, String),
    pub network_name: &'static str,
    /// `Acceptor`, `Merchant`, `Order` in the page's language.
    pub owner: String,
    pub owner_id: String,
    pub owner_href: Option<String>,
    pub txid: String,
    pub txid_short: String,
    pub log_index: i64,
    pub block: i64,
    pub amount: String,
    /// `vanished`, `review`, `pending`, `confirmed`, `dropped`.
    pub status: &'static str,
    pub status_words: String,
    pub reason: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/chain.html")]
pub struct ChainPage {
    pub ctx: PageCtx,
    pub chrome: Chrome,
    /// `review` (the default), `pending` or `confirmed`.
    pub tab: &'static str,
    pub rows: Vec<TransferRow>,
    /// No network's deposits are followed.
    pub off: bool,
}

impl ChainPage {
    pub fn badge(&self, status: &str) -> &'static str {
        match status {
            "vanished" => "danger",
            "review" | "pending" => "warning",
            "confirmed" => "success",
            _ => "expired",
        }
    }
}
