//! The error half of the document: the shared `Error` schema, the table of every stable
//! error code with its HTTP status, and the error responses of each operation.
//!
//! Operations declare only their success responses in their `#[utoipa::path]`; their
//! error responses are generated here from [`ErrorCode::ALL`] with [`meaning`], the codes every operation of
//! an authentication kind can give ([`common_errors`]) and the operation's own codes
//! (the `ERRORS` tables next to the path declarations). Each error status becomes one
//! response whose description lists the codes and when they happen, with one example
//! body per code.

use std::borrow::Cow;

use serde_json::{Map, Value, json};
use utoipa::openapi::schema::{Object, Schema, SchemaType, Type};
use utoipa::openapi::{RefOr, extensions::Extensions};

use crate::error::ErrorCode;

/// What a code means, for the document's table of codes. The match is exhaustive, so a
/// new code cannot be left out of the document.
pub fn meaning(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::InvalidRequest => {
            "The request is malformed: bad JSON, a missing or mistyped field, an unknown field, a value out of range. `param` names the field (or header, e.g. `Recv-Window`)."
        }
        ErrorCode::InvalidAmount => {
            "An amount or rate is not a valid decimal string for its scale: too many decimals, a sign, an exponent, zero, absurdly large, or below a minimum. `param` names the field."
        }
        ErrorCode::InvalidAddress => "The blockchain address is not valid on the given network.",
        ErrorCode::UnsupportedCurrency => {
            "The currency is not supported (see `GET /api/v1/public/currencies`)."
        }
        ErrorCode::UnsupportedNetwork => {
            "The network is missing or not supported (see `GET /api/v1/public/currencies`)."
        }
        ErrorCode::MissingCredentials => {
            "An authentication header is missing: `API-Key`, `Request-Time` or `Signature-V1` on signed routes, `Authorization: Bearer` on portal routes."
        }
        ErrorCode::InvalidApiKey => {
            "The API key is unknown or revoked, or its merchant is suspended."
        }
        ErrorCode::RequestExpired => {
            "`Request-Time` is more than 1 s in the future, older than `Recv-Window`, or not a number."
        }
        ErrorCode::InvalidSignature => "`Signature-V1` does not match the request.",
        ErrorCode::ReplayedRequest => "This exact signed request was already received.",
        ErrorCode::InvalidCredentials => {
            "The email or password is wrong (the same answer for an unknown email)."
        }
        ErrorCode::InvalidToken => "The session token is invalid or expired; log in again.",
        ErrorCode::TotpRequired => {
            "Two-factor authentication is enabled and the `totp_code` is missing or wrong."
        }
        ErrorCode::Forbidden => {
            "Authenticated, but not allowed: another role, or an acceptor that is not `active`."
        }
        ErrorCode::TotpSetupRequired => {
            "An admin action that moves money needs an admin with two-factor authentication on and a session that passed the code (log in with `totp_code`, or turn 2FA on in this session)."
        }
        ErrorCode::NotFound => {
            "No such object (also for another tenant's objects), or no such endpoint."
        }
        ErrorCode::MethodNotAllowed => {
            "The path exists but does not support this HTTP method; the `Allow` header lists the methods it supports."
        }
        ErrorCode::InvalidState => {
            "The object's state does not allow this action (e.g. cancelling a completed order)."
        }
        ErrorCode::DuplicateMerchantOrderId => {
            "An order with this `merchant_order_id` exists with different parameters."
        }
        ErrorCode::DuplicateMerchantWithdrawalId => {
            "A withdrawal with this `merchant_withdrawal_id` exists with different parameters."
        }
        ErrorCode::EmailTaken => {
            "The email address already belongs to an account (an acceptor, a merchant or an admin); `param` is `email`."
        }
        ErrorCode::Conflict => {
            "The request conflicts with existing data (e.g. a deposit txid already credited with other values)."
        }
        ErrorCode::PayloadTooLarge => "The request body is larger than 64 KiB.",
        ErrorCode::UnsupportedMediaType => {
            "The request has a body that is not `Content-Type: application/json`."
        }
        ErrorCode::Banned => {
            "The API key is banned for repeated rate-limit violations; wait `Retry-After` seconds."
        }
        ErrorCode::InsufficientBalance => "The available balance does not cover the operation.",
        ErrorCode::UnprocessableEntity => "A business rule refuses the request.",
        ErrorCode::RateLimited => "Too many requests; wait `Retry-After` seconds.",
        ErrorCode::TooManyAttempts => {
            "Too many failed login attempts or second-factor checks; wait `Retry-After` seconds."
        }
        ErrorCode::ServiceUnavailable => {
            "A dependency (database, Redis) is unreachable; retry later."
        }
        ErrorCode::InternalError => {
            "An unexpected server error; quote the `request_id` when reporting it."
        }
    }
}

/// The error codes an operation gives besides the common ones of its authentication:
/// `(operationId, [(code, when)])`.
pub type OpErrors = (&'static str, &'static [(ErrorCode, &'static str)]);

/// The schema of `error.code`: a string enum of every code, and the table of codes with
/// their HTTP status in `x-error-codes` (also under `components.x-error-codes`).
impl utoipa::PartialSchema for ErrorCode {
    fn schema() -> RefOr<Schema> {
        let mut schema = Object::with_type(SchemaType::Type(Type::String));
        schema.description = Some(codes_markdown());
        schema.enum_values = Some(
            ErrorCode::ALL
                .iter()
                .map(|code| Value::from(code.as_str()))
                .collect(),
        );
        schema.extensions = Some(Extensions::from_iter([(
            "x-error-codes",
            error_code_table(),
        )]));
        RefOr::T(Schema::Object(schema))
    }
}

impl utoipa::ToSchema for ErrorCode {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("ErrorCode")
    }
}

/// `[{"code", "status", "description"}]` of every code.
pub fn error_code_table() -> Value {
    Value::Array(
        ErrorCode::ALL
            .iter()
            .map(|code| {
                json!({
                    "code": code.as_str(),
                    "status": code.status().as_u16(),
                    "description": meaning(*code),
                })
            })
            .collect(),
    )
}

fn codes_markdown() -> String {
    let mut text = String::from(
        "A stable, machine-readable error code. Codes are never renamed; new ones may be added, \
         so treat an unknown code by its HTTP status.\n\n| code | status | meaning |\n|---|---|---|\n",
    );
    for code in ErrorCode::ALL {
        text.push_str(&format!(
            "| `{}` | {} | {} |\n",
            code.as_str(),
            code.status().as_u16(),
            meaning(*code).replace('|', "\\|")
        ));
    }
    text
}

/// How an operation authenticates, read from its `security`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthKind {
    None,
    Signed,
    Bearer,
}

/// The codes every operation of an authentication kind can give. `writes`: the method
/// changes state (`POST`, `PUT`, `PATCH`, `DELETE`).
pub fn common_errors(
    auth: AuthKind,
    has_body: bool,
    writes: bool,
) -> Vec<(ErrorCode, &'static str)> {
    let mut codes = Vec::new();
    match auth {
        AuthKind::Signed => codes.extend([
            (
                ErrorCode::InvalidRequest,
                "`Recv-Window` is not an integer from 1 to 60000 (`param`: `Recv-Window`)",
            ),
            (
                ErrorCode::MissingCredentials,
                "`API-Key`, `Request-Time` or `Signature-V1` is missing",
            ),
            (
                ErrorCode::InvalidApiKey,
                "the key is unknown or revoked, or the merchant is suspended",
            ),
            (
                ErrorCode::RequestExpired,
                "`Request-Time` is more than 1 s ahead, older than `Recv-Window`, or not a number",
            ),
            (ErrorCode::InvalidSignature, "the signature does not match"),
            (ErrorCode::ReplayedRequest, "the signed request was already used"),
            (
                ErrorCode::PayloadTooLarge,
                "the body is larger than 64 KiB",
            ),
            (
                ErrorCode::Banned,
                "the key is banned after repeated rate-limit violations (`Retry-After`)",
            ),
            (
                ErrorCode::RateLimited,
                "over the key's requests per minute, or too many failed authentications from this IP (`Retry-After`)",
            ),
            (
                ErrorCode::ServiceUnavailable,
                "the replay cache or rate limiter (Redis) is unreachable: signed requests fail closed",
            ),
        ]),
        AuthKind::Bearer => codes.extend([
            (
                ErrorCode::MissingCredentials,
                "no `Authorization: Bearer` header (nor session cookie)",
            ),
            (
                ErrorCode::InvalidToken,
                "the session token is invalid or expired",
            ),
            (ErrorCode::Forbidden, "the token's role may not use this route"),
        ]),
        AuthKind::None => {}
    }
    if auth == AuthKind::Bearer && writes {
        codes.push((
            ErrorCode::Forbidden,
            "authenticated by the `otcpay_session` cookie without the session's `X-CSRF-Token` header",
        ));
    }
    if has_body || (writes && auth != AuthKind::None) {
        codes.push((
            ErrorCode::UnsupportedMediaType,
            "the request has a body whose `Content-Type` is not `application/json` (nor another type the request body lists)",
        ));
    }
    if has_body && auth != AuthKind::Signed {
        codes.push((ErrorCode::PayloadTooLarge, "the body is larger than 64 KiB"));
    }
    codes.push((
        ErrorCode::InvalidRequest,
        "the path or query contains a NUL character (`%00`)",
    ));
    codes.push((ErrorCode::InternalError, "an unexpected server error"));
    codes
}

/// An example error body for `code`.
pub fn example_body(code: ErrorCode, param: Option<&str>) -> Value {
    let mut error = Map::new();
    error.insert("code".into(), code.as_str().into());
    let message = match (code, param) {
        (ErrorCode::InvalidRequest, Some(param)) => format!("{param} is not valid."),
        _ => example_message(code).to_owned(),
    };
    error.insert("message".into(), message.into());
    if let Some(param) = param {
        error.insert("param".into(), param.into());
    }
    error.insert("request_id".into(), "req_01JD3Q4ZK8M6W2X9V7T5R3P1NB".into());
    json!({ "error": error })
}

fn example_message(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::InvalidRequest => "The JSON body is not valid.",
        ErrorCode::InvalidAmount => "amount must be a decimal string such as \"100.50\".",
        ErrorCode::InvalidAddress => "The address is not a valid TRON (TRC-20) address.",
        ErrorCode::UnsupportedCurrency => "The fiat currency XXX is not supported.",
        ErrorCode::UnsupportedNetwork => "The network \"btc\" is not supported.",
        ErrorCode::MissingCredentials => "A required authentication header is missing.",
        ErrorCode::InvalidApiKey => "The API key is not valid.",
        ErrorCode::RequestExpired => "Request-Time is outside the receive window.",
        ErrorCode::InvalidSignature => "The signature does not match the request.",
        ErrorCode::ReplayedRequest => "This request was already received.",
        ErrorCode::InvalidCredentials => "The email or password is not correct.",
        ErrorCode::InvalidToken => "The session token is invalid or has expired; log in again.",
        ErrorCode::TotpRequired => {
            "Two-factor authentication is enabled: send totp_code to release."
        }
        ErrorCode::Forbidden => "Your role is not allowed to use this endpoint.",
        ErrorCode::TotpSetupRequired => {
            "This action moves money: turn on two-factor authentication and log in with a code."
        }
        ErrorCode::NotFound => "No such order.",
        ErrorCode::MethodNotAllowed => "This method is not allowed on this endpoint.",
        ErrorCode::InvalidState => "The order is completed; it cannot be cancelled.",
        ErrorCode::DuplicateMerchantOrderId => {
            "An order with this merchant_order_id exists with different parameters."
        }
        ErrorCode::DuplicateMerchantWithdrawalId => {
            "A withdrawal with this merchant_withdrawal_id exists with different parameters."
        }
        ErrorCode::EmailTaken => "This email address already belongs to an account.",
        ErrorCode::Conflict => "This transaction id was already credited with other values.",
        ErrorCode::PayloadTooLarge => "The request body is larger than 64 KiB.",
        ErrorCode::UnsupportedMediaType => "Send the body as application/json.",
        ErrorCode::Banned => "This API key is banned; retry later.",
        ErrorCode::InsufficientBalance => "The available balance is not sufficient.",
        ErrorCode::UnprocessableEntity => "The request cannot be processed.",
        ErrorCode::RateLimited => "Too many requests; retry later.",
        ErrorCode::TooManyAttempts => "Too many failed login attempts; try again later.",
        ErrorCode::ServiceUnavailable => "The database is not reachable.",
        ErrorCode::InternalError => {
            "An internal error occurred; quote the request id when reporting it."
        }
    }
}

/// The `param` an example shows, pulled from a note like "… (`param`: `amount`)" (the
/// last one: the operation's own notes follow the common ones).
pub fn param_of(note: &str) -> Option<&str> {
    let start = note.rfind("(`param`: `")? + "(`param`: `".len();
    let rest = &note[start..];
    rest.find('`').map(|end| &rest[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_listed_once_with_a_meaning() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            assert!(seen.insert(code.as_str()), "{} twice", code.as_str());
            assert!(!meaning(*code).is_empty());
        }
    }

    #[test]
    fn params_are_read_from_notes() {
        assert_eq!(param_of("bad (`param`: `amount`)"), Some("amount"));
        assert_eq!(param_of("(`param`: `a`); (`param`: `b`)"), Some("b"));
        assert_eq!(param_of("no param"), None);
    }
}
