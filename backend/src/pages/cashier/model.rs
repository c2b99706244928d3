//! What the cashier page shows: the fiat amount to pay, each payment detail with its
//! human label, the reference, the deadline, the status in words and what happens next,
//! and the form that fits the state.

use askama::Template;
use serde_json::Value;

use crate::db::{now_ms, rfc3339};
use crate::money::format_usdt;
use crate::orders::order;
use crate::pages::PageCtx;

/// What an on-chain order's customer sends, and what the chain has said so far.
pub struct OnchainPay {
    pub network_name: &'static str,
    pub address: String,
    pub token_contract: String,
    pub amount: String,
    pub uri: String,
    /// A PNG data URI of a QR code of `uri`.
    pub qr: Option<String>,
    /// Micro-USDT seen at the address.
    pub paid: i64,
    pub paid_text: String,
    pub confirmations: i64,
    /// The network's confirmations (0 when the network is no longer followed).
    pub required: u32,
    pub txid: Option<String>,
}

/// One line of the payment details.
pub struct Detail {
    /// As the acceptor's payment method names it (`account_number`).
    pub key: String,
    /// The key in words, for details the catalogue does not name.
    pub words: String,
    pub value: String,
}

#[derive(Template)]
#[template(path = "cashier/page.html")]
pub struct CashierPage {
    pub ctx: PageCtx,
    pub token: String,
    pub status: &'static str,
    pub fiat_amount: Option<String>,
    pub fiat_currency: String,
    pub usdt_amount: String,
    pub reference: String,
    pub method: Option<String>,
    pub details: Vec<Detail>,
    /// RFC 3339 deadline of the payment window.
    pub expires_at: String,
    pub appeal_open: bool,
    pub appeal_until: Option<String>,
    pub payer_name: Option<String>,
    pub return_url: Option<String>,
    pub error: Option<String>,
    /// The dispute thread: (who wrote it, as a catalogue key; when; the text).
    pub messages: Vec<(&'static str, (String, String), String)>,
    /// An on-chain order's transfer (see [`CashierPage::with_onchain`]).
    pub onchain: Option<OnchainPay>,
}

impl CashierPage {
    pub fn new(ctx: PageCtx, o: &order::Model, error: Option<String>) -> Self {
        let status = o.status.as_str();
        let details_json: Option<Value> = o
            .payment_details
            .as_deref()
            .and_then(|d| serde_json::from_str(d).ok());
        let details = details_json
            .as_ref()
            .and_then(Value::as_object)
            .map(|map| {
                map.iter()
                    .filter(|(k, _)| !matches!(k.as_str(), "reference" | "method"))
                    .map(|(k, v)| Detail {
                        key: k.clone(),
                        words: k.replace('_', " "),
                        value: v.as_str().map_or_else(|| v.to_string(), str::to_owned),
                    })
                    .collect::<Vec<Detail>>()
            })
            .unwrap_or_default();
        let mut details = details;
        // The order a customer types them in: bank, name, number, the rest.
        details.sort_by_key(|d| match d.key.as_str() {
            "bank_name" => 0,
            "account_name" => 1,
            "account_number" => 2,
            _ => 3,
        });
        let now = now_ms();
        let appeal_open =
            status == "paid" || (status == "expired" && o.appeal_deadline.is_some_and(|d| d > now));
        Self {
            ctx,
            token: o.cashier_token.clone(),
            status,
            fiat_amount: crate::orders::view::fiat_amount_of(o),
            fiat_currency: o.fiat_currency.clone(),
            usdt_amount: format_usdt(o.amount),
            reference: o.reference.clone(),
            method: o.payment_method.clone(),
            details,
            expires_at: rfc3339(o.expires_at),
            appeal_open,
            appeal_until: o.appeal_deadline.map(rfc3339),
            payer_name: o.payer_name.clone(),
            return_url: o.return_url.clone().filter(|_| status == "completed"),
            error,
            messages: Vec::new(),
            onchain: None,
        }
    }

    /// The page of an on-chain order: its address, exact amount, QR code and progress;
    /// `required` is its network's confirmations.
    pub fn with_onchain(mut self, o: &order::Model, required: Option<u32>) -> Self {
        if o.rail != crate::orders::model::Rail::Onchain {
            return self;
        }
        let details: Value = o
            .payment_details
            .as_deref()
            .and_then(|d| serde_json::from_str(d).ok())
            .unwrap_or_default();
        let text = |key: &str| details[key].as_str().unwrap_or_default().to_owned();
        let uri = text("uri");
        let paid = o.paid_amount.unwrap_or(0);
        // A confirming transfer completes by itself: no dispute while `paid`.
        self.appeal_open &= self.status != "paid";
        self.onchain = Some(OnchainPay {
            network_name: o
                .network
                .as_deref()
                .and_then(crate::values::networks::Network::find)
                .map_or("", |n| n.name),
            address: text("address"),
            token_contract: text("token_contract"),
            amount: text("amount"),
            qr: crate::orders::view::qr_data_uri(&uri),
            uri,
            paid,
            paid_text: format_usdt(paid),
            confirmations: o.confirmations.unwrap_or(0),
            required: required.unwrap_or(0),
            txid: o.txid.clone(),
        });
        self
    }

    /// The heading of an on-chain order's transfer: "Send USDT on Ethereum (ERC-20)".
    pub fn onchain_heading(&self) -> String {
        let network = self.onchain.as_ref().map_or("", |c| c.network_name);
        self.ctx
            .fmt("cashier.onchain_heading", &[("network", network)])
    }

    /// "Received 40.00 of 100.00 USDT", once something arrived.
    pub fn onchain_received(&self) -> Option<String> {
        let c = self.onchain.as_ref().filter(|c| c.paid > 0)?;
        Some(self.ctx.fmt(
            "cashier.onchain_received",
            &[("paid", &c.paid_text), ("amount", &c.amount)],
        ))
    }

    /// "2 of 12 confirmations", while the transfer is confirming.
    pub fn onchain_progress(&self) -> Option<String> {
        let c = self.onchain.as_ref().filter(|_| self.status == "paid")?;
        Some(self.ctx.fmt(
            "cashier.onchain_confirmations",
            &[
                ("n", &c.confirmations.to_string()),
                ("m", &c.required.to_string()),
            ],
        ))
    }

    /// The label of a detail: from the catalogue when known, else its key in words.
    pub fn label<'a>(&'a self, detail: &'a Detail) -> &'a str {
        match detail.key.as_str() {
            "bank_name" => self.ctx.t("cashier.detail_bank_name"),
            "account_name" => self.ctx.t("cashier.detail_account_name"),
            "account_number" => self.ctx.t("cashier.detail_account_number"),
            "branch" => self.ctx.t("cashier.detail_branch"),
            _ => &detail.words,
        }
    }

    /// The payment method in words (`bank_transfer` → "Bank transfer").
    pub fn method(&self) -> Option<&str> {
        Some(match self.method.as_deref()? {
            "bank_transfer" => self.ctx.t("method.bank_transfer"),
            "alipay" => self.ctx.t("method.alipay"),
            "wechat_pay" => self.ctx.t("method.wechat_pay"),
            other => other,
        })
    }

    /// The status in words, for the paying customer.
    pub fn status_text(&self) -> &str {
        if self.onchain.is_some() && self.status == "paid" {
            return self.ctx.t("cashier.status_onchain_paid");
        }
        self.ctx.t(match self.status {
            "assigned" => "cashier.status_assigned",
            "paid" => "cashier.status_paid",
            "completed" => "cashier.status_completed",
            "expired" => "cashier.status_expired",
            "cancelled" => "cashier.status_cancelled",
            "disputed" => "cashier.status_disputed",
            _ => "cashier.status_matching",
        })
    }

    /// What happens next, in one sentence.
    pub fn next_text(&self) -> &str {
        match (self.onchain.is_some(), self.status) {
            (true, "assigned") => return self.ctx.t("cashier.next_onchain_assigned"),
            (true, "paid") => return self.ctx.t("cashier.next_onchain_paid"),
            _ => {}
        }
        self.ctx.t(match self.status {
            "assigned" => "cashier.next_assigned",
            "paid" => "cashier.next_paid",
            "completed" => "cashier.next_completed",
            "expired" if self.appeal_open => "cashier.next_expired_appeal",
            "expired" => "cashier.next_expired",
            "cancelled" => "cashier.next_cancelled",
            "disputed" => "cashier.next_disputed",
            _ => "cashier.next_matching",
        })
    }

    pub fn is(&self, status: &str) -> bool {
        self.status == status
    }

    pub fn expires_text(&self) -> String {
        crate::pages::human_time_of(&self.expires_at)
    }

    pub fn for_usdt(&self) -> String {
        self.ctx
            .fmt("cashier.for_usdt", &[("amount", &self.usdt_amount)])
    }

    pub fn reference_help(&self) -> String {
        self.ctx
            .fmt("cashier.reference_help", &[("reference", &self.reference)])
    }

    /// The page with the order's dispute thread.
    pub fn with_thread(mut self, messages: &[crate::disputes::message::Model]) -> Self {
        self.messages = messages
            .iter()
            .map(|m| {
                let author = match m.author_role.as_str() {
                    "customer" => "cashier.author_you",
                    "acceptor" => "cashier.author_acceptor",
                    _ => "cashier.author_admin",
                };
                (
                    author,
                    crate::pages::time_pair(m.created_at),
                    m.body.clone(),
                )
            })
            .collect();
        self
    }

    pub fn paid_by(&self) -> Option<String> {
        let name = self.payer_name.as_deref()?;
        Some(self.ctx.fmt("cashier.paid_by", &[("name", name)]))
    }
}

/// The forms the cashier page posts (`application/x-www-form-urlencoded`).
#[derive(Debug, Default, serde::Deserialize)]
pub struct PaidForm {
    pub payer_name: Option<String>,
    #[serde(default)]
    pub csrf_token: String,
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct MessageForm {
    pub body: Option<String>,
    #[serde(default)]
    pub csrf_token: String,
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct DisputeForm {
    pub reason: Option<String>,
    pub contact: Option<String>,
    #[serde(default)]
    pub csrf_token: String,
}
