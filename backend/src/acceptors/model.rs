//! Acceptor types: the status machine, request bodies with their validation, and the
//! objects of the API (acceptor, quote, payment method, deposit).
//!
//! Parse, don't validate: every request body has a `validate` that turns it into a typed
//! value (`NewAcceptor`, `NewQuote`, …) or the contract's `400` with the offending
//! `param`. The service layer only ever sees validated values.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::entity::{acceptor, deposit, payment_method, quote};
use super::stats::{OrderCounts, avg_release_seconds, completion_rate};
use super::validation::{
    DEFAULT_MAX_CONCURRENT_ORDERS, MAX_DISPLAY_NAME_CHARS, MAX_METHOD_CHARS, MAX_NOTE_CHARS,
    MAX_REASON_CHARS, canonical_txid, invalid, invalid_amount, optional_text,
    parse_commission_rate, parse_fiat, parse_max_concurrent_orders, required_text,
    validate_details,
};
use crate::auth::model::{check_password_policy, normalize_email};
use crate::db::rfc3339;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::money::{FiatCurrency, Rate, Usdt, format_usdt};
use crate::public::Network;

/// `acceptors.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
// Stored as its lower-case name; a stored value that is none of these fails the read.
#[derive(sea_orm::DeriveValueType)]
#[sea_orm(value_type = "String")]
pub enum AcceptorStatus {
    /// Registered, waiting for an admin's approval.
    Pending,
    /// May trade.
    Active,
    /// Stopped by an admin: keeps its balance, gets no new orders, cannot trade.
    Frozen,
}

impl AcceptorStatus {
    pub const ALL: [Self; 3] = [Self::Pending, Self::Active, Self::Frozen];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Active => "active",
            Self::Frozen => "frozen",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

impl std::str::FromStr for AcceptorStatus {
    type Err = sea_orm::sea_query::ValueTypeErr;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text).ok_or(sea_orm::sea_query::ValueTypeErr)
    }
}

impl std::fmt::Display for AcceptorStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An admin's status change of an acceptor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusAction {
    /// `pending → active`.
    Approve,
    /// `active → frozen`.
    Freeze,
    /// `frozen → active`.
    Unfreeze,
}

impl StatusAction {
    /// The only status the action applies to, and the status it leads to.
    pub fn transition(self) -> (AcceptorStatus, AcceptorStatus) {
        match self {
            Self::Approve => (AcceptorStatus::Pending, AcceptorStatus::Active),
            Self::Freeze => (AcceptorStatus::Active, AcceptorStatus::Frozen),
            Self::Unfreeze => (AcceptorStatus::Frozen, AcceptorStatus::Active),
        }
    }

    /// The audit log's verb.
    pub fn audit_action(self) -> &'static str {
        match self {
            Self::Approve => "acceptor.approve",
            Self::Freeze => "acceptor.freeze",
            Self::Unfreeze => "acceptor.unfreeze",
        }
    }

    pub fn verb(self) -> &'static str {
        match self {
            Self::Approve => "approved",
            Self::Freeze => "frozen",
            Self::Unfreeze => "unfrozen",
        }
    }

    /// The status after the action, or `409 invalid_state` when it does not apply.
    pub fn apply_to(self, current: AcceptorStatus) -> ApiResult<AcceptorStatus> {
        let (from, to) = self.transition();
        if current == from {
            Ok(to)
        } else {
            Err(ApiError::invalid_state(format!(
                "The acceptor is {current}; only a {from} acceptor can be {}.",
                self.verb()
            )))
        }
    }
}

// ---------------------------------------------------------------------------------------
// Admin requests

/// `POST /api/v1/admin/acceptors`.
#[derive(Debug, Deserialize)]
pub struct CreateAcceptorRequest {
    pub email: String,
    pub password: String,
    pub display_name: String,
    #[serde(default)]
    pub commission_rate: Option<String>,
    #[serde(default)]
    pub max_concurrent_orders: Option<i64>,
}

/// `POST /api/v1/auth/register`: an acceptor signs up (commission and limits are the
/// defaults; an admin may change them).
#[derive(Debug, Deserialize)]
pub struct RegisterRequest {
    pub email: String,
    pub password: String,
    pub display_name: String,
}

impl RegisterRequest {
    pub fn validate(self) -> ApiResult<NewAcceptor> {
        CreateAcceptorRequest {
            email: self.email,
            password: self.password,
            display_name: self.display_name,
            commission_rate: None,
            max_concurrent_orders: None,
        }
        .validate()
    }
}

#[derive(Debug, Clone)]
pub struct NewAcceptor {
    /// Normalized (trimmed, lower case).
    pub email: String,
    pub password: String,
    pub display_name: String,
    pub commission_rate: Rate,
    pub max_concurrent_orders: i32,
}

impl CreateAcceptorRequest {
    pub fn validate(self) -> ApiResult<NewAcceptor> {
        let email = normalize_email(&self.email)
            .ok_or_else(|| invalid("email", "The email address is not valid."))?;
        check_password_policy(&self.password).map_err(|m| invalid("password", m))?;
        let display_name =
            required_text("display_name", &self.display_name, MAX_DISPLAY_NAME_CHARS)?;
        let commission_rate = match self.commission_rate.as_deref() {
            Some(text) => parse_commission_rate(text)?,
            None => Rate::from_decimal(Decimal::ZERO),
        };
        let max_concurrent_orders = match self.max_concurrent_orders {
            Some(n) => parse_max_concurrent_orders(n)?,
            None => DEFAULT_MAX_CONCURRENT_ORDERS,
        };
        Ok(NewAcceptor {
            email,
            password: self.password,
            display_name,
            commission_rate,
            max_concurrent_orders,
        })
    }
}

/// `PATCH /api/v1/admin/acceptors/{id}`: every field optional; unknown fields are
/// refused so that a typo is not silently ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateAcceptorRequest {
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub commission_rate: Option<String>,
    #[serde(default)]
    pub max_concurrent_orders: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AcceptorPatch {
    pub display_name: Option<String>,
    pub commission_rate: Option<Rate>,
    pub max_concurrent_orders: Option<i32>,
}

impl UpdateAcceptorRequest {
    pub fn validate(self) -> ApiResult<AcceptorPatch> {
        Ok(AcceptorPatch {
            display_name: self
                .display_name
                .as_deref()
                .map(|n| required_text("display_name", n, MAX_DISPLAY_NAME_CHARS))
                .transpose()?,
            commission_rate: self
                .commission_rate
                .as_deref()
                .map(parse_commission_rate)
                .transpose()?,
            max_concurrent_orders: self
                .max_concurrent_orders
                .map(parse_max_concurrent_orders)
                .transpose()?,
        })
    }
}

/// `GET /api/v1/admin/acceptors` query.
#[derive(Debug, Default, Deserialize)]
pub struct AcceptorListQuery {
    pub limit: Option<u64>,
    pub starting_after: Option<String>,
    pub status: Option<String>,
}

impl AcceptorListQuery {
    pub fn status(&self) -> ApiResult<Option<AcceptorStatus>> {
        self.status
            .as_deref()
            .map(|s| {
                AcceptorStatus::parse(s).ok_or_else(|| {
                    invalid("status", "status must be one of pending, active, frozen.")
                })
            })
            .transpose()
    }
}

/// `POST /api/v1/admin/acceptors/{id}/deposits`.
#[derive(Debug, Deserialize)]
pub struct DepositRequest {
    pub amount: String,
    pub network: String,
    pub txid: String,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDeposit {
    pub amount: Usdt,
    pub network: &'static str,
    /// Canonical form (see [`canonical_txid`]).
    pub txid: String,
    pub note: Option<String>,
}

impl NewDeposit {
    /// The ledger transfer id: one per on-chain transaction, so the ledger itself
    /// refuses to credit a transaction twice.
    pub fn transfer_id(&self) -> String {
        format!("dep:{}:{}", self.network, self.txid)
    }
}

impl DepositRequest {
    pub fn validate(self) -> ApiResult<NewDeposit> {
        let amount = Usdt::parse(&self.amount).map_err(|e| {
            invalid_amount("amount", format!("amount {e}; send USDT like \"100.50\"."))
        })?;
        let network =
            Network::find(&self.network.trim().to_ascii_lowercase()).ok_or_else(|| {
                ApiError::new(
                    ErrorCode::UnsupportedNetwork,
                    format!(
                        "The network {:?} is not supported; use one of {}.",
                        self.network,
                        crate::public::NETWORKS
                            .iter()
                            .map(|n| n.id)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
                .with_param("network")
            })?;
        let txid = canonical_txid(network, &self.txid)?;
        let note = optional_text("note", self.note.as_deref(), MAX_NOTE_CHARS)?;
        Ok(NewDeposit {
            amount,
            network: network.id,
            txid,
            note,
        })
    }
}

// ---------------------------------------------------------------------------------------
// Acceptor requests

/// `PUT /api/v1/acceptor/online`.
#[derive(Debug, Deserialize)]
pub struct OnlineRequest {
    pub online: bool,
}

/// `PUT /api/v1/acceptor/quotes/{fiat}`.
#[derive(Debug, Deserialize)]
pub struct QuoteRequest {
    pub rate: String,
    pub min_amount: String,
    pub max_amount: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewQuote {
    pub fiat: FiatCurrency,
    pub rate: Rate,
    pub min_amount: Usdt,
    pub max_amount: Usdt,
}

impl QuoteRequest {
    pub fn validate(self, fiat: FiatCurrency) -> ApiResult<NewQuote> {
        let rate = Rate::parse(&self.rate).map_err(|e| {
            invalid_amount(
                "rate",
                format!("rate {e}; send the fiat price of 1 USDT like \"7.18\"."),
            )
        })?;
        if rate.decimal() > Decimal::from(matching_engine::MAX_RATE) {
            return Err(invalid_amount(
                "rate",
                format!("rate must be at most {}.", matching_engine::MAX_RATE),
            ));
        }
        let usdt = |param: &'static str, text: &str| {
            Usdt::parse(text).map_err(|e| {
                invalid_amount(param, format!("{param} {e}; send USDT like \"100.00\"."))
            })
        };
        let min_amount = usdt("min_amount", &self.min_amount)?;
        let max_amount = usdt("max_amount", &self.max_amount)?;
        if min_amount > max_amount {
            return Err(invalid_amount(
                "min_amount",
                "min_amount must not be larger than max_amount.",
            ));
        }
        Ok(NewQuote {
            fiat,
            rate,
            min_amount,
            max_amount,
        })
    }
}

/// `POST /api/v1/acceptor/payment-methods`.
#[derive(Debug, Deserialize)]
pub struct PaymentMethodRequest {
    pub fiat: String,
    pub method: String,
    #[serde(default)]
    pub details: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewPaymentMethod {
    pub fiat: FiatCurrency,
    pub method: String,
    /// A JSON object of string values, serialized within [`MAX_DETAILS_BYTES`].
    pub details: String,
}

impl PaymentMethodRequest {
    pub fn validate(self) -> ApiResult<NewPaymentMethod> {
        let fiat = parse_fiat("fiat", &self.fiat)?;
        let method = self.method.trim();
        let method_ok = !method.is_empty()
            && method.len() <= MAX_METHOD_CHARS
            && method
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !method_ok {
            return Err(invalid(
                "method",
                format!(
                    "method must have 1 to {MAX_METHOD_CHARS} characters of a-z, 0-9 and _, like \"bank_transfer\"."
                ),
            ));
        }
        let details = validate_details(self.details)?;
        Ok(NewPaymentMethod {
            fiat,
            method: method.to_owned(),
            details,
        })
    }
}

/// `GET /api/v1/acceptor/orders` query.
#[derive(Debug, Default, Deserialize)]
pub struct OrderListQuery {
    pub limit: Option<u64>,
    pub starting_after: Option<String>,
    pub status: Option<String>,
}

impl OrderListQuery {
    pub fn status(&self) -> ApiResult<Option<crate::orders::model::OrderStatus>> {
        self.status
            .as_deref()
            .map(|s| {
                crate::orders::model::OrderStatus::parse(s).ok_or_else(|| {
                    invalid(
                        "status",
                        "status must be one of matching, assigned, paid, completed, expired, cancelled, disputed.",
                    )
                })
            })
            .transpose()
    }
}

/// `POST /api/v1/acceptor/orders/{id}/confirm` (the body is optional).
#[derive(Debug, Default, Deserialize)]
pub struct ConfirmRequest {
    #[serde(default)]
    pub totp_code: Option<String>,
}

/// `POST /api/v1/acceptor/orders/{id}/reject` (the body and the reason are optional).
#[derive(Debug, Default, Deserialize)]
pub struct RejectRequest {
    #[serde(default)]
    pub reason: Option<String>,
}

impl RejectRequest {
    pub fn validate(self) -> ApiResult<Option<String>> {
        optional_text("reason", self.reason.as_deref(), MAX_REASON_CHARS)
    }
}

/// `POST /api/v1/acceptor/orders/{id}/dispute`.
#[derive(Debug, Default, Deserialize)]
pub struct DisputeRequest {
    #[serde(default)]
    pub reason: String,
}

impl DisputeRequest {
    pub fn validate(self) -> ApiResult<String> {
        required_text("reason", &self.reason, MAX_REASON_CHARS)
    }
}

// ---------------------------------------------------------------------------------------
// Views

/// The acceptor object (admin API and `GET /api/v1/acceptor/profile`).
#[derive(Debug, Clone, Serialize)]
pub struct AcceptorView {
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub status: String,
    pub online: bool,
    pub commission_rate: String,
    pub max_concurrent_orders: i32,
    pub balance: BalanceView,
    pub stats: StatsView,
    pub created_at: String,
}

/// Live USDT of the acceptor: `available` can back new orders, `reserved` backs
/// orders in flight.
#[derive(Debug, Clone, Default, Serialize)]
pub struct BalanceView {
    pub available: String,
    pub reserved: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct StatsView {
    pub completed: i64,
    /// completed ÷ (completed + expired + cancelled), two decimals.
    pub completion_rate: String,
    /// Mean seconds from "paid" to the acceptor's release; null without data.
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

#[derive(Debug, Clone, Serialize)]
pub struct QuoteView {
    pub fiat: String,
    pub rate: String,
    pub min_amount: String,
    pub max_amount: String,
    pub updated_at: String,
}

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

#[derive(Debug, Clone, Serialize)]
pub struct PaymentMethodView {
    pub id: String,
    pub fiat: String,
    pub method: String,
    pub details: Value,
    pub created_at: String,
}

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

#[derive(Debug, Clone, Serialize)]
pub struct DepositView {
    pub id: String,
    pub acceptor_id: String,
    pub amount: String,
    pub network: String,
    pub txid: String,
    pub note: Option<String>,
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

#[cfg(test)]
mod tests;
