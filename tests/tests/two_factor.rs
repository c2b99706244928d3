//! Two-factor authentication (TOTP): set-up, enabling, login, acceptor releases and
//! turning it off; every code is accepted once.

use serde_json::{Value, json};

use otcpay_tests::TestApp;
use otcpay_tests::app::assert_error;
use otcpay_tests::merchant::create_merchant;
use otcpay_tests::scenario::{AcceptorSpec, online_acceptor};
use otcpay_tests::totp::{base32_decode, code as authenticator_code, next_step};

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
    assert!(url.starts_with("otpauth://totp/OTCPay:"), "{url}");
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
    // The code that turned 2FA on is spent: the login waits for the next one.
    next_step().await;
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

    // Release: refused without a code and with the code already spent on the login;
    // done with the next one.
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
    assert_error(
        app.post(&confirm, Some(&fresh_token), &json!({"totp_code": code}))
            .await,
        401,
        "totp_required",
    )
    .await;
    next_step().await;
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

/// Logs in, sets up and enables 2FA for an acceptor; returns (token, secret).
async fn acceptor_with_two_factor(app: &TestApp) -> (otcpay_tests::scenario::Acceptor, String) {
    let acceptor = online_acceptor(app, AcceptorSpec::default()).await;
    let token = Some(acceptor.token.as_str());
    let setup: Value = app
        .post("/api/v1/auth/totp/setup", token, &json!({}))
        .await
        .json()
        .await
        .unwrap();
    let secret = setup["secret"].as_str().unwrap().to_owned();
    let enabled = app
        .post(
            "/api/v1/auth/totp/enable",
            token,
            &json!({"code": authenticator_code(&secret, 0)}),
        )
        .await;
    assert_eq!(enabled.status(), 200);
    (acceptor, secret)
}

#[tokio::test]
async fn two_factor_is_turned_off_only_with_a_valid_code() {
    let app = TestApp::spawn().await;
    let (acceptor, secret) = acceptor_with_two_factor(&app).await;
    let token = Some(acceptor.token.as_str());
    let disable = "/api/v1/auth/totp/disable";

    let wrong = app
        .post(
            disable,
            token,
            &json!({"code": authenticator_code(&secret, 7)}),
        )
        .await;
    let error = assert_error(wrong, 400, "invalid_request").await;
    assert_eq!(error["error"]["param"], "code");
    // The code that enabled it is spent.
    let reused = app
        .post(
            disable,
            token,
            &json!({"code": authenticator_code(&secret, 0)}),
        )
        .await;
    assert_error(reused, 400, "invalid_request").await;
    assert_error(
        login(&app, &acceptor.email, None).await,
        401,
        "totp_required",
    )
    .await;

    next_step().await;
    let off = app
        .post(
            disable,
            token,
            &json!({"code": authenticator_code(&secret, 0)}),
        )
        .await;
    assert_eq!(off.status(), 200);
    assert_eq!(
        off.json::<Value>().await.unwrap(),
        json!({"totp_enabled": false})
    );
    // Off: a login needs no code, and turning it off again is a state conflict.
    assert_eq!(login(&app, &acceptor.email, None).await.status(), 200);
    assert_error(
        app.post(disable, token, &json!({"code": "123456"})).await,
        409,
        "invalid_state",
    )
    .await;
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn wrong_second_factor_codes_lock_the_user_out_everywhere() {
    let app = TestApp::spawn_with(|s| {
        s.login_max_failures = 3;
        s.login_window_seconds = 600;
    })
    .await;
    let (acceptor, secret) = acceptor_with_two_factor(&app).await;
    next_step().await;
    let merchant = create_merchant(&app, json!({})).await;
    let created = merchant
        .live
        .post(
            "/api/v1/orders",
            &json!({"merchant_order_id": "tfa-lock", "amount": "25.00", "fiat_currency": "CNY"}),
        )
        .await;
    assert_eq!(created.status(), 201);
    let order_id = created.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let confirm = format!("/api/v1/acceptor/orders/{order_id}/confirm");
    let token = Some(acceptor.token.as_str());

    // Three wrong codes on release spend the allowance…
    for offset in [5, 6, 7] {
        assert_error(
            app.post(
                &confirm,
                token,
                &json!({"totp_code": authenticator_code(&secret, offset)}),
            )
            .await,
            401,
            "totp_required",
        )
        .await;
    }
    // …after which even the right code is refused, on release and on login alike.
    let locked = app
        .post(
            &confirm,
            token,
            &json!({"totp_code": authenticator_code(&secret, 0)}),
        )
        .await;
    assert!(locked.headers().contains_key("retry-after"));
    assert_error(locked, 429, "too_many_attempts").await;
    assert_error(
        login(&app, &acceptor.email, Some(&authenticator_code(&secret, 0))).await,
        429,
        "too_many_attempts",
    )
    .await;
    assert_error(
        app.post(
            "/api/v1/auth/totp/disable",
            token,
            &json!({"code": authenticator_code(&secret, 0)}),
        )
        .await,
        429,
        "too_many_attempts",
    )
    .await;
    // The order was not released; the lockout is audited and counted.
    let order: Value = app
        .get(&format!("/api/v1/acceptor/orders/{order_id}"), token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(order["status"], "assigned");
    let audit: Value = app
        .get("/api/v1/admin/audit-log", Some(&app.admin_token().await))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        audit["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "auth.second_factor_lockout"
                && e["details"]["purpose"] == "release"),
        "{audit}"
    );
    let metrics = app.get("/metrics", None).await.text().await.unwrap();
    assert!(
        metrics.contains("second_factor_lockouts_total{purpose=\"release\"} 1"),
        "{metrics}"
    );
    app.assert_ledger_ok().await;
}
