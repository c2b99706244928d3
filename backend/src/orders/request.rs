//! Parsing a merchant's order request into checked parameters (parse, don't validate).

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::money::{FiatCurrency, Usdt};
use crate::values::networks::Network;
use crate::values::{
    ExpiresIn, HttpUrl, PaymentMethodCode, optional_string, parse_fiat_code, parse_merchant_ref,
    parse_network, parse_usdt,
};

pub const MAX_METADATA_BYTES: usize = 4 * 1024;

/// `POST /api/v1/orders` as sent. Amounts are kept as JSON values so that a number
/// instead of a decimal string is reported as `invalid_amount`, not as bad JSON.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"merchant_order_id": "inv-1001", "amount": "100.00", "currency": "USDT", "fiat_currency": "CNY", "payment_method": "bank_transfer", "callback_url": "https://shop.example/cb", "return_url": "https://shop.example/done", "expires_in": 900, "metadata": {"cart": "42"}}))]
pub struct CreateOrderRequest {
    /// Your id of the order: 1–64 of `A-Za-z0-9._:-`; the idempotency key.
    #[schema(value_type = String, required = true, pattern = "^[A-Za-z0-9._:-]{1,64}$", example = "inv-1001")]
    pub merchant_order_id: Option<Value>,
    /// USDT the customer pays for; you are credited `amount − fee`.
    #[schema(
        value_type = String,
        required = true,
        format = "decimal",
        min_length = 1,
        pattern = "^[0-9]{1,18}(\\.[0-9]{1,6})?$",
        example = "100.00"
    )]
    pub amount: Option<Value>,
    /// Only `USDT` (the default).
    #[schema(value_type = Option<String>, nullable = false, example = "USDT")]
    pub currency: Option<Value>,
    /// The fiat the customer pays in; required unless the merchant has a default fiat.
    #[schema(value_type = Option<String>, nullable = false, example = "CNY")]
    pub fiat_currency: Option<Value>,
    /// A payment method the acceptor must offer: 1–32 of `a-z0-9_`.
    #[schema(value_type = Option<String>, nullable = false, pattern = "^[a-z0-9_]{1,32}$", example = "bank_transfer")]
    pub payment_method: Option<Value>,
    /// Where this order's webhooks go (else the merchant's webhook URL): http(s), ≤ 2048.
    #[schema(value_type = Option<String>, nullable = false, format = "uri")]
    pub callback_url: Option<Value>,
    /// Where the cashier page sends the customer back: http(s), ≤ 2048.
    #[schema(value_type = Option<String>, nullable = false, format = "uri")]
    pub return_url: Option<Value>,
    /// The payment window in seconds, 60–7200 (default 900).
    #[schema(value_type = Option<i64>, nullable = false, minimum = 60, maximum = 7200, default = 900)]
    pub expires_in: Option<Value>,
    /// Up to 4 KiB of JSON, echoed back in the order and its webhooks. Kept as sent, so
    /// that it is echoed byte for byte (a number beyond `f64` stays as it was written).
    #[schema(value_type = Option<std::collections::BTreeMap<String, Value>>, nullable = false)]
    pub metadata: Option<Box<RawValue>>,
    /// `otc` (the default: the customer pays fiat to an acceptor) or `onchain` (the
    /// customer sends USDT to the order's own address on `network`; live keys only).
    #[schema(value_type = Option<super::model::Rail>, nullable = false)]
    pub rail: Option<Value>,
    /// The network of an on-chain order (`ethereum`, `bsc`, `tron`): one whose
    /// `onchain_deposits` is on in `GET /api/v1/public/currencies`.
    #[schema(value_type = Option<crate::values::networks::NetworkId>, nullable = false)]
    pub network: Option<Value>,
}

/// A request that passed every check, by rail.
#[derive(Debug, Clone)]
pub enum ParsedOrder {
    Otc(OrderParams),
    Onchain(OnchainParams),
}

/// An on-chain order's checked parameters: no fiat, no payment method, a network.
#[derive(Debug, Clone)]
pub struct OnchainParams {
    pub merchant_order_id: String,
    pub amount: Usdt,
    pub network: Network,
    pub callback_url: Option<HttpUrl>,
    pub return_url: Option<HttpUrl>,
    pub expires_in: ExpiresIn,
    pub metadata: Option<Box<RawValue>>,
}

/// A request that passed every check.
#[derive(Debug, Clone)]
pub struct OrderParams {
    pub merchant_order_id: String,
    pub amount: Usdt,
    pub fiat: FiatCurrency,
    pub payment_method: Option<PaymentMethodCode>,
    pub callback_url: Option<HttpUrl>,
    pub return_url: Option<HttpUrl>,
    pub expires_in: ExpiresIn,
    /// A JSON object, as the merchant wrote it.
    pub metadata: Option<Box<RawValue>>,
}

fn invalid(param: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::invalid_request(message.into()).with_param(param)
}

fn parse_url(value: Option<Value>, param: &'static str) -> ApiResult<Option<HttpUrl>> {
    optional_string(param, value)?
        .map(|url| HttpUrl::parse(param, &url))
        .transpose()
}

impl CreateOrderRequest {
    /// Checks every field of either rail; `default_fiat` is the merchant's default fiat.
    pub fn parse_rail(mut self, default_fiat: Option<&str>) -> ApiResult<ParsedOrder> {
        match optional_string("rail", self.rail.take())?.as_deref() {
            None | Some("otc") => {
                if self.network.is_some() {
                    return Err(invalid(
                        "network",
                        "network is for on-chain orders (\"rail\": \"onchain\").",
                    ));
                }
                self.parse(default_fiat).map(ParsedOrder::Otc)
            }
            Some("onchain") => self.parse_onchain().map(ParsedOrder::Onchain),
            Some(_) => Err(invalid("rail", "rail must be \"otc\" or \"onchain\".")),
        }
    }

    fn parse_onchain(self) -> ApiResult<OnchainParams> {
        let merchant_order_id = parse_merchant_ref("merchant_order_id", self.merchant_order_id)?;
        let amount = parse_usdt(self.amount, "amount")?;
        parse_currency(self.currency)?;
        if optional_string("payment_method", self.payment_method)?.is_some() {
            return Err(invalid(
                "payment_method",
                "payment_method is for OTC orders; an on-chain order is paid in USDT.",
            ));
        }
        if optional_string("fiat_currency", self.fiat_currency)?.is_some() {
            return Err(invalid(
                "fiat_currency",
                "fiat_currency is for OTC orders; an on-chain order is paid in USDT.",
            ));
        }
        let network = parse_network("network", self.network.as_ref())?;
        Ok(OnchainParams {
            merchant_order_id,
            amount,
            network,
            callback_url: parse_url(self.callback_url, "callback_url")?,
            return_url: parse_url(self.return_url, "return_url")?,
            expires_in: ExpiresIn::parse(self.expires_in.as_ref())?,
            metadata: parse_metadata(self.metadata)?,
        })
    }

    /// Checks every field of an OTC order; `default_fiat` is the merchant's default fiat.
    pub fn parse(self, default_fiat: Option<&str>) -> ApiResult<OrderParams> {
        let merchant_order_id = parse_merchant_ref("merchant_order_id", self.merchant_order_id)?;
        let amount = parse_usdt(self.amount, "amount")?;
        parse_currency(self.currency)?;
        let fiat_code = optional_string("fiat_currency", self.fiat_currency)?
            .or_else(|| default_fiat.map(str::to_owned))
            .ok_or_else(|| invalid("fiat_currency", "fiat_currency is required."))?;
        let fiat = parse_fiat_code("fiat_currency", &fiat_code)?;
        let payment_method = optional_string("payment_method", self.payment_method)?
            .map(|method| PaymentMethodCode::parse("payment_method", &method))
            .transpose()?;
        let callback_url = parse_url(self.callback_url, "callback_url")?;
        let return_url = parse_url(self.return_url, "return_url")?;
        let expires_in = ExpiresIn::parse(self.expires_in.as_ref())?;
        let metadata = parse_metadata(self.metadata)?;
        Ok(OrderParams {
            merchant_order_id,
            amount,
            fiat,
            payment_method,
            callback_url,
            return_url,
            expires_in,
            metadata,
        })
    }
}

/// `currency`: only `USDT` (the default).
fn parse_currency(value: Option<Value>) -> ApiResult<()> {
    match optional_string("currency", value)?.as_deref() {
        None | Some("USDT") => Ok(()),
        Some(_) => Err(
            ApiError::new(ErrorCode::UnsupportedCurrency, "currency must be USDT.")
                .with_param("currency"),
        ),
    }
}

/// `metadata`: a JSON object of at most 4 KiB (measured compact), or absent / `null`.
fn parse_metadata(raw: Option<Box<RawValue>>) -> ApiResult<Option<Box<RawValue>>> {
    let Some(raw) = raw else {
        return Ok(None);
    };
    match serde_json::from_str::<Value>(raw.get()) {
        Ok(Value::Null) => Ok(None),
        Ok(value @ Value::Object(_)) => {
            if value.to_string().len() > MAX_METADATA_BYTES {
                return Err(invalid(
                    "metadata",
                    "metadata must be at most 4 KiB of JSON.",
                ));
            }
            Ok(Some(raw))
        }
        _ => Err(invalid("metadata", "metadata must be a JSON object.")),
    }
}

impl OrderParams {
    /// A fingerprint of the parameters: a replay of `merchant_order_id` is the same
    /// request only when it is equal.
    pub fn fingerprint(&self) -> String {
        let canonical = serde_json::json!([
            self.merchant_order_id,
            self.amount.micros(),
            self.fiat.code,
            self.payment_method.as_ref().map(PaymentMethodCode::as_str),
            self.callback_url.as_ref().map(HttpUrl::as_str),
            self.return_url.as_ref().map(HttpUrl::as_str),
            self.expires_in.seconds(),
            // Parsed, as fingerprints were always made: stored ones keep matching.
            self.metadata
                .as_ref()
                .and_then(|raw| serde_json::from_str::<Value>(raw.get()).ok()),
        ]);
        hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
    }
}

impl OnchainParams {
    /// [`OrderParams::fingerprint`] of an on-chain order (its rail and network in it).
    pub fn fingerprint(&self) -> String {
        let canonical = serde_json::json!([
            "onchain",
            self.network.id,
            self.merchant_order_id,
            self.amount.micros(),
            self.callback_url.as_ref().map(HttpUrl::as_str),
            self.return_url.as_ref().map(HttpUrl::as_str),
            self.expires_in.seconds(),
            self.metadata
                .as_ref()
                .and_then(|raw| serde_json::from_str::<Value>(raw.get()).ok()),
        ]);
        hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request(v: Value) -> CreateOrderRequest {
        serde_json::from_value(v).unwrap()
    }

    fn err(v: Value) -> ApiError {
        request(v).parse(None).unwrap_err()
    }

    #[test]
    fn a_minimal_request_parses_with_defaults() {
        let p = request(
            json!({"merchant_order_id": "inv-1", "amount": "100.00", "fiat_currency": "CNY"}),
        )
        .parse(None)
        .unwrap();
        assert_eq!(p.amount.micros(), 100_000_000);
        assert_eq!(p.expires_in, ExpiresIn::DEFAULT);
        assert_eq!(p.fiat.code, "CNY");
    }

    #[test]
    fn every_field_is_checked_with_its_param() {
        let base = |k: &str, v: Value| {
            let mut body =
                json!({"merchant_order_id": "inv-1", "amount": "1.00", "fiat_currency": "CNY"});
            body[k] = v;
            body
        };
        let e = err(base("amount", json!(100)));
        assert_eq!(
            (e.code, e.param.as_deref()),
            (ErrorCode::InvalidAmount, Some("amount"))
        );
        assert_eq!(
            err(base("amount", json!("1e3"))).code,
            ErrorCode::InvalidAmount
        );
        assert_eq!(
            err(base("amount", json!("-1"))).code,
            ErrorCode::InvalidAmount
        );
        assert_eq!(
            err(base("amount", json!("0.0000001"))).code,
            ErrorCode::InvalidAmount
        );
        assert_eq!(
            err(base("fiat_currency", json!("XXX"))).code,
            ErrorCode::UnsupportedCurrency
        );
        assert_eq!(
            err(base("currency", json!("BTC"))).code,
            ErrorCode::UnsupportedCurrency
        );
        assert_eq!(
            err(base("merchant_order_id", json!("has space")))
                .param
                .as_deref(),
            Some("merchant_order_id")
        );
        assert_eq!(
            err(base("merchant_order_id", json!("x".repeat(65)))).code,
            ErrorCode::InvalidRequest
        );
        assert_eq!(
            err(base("expires_in", json!(59))).param.as_deref(),
            Some("expires_in")
        );
        assert_eq!(
            err(base("expires_in", json!(7201))).param.as_deref(),
            Some("expires_in")
        );
        assert_eq!(
            err(base("metadata", json!([1]))).param.as_deref(),
            Some("metadata")
        );
        assert_eq!(
            err(base("metadata", json!({"k": "x".repeat(5000)})))
                .param
                .as_deref(),
            Some("metadata")
        );
        assert_eq!(
            err(base("callback_url", json!("ftp://x"))).param.as_deref(),
            Some("callback_url")
        );
        assert_eq!(
            err(base("payment_method", json!("Bank Transfer")))
                .param
                .as_deref(),
            Some("payment_method")
        );
    }

    #[test]
    fn default_fiat_fills_in() {
        let p = request(json!({"merchant_order_id": "a", "amount": "1"}))
            .parse(Some("JPY"))
            .unwrap();
        assert_eq!(p.fiat.code, "JPY");
        let e = request(json!({"merchant_order_id": "a", "amount": "1"}))
            .parse(None)
            .unwrap_err();
        assert_eq!(e.param.as_deref(), Some("fiat_currency"));
    }

    #[test]
    fn fingerprints_differ_by_any_parameter() {
        let a =
            request(json!({"merchant_order_id": "a", "amount": "1.00", "fiat_currency": "CNY"}))
                .parse(None)
                .unwrap();
        let same =
            request(json!({"merchant_order_id": "a", "amount": "1", "fiat_currency": "CNY"}))
                .parse(None)
                .unwrap();
        let other =
            request(json!({"merchant_order_id": "a", "amount": "2", "fiat_currency": "CNY"}))
                .parse(None)
                .unwrap();
        assert_eq!(
            a.fingerprint(),
            same.fingerprint(),
            "1.00 and 1 are the same amount"
        );
        assert_ne!(a.fingerprint(), other.fingerprint());
    }

    #[test]
    fn the_rail_picks_the_fields_that_apply() {
        let onchain = |extra: Value| {
            let mut body = json!({"merchant_order_id": "c", "amount": "5.00", "rail": "onchain"});
            body.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            request(body).parse_rail(Some("CNY"))
        };
        let Ok(ParsedOrder::Onchain(p)) = onchain(json!({"network": "bsc"})) else {
            panic!("an on-chain order");
        };
        assert_eq!(p.network.id, "bsc");
        // The merchant's default fiat does not make an on-chain order an OTC one.
        let otc = request(json!({"merchant_order_id": "c", "amount": "5.00"}))
            .parse_rail(Some("CNY"))
            .unwrap();
        assert!(matches!(otc, ParsedOrder::Otc(_)));
        for (extra, param, code) in [
            (json!({}), "network", ErrorCode::UnsupportedNetwork),
            (
                json!({"network": "ETH"}),
                "network",
                ErrorCode::UnsupportedNetwork,
            ),
            (
                json!({"network": "tron", "fiat_currency": "CNY"}),
                "fiat_currency",
                ErrorCode::InvalidRequest,
            ),
            (
                json!({"network": "tron", "payment_method": "alipay"}),
                "payment_method",
                ErrorCode::InvalidRequest,
            ),
            (
                json!({"network": "tron", "rail": "card"}),
                "rail",
                ErrorCode::InvalidRequest,
            ),
        ] {
            let e = onchain(extra.clone()).unwrap_err();
            assert_eq!((e.param.as_deref(), e.code), (Some(param), code), "{extra}");
        }
        let e = request(json!({"merchant_order_id": "c", "amount": "5", "fiat_currency": "CNY", "network": "tron"}))
            .parse_rail(None)
            .unwrap_err();
        assert_eq!(e.param.as_deref(), Some("network"));
        // The rail and network are part of the fingerprint.
        let tron = onchain(json!({"network": "tron"})).unwrap();
        let bsc = onchain(json!({"network": "bsc"})).unwrap();
        let (ParsedOrder::Onchain(tron), ParsedOrder::Onchain(bsc)) = (tron, bsc) else {
            panic!("on-chain orders");
        };
        assert_ne!(tron.fingerprint(), bsc.fingerprint());
    }
}
