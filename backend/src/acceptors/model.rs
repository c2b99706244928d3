//! Acceptor types: the status machine, request bodies with their validation, and the
//! objects of the API (acceptor, quote, payment method, deposit).
//!
//! Parse, don't validate: every request body has a `validate` that turns it into a typed
//! value (`NewAcceptor`, `NewQuote`, …) or the contract's `400` with the offending
//! `param`. The service layer only ever sees validated values.

use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::Value;

use super::validation::{
    DEFAULT_MAX_CONCURRENT_ORDERS, MAX_DISPLAY_NAME_CHARS, MAX_NOTE_CHARS, MAX_REASON_CHARS,
    invalid, invalid_amount, optional_text, parse_commission_rate, parse_max_concurrent_orders,
    required_text, validate_details,
};
use crate::addresses::Txid;
use crate::auth::model::{check_password_policy, normalize_email};
use crate::error::{ApiError, ApiResult};
use crate::money::{FiatCurrency, Rate, Usdt};
use crate::values::{PaymentMethodCode, parse_fiat_code_any_case, parse_network_any_case};

pub use super::status::AcceptorStatus;

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

// `POST /api/v1/admin/acceptors`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"email": "trader@otc.example", "password": "a long passphrase", "display_name": "Trader One", "commission_rate": "0.004", "max_concurrent_orders": 10}))]
pub struct CreateAcceptorRequest {
    #[schema(format = Email, min_length = 1)]
    pub email: String,
    /// At least 10 characters.
    #[schema(format = Password, min_length = 10)]
    pub password: String,
    /// 1–100 characters, not blank.
    #[schema(min_length = 1, max_length = 100, pattern = "\\S")]
    pub display_name: String,
    /// The acceptor's share of each order amount, 0 ≤ rate < 1 (default 0).
    #[serde(default)]
    #[schema(format = "decimal", min_length = 1, pattern = "^0(\\.[0-9]{1,8})?$")]
    pub commission_rate: Option<String>,
    /// 1–1000 (default 10).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 1000, default = 10)]
    pub max_concurrent_orders: Option<i64>,
}

// `POST /api/v1/auth/register`: an acceptor signs up (commission and limits are the
// defaults; an admin may change them).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"email": "ann@otc.example", "password": "a-long-password", "display_name": "Ann's OTC"}))]
pub struct RegisterRequest {
    #[schema(min_length = 1, format = "email")]
    pub email: String,
    /// At least 10 characters.
    #[schema(min_length = 10, max_length = 256)]
    pub password: String,
    /// Shown to admins.
    #[schema(min_length = 1, max_length = 100, pattern = r"\S")]
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

/// Every field optional; unknown fields are refused.
// `PATCH /api/v1/admin/acceptors/{id}`: unknown fields are refused so that a typo is not
// silently ignored.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAcceptorRequest {
    /// 1–100 characters, not blank.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 100, pattern = "\\S")]
    pub display_name: Option<String>,
    /// A fraction 0 ≤ rate < 1.
    #[serde(default)]
    #[schema(format = "decimal", min_length = 1, pattern = "^0(\\.[0-9]{1,8})?$")]
    pub commission_rate: Option<String>,
    #[serde(default)]
    #[schema(minimum = 1, maximum = 1000)]
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

// `POST /api/v1/admin/acceptors/{id}/deposits`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"amount": "5000.00", "network": "tron", "txid": "7c2d…", "note": "initial float"}))]
pub struct DepositRequest {
    #[schema(
        format = "decimal",
        min_length = 1,
        pattern = "^[0-9]{1,18}(\\.[0-9]{1,6})?$"
    )]
    pub amount: String,
    #[schema(value_type = crate::values::networks::NetworkId)]
    pub network: String,
    /// 1–128 visible characters, no spaces (surrounding spaces are trimmed); hash-shaped
    /// ids are compared case-insensitively and with or without `0x`.
    #[schema(
        min_length = 1,
        pattern = "^\\s*[^\\s\\x00-\\x1f\\x7f-\\x9f]{1,128}\\s*$"
    )]
    pub txid: String,
    /// Up to 500 characters; blank is the same as absent.
    #[serde(default)]
    #[schema(max_length = 500)]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDeposit {
    pub amount: Usdt,
    pub network: &'static str,
    /// Canonical form (see [`Txid::canonical`]).
    pub txid: String,
    pub note: Option<String>,
    /// The transfer's log index when the chain watcher credits one transfer of the
    /// transaction; `None` for an admin's deposit (the transaction as a whole).
    pub log_index: Option<u64>,
}

impl NewDeposit {
    /// The ledger transfer id: one per on-chain transaction (per transfer of it for
    /// the watcher), so the ledger itself refuses to credit one twice.
    pub fn transfer_id(&self) -> String {
        match self.log_index {
            None => format!("dep:{}:{}", self.network, self.txid),
            Some(log) => format!("dep:{}:{}:{log}", self.network, self.txid),
        }
    }

    /// The stored `log_index` (`-1`: the transaction as a whole).
    pub fn stored_log_index(&self) -> i64 {
        self.log_index
            .and_then(|log| i64::try_from(log).ok())
            .unwrap_or(-1)
    }
}

impl DepositRequest {
    pub fn validate(self) -> ApiResult<NewDeposit> {
        let amount = Usdt::parse(&self.amount).map_err(|e| {
            invalid_amount("amount", format!("amount {e}; send USDT like \"100.50\"."))
        })?;
        let network = parse_network_any_case("network", &self.network)?;
        let txid = Txid::parse(&self.txid)?.canonical(network);
        let note = optional_text("note", self.note.as_deref(), MAX_NOTE_CHARS)?;
        Ok(NewDeposit {
            amount,
            network: network.id,
            txid,
            note,
            log_index: None,
        })
    }
}

// ---------------------------------------------------------------------------------------
// Acceptor requests

// `PUT /api/v1/acceptor/online`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"online": true}))]
pub struct OnlineRequest {
    pub online: bool,
}

// `PUT /api/v1/acceptor/quotes/{fiat}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"rate": "7.18", "min_amount": "10.00", "max_amount": "5000.00"}))]
pub struct QuoteRequest {
    /// Fiat per USDT.
    #[schema(
        format = "decimal",
        min_length = 1,
        pattern = "^[0-9]{1,10}(\\.[0-9]{1,8})?$"
    )]
    pub rate: String,
    /// The smallest order (USDT) the acceptor takes in this fiat.
    #[schema(
        format = "decimal",
        min_length = 1,
        pattern = "^[0-9]{1,18}(\\.[0-9]{1,6})?$"
    )]
    pub min_amount: String,
    /// The largest order (USDT); not below `min_amount`.
    #[schema(
        format = "decimal",
        min_length = 1,
        pattern = "^[0-9]{1,18}(\\.[0-9]{1,6})?$"
    )]
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

// `POST /api/v1/acceptor/payment-methods`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"fiat": "CNY", "method": "bank_transfer", "details": {"bank_name": "Example Bank", "account_name": "Li Wei", "account_number": "6222 0000 0000 0000"}}))]
pub struct PaymentMethodRequest {
    /// A supported fiat code (case-insensitive).
    #[schema(min_length = 1)]
    pub fiat: String,
    /// 1–32 of `a-z0-9_`.
    #[schema(pattern = "^[a-z0-9_]{1,32}$")]
    pub method: String,
    /// What the customer sees: a non-empty object of strings, ≤ 2048 bytes of JSON,
    /// without the keys `method` and `reference` (the platform sets them).
    #[serde(default)]
    #[schema(required = true, value_type = std::collections::BTreeMap<String, String>)]
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
        let fiat = parse_fiat_code_any_case("fiat", &self.fiat)?;
        let method = PaymentMethodCode::parse("method", &self.method)?;
        let details = validate_details(self.details)?;
        Ok(NewPaymentMethod {
            fiat,
            method: method.into_string(),
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

/// The body is optional.
// `POST /api/v1/acceptor/orders/{id}/confirm`.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct ConfirmRequest {
    /// Required when the acceptor has two-factor authentication enabled.
    #[serde(default)]
    pub totp_code: Option<String>,
}

/// The body is optional.
// `POST /api/v1/acceptor/orders/{id}/reject` (the reason is optional too).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct RejectRequest {
    /// Up to 2000 characters.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub reason: Option<String>,
}

impl RejectRequest {
    pub fn validate(self) -> ApiResult<Option<String>> {
        optional_text("reason", self.reason.as_deref(), MAX_REASON_CHARS)
    }
}

// `POST /api/v1/acceptor/orders/{id}/dispute`; the document shows it for the merchant's
// `POST /api/v1/orders/{id}/disputes` too, which takes the same body.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"reason": "I paid but the order expired."}))]
pub struct DisputeRequest {
    /// 1–2000 characters, not blank.
    #[serde(default)]
    #[schema(required = true, min_length = 1, max_length = 2000, pattern = "\\S")]
    pub reason: String,
}

impl DisputeRequest {
    pub fn validate(self) -> ApiResult<String> {
        required_text("reason", &self.reason, MAX_REASON_CHARS)
    }
}

mod views;
pub use views::*;

#[cfg(test)]
mod tests;
