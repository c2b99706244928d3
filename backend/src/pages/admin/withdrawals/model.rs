//! The withdrawal queue's data.

use askama::Template;
use serde::Deserialize;

use crate::ids::{MerchantId, WithdrawalId};
use crate::money::format_usdt;
use crate::pages::PageCtx;
use crate::pages::admin::Chrome;
use crate::withdrawals::withdrawal;

pub struct WithdrawalRow {
    pub id: WithdrawalId,
    pub merchant: String,
    pub merchant_id: MerchantId,
    pub status: String,
    pub amount: String,
    pub fee: String,
    pub network: String,
    pub address: String,
    pub livemode: bool,
    pub created_at: (String, String),
}

impl WithdrawalRow {
    pub fn new(w: &withdrawal::Model, merchant: String) -> Self {
        Self {
            id: w.id.clone(),
            merchant,
            merchant_id: w.merchant_id.clone(),
            status: w.status.as_str().to_owned(),
            amount: format_usdt(w.amount),
            fee: format_usdt(w.fee),
            network: w.network.clone(),
            address: w.address.clone(),
            livemode: w.livemode,
            created_at: crate::pages::time_pair(w.created_at),
        }
    }
}

#[derive(Template)]
#[template(path = "admin/withdrawals.html")]
pub struct WithdrawalsPage {
    pub ctx: PageCtx,
    pub chrome: Chrome,
    pub rows: Vec<WithdrawalRow>,
}

impl WithdrawalsPage {
    pub fn status_word(&self, status: &str) -> &str {
        self.ctx.t(match status {
            "review" => "admin_withdrawals.status_review",
            _ => "admin_withdrawals.status_approved",
        })
    }

    pub fn badge(&self, status: &str) -> &'static str {
        if status == "review" {
            "badge-warning"
        } else {
            "badge-info"
        }
    }

    pub fn in_review(&self) -> usize {
        self.rows.iter().filter(|r| r.status == "review").count()
    }

    pub fn approve_question(&self, row: &WithdrawalRow) -> String {
        self.ctx.fmt(
            "admin_withdrawals.approve_question",
            &[("amount", &row.amount), ("merchant", &row.merchant)],
        )
    }

    pub fn reject_question(&self, row: &WithdrawalRow) -> String {
        self.ctx.fmt(
            "admin_withdrawals.reject_question",
            &[("amount", &row.amount), ("merchant", &row.merchant)],
        )
    }

    pub fn fail_question(&self, row: &WithdrawalRow) -> String {
        self.ctx.fmt(
            "admin_withdrawals.fail_question",
            &[("amount", &row.amount), ("merchant", &row.merchant)],
        )
    }
}

/// `POST /admin/withdrawals/{id}/{action}`.
#[derive(Debug, Default, Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    pub csrf_token: String,
    pub reason: Option<String>,
    pub txid: Option<String>,
}
