//! The desk's templates: the acceptor's balance and presence, and one row per order
//! that waits for it, with what the acceptor can do about it.

use askama::Template;

use crate::acceptors::model::AcceptorView;
use crate::ids::OrderId;
use crate::money::format_usdt;
use crate::orders::model::OrderStatus;
use crate::orders::order;
use crate::pages::PageCtx;

/// An order as the desk shows it.
pub struct OrderRow {
    pub id: OrderId,
    pub reference: String,
    pub status: String,
    pub amount: String,
    pub fiat_amount: String,
    pub fiat_currency: String,
    pub payer_name: Option<String>,
    /// The deadline that matters now (to pay, or to release) and what it is for.
    pub deadline: Option<(String, String)>,
    pub deadline_key: &'static str,
}

impl OrderRow {
    pub fn new(o: &order::Model) -> Self {
        let (deadline, deadline_key) = match o.status {
            OrderStatus::Assigned => (Some(o.expires_at), "desk.time_to_pay"),
            OrderStatus::Paid => (o.release_deadline, "desk.time_to_release"),
            _ => (None, "desk.no_deadline"),
        };
        Self {
            id: o.id.clone(),
            reference: o.reference.clone(),
            status: o.status.as_str().to_owned(),
            amount: format_usdt(o.amount),
            fiat_amount: crate::orders::view::fiat_amount_of(o).unwrap_or_default(),
            fiat_currency: o.fiat_currency.clone(),
            payer_name: o.payer_name.clone(),
            deadline: deadline.map(crate::pages::time_pair),
            deadline_key,
        }
    }
}

/// The status of an order in words, as acceptors read it (UI.md's vocabulary).
pub fn status_key(status: &str) -> &'static str {
    match status {
        "assigned" => "desk.status_assigned",
        "paid" => "desk.status_paid",
        "completed" => "desk.status_completed",
        "expired" => "desk.status_expired",
        "cancelled" => "desk.status_cancelled",
        "disputed" => "desk.status_disputed",
        _ => "desk.status_matching",
    }
}

#[derive(Template)]
#[template(path = "acceptor/desk.html")]
pub struct DeskPage {
    pub ctx: PageCtx,
    pub acceptor: AcceptorView,
    /// The acceptor asked for a mail on each new order.
    pub new_order_mail: bool,
    pub rows: Vec<OrderRow>,
    /// The release asks for a code (2FA is on).
    pub totp: bool,
}

impl DeskPage {
    pub fn status(&self, row: &OrderRow) -> &str {
        self.ctx.t(status_key(&row.status))
    }

    /// The short word of the status badge.
    pub fn badge(&self, row: &OrderRow) -> &str {
        self.ctx.t(match row.status.as_str() {
            "assigned" => "desk.badge_assigned",
            "paid" => "desk.badge_paid",
            "completed" => "desk.badge_completed",
            "disputed" => "desk.badge_disputed",
            _ => status_key(&row.status),
        })
    }

    /// Orders waiting for the acceptor's action (the page title's count).
    pub fn waiting(&self) -> usize {
        self.rows
            .iter()
            .filter(|r| matches!(r.status.as_str(), "assigned" | "paid"))
            .count()
    }

    pub fn release_question(&self, row: &OrderRow) -> String {
        self.ctx.fmt(
            "desk.release_question",
            &[
                ("amount", &row.amount),
                (
                    "fiat",
                    &format!("{} {}", row.fiat_amount, row.fiat_currency),
                ),
                ("reference", &row.reference),
                ("payer", row.payer_name.as_deref().unwrap_or("—")),
            ],
        )
    }

    pub fn reject_question(&self, row: &OrderRow) -> String {
        self.ctx
            .fmt("desk.reject_question", &[("reference", &row.reference)])
    }

    pub fn dispute_question(&self, row: &OrderRow) -> String {
        self.ctx
            .fmt("desk.dispute_question", &[("reference", &row.reference)])
    }
}

/// `/acceptor/orders/{id}`.
#[derive(Template)]
#[template(path = "acceptor/order.html")]
pub struct OrderPage {
    pub ctx: PageCtx,
    pub row: OrderRow,
    pub totp: bool,
    /// (status reached, time, note) of each change, oldest first.
    pub events: Vec<(String, (String, String), Option<String>)>,
    /// (author role, time, text) of the open dispute's messages.
    pub dispute_messages: Vec<(String, (String, String), String)>,
}

impl OrderPage {
    pub fn status(&self) -> &str {
        self.ctx.t(status_key(&self.row.status))
    }

    pub fn event_status(&self, status: &str) -> &str {
        self.ctx.t(status_key(status))
    }

    /// Who wrote a dispute message, in words.
    pub fn author(&self, role: &str) -> &str {
        self.ctx.t(match role {
            "admin" => "order.author_admin",
            "acceptor" => "order.author_you",
            "merchant" => "order.author_merchant",
            _ => "order.author_customer",
        })
    }
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct NewOrderMailForm {
    /// Present (`on`) when the box is ticked.
    pub new_order_mail: Option<String>,
    #[serde(default)]
    pub csrf_token: String,
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct OnlineForm {
    /// Present (`on`) when the switch is on.
    pub online: Option<String>,
    #[serde(default)]
    pub csrf_token: String,
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct ActionForm {
    pub totp_code: Option<String>,
    pub reason: Option<String>,
    /// A dispute message.
    pub body: Option<String>,
    #[serde(default)]
    pub csrf_token: String,
    /// Where to go back to (the desk or the order's page).
    pub back: Option<String>,
}
