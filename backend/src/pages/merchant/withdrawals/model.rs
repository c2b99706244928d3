//! The withdrawals page's data: the request form (values kept after a refusal, the
//! generated `merchant_withdrawal_id` that makes a double submit harmless) and the
//! list, status in words.

use askama::Template;
use serde::Deserialize;

use crate::ids::WithdrawalId;
use crate::money::format_usdt;
use crate::pages::{PageCtx, time_pair};
use crate::values::networks::NETWORKS;
use crate::withdrawals::withdrawal;

/// `POST /merchant/withdrawals`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct WithdrawalForm {
    #[serde(default)]
    pub csrf_token: String,
    #[serde(default)]
    pub amount: String,
    #[serde(default)]
    pub network: String,
    #[serde(default)]
    pub address: String,
    /// Generated with the form: one form, one withdrawal.
    #[serde(default)]
    pub merchant_withdrawal_id: String,
    #[serde(default)]
    pub totp_code: String,
    #[serde(default)]
    pub mode: String,
}

impl WithdrawalForm {
    pub fn livemode(&self) -> bool {
        self.mode != "test"
    }
}

pub struct WithdrawalRow {
    pub id: WithdrawalId,
    pub amount: String,
    pub fee: String,
    pub network: String,
    pub address: String,
    pub status: String,
    pub txid: Option<String>,
    pub reason: Option<String>,
    pub created: (String, String),
}

impl From<&withdrawal::Model> for WithdrawalRow {
    fn from(w: &withdrawal::Model) -> Self {
        Self {
            id: w.id.clone(),
            amount: format_usdt(w.amount),
            fee: format_usdt(w.fee),
            network: w.network.clone(),
            address: w.address.clone(),
            status: w.status.as_str().to_owned(),
            txid: w.txid.clone(),
            reason: w.reason.clone(),
            created: time_pair(w.created_at),
        }
    }
}

/// A network as the form offers it.
pub struct NetworkOption {
    pub id: &'static str,
    pub fee: String,
    pub min: String,
}

pub fn network_options() -> Vec<NetworkOption> {
    NETWORKS
        .iter()
        .map(|n| NetworkOption {
            id: n.id,
            fee: format_usdt(n.withdrawal_fee),
            min: format_usdt(n.min_withdrawal),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "merchant/withdrawals.html")]
pub struct WithdrawalsPage {
    pub ctx: PageCtx,
    pub livemode: bool,
    pub available: String,
    pub form: WithdrawalForm,
    pub networks: Vec<NetworkOption>,
    pub totp: bool,
    /// (field id, message).
    pub errors: Vec<(&'static str, String)>,
    pub rows: Vec<WithdrawalRow>,
    pub next_href: Option<String>,
}

impl WithdrawalsPage {
    pub fn error_for(&self, id: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| *f == id)
            .map(|(_, m)| m.as_str())
    }

    /// The network's name as merchants know it: TRC-20, ERC-20, BEP-20.
    pub fn network_name<'a>(&self, id: &'a str) -> &'a str {
        match id {
            "tron" => self.ctx.t("merchant_withdrawals.network_tron"),
            "ethereum" => self.ctx.t("merchant_withdrawals.network_ethereum"),
            "bsc" => self.ctx.t("merchant_withdrawals.network_bsc"),
            other => other,
        }
    }

    pub fn network_help(&self, n: &NetworkOption) -> String {
        self.ctx.fmt(
            "merchant_withdrawals.network_terms",
            &[
                ("network", self.network_name(n.id)),
                ("fee", &n.fee),
                ("min", &n.min),
            ],
        )
    }

    pub fn status_words<'a>(&self, status: &'a str) -> &'a str {
        match status {
            "review" => self.ctx.t("merchant_withdrawals.status_review"),
            "approved" => self.ctx.t("merchant_withdrawals.status_approved"),
            "completed" => self.ctx.t("merchant_withdrawals.status_completed"),
            "rejected" => self.ctx.t("merchant_withdrawals.status_rejected"),
            "failed" => self.ctx.t("merchant_withdrawals.status_failed"),
            other => other,
        }
    }

    /// The badge colour of a withdrawal status (the order badges' palette).
    pub fn badge<'a>(&self, status: &'a str) -> &'a str {
        match status {
            "review" => "assigned",
            "approved" => "paid",
            "completed" => "completed",
            _ => "cancelled",
        }
    }

    pub fn available_text(&self) -> String {
        self.ctx.fmt(
            "merchant_withdrawals.available",
            &[("amount", &self.available)],
        )
    }

    pub fn selected(&self, id: &str) -> bool {
        self.form.network == id || (self.form.network.is_empty() && id == "tron")
    }
}
