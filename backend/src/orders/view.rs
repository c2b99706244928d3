//! The order object of the API (API.md "Order object").

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;
use serde_json::Value;
use serde_json::value::RawValue;

use super::model::Rail;
use super::store::order;
use crate::db::rfc3339;
use crate::ids::OrderId;
use crate::money::{FiatCurrency, format_scaled, format_usdt};

/// The order object (merchant API, acceptor API, webhooks, live events).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Order, example = json!({"id": "ord_01JD3Q4ZK8M6W2X9V7T5R3P1NB", "merchant_order_id": "inv-1001", "status": "assigned", "amount": "100.00", "currency": "USDT", "fee": "1.00", "net_amount": "99.00", "fiat_currency": "CNY", "fiat_amount": "718.00", "rate": "7.18", "payment_method": "bank_transfer", "payment_details": {"method": "bank_transfer", "bank_name": "Example Bank", "account_name": "Li Wei", "account_number": "6222 0000 0000 0000", "reference": "R7K2Q9"}, "reference": "R7K2Q9", "cashier_url": "https://pay.example/pay/4f0c…", "qr_code": "data:image/png;base64,iVBORw0KGgo…", "released_amount": null, "expires_at": "2026-11-21T10:30:00Z", "paid_at": null, "completed_at": null, "created_at": "2026-11-21T10:15:00Z", "updated_at": "2026-11-21T10:15:01Z", "metadata": {"cart": "42"}, "livemode": true}))]
pub struct OrderView {
    #[schema(example = "ord_01JD3Q4ZK8M6W2X9V7T5R3P1NB")]
    pub id: OrderId,
    pub merchant_order_id: String,
    #[schema(value_type = super::model::OrderStatus)]
    pub status: String,
    /// USDT the customer pays for.
    #[schema(format = "decimal")]
    pub amount: String,
    /// Always `USDT`.
    #[schema(example = "USDT")]
    pub currency: &'static str,
    /// The platform fee in USDT.
    #[schema(format = "decimal")]
    pub fee: String,
    /// What the merchant is credited: `amount − fee` (or `released_amount − fee` after a
    /// partial release).
    #[schema(format = "decimal")]
    pub net_amount: String,
    pub fiat_currency: String,
    /// What the customer transfers, in the fiat's scale; `null` until assigned.
    #[schema(required = true, format = "decimal")]
    pub fiat_amount: Option<String>,
    /// Fiat per USDT; `null` until assigned.
    #[schema(required = true, format = "decimal")]
    pub rate: Option<String>,
    #[schema(required = true)]
    pub payment_method: Option<String>,
    /// Where and how to pay (`method`, the acceptor's details such as `bank_name`,
    /// `account_name`, `account_number`, and `reference`); `null` until assigned.
    #[schema(required = true, value_type = Option<std::collections::BTreeMap<String, String>>)]
    pub payment_details: Option<Value>,
    /// The short code the customer puts in the transfer memo.
    #[schema(example = "R7K2Q9")]
    pub reference: String,
    /// The customer's payment page; its token is the capability to pay and dispute.
    #[schema(format = "uri")]
    pub cashier_url: String,
    /// A PNG data URI of a QR code of `cashier_url`. Only in the merchant API's
    /// responses (not in the acceptor API, webhooks or live events).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qr_code: Option<String>,
    /// USDT released by an admin's partial dispute resolution; else `null`.
    #[schema(required = true, format = "decimal")]
    pub released_amount: Option<String>,
    /// End of the payment window.
    #[schema(format = DateTime)]
    pub expires_at: String,
    #[schema(required = true, format = DateTime)]
    pub paid_at: Option<String>,
    #[schema(required = true, format = DateTime)]
    pub completed_at: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    /// The merchant's metadata, as sent (byte for byte).
    #[schema(required = true, value_type = Option<std::collections::BTreeMap<String, Value>>)]
    pub metadata: Option<Box<RawValue>>,
    /// `false` for sandbox orders (created with an `mk_test_…` key).
    pub livemode: bool,
    /// `otc` (fiat to an acceptor) or `onchain` (USDT to the order's own address).
    pub rail: super::model::Rail,
    /// On-chain orders only: the network.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::values::networks::NetworkId>, nullable = false)]
    pub network: Option<String>,
    /// On-chain orders only: the last transaction that paid the order; `null` until
    /// one is seen.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub txid: Option<Option<String>>,
    /// On-chain orders only: USDT received so far at the order's address (in blocks,
    /// confirmed or not).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = "decimal", nullable = false)]
    pub paid_amount: Option<String>,
    /// On-chain orders only: confirmations of that payment (the least of its
    /// transfers'), up to the network's requirement.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<i64>, nullable = false)]
    pub confirmations: Option<i64>,
}

pub fn cashier_url(public_url: &str, token: &str) -> String {
    format!("{public_url}/pay/{token}")
}

pub fn format_fiat(fiat: &str, minor: i64) -> String {
    let scale = FiatCurrency::find(fiat).map_or_else(
        || {
            // Orders are only made in listed currencies: this is a corrupt row.
            tracing::error!(fiat, "stored fiat currency is not in the table");
            2
        },
        |f| f.scale,
    );
    format_scaled(minor, scale)
}

/// The order's fixed fiat amount as a decimal string (`"718.00"`), once assigned.
pub fn fiat_amount_of(o: &order::Model) -> Option<String> {
    o.fiat_amount
        .map(|minor| format_fiat(&o.fiat_currency, minor))
}

/// [`fiat_amount_of`] with its currency, as people read it (`"718.00 CNY"`).
pub fn fiat_label_of(o: &order::Model) -> Option<String> {
    fiat_amount_of(o).map(|amount| format!("{amount} {}", o.fiat_currency))
}

crate::page_schema!(
    /// A page of orders.
    OrderList,
    OrderView
);

impl OrderView {
    /// The merchant's view. `with_qr` adds the PNG data URI of the cashier link (the API
    /// responses have it; webhooks and live events leave it out to stay small).
    pub fn new(o: &order::Model, public_url: &str, with_qr: bool) -> Self {
        let cashier_url = cashier_url(public_url, &o.cashier_token);
        let net = super::model::net_amount(o.amount, o.released_amount, o.fee);
        Self {
            id: o.id.clone(),
            merchant_order_id: o.merchant_order_id.clone(),
            status: o.status.as_str().to_owned(),
            amount: format_usdt(o.amount),
            currency: "USDT",
            fee: format_usdt(o.fee),
            net_amount: format_usdt(net),
            fiat_currency: o.fiat_currency.clone(),
            fiat_amount: fiat_amount_of(o),
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
                .as_ref()
                .and_then(|m| RawValue::from_string(m.clone()).ok()),
            livemode: o.livemode,
            rail: o.rail,
            network: o.network.clone(),
            txid: (o.rail == Rail::Onchain).then(|| o.txid.clone()),
            paid_amount: (o.rail == Rail::Onchain).then(|| format_usdt(o.paid_amount.unwrap_or(0))),
            confirmations: (o.rail == Rail::Onchain).then(|| o.confirmations.unwrap_or(0)),
        }
    }
}

/// Pixels per QR module and the quiet zone around the code, in modules (the
/// standard asks for 4).
const QR_SCALE: usize = 6;
const QR_QUIET_ZONE: usize = 4;

/// A PNG QR code of `text` as a `data:` URI.
///
/// It sits on the order-creation path, so it is built cheaply: one fixed mask
/// instead of scoring all eight (any mask decodes; the best one only scores a
/// little better on scanners), and a 1-bit greyscale PNG written directly.
pub fn qr_data_uri(text: &str) -> Option<String> {
    use qrcode::{EcLevel, bits, canvas, ec};
    let bits = bits::encode_auto(text.as_bytes(), EcLevel::M).ok()?;
    let version = bits.version();
    let (data, ecc) = ec::construct_codewords(&bits.into_bytes(), version, EcLevel::M).ok()?;
    let mut canvas = canvas::Canvas::new(version, EcLevel::M);
    canvas.draw_all_functional_patterns();
    canvas.draw_data(&data, &ecc);
    canvas.apply_mask(canvas::MaskPattern::Checkerboard);
    let modules = canvas.into_colors();
    let width = usize::try_from(version.width()).ok()?;
    debug_assert_eq!(modules.len(), width * width);

    let side = (width + 2 * QR_QUIET_ZONE) * QR_SCALE;
    let row_bytes = side.div_ceil(8);
    // 1-bit greyscale: a set bit is white. Start all white; draw each row of modules
    // once into its first pixel row and copy that row down the module's height.
    let mut pixels = vec![0xFF_u8; row_bytes * side];
    for (my, row) in modules.chunks_exact(width).enumerate() {
        let top = (my + QR_QUIET_ZONE) * QR_SCALE * row_bytes;
        let first = &mut pixels[top..top + row_bytes];
        for (mx, _) in row
            .iter()
            .enumerate()
            .filter(|(_, color)| **color == qrcode::Color::Dark)
        {
            let left = (mx + QR_QUIET_ZONE) * QR_SCALE;
            for x in left..left + QR_SCALE {
                first[x / 8] &= !(0x80 >> (x % 8));
            }
        }
        for copy in 1..QR_SCALE {
            pixels.copy_within(top..top + row_bytes, top + copy * row_bytes);
        }
    }

    let side = u32::try_from(side).ok()?;
    let mut png = Vec::with_capacity(1024);
    let mut encoder = png::Encoder::new(&mut png, side, side);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::One);
    // Rows repeat, so the `Up` filter that `Fastest` picks turns them into zeros.
    encoder.set_compression(png::Compression::Fastest);
    let mut writer = encoder.write_header().ok()?;
    writer.write_image_data(&pixels).ok()?;
    writer.finish().ok()?;
    Some(format!("data:image/png;base64,{}", STANDARD.encode(png)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes the PNG with an independent QR reader: the code must say `text`.
    fn decode(uri: &str) -> String {
        let b64 = uri.strip_prefix("data:image/png;base64,").unwrap();
        let bytes = STANDARD.decode(b64).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        decoder.set_transformations(png::Transformations::EXPAND);
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let frame = reader.next_frame(&mut buf).unwrap();
        let (w, h) = (frame.width as usize, frame.height as usize);
        let luma = &buf[..frame.buffer_size()];
        assert_eq!(luma.len(), w * h, "8-bit greyscale after expansion");
        let mut image = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| luma[y * w + x]);
        let grids = image.detect_grids();
        assert_eq!(grids.len(), 1, "one QR code in the image");
        grids[0].decode().unwrap().1
    }

    #[test]
    fn qr_png_decodes_to_the_cashier_url() {
        for text in [
            "http://127.0.0.1:8080/pay/abc",
            "https://pay.example.com/pay/0123456789abcdef0123456789abcdef0123456789abcdef",
        ] {
            assert_eq!(decode(&qr_data_uri(text).unwrap()), text);
        }
    }
}
