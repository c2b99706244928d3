//! The dispute pages' data, and the confirmation step shared by the console's actions
//! that need one.

use askama::Template;
use serde::Deserialize;

use crate::disputes::dispute;
use crate::ids::{AcceptorId, DisputeId, MerchantId, OrderId};
use crate::money::format_usdt;
use crate::orders::order;
use crate::pages::PageCtx;
use crate::pages::admin::{Chrome, order_status_key};

/// An open dispute as the desk lists it.
pub struct DisputeRow {
    pub id: DisputeId,
    pub reference: String,
    pub amount: String,
    pub merchant: String,
    pub acceptor: String,
    pub opened_by: String,
    pub reason: String,
    pub messages: i64,
    pub opened_at: (String, String),
}

#[derive(Template)]
#[template(path = "admin/disputes.html")]
pub struct DisputesPage {
    pub ctx: PageCtx,
    pub chrome: Chrome,
    pub rows: Vec<DisputeRow>,
    pub more: Option<String>,
}

impl DisputesPage {
    pub fn opened_by(&self, role: &str) -> &str {
        self.ctx.t(author_key(role))
    }
}

/// The word of an author or opener role.
pub fn author_key(role: &str) -> &'static str {
    match role {
        "admin" => "admin_disputes.author_admin",
        "acceptor" => "admin_disputes.author_acceptor",
        "merchant" => "admin_disputes.author_merchant",
        "customer" => "admin_disputes.author_customer",
        _ => "admin_disputes.author_system",
    }
}

/// The order as the dispute page shows it.
pub struct OrderFacts {
    pub id: OrderId,
    pub reference: String,
    pub status: String,
    pub amount: String,
    pub fiat: String,
    pub merchant_order_id: String,
    pub payer_name: Option<String>,
    pub livemode: bool,
    pub created_at: (String, String),
}

impl OrderFacts {
    pub fn new(o: &order::Model) -> Self {
        Self {
            id: o.id.clone(),
            reference: o.reference.clone(),
            status: o.status.as_str().to_owned(),
            amount: format_usdt(o.amount),
            fiat: crate::orders::view::fiat_label_of(o).unwrap_or_default(),
            merchant_order_id: o.merchant_order_id.clone(),
            payer_name: o.payer_name.clone(),
            livemode: o.livemode,
            created_at: crate::pages::time_pair(o.created_at),
        }
    }
}

/// One line of the order's history.
pub struct EventRow {
    pub to_status: String,
    pub actor: String,
    pub note: Option<String>,
    pub at: (String, String),
}

/// One message of the thread.
pub struct MessageRow {
    pub author_role: String,
    pub body: String,
    pub at: (String, String),
}

#[derive(Template)]
#[template(path = "admin/dispute.html")]
pub struct DisputePage {
    pub ctx: PageCtx,
    pub chrome: Chrome,
    pub dispute: dispute::Model,
    pub order: OrderFacts,
    /// `(id, name)` of the merchant and of the acceptor.
    pub merchant: Option<(MerchantId, String)>,
    pub acceptor: Option<(AcceptorId, String)>,
    pub events: Vec<EventRow>,
    pub messages: Vec<MessageRow>,
}

impl DisputePage {
    pub fn order_status(&self, status: &str) -> &str {
        self.ctx.t(order_status_key(status))
    }

    pub fn role(&self, role: &str) -> &str {
        self.ctx.t(author_key(role))
    }

    pub fn is_open(&self) -> bool {
        self.dispute.status == crate::disputes::model::DisputeStatus::Open
    }

    pub fn opened_at(&self) -> (String, String) {
        crate::pages::time_pair(self.dispute.created_at)
    }

    pub fn released(&self) -> String {
        self.dispute
            .released_amount
            .map(format_usdt)
            .unwrap_or_default()
    }

    pub fn outcome(&self) -> &str {
        match self.dispute.outcome.as_deref() {
            Some("release") => self.ctx.t("admin_disputes.outcome_release"),
            Some("cancel") => self.ctx.t("admin_disputes.outcome_cancel"),
            _ => "",
        }
    }

    fn merchant_name(&self) -> &str {
        self.merchant.as_ref().map_or("", |m| m.1.as_str())
    }

    pub fn release_question(&self) -> String {
        self.release_question_with(&self.order.amount)
    }

    /// The question with a placeholder where the amount goes: the page's script puts the
    /// amount typed in (or the whole order's) there before the dialog opens.
    pub fn release_question_template(&self) -> String {
        self.release_question_with("{amount}")
    }

    fn release_question_with(&self, amount: &str) -> String {
        self.ctx.fmt(
            "admin_disputes.release_question",
            &[
                ("amount", amount),
                ("reference", &self.order.reference),
                ("merchant", self.merchant_name()),
            ],
        )
    }

    pub fn cancel_question(&self) -> String {
        self.ctx.fmt(
            "admin_disputes.cancel_question",
            &[("reference", &self.order.reference)],
        )
    }
}

/// `POST /admin/disputes/{id}/resolve`.
#[derive(Debug, Default, Deserialize)]
pub struct ResolveForm {
    #[serde(default)]
    pub csrf_token: String,
    #[serde(default)]
    pub outcome: String,
    #[serde(default)]
    pub amount: String,
    #[serde(default)]
    pub note: String,
    /// `1` once the admin confirmed (the dialog, or the confirmation page).
    #[serde(default)]
    pub confirmed: String,
}

/// `POST /admin/disputes/{id}/messages`.
#[derive(Debug, Default, Deserialize)]
pub struct MessageForm {
    #[serde(default)]
    pub csrf_token: String,
    #[serde(default)]
    pub body: String,
}

/// A confirmation step without JavaScript: what will happen, the form's values carried
/// as hidden fields, and the confirming button (optionally after a reason).
#[derive(Template)]
#[template(path = "admin/confirm.html")]
pub struct ConfirmPage {
    pub ctx: PageCtx,
    pub chrome: Chrome,
    pub heading: String,
    pub question: String,
    pub action: String,
    pub fields: Vec<(String, String)>,
    /// Ask for a `Reason` before confirming.
    pub ask_reason: bool,
    pub button: String,
    /// `btn-money` or `btn-danger`.
    pub button_class: &'static str,
    pub back: String,
}
