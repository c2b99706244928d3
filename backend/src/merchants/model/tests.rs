use super::*;
use serde_json::json;

#[test]
fn key_ids_have_the_documented_shape() {
    let live = new_key_id(KeyMode::Live);
    let test = new_key_id(KeyMode::Test);
    assert_eq!(live.len(), 8 + 24);
    assert_eq!(key_id_mode(&live), Some(KeyMode::Live));
    assert_eq!(key_id_mode(&test), Some(KeyMode::Test));
    assert_eq!(key_id_mode("mk_live_short"), None);
    assert_eq!(key_id_mode(&format!("mk_prod_{}", "a".repeat(24))), None);
    assert_eq!(key_id_mode(&format!("mk_live_{}!", "a".repeat(23))), None);
    assert_eq!(key_id_display_prefix(&live).len(), 12);
    assert!(live.starts_with(&key_id_display_prefix(&live)));
}

#[test]
fn secrets_have_the_documented_shape() {
    let hmac = new_hmac_secret();
    assert_eq!(hmac.len(), 64);
    assert!(
        hmac.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
    let whsec = new_webhook_secret();
    let raw = STANDARD
        .decode(whsec.strip_prefix("whsec_").unwrap())
        .unwrap();
    assert_eq!(raw.len(), 32);
}

#[test]
fn random_alphanumerics_cover_the_alphabet() {
    let text = random_alphanumeric(5000);
    assert_eq!(text.len(), 5000);
    for c in ['A', 'z', '0', '9'] {
        assert!(text.contains(c));
    }
}

#[test]
fn new_merchant_reads_and_validates() {
    let m = NewMerchant::from_json(json!({
        "name": " Shop ", "email": "Shop@Example.com", "fee_rate": "0.015",
        "default_fiat": "CNY", "webhook_url": "https://shop.example/hook",
        "auto_approve_withdrawals_below": "50.5"
    }))
    .unwrap();
    assert_eq!(m.name, "Shop");
    assert_eq!(m.email, "shop@example.com");
    assert_eq!(m.fee_rate.to_string(), "0.015");
    assert_eq!(m.rate_limit_per_minute, 100);
    assert_eq!(m.auto_approve_withdrawals_below, Some(50_500_000));

    let param = |body: Value| {
        NewMerchant::from_json(body)
            .err()
            .and_then(|e| e.param.map(|p| (e.code.as_str(), p.into_owned())))
    };
    let base = || json!({"name": "S", "email": "a@b.co", "fee_rate": "0.01"});
    let with = |k: &str, v: Value| {
        let mut b = base();
        b[k] = v;
        b
    };
    assert_eq!(
        param(with("fee_rate", json!("1"))),
        Some(("invalid_amount", "fee_rate".into()))
    );
    assert_eq!(
        param(with("fee_rate", json!(0.01))),
        Some(("invalid_amount", "fee_rate".into()))
    );
    assert_eq!(
        param(with("default_fiat", json!("XXX"))),
        Some(("unsupported_currency", "default_fiat".into()))
    );
    assert_eq!(
        param(with("webhook_url", json!("ftp://x.example"))),
        Some(("invalid_request", "webhook_url".into()))
    );
    assert_eq!(
        param(with("rate_limit_per_minute", json!(0))),
        Some(("invalid_request", "rate_limit_per_minute".into()))
    );
    assert_eq!(
        param(with("nme", json!("typo"))),
        Some(("invalid_request", "nme".into()))
    );
    assert_eq!(
        param(json!({"email": "a@b.co", "fee_rate": "0.01"})),
        Some(("invalid_request", "name".into()))
    );
}

#[test]
fn patch_tells_null_from_absent() {
    let p = MerchantPatch::from_json(json!({"webhook_url": null, "status": "suspended"})).unwrap();
    assert_eq!(p.webhook_url, Some(None));
    assert_eq!(p.default_fiat, None);
    assert_eq!(p.status, Some(MerchantStatus::Suspended));
    assert_eq!(p.field_names(), ["status", "webhook_url"]);
    assert!(MerchantPatch::from_json(json!({"name": null})).is_err());
    assert!(MerchantPatch::from_json(json!({"email": "x@y.zz"})).is_err());
}

#[test]
fn public_keys_parse_from_pem() {
    use p256::pkcs8::{EncodePublicKey, LineEnding};
    let signing = p256::ecdsa::SigningKey::from_slice(&[7u8; 32]).unwrap();
    let pem = signing
        .verifying_key()
        .to_public_key_pem(LineEnding::CRLF)
        .unwrap();
    let (key, canonical) = parse_public_key_pem(&pem).unwrap();
    assert_eq!(&key, signing.verifying_key());
    assert!(canonical.starts_with("-----BEGIN PUBLIC KEY-----\n"));
    assert!(
        parse_public_key_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----")
            .is_none()
    );
}
