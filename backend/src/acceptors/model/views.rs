//! The JSON views of acceptors, their quotes, payment methods and deposits.

use serde::Serialize;
use serde_json::Value;

use super::AcceptorStatus;
use crate::acceptors::entity::{acceptor, deposit, payment_method, quote};
use crate::acceptors::stats::{OrderCounts, avg_release_seconds, completion_rate};
use crate::db::rfc3339;
use crate::ids::AcceptorId;
use crate::money::{Rate, format_usdt};

/// An acceptor (admin API and the acceptor's own profile).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = Acceptor)]
pub struct AcceptorView {
    #[schema(example = "acc_01JD3Q4ZK8M6W2X9V7T5R3P1NB")]
    pub id: AcceptorId,
    pub email: String,
    pub display_name: String,
    /// `pending` (waiting for approval), `active` (may trade) or `frozen`.
    #[schema(value_type = AcceptorStatus)]
    pub status: String,
    /// Whether the acceptor takes new orders now.
    pub online: bool,
    #[schema(format = "decimal")]
    pub commission_rate: String,
    pub max_concurrent_orders: i32,
    pub balance: BalanceView,
    pub stats: StatsView,
    #[schema(format = DateTime)]
    pub created_at: String,
}

crate::page_schema!(
    /// A page of acceptors.
    AcceptorList,
    AcceptorView
);

/// Live USDT of the acceptor.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
#[schema(as = AcceptorBalance)]
pub struct BalanceView {
    /// Can back new orders.
    #[schema(format = "decimal")]
    pub available: String,
    /// Backs orders in flight.
    #[schema(format = "decimal")]
    pub reserved: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = AcceptorStats)]
pub struct StatsView {
    pub completed: i64,
    /// completed ÷ (completed + expired + cancelled), two decimals.
    #[schema(format = "decimal", example = "0.98")]
    pub completion_rate: String,
    /// Mean seconds from "paid" to release; `null` without data.
    #[schema(required = true)]
    pub avg_release_seconds: Option<i64>,
    pub disputes: i64,
}

impl StatsView {
    pub fn new(counts: OrderCounts, disputes: i64) -> Self {
        Self {
            completed: counts.completed,
            completion_rate: completion_rate(counts.completed, counts.finished),
            avg_release_seconds: avg_release_seconds(counts.release_ms_total, counts.timed),
            disputes,
        }
    }
}

impl AcceptorView {
    pub fn new(a: &acceptor::Model, email: String, balance: BalanceView, stats: StatsView) -> Self {
        let commission_rate = Rate::parse_fraction(&a.commission_rate)
            .map(|r| r.to_string())
            .unwrap_or_else(|_| a.commission_rate.clone());
        Self {
            id: a.id.clone(),
            email,
            display_name: a.display_name.clone(),
            status: a.status.as_str().to_owned(),
            online: a.online,
            commission_rate,
            max_concurrent_orders: a.max_concurrent_orders,
            balance,
            stats,
            created_at: rfc3339(a.created_at),
        }
    }
}

impl BalanceView {
    pub fn new(balance: crate::ledger::Balance) -> Self {
        Self {
            available: format_usdt(balance.available),
            reserved: format_usdt(balance.pending_debits),
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = Quote)]
pub struct QuoteView {
    #[schema(example = "CNY")]
    pub fiat: String,
    #[schema(format = "decimal")]
    pub rate: String,
    #[schema(format = "decimal")]
    pub min_amount: String,
    #[schema(format = "decimal")]
    pub max_amount: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

crate::page_schema!(
    /// All quotes of the acceptor (`has_more` is always `false`).
    QuoteList,
    QuoteView
);

impl From<&quote::Model> for QuoteView {
    fn from(q: &quote::Model) -> Self {
        Self {
            fiat: q.fiat.clone(),
            rate: Rate::parse(&q.rate)
                .map(|r| r.to_string())
                .unwrap_or_else(|_| q.rate.clone()),
            min_amount: format_usdt(q.min_amount),
            max_amount: format_usdt(q.max_amount),
            updated_at: rfc3339(q.updated_at),
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = PaymentMethod)]
pub struct PaymentMethodView {
    pub id: String,
    pub fiat: String,
    pub method: String,
    #[schema(value_type = std::collections::BTreeMap<String, String>)]
    pub details: Value,
    #[schema(format = DateTime)]
    pub created_at: String,
}

crate::page_schema!(
    /// All payment methods of the acceptor (`has_more` is always `false`).
    PaymentMethodList,
    PaymentMethodView
);

impl From<&payment_method::Model> for PaymentMethodView {
    fn from(m: &payment_method::Model) -> Self {
        Self {
            id: m.id.clone(),
            fiat: m.fiat.clone(),
            method: m.method.clone(),
            details: serde_json::from_str(&m.details).unwrap_or(Value::Null),
            created_at: rfc3339(m.created_at),
        }
    }
}

/// A credited on-chain deposit of an acceptor.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = Deposit)]
pub struct DepositView {
    pub id: String,
    pub acceptor_id: AcceptorId,
    #[schema(format = "decimal")]
    pub amount: String,
    #[schema(value_type = crate::values::networks::NetworkId)]
    pub network: String,
    /// In canonical form.
    pub txid: String,
    #[schema(required = true)]
    pub note: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
}

impl From<&deposit::Model> for DepositView {
    fn from(d: &deposit::Model) -> Self {
        Self {
            id: d.id.clone(),
            acceptor_id: d.acceptor_id.clone(),
            amount: format_usdt(d.amount),
            network: d.network.clone(),
            txid: d.txid.clone(),
            note: d.note.clone(),
            created_at: rfc3339(d.created_at),
        }
    }
}

/// A list without pagination (an acceptor's quotes or payment methods: a handful).
#[derive(Debug, Serialize)]
pub struct ListView<T> {
    pub data: Vec<T>,
    pub has_more: bool,
}

impl<T> ListView<T> {
    pub fn all(data: Vec<T>) -> Self {
        Self {
            data,
            has_more: false,
        }
    }
}
