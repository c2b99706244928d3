//! Acceptor types: the status machine, request bodies with their validation, and the
//! objects of the API (acceptor, quote, payment method, deposit).
//!
//! Parse, don't validate: every request body has a `validate` that turns it into a typed
//! value (`NewAcceptor`, `NewQuote`, …) or the contract's `400` with the offending
//! `param`. The service layer only ever sees validated values.

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::store::{acceptor, deposit, payment_method, quote};
use crate::auth::model::{check_password_policy, normalize_email};
use crate::db::rfc3339;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::money::{FiatCurrency, Rate, Usdt, format_usdt};
use crate::public::{AddressFormat, Network};

/// `acceptors.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
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

pub const DEFAULT_MAX_CONCURRENT_ORDERS: i32 = 10;
pub const MAX_CONCURRENT_ORDERS_LIMIT: i64 = 1000;
pub const MAX_DISPLAY_NAME_CHARS: usize = 100;
pub const MAX_TXID_CHARS: usize = 128;
pub const MAX_NOTE_CHARS: usize = 500;
pub const MAX_METHOD_CHARS: usize = 32;
/// The serialized `details` of a payment method.
pub const MAX_DETAILS_BYTES: usize = 2048;
pub const MAX_REASON_CHARS: usize = 2000;
/// Keys the platform adds to the details shown to a customer at assignment.
const RESERVED_DETAIL_KEYS: [&str; 2] = ["method", "reference"];

fn invalid(param: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::invalid_request(message.into()).with_param(param)
}

fn invalid_amount(param: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::InvalidAmount, message.into()).with_param(param)
}

/// A required, trimmed, printable text of 1..=`max` characters.
fn required_text(param: &'static str, text: &str, max: usize) -> ApiResult<String> {
    let text = text.trim();
    if text.is_empty() {
        return Err(invalid(param, format!("{param} must not be empty.")));
    }
    if text.chars().count() > max {
        return Err(invalid(
            param,
            format!("{param} must have at most {max} characters."),
        ));
    }
    if text.chars().any(char::is_control) {
        return Err(invalid(
            param,
            format!("{param} must not contain control characters."),
        ));
    }
    Ok(text.to_owned())
}

/// An optional text: absent or blank is `None`.
fn optional_text(param: &'static str, text: Option<&str>, max: usize) -> ApiResult<Option<String>> {
    match text.map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => {
            if text.chars().count() > max {
                return Err(invalid(
                    param,
                    format!("{param} must have at most {max} characters."),
                ));
            }
            Ok(Some(text.to_owned()))
        }
    }
}

fn parse_commission_rate(text: &str) -> ApiResult<Rate> {
    Rate::parse_fraction(text).map_err(|e| {
        invalid_amount(
            "commission_rate",
            format!(
                "commission_rate {e}; it is a fraction of the order amount from 0 to below 1, like \"0.004\"."
            ),
        )
    })
}

fn parse_max_concurrent_orders(value: i64) -> ApiResult<i32> {
    if (1..=MAX_CONCURRENT_ORDERS_LIMIT).contains(&value) {
        i32::try_from(value).map_err(ApiError::internal)
    } else {
        Err(invalid(
            "max_concurrent_orders",
            format!("max_concurrent_orders must be between 1 and {MAX_CONCURRENT_ORDERS_LIMIT}."),
        ))
    }
}

/// Looks a fiat code up; lower case is accepted (`cny` → `CNY`).
pub fn parse_fiat(param: &'static str, code: &str) -> ApiResult<FiatCurrency> {
    FiatCurrency::find(&code.trim().to_ascii_uppercase()).ok_or_else(|| {
        ApiError::new(
            ErrorCode::UnsupportedCurrency,
            format!("The currency {code:?} is not supported; see GET /api/v1/public/currencies."),
        )
        .with_param(param)
    })
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

/// Trims the transaction id and puts hash-shaped ids in one canonical form, so that the
/// same on-chain transaction typed in another case or with/without `0x` is recognised
/// as the same deposit: hex is lower-cased; a 32-byte hash gets `0x` on EVM networks and
/// loses it on TRON (the explorers' forms). Other ids (1–128 visible characters) are
/// kept as given.
pub fn canonical_txid(network: Network, text: &str) -> ApiResult<String> {
    let text = text.trim();
    let count = text.chars().count();
    if count == 0 || count > MAX_TXID_CHARS {
        return Err(invalid(
            "txid",
            format!("txid must have 1 to {MAX_TXID_CHARS} characters."),
        ));
    }
    if text.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(invalid(
            "txid",
            "txid must not contain spaces or control characters.",
        ));
    }
    let bare = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .unwrap_or(text);
    let is_hex = !bare.is_empty() && bare.bytes().all(|b| b.is_ascii_hexdigit());
    if !is_hex {
        return Ok(text.to_owned());
    }
    let bare = bare.to_ascii_lowercase();
    let had_prefix = bare.len() != text.len();
    let is_hash = bare.len() == 64;
    Ok(match network.address_format {
        AddressFormat::Tron if is_hash => bare,
        AddressFormat::Evm if is_hash => format!("0x{bare}"),
        _ if had_prefix => format!("0x{bare}"),
        _ => bare,
    })
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

fn validate_details(details: Value) -> ApiResult<String> {
    let Value::Object(map) = details else {
        return Err(invalid(
            "details",
            "details must be a JSON object such as {\"bank_name\": \"…\", \"account_name\": \"…\", \"account_number\": \"…\"}.",
        ));
    };
    if map.is_empty() {
        return Err(invalid(
            "details",
            "details must tell the customer where to pay.",
        ));
    }
    let mut clean = Map::new();
    for (key, value) in map {
        let key_ok = !key.trim().is_empty() && !key.chars().any(char::is_control);
        if !key_ok {
            return Err(invalid("details", "details keys must be non-empty text."));
        }
        if RESERVED_DETAIL_KEYS.contains(&key.as_str()) {
            return Err(invalid(
                "details",
                format!("details must not contain {key:?}: the platform sets it."),
            ));
        }
        match value {
            Value::String(text) => {
                clean.insert(key, Value::String(text.trim().to_owned()));
            }
            _ => {
                return Err(invalid(
                    "details",
                    format!("details.{key} must be a string."),
                ));
            }
        }
    }
    let text = Value::Object(clean).to_string();
    if text.len() > MAX_DETAILS_BYTES {
        return Err(invalid(
            "details",
            format!("details must be at most {MAX_DETAILS_BYTES} bytes of JSON."),
        ));
    }
    Ok(text)
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

/// Counters of an acceptor's orders, as read from the database.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OrderCounts {
    pub completed: i64,
    /// Orders that ended: completed, expired or cancelled.
    pub finished: i64,
    /// Completed orders with both `paid_at` and `completed_at`.
    pub timed: i64,
    /// Σ (completed_at − paid_at) over the timed orders, ms.
    pub release_ms_total: i64,
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

/// `completed ÷ finished` rounded half up to two decimals; `"0.00"` without finished
/// orders.
pub fn completion_rate(completed: i64, finished: i64) -> String {
    let mut rate = if finished > 0 {
        (Decimal::from(completed.clamp(0, finished)) / Decimal::from(finished))
            .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
    } else {
        Decimal::ZERO
    };
    rate.rescale(2);
    rate.to_string()
}

/// The mean of `count` durations summing to `total_ms`, in whole seconds (half up).
pub fn avg_release_seconds(total_ms: i64, count: i64) -> Option<i64> {
    if count <= 0 {
        return None;
    }
    let total = i128::from(total_ms.max(0));
    let denominator = i128::from(count) * 1000;
    i64::try_from((total * 2 + denominator) / (2 * denominator)).ok()
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
            status: a.status.clone(),
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
mod tests {
    use super::*;
    use serde_json::json;

    fn create(body: Value) -> ApiResult<NewAcceptor> {
        serde_json::from_value::<CreateAcceptorRequest>(body)
            .unwrap()
            .validate()
    }

    fn param(err: ApiError) -> (ErrorCode, String) {
        (err.code, err.param.unwrap_or_default().into_owned())
    }

    #[test]
    fn status_actions_follow_the_table() {
        use AcceptorStatus::*;
        assert_eq!(StatusAction::Approve.apply_to(Pending).unwrap(), Active);
        assert_eq!(StatusAction::Freeze.apply_to(Active).unwrap(), Frozen);
        assert_eq!(StatusAction::Unfreeze.apply_to(Frozen).unwrap(), Active);
        for (action, bad) in [
            (StatusAction::Approve, Active),
            (StatusAction::Approve, Frozen),
            (StatusAction::Freeze, Pending),
            (StatusAction::Freeze, Frozen),
            (StatusAction::Unfreeze, Active),
            (StatusAction::Unfreeze, Pending),
        ] {
            assert_eq!(
                action.apply_to(bad).unwrap_err().code,
                ErrorCode::InvalidState
            );
        }
        for s in AcceptorStatus::ALL {
            assert_eq!(AcceptorStatus::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn create_request_defaults_and_bounds() {
        let ok = create(json!({"email": " A@B.co ", "password": "long-enough-pw",
                               "display_name": " Ann "}))
        .unwrap();
        assert_eq!(ok.email, "a@b.co");
        assert_eq!(ok.display_name, "Ann");
        assert_eq!(ok.commission_rate.to_string(), "0.00");
        assert_eq!(ok.max_concurrent_orders, 10);
        let base = json!({"email": "a@b.co", "password": "long-enough-pw", "display_name": "A"});
        let with = |k: &str, v: Value| {
            let mut b = base.clone();
            b[k] = v;
            create(b)
        };
        assert_eq!(
            param(with("commission_rate", json!("1")).unwrap_err()),
            (ErrorCode::InvalidAmount, "commission_rate".into())
        );
        assert_eq!(
            param(with("commission_rate", json!("-0.1")).unwrap_err()),
            (ErrorCode::InvalidAmount, "commission_rate".into())
        );
        assert_eq!(
            with("commission_rate", json!("0.004"))
                .unwrap()
                .commission_rate
                .to_string(),
            "0.004"
        );
        for bad in [0, 1001, -1] {
            assert_eq!(
                param(with("max_concurrent_orders", json!(bad)).unwrap_err()),
                (ErrorCode::InvalidRequest, "max_concurrent_orders".into())
            );
        }
        assert_eq!(
            with("max_concurrent_orders", json!(1000))
                .unwrap()
                .max_concurrent_orders,
            1000
        );
        assert_eq!(param(with("email", json!("nope")).unwrap_err()).1, "email");
        assert_eq!(
            param(with("password", json!("short")).unwrap_err()).1,
            "password"
        );
        assert_eq!(
            param(with("display_name", json!("  ")).unwrap_err()).1,
            "display_name"
        );
    }

    #[test]
    fn patch_rejects_unknown_fields() {
        assert!(
            serde_json::from_value::<UpdateAcceptorRequest>(json!({"status": "active"})).is_err()
        );
        let patch =
            serde_json::from_value::<UpdateAcceptorRequest>(json!({"max_concurrent_orders": 3}))
                .unwrap()
                .validate()
                .unwrap();
        assert_eq!(patch.max_concurrent_orders, Some(3));
        assert_eq!(patch.display_name, None);
    }

    #[test]
    fn txids_are_canonical() {
        let h = "AB".repeat(32);
        let lower = "ab".repeat(32);
        assert_eq!(canonical_txid(Network::TRON, &h).unwrap(), lower);
        assert_eq!(
            canonical_txid(Network::TRON, &format!("0x{h}")).unwrap(),
            lower
        );
        assert_eq!(
            canonical_txid(Network::ETHEREUM, &h).unwrap(),
            format!("0x{lower}")
        );
        assert_eq!(
            canonical_txid(Network::BSC, &format!(" 0X{h} ")).unwrap(),
            format!("0x{lower}")
        );
        assert_eq!(
            canonical_txid(Network::TRON, "manual-42").unwrap(),
            "manual-42"
        );
        assert_eq!(canonical_txid(Network::TRON, "0xAB").unwrap(), "0xab");
        assert_eq!(canonical_txid(Network::TRON, "ABC").unwrap(), "abc");
        assert!(canonical_txid(Network::TRON, "").is_err());
        assert!(canonical_txid(Network::TRON, "a b").is_err());
        assert!(canonical_txid(Network::TRON, &"x".repeat(129)).is_err());
        assert!(canonical_txid(Network::TRON, &"x".repeat(128)).is_ok());
    }

    #[test]
    fn deposits_validate_network_and_amount() {
        let req = |amount: &str, network: &str| DepositRequest {
            amount: amount.into(),
            network: network.into(),
            txid: "t1".into(),
            note: Some("  ".into()),
        };
        let ok = req("100.5", "TRON").validate().unwrap();
        assert_eq!(ok.amount.micros(), 100_500_000);
        assert_eq!(ok.network, "tron");
        assert_eq!(ok.note, None);
        assert_eq!(ok.transfer_id(), "dep:tron:t1");
        assert_eq!(
            param(req("0", "tron").validate().unwrap_err()),
            (ErrorCode::InvalidAmount, "amount".into())
        );
        assert_eq!(
            param(req("1", "bitcoin").validate().unwrap_err()),
            (ErrorCode::UnsupportedNetwork, "network".into())
        );
    }

    #[test]
    fn quotes_validate_bounds() {
        let cny = FiatCurrency::find("CNY").unwrap();
        let req = |rate: &str, min: &str, max: &str| QuoteRequest {
            rate: rate.into(),
            min_amount: min.into(),
            max_amount: max.into(),
        };
        let ok = req("7.18", "10.00", "5000").validate(cny).unwrap();
        assert_eq!(ok.rate.to_string(), "7.18");
        assert_eq!(ok.min_amount.micros(), 10_000_000);
        assert_eq!(
            param(req("0", "1", "2").validate(cny).unwrap_err()),
            (ErrorCode::InvalidAmount, "rate".into())
        );
        assert_eq!(
            param(req("20000000", "1", "2").validate(cny).unwrap_err()),
            (ErrorCode::InvalidAmount, "rate".into())
        );
        assert_eq!(
            param(req("7", "3", "2").validate(cny).unwrap_err()),
            (ErrorCode::InvalidAmount, "min_amount".into())
        );
        assert_eq!(
            param(req("7", "1", "x").validate(cny).unwrap_err()),
            (ErrorCode::InvalidAmount, "max_amount".into())
        );
        assert!(req("7", "2", "2").validate(cny).is_ok());
    }

    #[test]
    fn payment_methods_validate_method_and_details() {
        let req = |method: &str, details: Value| PaymentMethodRequest {
            fiat: "cny".into(),
            method: method.into(),
            details,
        };
        let ok = req(
            "bank_transfer",
            json!({"bank_name": " ICBC ", "account_number": "1"}),
        )
        .validate()
        .unwrap();
        assert_eq!(ok.fiat.code, "CNY");
        assert_eq!(
            serde_json::from_str::<Value>(&ok.details).unwrap()["bank_name"],
            "ICBC"
        );
        for bad in ["", "Bank", "bank-transfer", &"a".repeat(33)] {
            assert_eq!(
                param(req(bad, json!({"a": "b"})).validate().unwrap_err()).1,
                "method"
            );
        }
        for bad in [
            json!(null),
            json!("x"),
            json!({}),
            json!({"a": 1}),
            json!({"reference": "x"}),
            json!({"a": "x".repeat(2100)}),
        ] {
            assert_eq!(
                param(req("alipay", bad).validate().unwrap_err()).1,
                "details"
            );
        }
        let unsupported = PaymentMethodRequest {
            fiat: "XXX".into(),
            method: "alipay".into(),
            details: json!({"a": "b"}),
        };
        assert_eq!(
            param(unsupported.validate().unwrap_err()),
            (ErrorCode::UnsupportedCurrency, "fiat".into())
        );
    }

    #[test]
    fn stats_arithmetic() {
        assert_eq!(completion_rate(0, 0), "0.00");
        assert_eq!(completion_rate(19, 20), "0.95");
        assert_eq!(completion_rate(2, 3), "0.67");
        assert_eq!(completion_rate(1, 1), "1.00");
        assert_eq!(avg_release_seconds(0, 0), None);
        assert_eq!(avg_release_seconds(90_000, 2), Some(45));
        assert_eq!(avg_release_seconds(1_500, 1), Some(2));
        assert_eq!(avg_release_seconds(1_499, 1), Some(1));
    }
}
