//! The acceptor pages' data.

use askama::Template;
use serde::Deserialize;

use crate::acceptors::model::AcceptorView;
use crate::ids::OrderId;
use crate::money::format_usdt;
use crate::orders::order;
use crate::pages::PageCtx;
use crate::pages::admin::{Chrome, order_status_key};
use crate::values::networks::{NETWORKS, Network};

/// `GET /admin/acceptors?status=&starting_after=`.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    pub status: String,
    pub starting_after: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/acceptors.html")]
pub struct AcceptorsPage {
    pub ctx: PageCtx,
    pub chrome: Chrome,
    pub rows: Vec<AcceptorView>,
    pub status: String,
    pub status_error: Option<String>,
    /// The "Load more" link.
    pub more: Option<String>,
}

/// The word of an acceptor's status.
pub fn acceptor_status_key(status: &str) -> &'static str {
    match status {
        "pending" => "admin_acceptors.status_pending",
        "frozen" => "admin_acceptors.status_frozen",
        _ => "admin_acceptors.status_active",
    }
}

/// The badge class of an acceptor's status.
pub fn acceptor_badge(status: &str) -> &'static str {
    match status {
        "pending" => "badge-warning",
        "frozen" => "badge-danger",
        _ => "badge-success",
    }
}

impl AcceptorsPage {
    pub fn status_word(&self, status: &str) -> &str {
        self.ctx.t(acceptor_status_key(status))
    }

    pub fn badge(&self, status: &str) -> &'static str {
        acceptor_badge(status)
    }

    pub fn statuses(&self) -> [(&'static str, &str); 3] {
        [
            ("pending", self.ctx.t("admin_acceptors.status_pending")),
            ("active", self.ctx.t("admin_acceptors.status_active")),
            ("frozen", self.ctx.t("admin_acceptors.status_frozen")),
        ]
    }
}

/// An order of the acceptor, as the detail page lists it.
pub struct OrderRow {
    pub id: OrderId,
    pub reference: String,
    pub status: String,
    pub amount: String,
    pub fiat: String,
    pub created_at: (String, String),
}

impl OrderRow {
    pub fn new(o: &order::Model) -> Self {
        Self {
            id: o.id.clone(),
            reference: o.reference.clone(),
            status: o.status.as_str().to_owned(),
            amount: format_usdt(o.amount),
            fiat: crate::orders::view::fiat_label_of(o).unwrap_or_default(),
            created_at: crate::pages::time_pair(o.created_at),
        }
    }
}

#[derive(Template)]
#[template(path = "admin/acceptor.html")]
pub struct AcceptorPage {
    pub ctx: PageCtx,
    pub chrome: Chrome,
    pub acceptor: AcceptorView,
    pub orders: Vec<OrderRow>,
    pub networks: &'static [Network],
}

impl AcceptorPage {
    pub fn status_word(&self) -> &str {
        self.ctx.t(acceptor_status_key(&self.acceptor.status))
    }

    pub fn badge(&self) -> &'static str {
        acceptor_badge(&self.acceptor.status)
    }

    pub fn order_status(&self, row: &OrderRow) -> &str {
        self.ctx.t(order_status_key(&row.status))
    }

    pub fn deposit_question(&self) -> String {
        self.ctx.fmt(
            "admin_acceptors.deposit_question",
            &[("name", &self.acceptor.display_name)],
        )
    }

    pub fn back(&self) -> String {
        format!("/admin/acceptors/{}", self.acceptor.id)
    }

    pub fn avg_release(&self) -> String {
        match self.acceptor.stats.avg_release_seconds {
            Some(s) => format!("{}:{:02}", s / 60, s % 60),
            None => "—".to_owned(),
        }
    }
}

pub fn networks() -> &'static [Network] {
    NETWORKS
}

/// `POST /admin/acceptors/{id}/edit`.
#[derive(Debug, Default, Deserialize)]
pub struct EditForm {
    #[serde(default)]
    pub csrf_token: String,
    #[serde(default)]
    pub commission_rate: String,
    #[serde(default)]
    pub max_concurrent_orders: String,
}

/// `POST /admin/acceptors/{id}/deposits`.
#[derive(Debug, Default, Deserialize)]
pub struct DepositForm {
    #[serde(default)]
    pub csrf_token: String,
    #[serde(default)]
    pub amount: String,
    #[serde(default)]
    pub network: String,
    #[serde(default)]
    pub txid: String,
}
