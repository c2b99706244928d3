//! The field rules the acceptor request bodies share (texts, commission, concurrency,
//! fiat codes, payment-method details, transaction ids) and their limits. Pure
//! functions returning the contract's `400` with the offending `param`; no I/O.

use serde_json::{Map, Value};

use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::money::Rate;

pub const DEFAULT_MAX_CONCURRENT_ORDERS: i32 = 10;
pub const MAX_CONCURRENT_ORDERS_LIMIT: i64 = 1000;
pub const MAX_DISPLAY_NAME_CHARS: usize = 100;
pub const MAX_NOTE_CHARS: usize = 500;
/// The serialized `details` of a payment method.
pub const MAX_DETAILS_BYTES: usize = 2048;
pub const MAX_REASON_CHARS: usize = 2000;
/// Keys the platform adds to the details shown to a customer at assignment.
const RESERVED_DETAIL_KEYS: [&str; 2] = ["method", "reference"];

pub(super) fn invalid(param: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::invalid_request(message.into()).with_param(param)
}

pub(super) fn invalid_amount(param: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::InvalidAmount, message.into()).with_param(param)
}

/// A required, trimmed, printable text of 1..=`max` characters.
pub(super) fn required_text(param: &'static str, text: &str, max: usize) -> ApiResult<String> {
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
pub(super) fn optional_text(
    param: &'static str,
    text: Option<&str>,
    max: usize,
) -> ApiResult<Option<String>> {
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

pub(super) fn parse_commission_rate(text: &str) -> ApiResult<Rate> {
    Rate::parse_fraction(text).map_err(|e| {
        invalid_amount(
            "commission_rate",
            format!(
                "commission_rate {e}; it is a fraction of the order amount from 0 to below 1, like \"0.004\"."
            ),
        )
    })
}

pub(super) fn parse_max_concurrent_orders(value: i64) -> ApiResult<i32> {
    if (1..=MAX_CONCURRENT_ORDERS_LIMIT).contains(&value) {
        i32::try_from(value).map_err(ApiError::internal)
    } else {
        Err(invalid(
            "max_concurrent_orders",
            format!("max_concurrent_orders must be between 1 and {MAX_CONCURRENT_ORDERS_LIMIT}."),
        ))
    }
}

pub(super) fn validate_details(details: Value) -> ApiResult<String> {
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
