//! Merchant types, the validation of admin input, key material and the JSON views.
//!
//! Input is read from a JSON object field by field (see [`Fields`]) rather than through
//! a derived struct, so that every mistake names its `param`, an absent field can be
//! told from an explicit `null` (PATCH: `null` clears), and unknown fields are refused
//! instead of silently ignored (a typo in `webhook_url` must not go unnoticed).

use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};

use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::ids;
use crate::money::{FiatCurrency, Rate, Usdt};
use crate::values::{HttpUrl, parse_fiat_code};

pub use super::status::{KeyKind, MerchantStatus};

pub const DEFAULT_RATE_LIMIT_PER_MINUTE: i32 = 100;
pub const MAX_RATE_LIMIT_PER_MINUTE: i64 = 100_000;
pub const MAX_NAME_CHARS: usize = 100;
pub const LIVE_KEY_PREFIX: &str = "mk_live_";
pub const TEST_KEY_PREFIX: &str = "mk_test_";
/// Random alphanumerics after the `mk_live_` / `mk_test_` prefix (~143 bits).
pub const KEY_RANDOM_LEN: usize = 24;
/// Random characters kept in the display prefix (`mk_live_AbC1`).
pub const KEY_DISPLAY_RANDOM_CHARS: usize = 4;
pub const WEBHOOK_SECRET_PREFIX: &str = "whsec_";

/// Live keys move real money; test keys (`mk_test_…`) work in the sandbox ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, utoipa::ToSchema)]
#[schema(
    rename_all = "snake_case",
    description = "`live` keys move real money; `test` keys (`mk_test_…`) work in the sandbox."
)]
pub enum KeyMode {
    Live,
    Test,
}

impl KeyMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Live => "live",
            Self::Test => "test",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "live" => Some(Self::Live),
            "test" => Some(Self::Test),
            _ => None,
        }
    }

    pub fn livemode(self) -> bool {
        self == Self::Live
    }

    pub fn from_livemode(livemode: bool) -> Self {
        if livemode { Self::Live } else { Self::Test }
    }

    pub fn key_prefix(self) -> &'static str {
        match self {
            Self::Live => LIVE_KEY_PREFIX,
            Self::Test => TEST_KEY_PREFIX,
        }
    }
}

const ALPHANUMERIC: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// `n` uniformly random ASCII alphanumerics (rejection sampling: no modulo bias).
pub fn random_alphanumeric(n: usize) -> String {
    let mut out = String::with_capacity(n);
    while out.len() < n {
        for byte in ids::random_bytes(n) {
            // 248 = 4 × 62: bytes above it would favour the first characters.
            if byte < 248 && out.len() < n {
                out.push(char::from(ALPHANUMERIC[usize::from(byte % 62)]));
            }
        }
    }
    out
}

/// A new public key id: `mk_live_` or `mk_test_` + 24 random alphanumerics.
pub fn new_key_id(mode: KeyMode) -> String {
    format!(
        "{}{}",
        mode.key_prefix(),
        random_alphanumeric(KEY_RANDOM_LEN)
    )
}

/// The mode of a well-formed key id; `None` for anything that cannot be one of ours
/// (refused without a database lookup).
pub fn key_id_mode(key_id: &str) -> Option<KeyMode> {
    let (mode, rest) = if let Some(rest) = key_id.strip_prefix(LIVE_KEY_PREFIX) {
        (KeyMode::Live, rest)
    } else {
        (KeyMode::Test, key_id.strip_prefix(TEST_KEY_PREFIX)?)
    };
    (rest.len() == KEY_RANDOM_LEN && rest.bytes().all(|b| b.is_ascii_alphanumeric()))
        .then_some(mode)
}

/// What is stored and shown of a key id: the mode prefix and 4 random characters.
pub fn key_id_display_prefix(key_id: &str) -> String {
    key_id
        .chars()
        .take(LIVE_KEY_PREFIX.len() + KEY_DISPLAY_RANDOM_CHARS)
        .collect()
}

/// An HMAC API secret: 32 random bytes as 64 lowercase hex characters. Clients use the
/// hex string itself (its UTF-8 bytes) as the HMAC key, as in API.md's Python.
pub fn new_hmac_secret() -> String {
    ids::random_hex(32)
}

/// A Standard Webhooks secret: `whsec_` + base64 (standard, padded) of 32 random bytes.
pub fn new_webhook_secret() -> String {
    format!(
        "{WEBHOOK_SECRET_PREFIX}{}",
        STANDARD.encode(ids::random_bytes(32))
    )
}

/// Parses a P-256 public key in SPKI PEM (`-----BEGIN PUBLIC KEY-----`). Returns the
/// key and its canonical PEM (what is stored).
pub fn parse_public_key_pem(pem: &str) -> Option<(p256::ecdsa::VerifyingKey, String)> {
    use p256::pkcs8::{EncodePublicKey, LineEnding};
    let key = p256::ecdsa::VerifyingKey::from_str(pem.trim()).ok()?;
    let canonical = key.to_public_key_pem(LineEnding::LF).ok()?;
    Some((key, canonical))
}

// ---- Reading JSON input.

/// The fields of a JSON object body, consumed one by one.
pub struct Fields(Map<String, Value>);

impl Fields {
    /// The body must be an object whose keys are all in `allowed`.
    pub fn new(body: Value, allowed: &[&str]) -> ApiResult<Self> {
        let Value::Object(map) = body else {
            return Err(ApiError::invalid_request("The body must be a JSON object."));
        };
        if let Some(unknown) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(
                ApiError::invalid_request(format!("Unknown field `{unknown}`."))
                    .with_param(unknown.clone()),
            );
        }
        Ok(Self(map))
    }

    /// `None` when absent; `Some(Value::Null)` for an explicit `null`.
    pub fn take(&mut self, name: &str) -> Option<Value> {
        self.0.remove(name)
    }

    /// A field that must be present and not null.
    pub fn required(&mut self, name: &'static str) -> ApiResult<Value> {
        match self.take(name) {
            None | Some(Value::Null) => {
                Err(ApiError::invalid_request(format!("`{name}` is required.")).with_param(name))
            }
            Some(value) => Ok(value),
        }
    }

    /// An optional field where `null` means the same as absent.
    pub fn optional(&mut self, name: &str) -> Option<Value> {
        self.take(name).filter(|v| !v.is_null())
    }
}

fn string(value: Value, param: &'static str) -> ApiResult<String> {
    crate::values::required_string(param, Some(value))
}

pub fn parse_name(value: Value) -> ApiResult<String> {
    let name = string(value, "name")?.trim().to_owned();
    let chars = name.chars().count();
    if chars == 0 || chars > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(
            ApiError::invalid_request("`name` must have 1 to 100 printable characters.")
                .with_param("name"),
        );
    }
    Ok(name)
}

/// Stored trimmed and lower-cased, like portal users' emails.
pub fn parse_email(value: Value) -> ApiResult<String> {
    let email = string(value, "email")?;
    crate::auth::model::normalize_email(&email).ok_or_else(|| {
        ApiError::invalid_request("`email` is not a valid email address.").with_param("email")
    })
}

fn amount_error(param: &'static str, reason: impl std::fmt::Display) -> ApiError {
    ApiError::new(ErrorCode::InvalidAmount, format!("`{param}` {reason}.")).with_param(param)
}

/// A fraction 0 ≤ fee < 1 as a decimal string (`"0.01"`).
pub fn parse_fee_rate(value: Value) -> ApiResult<Rate> {
    match value {
        Value::String(s) => Rate::parse_fraction(&s).map_err(|e| match e {
            crate::money::AmountError::TooLarge => amount_error("fee_rate", "must be below 1"),
            other => amount_error("fee_rate", other),
        }),
        _ => Err(amount_error(
            "fee_rate",
            "must be a decimal string like \"0.01\"",
        )),
    }
}

pub fn parse_default_fiat(value: Value) -> ApiResult<FiatCurrency> {
    parse_fiat_code("default_fiat", &string(value, "default_fiat")?)
}

/// `webhook_url`: see [`HttpUrl`]; kept as written.
pub fn parse_webhook_url(value: Value) -> ApiResult<String> {
    HttpUrl::parse("webhook_url", &string(value, "webhook_url")?).map(HttpUrl::into_string)
}

pub fn parse_rate_limit(value: Value) -> ApiResult<i32> {
    value
        .as_i64()
        .filter(|n| (1..=MAX_RATE_LIMIT_PER_MINUTE).contains(n))
        .and_then(|n| i32::try_from(n).ok())
        .ok_or_else(|| {
            ApiError::invalid_request(
                "`rate_limit_per_minute` must be an integer from 1 to 100000.",
            )
            .with_param("rate_limit_per_minute")
        })
}

/// A USDT decimal string, returned in micro-USDT.
pub fn parse_auto_approve(value: Value) -> ApiResult<i64> {
    const PARAM: &str = "auto_approve_withdrawals_below";
    match value {
        Value::String(s) => Usdt::parse(&s)
            .map(Usdt::micros)
            .map_err(|e| amount_error(PARAM, e)),
        _ => Err(amount_error(
            PARAM,
            "must be a decimal string like \"100.00\"",
        )),
    }
}

// A validated `POST /api/v1/admin/merchants` body (in the document: the body as sent).
#[derive(Debug, Clone, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CreateMerchantRequest, example = json!({"name": "Example Shop", "email": "billing@shop.example", "fee_rate": "0.01", "default_fiat": "CNY", "webhook_url": "https://shop.example/webhooks/otcpay", "rate_limit_per_minute": 100, "auto_approve_withdrawals_below": "100.00"}))]
pub struct NewMerchant {
    /// 1–100 printable characters, not blank.
    #[schema(min_length = 1, max_length = 100, pattern = "\\S")]
    pub name: String,
    #[schema(format = Email, min_length = 1)]
    pub email: String,
    /// The fee as a fraction of the order amount, 0 ≤ fee < 1.
    #[schema(
        value_type = String,
        format = "decimal",
        min_length = 1,
        pattern = "^0(\\.[0-9]{1,8})?$",
        example = "0.01"
    )]
    pub fee_rate: Rate,
    /// The fiat of orders that name none.
    #[schema(value_type = Option<String>)]
    pub default_fiat: Option<FiatCurrency>,
    /// Where webhooks go by default: http(s), ≤ 2048 characters.
    #[schema(format = "uri")]
    pub webhook_url: Option<String>,
    /// Signed requests per minute per key, 1–100000 (default 100).
    #[schema(
        value_type = Option<i32>,
        required = false,
        minimum = 1,
        maximum = 100000,
        default = 100
    )]
    pub rate_limit_per_minute: i32,
    /// Withdrawals below this USDT amount are approved automatically.
    #[schema(
        value_type = Option<String>,
        format = "decimal",
        min_length = 1,
        pattern = "^[0-9]{1,18}(\\.[0-9]{1,6})?$"
    )]
    pub auto_approve_withdrawals_below: Option<i64>,
}

impl NewMerchant {
    pub const FIELDS: &'static [&'static str] = &[
        "name",
        "email",
        "fee_rate",
        "default_fiat",
        "webhook_url",
        "rate_limit_per_minute",
        "auto_approve_withdrawals_below",
    ];

    pub fn from_json(body: Value) -> ApiResult<Self> {
        let mut f = Fields::new(body, Self::FIELDS)?;
        Ok(Self {
            name: parse_name(f.required("name")?)?,
            email: parse_email(f.required("email")?)?,
            fee_rate: parse_fee_rate(f.required("fee_rate")?)?,
            default_fiat: f
                .optional("default_fiat")
                .map(parse_default_fiat)
                .transpose()?,
            webhook_url: f
                .optional("webhook_url")
                .map(parse_webhook_url)
                .transpose()?,
            rate_limit_per_minute: f
                .optional("rate_limit_per_minute")
                .map(parse_rate_limit)
                .transpose()?
                .unwrap_or(DEFAULT_RATE_LIMIT_PER_MINUTE),
            auto_approve_withdrawals_below: f
                .optional("auto_approve_withdrawals_below")
                .map(parse_auto_approve)
                .transpose()?,
        })
    }
}

/// A PATCH field that may not be `null`.
fn not_null(name: &'static str, value: Option<Value>) -> ApiResult<Option<Value>> {
    match value {
        Some(Value::Null) => {
            Err(ApiError::invalid_request(format!("`{name}` cannot be null.")).with_param(name))
        }
        other => Ok(other),
    }
}

/// A PATCH field where `null` clears the value.
fn nullable<T>(
    value: Option<Value>,
    parse: impl Fn(Value) -> ApiResult<T>,
) -> ApiResult<Option<Option<T>>> {
    match value {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(v) => parse(v).map(|p| Some(Some(p))),
    }
}

/// Every field optional; `null` clears `default_fiat`, `webhook_url` and
/// `auto_approve_withdrawals_below`; unknown fields are refused.
// Validated: `None` leaves a field alone; for the nullable fields `Some(None)` clears it.
#[derive(Debug, Clone, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = UpdateMerchantRequest, example = json!({"status": "suspended"}))]
pub struct MerchantPatch {
    /// 1–100 printable characters, not blank; not `null`.
    #[schema(nullable = false, min_length = 1, max_length = 100, pattern = "\\S")]
    pub name: Option<String>,
    /// Not `null`.
    #[schema(
        value_type = Option<String>,
        nullable = false,
        format = "decimal",
        min_length = 1,
        pattern = "^0(\\.[0-9]{1,8})?$"
    )]
    pub fee_rate: Option<Rate>,
    /// `active` or `suspended` (every key of a suspended merchant is refused); not `null`.
    #[schema(nullable = false)]
    pub status: Option<MerchantStatus>,
    #[schema(value_type = Option<String>)]
    pub default_fiat: Option<Option<FiatCurrency>>,
    #[schema(value_type = Option<String>, format = "uri")]
    pub webhook_url: Option<Option<String>>,
    /// Not `null`.
    #[schema(nullable = false, minimum = 1, maximum = 100000)]
    pub rate_limit_per_minute: Option<i32>,
    #[schema(
        value_type = Option<String>,
        format = "decimal",
        min_length = 1,
        pattern = "^[0-9]{1,18}(\\.[0-9]{1,6})?$"
    )]
    pub auto_approve_withdrawals_below: Option<Option<i64>>,
}

impl MerchantPatch {
    pub const FIELDS: &'static [&'static str] = &[
        "name",
        "fee_rate",
        "status",
        "default_fiat",
        "webhook_url",
        "rate_limit_per_minute",
        "auto_approve_withdrawals_below",
    ];

    pub fn from_json(body: Value) -> ApiResult<Self> {
        let mut f = Fields::new(body, Self::FIELDS)?;
        Ok(Self {
            name: not_null("name", f.take("name"))?
                .map(parse_name)
                .transpose()?,
            fee_rate: not_null("fee_rate", f.take("fee_rate"))?
                .map(parse_fee_rate)
                .transpose()?,
            status: not_null("status", f.take("status"))?
                .map(|v| {
                    v.as_str().and_then(MerchantStatus::parse).ok_or_else(|| {
                        ApiError::invalid_request("`status` must be \"active\" or \"suspended\".")
                            .with_param("status")
                    })
                })
                .transpose()?,
            default_fiat: nullable(f.take("default_fiat"), parse_default_fiat)?,
            webhook_url: nullable(f.take("webhook_url"), parse_webhook_url)?,
            rate_limit_per_minute: not_null(
                "rate_limit_per_minute",
                f.take("rate_limit_per_minute"),
            )?
            .map(parse_rate_limit)
            .transpose()?,
            auto_approve_withdrawals_below: nullable(
                f.take("auto_approve_withdrawals_below"),
                parse_auto_approve,
            )?,
        })
    }

    /// The names of the fields this patch sets (for the audit log).
    pub fn field_names(&self) -> Vec<&'static str> {
        let mut names = Vec::new();
        let mut push = |set: bool, name| {
            if set {
                names.push(name);
            }
        };
        push(self.name.is_some(), "name");
        push(self.fee_rate.is_some(), "fee_rate");
        push(self.status.is_some(), "status");
        push(self.default_fiat.is_some(), "default_fiat");
        push(self.webhook_url.is_some(), "webhook_url");
        push(
            self.rate_limit_per_minute.is_some(),
            "rate_limit_per_minute",
        );
        push(
            self.auto_approve_withdrawals_below.is_some(),
            "auto_approve_withdrawals_below",
        );
        names
    }
}

// A validated `POST /api/v1/admin/merchants/{id}/api-keys` body (in the document: the
// body as sent).
#[derive(Debug, Clone, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CreateApiKeyRequest, example = json!({"mode": "live"}))]
pub struct NewApiKey {
    pub mode: KeyMode,
    // Stored: the canonical SPKI PEM of an ECDSA P-256 public key; `None` for an HMAC key.
    /// An ECDSA P-256 public key in SPKI PEM (`-----BEGIN PUBLIC KEY-----`, ≤ 4096
    /// bytes) for an ECDSA key; absent for an HMAC key.
    #[schema(min_length = 1, max_length = 4096)]
    pub public_key_pem: Option<String>,
}

impl NewApiKey {
    pub fn from_json(body: Value) -> ApiResult<Self> {
        let mut f = Fields::new(body, &["mode", "public_key_pem"])?;
        let mode = f
            .required("mode")?
            .as_str()
            .and_then(KeyMode::parse)
            .ok_or_else(|| {
                ApiError::invalid_request("`mode` must be \"live\" or \"test\".").with_param("mode")
            })?;
        let bad_pem = || {
            ApiError::invalid_request(
                "`public_key_pem` must be an ECDSA P-256 public key in PEM \
                 (-----BEGIN PUBLIC KEY-----).",
            )
            .with_param("public_key_pem")
        };
        let public_key_pem = match f.optional("public_key_pem") {
            None => None,
            Some(Value::String(pem)) if pem.len() <= 4096 => {
                Some(parse_public_key_pem(&pem).ok_or_else(bad_pem)?.1)
            }
            Some(_) => return Err(bad_pem()),
        };
        Ok(Self {
            mode,
            public_key_pem,
        })
    }
}

mod views;
pub use views::*;

#[cfg(test)]
mod tests;
