//! The one error type of the HTTP API.
//!
//! Every failure a client can see is an [`ApiError`]: an HTTP status, a stable
//! `snake_case` code from API.md, a human sentence and optionally the offending
//! parameter. It renders as
//! `{"error": {"code", "message", "param"?, "request_id"}}`. Internal errors are logged
//! with their cause and rendered without it.

use std::borrow::Cow;

use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::telemetry::current_request_id;

/// Declares [`ErrorCode`] and [`ErrorCode::ALL`] from one list, so that `ALL` cannot
/// miss a code.
macro_rules! error_codes {
    ($($variant:ident,)*) => {
        /// Stable error codes of the contract (API.md). The string is the wire value.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum ErrorCode {
            $($variant,)*
        }

        impl ErrorCode {
            /// Every code, in declaration order (the OpenAPI document lists them all).
            pub const ALL: &'static [ErrorCode] = &[$(Self::$variant,)*];
        }
    };
}

error_codes! {
    InvalidRequest,
    InvalidAmount,
    InvalidAddress,
    UnsupportedCurrency,
    UnsupportedNetwork,
    MissingCredentials,
    InvalidApiKey,
    RequestExpired,
    InvalidSignature,
    ReplayedRequest,
    InvalidCredentials,
    InvalidToken,
    TotpRequired,
    Forbidden,
    TotpSetupRequired,
    NotFound,
    MethodNotAllowed,
    InvalidState,
    DuplicateMerchantOrderId,
    DuplicateMerchantWithdrawalId,
    EmailTaken,
    Conflict,
    PayloadTooLarge,
    UnsupportedMediaType,
    Banned,
    InsufficientBalance,
    UnprocessableEntity,
    RateLimited,
    TooManyAttempts,
    ServiceUnavailable,
    InternalError,
}

impl Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidAmount => "invalid_amount",
            Self::InvalidAddress => "invalid_address",
            Self::UnsupportedCurrency => "unsupported_currency",
            Self::UnsupportedNetwork => "unsupported_network",
            Self::MissingCredentials => "missing_credentials",
            Self::InvalidApiKey => "invalid_api_key",
            Self::RequestExpired => "request_expired",
            Self::InvalidSignature => "invalid_signature",
            Self::ReplayedRequest => "replayed_request",
            Self::InvalidCredentials => "invalid_credentials",
            Self::InvalidToken => "invalid_token",
            Self::TotpRequired => "totp_required",
            Self::Forbidden => "forbidden",
            Self::TotpSetupRequired => "totp_setup_required",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::InvalidState => "invalid_state",
            Self::DuplicateMerchantOrderId => "duplicate_merchant_order_id",
            Self::DuplicateMerchantWithdrawalId => "duplicate_merchant_withdrawal_id",
            Self::EmailTaken => "email_taken",
            Self::Conflict => "conflict",
            Self::PayloadTooLarge => "payload_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::Banned => "banned",
            Self::InsufficientBalance => "insufficient_balance",
            Self::UnprocessableEntity => "unprocessable_entity",
            Self::RateLimited => "rate_limited",
            Self::TooManyAttempts => "too_many_attempts",
            Self::ServiceUnavailable => "service_unavailable",
            Self::InternalError => "internal_error",
        }
    }

    /// The HTTP status that goes with the code (API.md "Conventions").
    pub fn status(self) -> StatusCode {
        match self {
            Self::InvalidRequest
            | Self::InvalidAmount
            | Self::InvalidAddress
            | Self::UnsupportedCurrency
            | Self::UnsupportedNetwork => StatusCode::BAD_REQUEST,
            Self::MissingCredentials
            | Self::InvalidApiKey
            | Self::RequestExpired
            | Self::InvalidSignature
            | Self::ReplayedRequest
            | Self::InvalidCredentials
            | Self::InvalidToken
            | Self::TotpRequired => StatusCode::UNAUTHORIZED,
            Self::Forbidden | Self::TotpSetupRequired => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::InvalidState
            | Self::DuplicateMerchantOrderId
            | Self::DuplicateMerchantWithdrawalId
            | Self::EmailTaken
            | Self::Conflict => StatusCode::CONFLICT,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Banned => StatusCode::IM_A_TEAPOT,
            Self::InsufficientBalance | Self::UnprocessableEntity => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            Self::RateLimited | Self::TooManyAttempts => StatusCode::TOO_MANY_REQUESTS,
            Self::ServiceUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::InternalError => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// An error as the client sees it.
#[derive(Debug)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: Cow<'static, str>,
    pub param: Option<Cow<'static, str>>,
    /// Extra response headers (`Retry-After`, …).
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            code,
            message: message.into(),
            param: None,
            headers: Vec::new(),
        }
    }

    pub fn with_param(mut self, param: impl Into<Cow<'static, str>>) -> Self {
        self.param = Some(param.into());
        self
    }

    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }

    /// `Retry-After` in whole seconds, at least 1.
    pub fn with_retry_after(self, seconds: u64) -> Self {
        self.with_header(
            actix_web::http::header::RETRY_AFTER,
            HeaderValue::from(seconds.max(1)),
        )
    }

    pub fn invalid_request(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidRequest, message)
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(ErrorCode::NotFound, format!("No such {what}."))
    }

    pub fn invalid_state(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidState, message)
    }

    /// A body that is not declared `application/json`.
    pub fn unsupported_media_type() -> Self {
        Self::new(
            ErrorCode::UnsupportedMediaType,
            "Send the body as application/json (Content-Type: application/json).",
        )
    }

    pub fn forbidden() -> Self {
        Self::new(
            ErrorCode::Forbidden,
            "Your role is not allowed to use this endpoint.",
        )
    }

    /// An unexpected failure: the cause goes to the log, the client gets a generic
    /// sentence and the request id to quote.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(
            ErrorCode::InternalError,
            "An internal error occurred; quote the request id when reporting it.",
        )
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

/// Every error response: `{"error": {"code", "message", "param"?, "request_id"}}`.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Error, example = json!({"error": {"code": "invalid_amount", "message": "amount must be a decimal string such as \"100.50\".", "param": "amount", "request_id": "req_01JD3Q4ZK8M6W2X9V7T5R3P1NB"}}))]
pub struct ErrorBody<'a> {
    pub error: ErrorFields<'a>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = ErrorBody)]
pub struct ErrorFields<'a> {
    pub code: ErrorCode,
    /// A human sentence; may change, do not parse it.
    pub message: &'a str,
    /// The offending field, query parameter or header, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub param: Option<&'a str>,
    /// The request id, also in the `X-Request-Id` response header.
    #[schema(example = "req_01JD3Q4ZK8M6W2X9V7T5R3P1NB")]
    pub request_id: String,
}

/// An id in a request that is not of its kind names nothing: the same `404` as an
/// unknown id.
impl From<crate::ids::WrongId> for ApiError {
    fn from(wrong: crate::ids::WrongId) -> Self {
        Self::not_found(wrong.what)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.code.status()
    }

    fn error_response(&self) -> HttpResponse {
        let body = ErrorBody {
            error: ErrorFields {
                code: self.code,
                message: &self.message,
                param: self.param.as_deref(),
                request_id: current_request_id().unwrap_or_default(),
            },
        };
        let mut response = HttpResponse::build(self.status_code());
        for (name, value) in &self.headers {
            response.insert_header((name.clone(), value.clone()));
        }
        response.json(body)
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(err: sea_orm::DbErr) -> Self {
        Self::internal(format_args!("database: {err}"))
    }
}

impl From<sea_orm::TransactionError<ApiError>> for ApiError {
    fn from(err: sea_orm::TransactionError<ApiError>) -> Self {
        match err {
            sea_orm::TransactionError::Connection(db) => db.into(),
            sea_orm::TransactionError::Transaction(api) => api,
        }
    }
}

/// Renders actix's own extractor failures (bad JSON, oversized body, bad query) in the
/// contract's error shape.
pub fn json_error_handler(
    err: actix_web::error::JsonPayloadError,
    _req: &actix_web::HttpRequest,
) -> actix_web::Error {
    use actix_web::error::JsonPayloadError;
    let api = match &err {
        JsonPayloadError::OverflowKnownLength { .. } | JsonPayloadError::Overflow { .. } => {
            ApiError::new(
                ErrorCode::PayloadTooLarge,
                "The request body is larger than 64 KiB.",
            )
        }
        JsonPayloadError::ContentType => ApiError::unsupported_media_type(),
        JsonPayloadError::Deserialize(inner) => {
            ApiError::invalid_request(format!("The JSON body is not valid: {inner}."))
        }
        other => ApiError::invalid_request(format!("The request body could not be read: {other}.")),
    };
    api.into()
}

pub fn query_error_handler(
    err: actix_web::error::QueryPayloadError,
    _req: &actix_web::HttpRequest,
) -> actix_web::Error {
    ApiError::invalid_request(format!("The query string is not valid: {err}.")).into()
}

pub fn path_error_handler(
    err: actix_web::error::PathError,
    _req: &actix_web::HttpRequest,
) -> actix_web::Error {
    ApiError::invalid_request(format!("The path is not valid: {err}.")).into()
}
