//! Unauthenticated routes: operations, documentation, public data, portal login.

use crate::acceptors::model::{AcceptorView, RegisterRequest};
use crate::auth::model::{
    Accepted, EmailVerified, LoginRequest, LoginResponse, PasswordResetConfirm, PasswordResetDone,
    PasswordResetRequest, TokenRequest, TotpDisableRequest, TotpEnableRequest, TotpEnabled,
    TotpSetupResponse,
};
use crate::error::ErrorCode as E;
use crate::openapi::errors::OpErrors;
use crate::ops::http::{Health, Readiness};
use crate::public::model::{
    CurrenciesView, RatesView, TimeView, ValidateAddressRequest, ValidateAddressView,
};

pub const ERRORS: &[OpErrors] = &[
    ("healthz", &[]),
    (
        "readyz",
        &[(
            E::ServiceUnavailable,
            "the database or (when configured) Redis does not answer",
        )],
    ),
    ("metrics", &[]),
    ("getOpenApiDocument", &[]),
    ("getApiDocsPage", &[]),
    ("getStaticAsset", &[(E::NotFound, "no such file")]),
    ("getServerTime", &[]),
    ("listCurrencies", &[]),
    (
        "getRates",
        &[(
            E::UnsupportedCurrency,
            "`fiat` is missing or not a supported fiat (`param`: `fiat`)",
        )],
    ),
    (
        "validateAddress",
        &[
            (
                E::InvalidRequest,
                "the body is not a JSON object, or `address` is missing or not a string (`param`: `address`)",
            ),
            (
                E::UnsupportedNetwork,
                "`network` is missing or unknown (`param`: `network`)",
            ),
        ],
    ),
    (
        "login",
        &[
            (
                E::InvalidRequest,
                "the body is not JSON with string `email` and `password`",
            ),
            (
                E::InvalidCredentials,
                "wrong email or password (the same answer for an unknown email or a disabled user)",
            ),
            (
                E::TotpRequired,
                "the user enabled two-factor authentication and `totp_code` is missing, wrong, or was already used to log in (`param`: `totp_code`)",
            ),
            (
                E::TooManyAttempts,
                "too many failures (wrong passwords or codes) for this email or from this IP in the login window, or too many failed second-factor checks of the user (`Retry-After`)",
            ),
            (
                E::Forbidden,
                "the password is right but the email address is not confirmed yet (open the link of the verification mail)",
            ),
        ],
    ),
    ("logout", &[]),
    (
        "register",
        &[
            (
                E::InvalidRequest,
                "a missing or invalid `email`, `display_name`, or a `password` shorter than 10 characters (`param` names it)",
            ),
            (
                E::EmailTaken,
                "the email address already belongs to an account (`param`: `email`)",
            ),
        ],
    ),
    (
        "verifyEmail",
        &[(
            E::InvalidRequest,
            "the token is unknown, used, expired or malformed (`param`: `token`)",
        )],
    ),
    (
        "requestPasswordReset",
        &[(
            E::InvalidRequest,
            "the body is not JSON with a string `email`",
        )],
    ),
    (
        "confirmPasswordReset",
        &[(
            E::InvalidRequest,
            "the token is unknown, used, expired or malformed (`param`: `token`), or the new password is shorter than 10 characters (`param`: `new_password`)",
        )],
    ),
    (
        "totpSetup",
        &[(
            E::InvalidState,
            "two-factor authentication is already enabled",
        )],
    ),
    (
        "totpEnable",
        &[
            (
                E::InvalidRequest,
                "the body is not JSON with a string `code`, or the code does not match the secret (`param`: `code`)",
            ),
            (
                E::InvalidState,
                "no secret was set up, or two-factor authentication is already enabled",
            ),
            (
                E::TooManyAttempts,
                "too many failed second-factor checks of this user (`Retry-After`)",
            ),
        ],
    ),
    (
        "totpDisable",
        &[
            (
                E::InvalidRequest,
                "the body is not JSON with a string `code`, or the code is wrong or was already used (`param`: `code`)",
            ),
            (E::InvalidState, "two-factor authentication is not enabled"),
            (
                E::TooManyAttempts,
                "too many failed second-factor checks of this user (`Retry-After`)",
            ),
        ],
    ),
];

/// Liveness
///
/// The process answers. No dependency is checked.
#[utoipa::path(
    get,
    path = "/healthz",
    operation_id = "healthz",
    tag = "Operations",
    responses((status = 200, description = "The process is alive.", body = Health))
)]
pub fn healthz() {}

/// Readiness
///
/// The database answers and, when the server is configured with Redis, Redis answers.
/// Use it as the load balancer's health check.
#[utoipa::path(
    get,
    path = "/readyz",
    operation_id = "readyz",
    tag = "Operations",
    responses((status = 200, description = "Ready to serve.", body = Readiness))
)]
pub fn readyz() {}

/// Prometheus metrics
///
/// The text exposition format (version 0.0.4): `http_requests_total` and
/// `http_request_duration_seconds` by route and status, `ledger_check_ok`, and the
/// features' own metrics. Restrict access to it at the proxy.
#[utoipa::path(
    get,
    path = "/metrics",
    operation_id = "metrics",
    tag = "Operations",
    responses((
        status = 200,
        description = "The metrics.",
        body = String,
        content_type = "text/plain; version=0.0.4; charset=utf-8",
        example = "# TYPE http_requests_total counter\nhttp_requests_total{route=\"/healthz\",status=\"200\"} 3\n"
    ))
)]
pub fn metrics() {}

/// This document
///
/// The OpenAPI 3.1 description of the API, generated from the server's code.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    operation_id = "getOpenApiDocument",
    tag = "Documentation",
    responses((
        status = 200,
        description = "The OpenAPI document.",
        body = Object,
        content_type = "application/json"
    ))
)]
pub fn openapi_json() {}

/// Human-readable API reference
///
/// A self-contained HTML page (no external assets) that renders this document:
/// endpoints, parameters, schemas and error codes.
#[utoipa::path(
    get,
    path = "/api/docs",
    operation_id = "getApiDocsPage",
    tag = "Documentation",
    responses((
        status = 200,
        description = "The page.",
        body = String,
        content_type = "text/html; charset=utf-8"
    ))
)]
pub fn docs_page() {}

/// A static asset of the pages
///
/// Stylesheets and scripts of the server's pages, embedded in the binary (no CDN, no
/// inline script). An unknown name is `404 not_found`.
#[utoipa::path(
    get,
    path = "/static/{name}",
    operation_id = "getStaticAsset",
    tag = "Documentation",
    params(("name" = String, Path, description = "The file name, e.g. `docs.js`.")),
    responses((
        status = 200,
        description = "The file, with its content type.",
        body = String,
        content_type = "text/css; charset=utf-8"
    ))
)]
pub fn static_asset() {}

/// Server time
///
/// The server's clock in Unix milliseconds; sign with it when your clock is off.
#[utoipa::path(
    get,
    path = "/api/v1/public/time",
    operation_id = "getServerTime",
    tag = "Public",
    responses((status = 200, description = "The server time.", body = TimeView))
)]
pub fn time() {}

/// Currencies and networks
///
/// USDT with its networks (fees and minimums of withdrawals), and the supported fiats
/// with their scales.
#[utoipa::path(
    get,
    path = "/api/v1/public/currencies",
    operation_id = "listCurrencies",
    tag = "Public",
    responses((
        status = 200,
        description = "The currency table.",
        body = CurrenciesView,
        example = json!({"assets": [{"code": "USDT", "scale": 6, "networks": [
            {"id": "tron", "name": "TRON (TRC-20)", "chain_id": null, "withdrawal_fee": "1.00", "min_withdrawal": "10.00"},
            {"id": "ethereum", "name": "Ethereum (ERC-20)", "chain_id": 1, "withdrawal_fee": "5.00", "min_withdrawal": "20.00"},
            {"id": "bsc", "name": "BNB Smart Chain (BEP-20)", "chain_id": 56, "withdrawal_fee": "0.50", "min_withdrawal": "10.00"}]}],
            "fiats": [{"code": "CNY", "scale": 2}, {"code": "JPY", "scale": 0}]})
    ))
)]
pub fn currencies() {}

/// Market rates
///
/// The aggregated depth of the active, online acceptors' quotes in one fiat, best
/// (lowest) rate first. No acceptor ids.
#[utoipa::path(
    get,
    path = "/api/v1/public/rates",
    operation_id = "getRates",
    tag = "Public",
    params(("fiat" = String, Query, min_length = 1, description = "The fiat code (case-insensitive), e.g. `CNY`.", example = "CNY")),
    responses((status = 200, description = "The depth of the fiat.", body = RatesView))
)]
pub fn rates() {}

/// Validate an address
///
/// Checks a USDT address on a network. EVM networks: `0x` + 40 hex digits; mixed case
/// must be a valid EIP-55 checksum; the normalized form is EIP-55. TRON: base58check of
/// 25 bytes, version byte `0x41`, double-SHA-256 checksum. An invalid address is a `200`
/// with `valid: false` and a reason, not an error.
#[utoipa::path(
    post,
    path = "/api/v1/public/addresses/validate",
    operation_id = "validateAddress",
    tag = "Public",
    request_body = ValidateAddressRequest,
    responses((status = 200, description = "The verdict.", body = ValidateAddressView))
)]
pub fn validate_address() {}

/// Log in to a portal
///
/// Exchanges an email and password for a session JWT of the user's role (`admin`,
/// `acceptor` or `merchant`). Failures are throttled per email and per client IP, and
/// wrong `totp_code`s per user with the other second-factor checks; only failures
/// count.
#[utoipa::path(
    post,
    path = "/api/v1/auth/login",
    operation_id = "login",
    tag = "Portal authentication",
    request_body = LoginRequest,
    responses((
        status = 200,
        description = "Logged in.",
        body = LoginResponse,
        example = json!({"token": "eyJhbGciOiJIUzI1NiJ9…", "expires_at": "2026-11-21T22:15:00Z", "user": {"id": "usr_01JD3Q4ZK8M6W2X9V7T5R3P1NB", "email": "ops@otcpay.example", "role": "admin"}})
    ))
)]
pub fn login() {}

/// Set up two-factor authentication
///
/// A new TOTP secret (RFC 6238: SHA-1, 6 digits, 30 s) for the logged-in user, shown
/// once, as base32 and as an `otpauth://` URI for an authenticator app. It is in force
/// only after `POST /api/v1/auth/totp/enable` with a code from it; calling this again
/// before that replaces it.
#[utoipa::path(
    post,
    path = "/api/v1/auth/totp/setup",
    operation_id = "totpSetup",
    tag = "Portal authentication",
    security(("bearerAuth" = [])),
    responses((
        status = 200,
        description = "The secret, shown once.",
        body = TotpSetupResponse,
        example = json!({"secret": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "otpauth_url": "otpauth://totp/OTCPay%3Aops%40otcpay.example?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=OTCPay&algorithm=SHA1&digits=6&period=30"})
    ))
)]
pub fn totp_setup() {}

/// Enable two-factor authentication
///
/// Puts the secret from `POST /api/v1/auth/totp/setup` in force once `code` (the
/// authenticator's current code; one step of clock drift is accepted) checks against
/// it. From then on a login needs `totp_code`, and so does an acceptor's release.
#[utoipa::path(
    post,
    path = "/api/v1/auth/totp/enable",
    operation_id = "totpEnable",
    tag = "Portal authentication",
    security(("bearerAuth" = [])),
    request_body = TotpEnableRequest,
    responses((
        status = 200,
        description = "Enabled.",
        body = TotpEnabled,
        example = json!({"totp_enabled": true})
    ))
)]
pub fn totp_enable() {}

/// Disable two-factor authentication
///
/// Turns two-factor authentication off once `code` (the authenticator's current code)
/// checks against the secret in force; the secret is dropped. Failed codes count
/// towards the user's second-factor throttle (`429 too_many_attempts`).
#[utoipa::path(
    post,
    path = "/api/v1/auth/totp/disable",
    operation_id = "totpDisable",
    tag = "Portal authentication",
    security(("bearerAuth" = [])),
    request_body = TotpDisableRequest,
    responses((
        status = 200,
        description = "Disabled.",
        body = TotpEnabled,
        example = json!({"totp_enabled": false})
    ))
)]
pub fn totp_disable() {}

/// Log out
///
/// Revokes the session: its token (and the `otcpay_session` cookie carrying it) is
/// refused with `401 invalid_token` from now on.
#[utoipa::path(
    post,
    path = "/api/v1/auth/logout",
    operation_id = "logout",
    tag = "Portal authentication",
    security(("bearerAuth" = [])),
    responses((status = 204, description = "The session is revoked."))
)]
pub fn logout() {}

/// Register as an acceptor
///
/// Creates a login (role acceptor) and an acceptor in `pending` status; a verification
/// mail with a link to `/verify-email?token=…` is sent (in the language of
/// `Accept-Language`). The login works once the email is confirmed; trading waits for an
/// admin's approval (`POST /api/v1/admin/acceptors/{id}/approve`).
#[utoipa::path(
    post,
    path = "/api/v1/auth/register",
    operation_id = "register",
    tag = "Portal authentication",
    request_body = RegisterRequest,
    responses((status = 201, description = "The pending acceptor.", body = AcceptorView))
)]
pub fn register() {}

/// Confirm an email address
///
/// Spends the token of the verification mail (single use, 48 hours).
#[utoipa::path(
    post,
    path = "/api/v1/auth/verify-email",
    operation_id = "verifyEmail",
    tag = "Portal authentication",
    request_body = TokenRequest,
    responses((status = 200, description = "Confirmed.", body = EmailVerified, example = json!({"email_verified": true})))
)]
pub fn verify_email() {}

/// Ask for a password reset
///
/// Mails a reset link (single use, one hour) when the address belongs to an active
/// user. The answer is `202` either way: it does not tell whether the address is
/// registered. At most three mails per address and hour.
#[utoipa::path(
    post,
    path = "/api/v1/auth/password-reset",
    operation_id = "requestPasswordReset",
    tag = "Portal authentication",
    request_body = PasswordResetRequest,
    responses((status = 202, description = "Accepted.", body = Accepted, example = json!({"accepted": true})))
)]
pub fn request_password_reset() {}

/// Set a new password with a reset link
///
/// Spends the token of the reset mail, sets the password (at least 10 characters),
/// confirms the email address and ends every session of the user.
#[utoipa::path(
    post,
    path = "/api/v1/auth/password-reset/confirm",
    operation_id = "confirmPasswordReset",
    tag = "Portal authentication",
    request_body = PasswordResetConfirm,
    responses((status = 200, description = "The password is set.", body = PasswordResetDone, example = json!({"password_reset": true})))
)]
pub fn confirm_password_reset() {}
