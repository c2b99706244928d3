//! The order object of the API (API.md "Order object").

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;
use serde_json::Value;

use super::store::order;
use crate::db::rfc3339;
use crate::money::{FiatCurrency, format_scaled, format_usdt};

#[derive(Debug, Serialize)]
pub struct OrderView {
    pub id: String,
    pub merchant_order_id: String,
    pub status: String,
    pub amount: String,
    pub currency: &'static str,
    pub fee: String,
    pub net_amount: String,
    pub fiat_currency: String,
    pub fiat_amount: Option<String>,
    pub rate: Option<String>,
    pub payment_method: Option<String>,
    pub payment_details: Option<Value>,
    pub reference: String,
    pub cashier_url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qr_code: Option<String>,
    pub released_amount: Option<String>,
    pub expires_at: String,
    pub paid_at: Option<String>,
    pub completed_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub metadata: Option<Value>,
    pub livemode: bool,
}

pub fn cashier_url(public_url: &str, token: &str) -> String {
    format!("{public_url}/pay/{token}")
}

pub fn format_fiat(fiat: &str, minor: i64) -> String {
    let scale = FiatCurrency::find(fiat).map_or(2, |f| f.scale);
    format_scaled(minor, scale)
}

impl OrderView {
    /// The merchant's view. `with_qr` adds the PNG data URI of the cashier link (the API
    /// responses have it; webhooks and live events leave it out to stay small).
    pub fn new(o: &order::Model, public_url: &str, with_qr: bool) -> Self {
        let cashier_url = cashier_url(public_url, &o.cashier_token);
        let net = o.released_amount.unwrap_or(o.amount) - o.fee;
        Self {
            id: o.id.clone(),
            merchant_order_id: o.merchant_order_id.clone(),
            status: o.status.clone(),
            amount: format_usdt(o.amount),
            currency: "USDT",
            fee: format_usdt(o.fee),
            net_amount: format_usdt(net.max(0)),
            fiat_currency: o.fiat_currency.clone(),
            fiat_amount: o.fiat_amount.map(|f| format_fiat(&o.fiat_currency, f)),
            rate: o.rate.clone(),
            payment_method: o.payment_method.clone(),
            payment_details: o
                .payment_details
                .as_deref()
                .and_then(|d| serde_json::from_str(d).ok()),
            reference: o.reference.clone(),
            qr_code: with_qr.then(|| qr_data_uri(&cashier_url)).flatten(),
            cashier_url,
            released_amount: o.released_amount.map(format_usdt),
            expires_at: rfc3339(o.expires_at),
            paid_at: o.paid_at.map(rfc3339),
            completed_at: o.completed_at.map(rfc3339),
            created_at: rfc3339(o.created_at),
            updated_at: rfc3339(o.updated_at),
            metadata: o
                .metadata
                .as_deref()
                .and_then(|m| serde_json::from_str(m).ok()),
            livemode: o.livemode,
        }
    }
}

/// A PNG QR code of `text` as a `data:` URI.
pub fn qr_data_uri(text: &str) -> Option<String> {
    let code = qrcode::QrCode::new(text.as_bytes()).ok()?;
    let image = code
        .render::<image::Luma<u8>>()
        .min_dimensions(160, 160)
        .build();
    let mut png = Vec::new();
    image
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .ok()?;
    Some(format!("data:image/png;base64,{}", STANDARD.encode(png)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qr_is_a_png_data_uri() {
        let uri = qr_data_uri("http://127.0.0.1:8080/pay/abc").unwrap();
        let b64 = uri.strip_prefix("data:image/png;base64,").unwrap();
        let bytes = STANDARD.decode(b64).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    }
}
