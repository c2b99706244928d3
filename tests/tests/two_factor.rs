//! Two-factor authentication (TOTP): set-up, enabling, login and acceptor releases.

use std::time::{SystemTime, UNIX_EPOCH};

use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha1::Sha1;

use otcpay_tests::TestApp;
use otcpay_tests::app::assert_error;
use otcpay_tests::merchant::create_merchant;
use otcpay_tests::scenario::{AcceptorSpec, online_acceptor};

/// RFC 4648 base32 (no padding) back to bytes.
fn base32_decode(text: &str) -> Vec<u8> {
    let (mut buffer, mut bits, mut out) = (0u64, 0u32, Vec::new());
    for c in text.bytes() {
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'2'..=b'7' => c - b'2' + 26,
            other => panic!("not base32: {other}"),
        };
        buffer = (buffer << 5) | u64::from(value);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    out
}

/// The code an authenticator app shows for `secret`, `offset` steps of 30 s from now.
fn authenticator_code(secret: &str, offset: i64) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let step = (now / 30) as i64 + offset;
    let mut mac = Hmac::<Sha1>::new_from_slice(&base32_decode(secret)).unwrap();
    mac.update(&(step as u64).to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let at = usize::from(digest[19] & 0x0f);
    let word = u32::from_be_bytes([
        digest[at] & 0x7f,
        digest[at + 1],
        digest[at + 2],
        digest[at + 3],
    ]);
    format!("{:06}", word % 1_000_000)
}

async fn login(app: &TestApp, email: &str, totp_code: Option<&str>) -> reqwest::Response {
    let mut body = json!({"email": email, "password": "acceptor-password-1"});
    if let Some(code) = totp_code {
        body["totp_code"] = json!(code);
    }
    app.post("/api/v1/auth/login", None, &body).await
}

#[tokio::test]
async fn two_factor_guards_login_and_release_once_enabled() {
    let app = TestApp::spawn().await;
    let acceptor = online_acceptor(&app, AcceptorSpec::default()).await;
    let token = Some(acceptor.token.as_str());

    // Enabling needs a set-up secret first.
    let early = app
        .post(
            "/api/v1/auth/totp/enable",
            token,
            &json!({"code": "123456"}),
        )
        .await;
    assert_error(early, 409, "invalid_state").await;
    assert_error(
        app.post("/api/v1/auth/totp/setup", None, &json!({})).await,
        401,
        "missing_credentials",
    )
    .await;

    let setup = app.post("/api/v1/auth/totp/setup", token, &json!({})).await;
    assert_eq!(setup.status(), 200);
    let setup: Value = setup.json().await.unwrap();
    let secret = setup["secret"].as_str().unwrap().to_owned();
    assert_eq!(base32_decode(&secret).len(), 20);
    let url = setup["otpauth_url"].as_str().unwrap();
    assert!(url.starts_with("otpauth://totp/OTCPay%3A"), "{url}");
    assert!(
        url.contains(&format!("secret={secret}&issuer=OTCPay")),
        "{url}"
    );

    // Not yet in force: logging in needs no code.
    assert_eq!(login(&app, &acceptor.email, None).await.status(), 200);

    // A code from another time does not enable it; the current one does.
    let stale = app
        .post(
            "/api/v1/auth/totp/enable",
            token,
            &json!({"code": authenticator_code(&secret, -10)}),
        )
        .await;
    let error = assert_error(stale, 400, "invalid_request").await;
    assert_eq!(error["error"]["param"], "code");
    let enabled = app
        .post(
            "/api/v1/auth/totp/enable",
            token,
            &json!({"code": authenticator_code(&secret, 0)}),
        )
        .await;
    assert_eq!(enabled.status(), 200);
    assert_eq!(
        enabled.json::<Value>().await.unwrap(),
        json!({"totp_enabled": true})
    );
    assert_error(
        app.post("/api/v1/auth/totp/setup", token, &json!({})).await,
        409,
        "invalid_state",
    )
    .await;

    // Login: no code, a wrong code, then the right one, which logs in once.
    let error = assert_error(
        login(&app, &acceptor.email, None).await,
        401,
        "totp_required",
    )
    .await;
    assert_eq!(error["error"]["param"], "totp_code");
    assert_error(
        login(&app, &acceptor.email, Some(&authenticator_code(&secret, 5))).await,
        401,
        "totp_required",
    )
    .await;
    let code = authenticator_code(&secret, 0);
    let session = login(&app, &acceptor.email, Some(&code)).await;
    assert_eq!(session.status(), 200);
    let fresh_token = session.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_error(
        login(&app, &acceptor.email, Some(&code)).await,
        401,
        "totp_required",
    )
    .await;

    // Release: refused without a code, done with one.
    let merchant = create_merchant(&app, json!({})).await;
    let created = merchant
        .live
        .post(
            "/api/v1/orders",
            &json!({"merchant_order_id": "tfa-1", "amount": "25.00", "fiat_currency": "CNY"}),
        )
        .await;
    assert_eq!(created.status(), 201);
    let order_id = created.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let confirm = format!("/api/v1/acceptor/orders/{order_id}/confirm");
    let error = assert_error(
        app.post(&confirm, Some(&fresh_token), &json!({})).await,
        401,
        "totp_required",
    )
    .await;
    assert_eq!(error["error"]["param"], "totp_code");
    let released = app
        .post(
            &confirm,
            Some(&fresh_token),
            &json!({"totp_code": authenticator_code(&secret, 0)}),
        )
        .await;
    assert_eq!(released.status(), 200);
    assert_eq!(
        released.json::<Value>().await.unwrap()["status"],
        "completed"
    );
    app.assert_ledger_ok().await;
}
