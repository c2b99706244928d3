//! The JSON views of merchants, keys and the balance (never any secret but a new key's,
//! shown once).

use serde::Serialize;

use super::{KeyKind, KeyMode, MerchantStatus};
use crate::db::rfc3339;
use crate::ids::MerchantId;
use crate::merchants::store::{api_key, merchant};
use crate::money::{Rate, format_usdt};

/// An API key as listed (never its secret).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = ApiKeySummary)]
pub struct ApiKeyView {
    /// The mode prefix and 4 characters of the key id, e.g. `mk_live_AbC1`.
    #[schema(example = "mk_live_AbC1")]
    pub key_id_prefix: String,
    #[schema(value_type = KeyMode)]
    pub mode: &'static str,
    #[schema(value_type = KeyKind)]
    pub kind: &'static str,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// Precise to a minute.
    #[schema(required = true, format = DateTime)]
    pub last_used_at: Option<String>,
    #[schema(required = true, format = DateTime)]
    pub revoked_at: Option<String>,
}

/// A newly issued key. The secret is shown once.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = IssuedApiKey, example = json!({"key_id": "mk_live_AbC1dEf2GhI3jKl4MnO5pQr6", "secret": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "mode": "live", "kind": "hmac"}))]
pub struct IssuedKeyView {
    /// The full key id: `mk_live_` or `mk_test_` + 24 alphanumerics; send it in `API-Key`.
    pub key_id: String,
    /// The HMAC secret (64 hex characters; its UTF-8 bytes are the HMAC key). Absent for
    /// ECDSA keys: the merchant keeps the private key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    #[schema(value_type = KeyMode)]
    pub mode: &'static str,
    #[schema(value_type = KeyKind)]
    pub kind: &'static str,
}

/// The new merchant with its first keys and webhook secret (all shown once).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MerchantCreated {
    pub merchant: MerchantView,
    /// The live key (`mk_live_…`).
    pub api_key: IssuedKeyView,
    /// The sandbox key (`mk_test_…`).
    pub test_api_key: IssuedKeyView,
    /// The Standard Webhooks secret (`whsec_` + base64 of 32 bytes).
    #[schema(example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")]
    pub webhook_secret: String,
}

// `GET /api/v1/balance`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(example = json!({"balances": [{"currency": "USDT", "available": "1520.50", "pending": "51.00"}]}))]
pub struct BalanceResponse {
    pub balances: Vec<MerchantBalance>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MerchantBalance {
    #[schema(value_type = String, example = "USDT")]
    pub currency: &'static str,
    /// Spendable now.
    #[schema(format = "decimal")]
    pub available: String,
    /// Held by withdrawals under review or approved (amount + fee).
    #[schema(format = "decimal")]
    pub pending: String,
}

impl From<&api_key::Model> for ApiKeyView {
    fn from(key: &api_key::Model) -> Self {
        Self {
            key_id_prefix: key.key_id_prefix.clone(),
            mode: KeyMode::from_livemode(key.livemode).as_str(),
            kind: key.kind.as_str(),
            created_at: rfc3339(key.created_at),
            last_used_at: key.last_used_at.map(rfc3339),
            revoked_at: key.revoked_at.map(rfc3339),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Merchant)]
pub struct MerchantView {
    #[schema(example = "mch_01JD3Q4ZK8M6W2X9V7T5R3P1NB")]
    pub id: MerchantId,
    pub name: String,
    pub email: String,
    #[schema(value_type = MerchantStatus)]
    pub status: String,
    #[schema(format = "decimal", example = "0.01")]
    pub fee_rate: String,
    #[schema(required = true)]
    pub default_fiat: Option<String>,
    #[schema(required = true, format = "uri")]
    pub webhook_url: Option<String>,
    pub rate_limit_per_minute: i32,
    #[schema(required = true, format = "decimal")]
    pub auto_approve_withdrawals_below: Option<String>,
    /// The merchant's keys, without secrets.
    pub api_keys: Vec<ApiKeyView>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

crate::page_schema!(
    /// A page of merchants.
    MerchantList,
    MerchantView
);

impl MerchantView {
    /// `keys` are the merchant's keys (others are ignored).
    pub fn new(m: &merchant::Model, keys: &[api_key::Model]) -> Self {
        Self {
            id: m.id.clone(),
            name: m.name.clone(),
            email: m.email.clone(),
            status: m.status.as_str().to_owned(),
            fee_rate: Rate::parse_fraction(&m.fee_rate)
                .map_or_else(|_| m.fee_rate.clone(), |r| r.to_string()),
            default_fiat: m.default_fiat.clone(),
            webhook_url: m.webhook_url.clone(),
            rate_limit_per_minute: m.rate_limit_per_minute,
            auto_approve_withdrawals_below: m.auto_approve_withdrawals_below.map(format_usdt),
            api_keys: keys
                .iter()
                .filter(|k| k.merchant_id == m.id)
                .map(ApiKeyView::from)
                .collect(),
            created_at: rfc3339(m.created_at),
            updated_at: rfc3339(m.updated_at),
        }
    }
}
