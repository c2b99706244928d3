//! The quotes page's data: the acceptor's quotes and payment methods as rows, the two
//! forms with what was entered, and the refusals to show beside the fields.

use askama::Template;
use serde::Deserialize;
use serde_json::Value;

use crate::acceptors::model::{PaymentMethodView, QuoteView};
use crate::acceptors::{payment_method, quote};
use crate::money::FIATS;
use crate::pages::PageCtx;

/// The payment methods the form offers (the API takes any `a-z0-9_` name; these are the
/// ones the cashier names in words).
pub const METHODS: [&str; 3] = ["bank_transfer", "alipay", "wechat_pay"];

/// The detail keys the method form fills, in display order.
pub const DETAIL_KEYS: [&str; 3] = ["bank_name", "account_name", "account_number"];

/// `POST /acceptor/quotes`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct QuoteForm {
    #[serde(default)]
    pub fiat: String,
    #[serde(default)]
    pub rate: String,
    #[serde(default)]
    pub min_amount: String,
    #[serde(default)]
    pub max_amount: String,
    #[serde(default)]
    pub csrf_token: String,
}

/// `POST /acceptor/quotes/methods`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct MethodForm {
    #[serde(default)]
    pub fiat: String,
    #[serde(default)]
    pub method: String,
    #[serde(default)]
    pub bank_name: String,
    #[serde(default)]
    pub account_name: String,
    #[serde(default)]
    pub account_number: String,
    #[serde(default)]
    pub csrf_token: String,
}

impl MethodForm {
    /// The details object of the API: the filled-in fields, by key.
    pub fn details(&self) -> Value {
        let mut map = serde_json::Map::new();
        for (key, value) in [
            ("bank_name", &self.bank_name),
            ("account_name", &self.account_name),
            ("account_number", &self.account_number),
        ] {
            if !value.trim().is_empty() {
                map.insert(key.to_owned(), Value::String(value.clone()));
            }
        }
        Value::Object(map)
    }

    pub fn is_blank(&self) -> bool {
        [&self.bank_name, &self.account_name, &self.account_number]
            .iter()
            .all(|v| v.trim().is_empty())
    }
}

/// A refusal shown beside a field (`id` is the field's id) and in the summary.
#[derive(Debug, Clone)]
pub struct FieldError {
    pub id: &'static str,
    pub message: String,
}

pub struct QuoteRow {
    pub fiat: String,
    pub rate: String,
    pub min_amount: String,
    pub max_amount: String,
    pub updated_at: String,
}

impl From<&quote::Model> for QuoteRow {
    fn from(q: &quote::Model) -> Self {
        let view = QuoteView::from(q);
        Self {
            fiat: view.fiat,
            rate: view.rate,
            min_amount: view.min_amount,
            max_amount: view.max_amount,
            updated_at: view.updated_at,
        }
    }
}

pub struct MethodRow {
    pub id: String,
    pub fiat: String,
    pub method: String,
    /// (key, value) of the details, known keys first.
    pub details: Vec<(String, String)>,
}

impl From<&payment_method::Model> for MethodRow {
    fn from(m: &payment_method::Model) -> Self {
        let view = PaymentMethodView::from(m);
        let mut details: Vec<(String, String)> = Vec::new();
        if let Value::Object(map) = &view.details {
            for key in DETAIL_KEYS {
                if let Some(v) = map.get(key) {
                    details.push((key.to_owned(), text_of(v)));
                }
            }
            for (key, v) in map {
                if !DETAIL_KEYS.contains(&key.as_str()) {
                    details.push((key.clone(), text_of(v)));
                }
            }
        }
        Self {
            id: view.id,
            fiat: view.fiat,
            method: view.method,
            details,
        }
    }
}

fn text_of(value: &Value) -> String {
    value
        .as_str()
        .map_or_else(|| value.to_string(), str::to_owned)
}

#[derive(Template)]
#[template(path = "acceptor/quotes.html")]
pub struct QuotesPage {
    pub ctx: PageCtx,
    pub quotes: Vec<QuoteRow>,
    pub methods: Vec<MethodRow>,
    pub quote: QuoteForm,
    pub method: MethodForm,
    pub errors: Vec<FieldError>,
    /// Why changes are refused (a pending or frozen account), shown at the top.
    pub notice: Option<String>,
}

impl QuotesPage {
    pub fn fiats(&self) -> impl Iterator<Item = &'static str> {
        FIATS.iter().map(|f| f.code)
    }

    pub fn method_kinds(&self) -> [&'static str; 3] {
        METHODS
    }

    pub fn error_for(&self, id: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.id == id)
            .map(|e| e.message.as_str())
    }

    pub fn invalid(&self, id: &str) -> bool {
        self.error_for(id).is_some()
    }

    pub fn quote_fiat_is(&self, code: &str) -> bool {
        self.quote.fiat.eq_ignore_ascii_case(code)
    }

    pub fn method_fiat_is(&self, code: &str) -> bool {
        self.method.fiat.eq_ignore_ascii_case(code)
    }

    pub fn method_is(&self, kind: &str) -> bool {
        self.method.method == kind
    }

    /// A payment method in words (`bank_transfer` → "Bank transfer").
    pub fn method_words<'a>(&self, kind: &'a str) -> &'a str {
        match kind {
            "bank_transfer" => self.ctx.t("method.bank_transfer"),
            "alipay" => self.ctx.t("method.alipay"),
            "wechat_pay" => self.ctx.t("method.wechat_pay"),
            other => other,
        }
    }

    /// The label of a payment detail; unknown keys in words.
    pub fn detail_label(&self, key: &str) -> String {
        match key {
            "bank_name" => self.ctx.t("quotes.bank_name").to_owned(),
            "account_name" => self.ctx.t("quotes.account_name").to_owned(),
            "account_number" => self.ctx.t("quotes.account_number").to_owned(),
            other => other.replace('_', " "),
        }
    }

    pub fn delete_quote_message(&self, fiat: &str) -> String {
        self.ctx
            .fmt("quotes.confirm_delete_quote", &[("fiat", fiat)])
    }

    pub fn delete_method_message(&self, row: &MethodRow) -> String {
        self.ctx.fmt(
            "quotes.confirm_delete_method",
            &[
                ("method", self.method_words(&row.method)),
                ("fiat", &row.fiat),
            ],
        )
    }
}
