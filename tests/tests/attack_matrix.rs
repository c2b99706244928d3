//! The attack matrix: what an attacker tries against a running server, one table per
//! kind of attack, each row the request and the answer the contract gives. The tests
//! named after a defect are its regression tests:
//!
//! | attack | test |
//! |---|---|
//! | IDOR across merchants, acceptors, live/test, roles and credential kinds | `idor_every_role_and_object` |
//! | JWT tampering: alg none, changed role, expired, other key, logged out | `jwt_tampering_is_refused` |
//! | signature replay, stale and future `Request-Time`, `Recv-Window` edges | `signature_time_and_window_edges` |
//! | a replay naming a longer `Recv-Window` after the original window (defect 2) | `a_signature_replayed_with_a_longer_recv_window_is_refused` |
//! | password brute force and locking the admin out (defect 4) | `anyone_can_no_longer_lock_the_admin_out` |
//! | second-factor brute force (defect 1) | `two_factor.rs`: `wrong_second_factor_codes_lock_the_user_out_everywhere` |
//! | money moved by an admin without a second factor (defect 5) | `admins_move_money_only_after_a_second_factor` |
//! | cookie-authenticated writes without CSRF, non-JSON bodies (defect 6) | `cookie_writes_need_the_csrf_token_and_json_bodies_their_type` |
//! | XSS payloads in fields a page renders | `xss_payloads_are_escaped_on_the_cashier_page_and_the_desk` |
//! | SSRF forms of webhook URLs with the production default | `ssrf_forms_of_webhook_urls_are_refused` |
//! | bodies over the limit | `bodies_over_the_limit_are_413` |
//! | NUL characters (PostgreSQL text cannot hold them; found by the schema fuzzing) | `nul_characters_are_refused_not_failed_on` |
//! | headers, byte-exact metadata, private data dir (defect 7) | `hardening_headers_metadata_and_private_files` |
//! | 405 with `Allow` (defect 8) | `known_paths_with_another_method_are_405_with_allow` |
//! | secrets in the log, cashier tokens in request paths (defect 3) | `no_secret_reaches_the_log` |

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::{Method, Response};
use serde_json::{Value, json};

use otcpay::crypto::MasterKey;
use otcpay_tests::TestApp;
use otcpay_tests::app::{ADMIN_EMAIL, ADMIN_PASSWORD, TEST_MASTER_KEY, assert_error};
use otcpay_tests::merchant::{CreatedMerchant, create_merchant};
use otcpay_tests::scenario::{Acceptor, AcceptorSpec, online_acceptor};

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

async fn order_of(shop: &CreatedMerchant, live: bool, id: &str) -> Value {
    let client = if live { &shop.live } else { &shop.test };
    let response = client
        .post(
            "/api/v1/orders",
            &json!({"merchant_order_id": id, "amount": "20.00", "fiat_currency": "CNY"}),
        )
        .await;
    assert_eq!(response.status(), 201, "{:?}", response.text().await);
    response.json().await.unwrap()
}

async fn status_of(response: Response) -> u16 {
    response.status().as_u16()
}

#[tokio::test]
async fn idor_every_role_and_object() {
    let app = TestApp::spawn().await;
    let owner: Acceptor = online_acceptor(&app, AcceptorSpec::default()).await;
    let a = create_merchant(&app, json!({})).await;
    let b = create_merchant(&app, json!({})).await;
    let live = order_of(&a, true, "idor-live").await;
    let test = order_of(&a, false, "idor-test").await;
    assert_eq!(live["status"], "assigned");
    let (live_id, test_id) = (live["id"].as_str().unwrap(), test["id"].as_str().unwrap());
    let withdrawal = a
        .live
        .post(
            "/api/v1/withdrawals",
            &json!({"merchant_withdrawal_id": "w-idor", "network": "tron",
                    "address": "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "amount": "10.00"}),
        )
        .await;
    // No balance yet: refused, but the id space is what matters below.
    assert!(withdrawal.status().is_client_error());
    let other = online_acceptor(&app, AcceptorSpec::default()).await;
    let admin = app.admin_token().await;

    // Merchant ↔ merchant and live ↔ test: another tenant's object is 404.
    let merchant_rows: Vec<(&str, Response)> = vec![
        (
            "B reads A's order",
            b.live.get(&format!("/api/v1/orders/{live_id}")).await,
        ),
        (
            "B cancels A's order",
            b.live
                .post_empty(&format!("/api/v1/orders/{live_id}/cancel"))
                .await,
        ),
        (
            "B disputes A's order",
            b.live
                .post(
                    &format!("/api/v1/orders/{live_id}/disputes"),
                    &json!({"reason": "x"}),
                )
                .await,
        ),
        (
            "A's test key reads its live order",
            a.test.get(&format!("/api/v1/orders/{live_id}")).await,
        ),
        (
            "A's live key reads its test order",
            a.live.get(&format!("/api/v1/orders/{test_id}")).await,
        ),
        (
            "B reads a made-up withdrawal",
            b.live
                .get("/api/v1/withdrawals/wd_01M000000000000000000000000")
                .await,
        ),
    ];
    for (what, response) in merchant_rows {
        assert_eq!(status_of(response).await, 404, "{what}");
    }
    // The owner still sees both.
    assert_eq!(
        status_of(a.live.get(&format!("/api/v1/orders/{live_id}")).await).await,
        200
    );
    assert_eq!(
        status_of(a.test.get(&format!("/api/v1/orders/{test_id}")).await).await,
        200
    );

    // Acceptor ↔ acceptor.
    // The order went to `owner`, the only acceptor online when it was created.
    let assigned_to = live_id;
    let (mine, theirs) = (&owner, &other);
    for (method, suffix) in [
        (Method::GET, ""),
        (Method::POST, "/confirm"),
        (Method::POST, "/reject"),
        (Method::POST, "/dispute"),
    ] {
        let path = format!("/api/v1/acceptor/orders/{assigned_to}{suffix}");
        let body = (method == Method::POST).then(|| json!({"reason": "not mine"}));
        let response = app
            .request(method.clone(), &path, Some(&theirs.token), body.as_ref())
            .await;
        assert_error(response, 404, "not_found").await;
    }
    let own = app
        .get(
            &format!("/api/v1/acceptor/orders/{assigned_to}"),
            Some(&mine.token),
        )
        .await;
    assert_eq!(own.status(), 200);

    // Roles and credential kinds.
    let signed_headers = a
        .live
        .signed_headers(&Method::GET, "/api/v1/acceptor/profile", b"");
    let mut on_portal = app.client.get(app.url("/api/v1/acceptor/profile"));
    for (name, value) in signed_headers {
        on_portal = on_portal.header(name, value);
    }
    assert_error(on_portal.send().await.unwrap(), 401, "missing_credentials").await;
    let role_rows = [
        (
            "acceptor token on a signed route",
            Method::GET,
            "/api/v1/balance",
            owner.token.as_str(),
            401,
            "missing_credentials",
        ),
        (
            "acceptor token on an admin route",
            Method::GET,
            "/api/v1/admin/acceptors",
            owner.token.as_str(),
            403,
            "forbidden",
        ),
        (
            "admin token on an acceptor route",
            Method::GET,
            "/api/v1/acceptor/profile",
            admin.as_str(),
            403,
            "forbidden",
        ),
        (
            "admin token on a signed route",
            Method::GET,
            "/api/v1/orders",
            admin.as_str(),
            401,
            "missing_credentials",
        ),
    ];
    for (what, method, path, token, status, code) in role_rows {
        let response = app.request(method, path, Some(token), None).await;
        assert_eq!(response.status().as_u16(), status, "{what}");
        assert_error(response, status, code).await;
    }
    app.assert_ledger_ok().await;
}

/// A JWT with this header and claims, signed with `key` (HS256) or unsigned.
fn forge(header: Value, claims: &Value, key: Option<&[u8]>) -> String {
    let head = URL_SAFE_NO_PAD.encode(header.to_string());
    let body = URL_SAFE_NO_PAD.encode(claims.to_string());
    let signature = match key {
        Some(key) => URL_SAFE_NO_PAD.encode(otcpay::crypto::hmac_sha256(
            key,
            format!("{head}.{body}").as_bytes(),
        )),
        None => String::new(),
    };
    format!("{head}.{body}.{signature}")
}

fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

#[tokio::test]
async fn jwt_tampering_is_refused() {
    let app = TestApp::spawn().await;
    let acceptor = online_acceptor(&app, AcceptorSpec::default()).await;
    let claims = claims_of(&acceptor.token);
    let server_key = MasterKey::from_hex(TEST_MASTER_KEY).unwrap();
    let key = server_key.jwt_secret().to_vec();
    let hs256 = json!({"alg": "HS256", "typ": "JWT"});
    let mut admin_claims = claims.clone();
    admin_claims["role"] = json!("admin");
    let mut expired = claims.clone();
    expired["exp"] = json!(now_ms() / 1000 - 1);
    let mut other_session = claims.clone();
    other_session["sid"] = json!("ses_01M000000000000000000000000");
    let cases = [
        (
            "alg none",
            forge(json!({"alg": "none", "typ": "JWT"}), &claims, None),
        ),
        ("changed role, old signature", {
            let mut parts: Vec<String> = acceptor.token.split('.').map(str::to_owned).collect();
            parts[1] = URL_SAFE_NO_PAD.encode(admin_claims.to_string());
            parts.join(".")
        }),
        (
            "changed role, signed by the server's key",
            forge(hs256.clone(), &admin_claims, Some(&key)),
        ),
        (
            "expired, signed by the server's key",
            forge(hs256.clone(), &expired, Some(&key)),
        ),
        (
            "another key",
            forge(hs256.clone(), &claims, Some(&[7u8; 32])),
        ),
        (
            "a session that does not exist",
            forge(hs256.clone(), &other_session, Some(&key)),
        ),
    ];
    for (what, token) in cases {
        let response = app.get("/api/v1/admin/acceptors", Some(&token)).await;
        assert_eq!(response.status(), 401, "{what}");
        assert_error(response, 401, "invalid_token").await;
    }
    // The real token works until it is logged out, then never again.
    assert_eq!(
        app.get("/api/v1/acceptor/profile", Some(&acceptor.token))
            .await
            .status(),
        200
    );
    let logout = app
        .post("/api/v1/auth/logout", Some(&acceptor.token), &json!({}))
        .await;
    assert_eq!(logout.status(), 204);
    assert_error(
        app.get("/api/v1/acceptor/profile", Some(&acceptor.token))
            .await,
        401,
        "invalid_token",
    )
    .await;
    app.assert_ledger_ok().await;
}

/// Header overrides of a signed request: `(name, Some(value))` sets, `None` removes.
type Headers = Vec<(&'static str, Option<String>)>;

#[tokio::test]
async fn signature_time_and_window_edges() {
    let app = TestApp::spawn().await;
    let shop = create_merchant(&app, json!({})).await;
    let balance = "/api/v1/balance";
    let now = now_ms();
    let rows: Vec<(&str, Headers, u16, &str)> = vec![
        (
            "time 2 s ahead",
            vec![("Request-Time", Some((now + 2_000).to_string()))],
            401,
            "request_expired",
        ),
        (
            "time 31 s old, default window",
            vec![("Request-Time", Some((now - 31_000).to_string()))],
            401,
            "request_expired",
        ),
        (
            "time 61 s old, widest window",
            vec![
                ("Request-Time", Some((now - 61_000).to_string())),
                ("Recv-Window", Some("60000".into())),
            ],
            401,
            "request_expired",
        ),
        (
            "window 0",
            vec![("Recv-Window", Some("0".into()))],
            400,
            "invalid_request",
        ),
        (
            "window 60001",
            vec![("Recv-Window", Some("60001".into()))],
            400,
            "invalid_request",
        ),
        (
            "window not a number",
            vec![("Recv-Window", Some("1e3".into()))],
            400,
            "invalid_request",
        ),
        (
            "time not a number",
            vec![("Request-Time", Some("soon".into()))],
            401,
            "request_expired",
        ),
    ];
    for (what, overrides, status, code) in rows {
        let overrides: Vec<(&str, Option<&str>)> =
            overrides.iter().map(|(n, v)| (*n, v.as_deref())).collect();
        let response = shop
            .live
            .request(Method::GET, balance, None, &overrides)
            .await;
        assert_eq!(response.status().as_u16(), status, "{what}");
        assert_error(response, status, code).await;
    }
    // Inside the widest window: accepted once, then a replay.
    let old = (now_ms() - 45_000).to_string();
    let overrides = [
        ("Request-Time", Some(old.as_str())),
        ("Recv-Window", Some("60000")),
    ];
    let first = shop
        .live
        .request(Method::GET, balance, None, &overrides)
        .await;
    assert_eq!(first.status(), 200);
    let again = shop
        .live
        .request(Method::GET, balance, None, &overrides)
        .await;
    assert_error(again, 401, "replayed_request").await;
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn a_signature_replayed_with_a_longer_recv_window_is_refused() {
    let app = TestApp::spawn().await;
    let shop = create_merchant(&app, json!({})).await;
    let path = "/api/v1/balance";
    let time = shop.live.next_request_time().to_string();
    let signature = shop.live.sign(&time, "GET", path, b"");
    let send = |window: Option<&'static str>| {
        let mut request = app
            .client
            .get(app.url(path))
            .header("API-Key", shop.live.key_id.clone())
            .header("Request-Time", time.clone())
            .header("Signature-V1", signature.clone());
        if let Some(window) = window {
            request = request.header("Recv-Window", window);
        }
        request.send()
    };
    assert_eq!(send(None).await.unwrap().status(), 200);
    // The original's own window (30 s + 1 s of skew) is over; the same headers naming
    // the widest window would still be in time.
    tokio::time::sleep(Duration::from_secs(32)).await;
    assert_error(send(Some("60000")).await.unwrap(), 401, "replayed_request").await;
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn anyone_can_no_longer_lock_the_admin_out() {
    let app = TestApp::spawn_with(|s| {
        s.login_max_failures = 5;
        s.login_window_seconds = 600;
        s.trusted_proxies = "127.0.0.1/32".to_owned();
    })
    .await;
    let login_from = |client_ip: &'static str, email: String, password: &'static str| {
        app.client
            .post(app.url("/api/v1/auth/login"))
            .header("X-Forwarded-For", client_ip)
            .json(&json!({"email": email, "password": password}))
            .send()
    };
    // An attacker's five wrong passwords for the admin lock out the attacker…
    for _ in 0..5 {
        let wrong = login_from("198.51.100.1", ADMIN_EMAIL.to_owned(), "wrong-password-1")
            .await
            .unwrap();
        assert_error(wrong, 401, "invalid_credentials").await;
    }
    let attacker = login_from("198.51.100.1", ADMIN_EMAIL.to_owned(), ADMIN_PASSWORD)
        .await
        .unwrap();
    assert_error(attacker, 429, "too_many_attempts").await;
    // …not the admin, who logs in from elsewhere.
    let admin = login_from("198.51.100.2", ADMIN_EMAIL.to_owned(), ADMIN_PASSWORD)
        .await
        .unwrap();
    assert_eq!(admin.status(), 200);
    // Twenty failures from one address over many emails lock that address only.
    for i in 0..20 {
        login_from(
            "198.51.100.3",
            format!("guess{i}@otcpay.test"),
            "wrong-password-1",
        )
        .await
        .unwrap();
    }
    let blocked = login_from(
        "198.51.100.3",
        "fresh@otcpay.test".to_owned(),
        "wrong-password-1",
    )
    .await
    .unwrap();
    assert_error(blocked, 429, "too_many_attempts").await;
    let admin = login_from("198.51.100.4", ADMIN_EMAIL.to_owned(), ADMIN_PASSWORD)
        .await
        .unwrap();
    assert_eq!(admin.status(), 200);
    // A client that is not a trusted proxy cannot choose its address.
    let spoofing = TestApp::spawn().await;
    for i in 0..20 {
        spoofing
            .client
            .post(spoofing.url("/api/v1/auth/login"))
            .header("X-Forwarded-For", format!("203.0.113.{i}"))
            .json(&json!({"email": format!("x{i}@otcpay.test"), "password": "wrong-password-1"}))
            .send()
            .await
            .unwrap();
    }
    assert_error(
        spoofing.login("y@otcpay.test", "wrong-password-1").await,
        429,
        "too_many_attempts",
    )
    .await;
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn admins_move_money_only_after_a_second_factor() {
    let app = TestApp::spawn().await;
    // A session from before 2FA was turned on (the harness turns it on next).
    let password_only = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let password_only = password_only.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let acceptor = online_acceptor(&app, AcceptorSpec::default()).await;
    let deposit = format!("/api/v1/admin/acceptors/{}/deposits", acceptor.id);
    let body = json!({"amount": "5.00", "network": "tron", "txid": "tx-no-2fa"});
    let refused = app.post(&deposit, Some(&password_only), &body).await;
    assert_error(refused, 403, "totp_setup_required").await;
    for path in [
        "/api/v1/admin/withdrawals/wd_01M000000000000000000000000/approve",
        "/api/v1/admin/withdrawals/wd_01M000000000000000000000000/complete",
        "/api/v1/admin/withdrawals/wd_01M000000000000000000000000/fail",
        "/api/v1/admin/disputes/dsp_01M000000000000000000000000/resolve",
    ] {
        let response = app
            .post(
                path,
                Some(&password_only),
                &json!({"txid": "t", "reason": "r", "outcome": "cancel", "note": "n"}),
            )
            .await;
        assert_error(response, 403, "totp_setup_required").await;
    }
    // Reading and non-money actions stay open to a password-only session.
    assert_eq!(
        app.get("/api/v1/admin/acceptors", Some(&password_only))
            .await
            .status(),
        200
    );
    // With 2FA on and a session that passed the code, the deposit goes through.
    let mfa = app.admin_token().await;
    assert_eq!(app.post(&deposit, Some(&mfa), &body).await.status(), 201);
    // The session from before 2FA was turned on still does not count.
    let body = json!({"amount": "5.00", "network": "tron", "txid": "tx-no-2fa-2"});
    assert_error(
        app.post(&deposit, Some(&password_only), &body).await,
        403,
        "totp_setup_required",
    )
    .await;

    // The operator may switch the rule off.
    let relaxed = TestApp::spawn_with(|s| s.admin_require_2fa = false).await;
    let token = relaxed
        .login(ADMIN_EMAIL, ADMIN_PASSWORD)
        .await
        .json::<Value>()
        .await
        .unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let acceptor = online_acceptor(&relaxed, AcceptorSpec::default()).await;
    let deposit = format!("/api/v1/admin/acceptors/{}/deposits", acceptor.id);
    let body = json!({"amount": "5.00", "network": "tron", "txid": "tx-relaxed"});
    assert_eq!(
        relaxed.post(&deposit, Some(&token), &body).await.status(),
        201
    );
    app.assert_ledger_ok().await;
    relaxed.assert_ledger_ok().await;
}

#[tokio::test]
async fn cookie_writes_need_the_csrf_token_and_json_bodies_their_type() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let acceptor = online_acceptor(&app, AcceptorSpec::default()).await;
    let deposit = app.url(&format!("/api/v1/admin/acceptors/{}/deposits", acceptor.id));
    let cookie = format!("otcpay_session={admin}");
    let body = json!({"amount": "5.00", "network": "tron", "txid": "tx-csrf"}).to_string();
    let keys = MasterKey::from_hex(TEST_MASTER_KEY).unwrap();
    let sid = claims_of(&admin)["sid"].as_str().unwrap().to_owned();
    let csrf = otcpay::auth::session::csrf_token(&keys, &sid);
    let send = |csrf: Option<&str>, content_type: &str, body: String| {
        let mut request = app
            .client
            .post(&deposit)
            .header("Cookie", cookie.clone())
            .header("Content-Type", content_type.to_owned())
            .body(body);
        if let Some(csrf) = csrf {
            request = request.header("X-CSRF-Token", csrf.to_owned());
        }
        request.send()
    };
    let rows = [
        ("cookie alone", None, 403, "forbidden"),
        (
            "cookie and a wrong token",
            Some("0".repeat(32)),
            403,
            "forbidden",
        ),
        (
            "cookie and another session's token",
            Some(otcpay::auth::session::csrf_token(&keys, "ses_other")),
            403,
            "forbidden",
        ),
    ];
    for (what, token, status, code) in rows {
        let response = send(token.as_deref(), "application/json", body.clone())
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), status, "{what}");
        assert_error(response, status, code).await;
    }
    // Reading with the cookie alone is fine; writing with the token too.
    let read = app
        .client
        .get(app.url("/api/v1/admin/acceptors"))
        .header("Cookie", cookie.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 200);
    let ok = send(Some(&csrf), "application/json", body.clone())
        .await
        .unwrap();
    assert_eq!(ok.status(), 201);
    // JSON routes want JSON: other types are 415, whoever sends them.
    for content_type in ["text/plain", "application/x-www-form-urlencoded"] {
        let response = app
            .client
            .post(&deposit)
            .bearer_auth(&admin)
            .header("Content-Type", content_type)
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_error(response, 415, "unsupported_media_type").await;
    }
    let shop = create_merchant(&app, json!({})).await;
    let signed = shop
        .live
        .signed_headers(&Method::POST, "/api/v1/orders", b"{}");
    let mut request = app
        .client
        .post(app.url("/api/v1/orders"))
        .header("Content-Type", "text/plain")
        .body("{}");
    for (name, value) in signed {
        request = request.header(name, value);
    }
    assert_error(request.send().await.unwrap(), 415, "unsupported_media_type").await;
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn xss_payloads_are_escaped_on_the_cashier_page_and_the_desk() {
    let app = TestApp::spawn().await;
    let payloads = [
        "<script>alert(1)</script>",
        "\"><img src=x onerror=alert(1)>",
        "'-alert(1)-'",
    ];
    let acceptor = online_acceptor(
        &app,
        AcceptorSpec {
            name: "<b>bold</b>",
            ..AcceptorSpec::default()
        },
    )
    .await;
    // Replace the acceptor's payment method by one whose every field is a payload.
    let methods: Value = app
        .get("/api/v1/acceptor/payment-methods", Some(&acceptor.token))
        .await
        .json()
        .await
        .unwrap();
    for method in methods["data"].as_array().unwrap() {
        let path = format!(
            "/api/v1/acceptor/payment-methods/{}",
            method["id"].as_str().unwrap()
        );
        assert_eq!(
            app.request(Method::DELETE, &path, Some(&acceptor.token), None)
                .await
                .status(),
            204
        );
    }
    let added = app
        .post(
            "/api/v1/acceptor/payment-methods",
            Some(&acceptor.token),
            &json!({"fiat": "CNY", "method": "bank_transfer",
                    "details": {"bank_name": payloads[0], "account_name": payloads[1], "account_number": payloads[2]}}),
        )
        .await;
    assert_eq!(added.status(), 201);
    let shop = create_merchant(&app, json!({})).await;
    let order = order_of(&shop, true, "xss-1").await;
    let cashier = order["cashier_url"].as_str().unwrap();
    let path = &cashier[cashier.find("/pay/").unwrap()..];
    let paid = app
        .client
        .post(app.url(&format!("{path}/paid")))
        .json(&json!({"payer_name": payloads[0]}))
        .send()
        .await
        .unwrap();
    assert_eq!(paid.status(), 200);
    let page = app.get(path, None).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    for payload in payloads {
        assert!(
            !html.contains(payload),
            "raw payload on the page: {payload}"
        );
    }
    // The desk and the order page show the payer's name (and the order's details) to
    // the acceptor: escaped there too.
    let order_id = order["id"].as_str().unwrap();
    for page in [
        "/acceptor".to_owned(),
        format!("/acceptor/orders/{order_id}"),
    ] {
        let html = app
            .client
            .get(app.url(&page))
            .header("Cookie", format!("otcpay_session={}", acceptor.token))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            html.contains("&#60;script&#62;alert(1)") || html.contains("&lt;script&gt;alert(1)"),
            "{page} shows the payer name"
        );
        for payload in payloads {
            assert!(!html.contains(payload), "raw payload on {page}: {payload}");
        }
    }
    // Shown, as text: `<` escaped as an entity (askama writes `&#60;`).
    assert!(
        html.contains("&#60;script&#62;alert(1)") || html.contains("&lt;script&gt;alert(1)"),
        "the payload is shown, escaped"
    );
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn ssrf_forms_of_webhook_urls_are_refused() {
    // The production default (no private targets). Every form of a private address.
    for url in [
        "http://127.0.0.1/hook",
        "http://127.1/hook",
        "http://2130706433/hook",
        "http://0177.0.0.1/hook",
        "http://0x7f.0.0.1/hook",
        "http://0x7f000001/hook",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://[::ffff:7f00:1]/hook",
        "http://[0:0:0:0:0:ffff:a9fe:a9fe]/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://10.0.0.1/hook",
        "http://192.168.1.1/hook",
        "http://100.64.0.1/hook",
        "http://0.0.0.0/hook",
        "http://localhost/hook",
        "http://localhost.:8080/hook",
        "ftp://example.com/hook",
        "file:///etc/passwd",
    ] {
        assert!(
            otcpay::ssrf::check_url(url, false).await.is_err(),
            "{url} must be refused"
        );
    }
    // Black box: a merchant whose endpoint is a loopback address gets nothing sent, and
    // the delivery log says why; redirects are never followed (the dispatcher's client).
    let app = TestApp::spawn_with(|s| s.allow_private_webhooks = Some(false)).await;
    online_acceptor(&app, AcceptorSpec::default()).await;
    // Saving such an endpoint is refused; one that resolves privately only later
    // (stored as it is here) is refused by the dispatcher.
    let admin = app.admin_token().await;
    let saved = app
        .post(
            "/api/v1/admin/merchants",
            Some(&admin),
            &json!({"name": "S", "email": "ssrf@shop.example", "fee_rate": "0.01",
                    "webhook_url": "http://127.1:9/hook"}),
        )
        .await;
    assert_error(saved, 400, "invalid_request").await;
    let shop = create_merchant(&app, json!({})).await;
    let shop_id = shop.merchant["id"].as_str().unwrap().to_owned();
    otcpay_tests::merchant::store_endpoint_unchecked(&app, &shop_id, "http://127.1:9/hook").await;
    let order = order_of(&shop, true, "ssrf-1").await;
    let mut refused = false;
    for _ in 0..100 {
        let log: Value = shop
            .live
            .get("/api/v1/webhooks/deliveries")
            .await
            .json()
            .await
            .unwrap();
        refused = log["data"].as_array().unwrap().iter().any(|a| {
            a["error"]
                .as_str()
                .is_some_and(|e| e.contains("address not allowed"))
                || a.to_string().contains("address not allowed")
        });
        if refused {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(refused, "the delivery of {} was not refused", order["id"]);
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn bodies_over_the_limit_are_413() {
    let app = TestApp::spawn().await;
    let shop = create_merchant(&app, json!({})).await;
    let big = format!("{{\"x\": \"{}\"}}", "a".repeat(64 * 1024));
    let admin = app.admin_token().await;
    let json_route = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("Content-Type", "application/json")
        .body(big.clone())
        .send()
        .await
        .unwrap();
    assert_error(json_route, 413, "payload_too_large").await;
    let portal = app
        .client
        .post(app.url("/api/v1/admin/acceptors"))
        .bearer_auth(&admin)
        .header("Content-Type", "application/json")
        .body(big.clone())
        .send()
        .await
        .unwrap();
    assert_error(portal, 413, "payload_too_large").await;
    let signed = shop
        .live
        .request(Method::POST, "/api/v1/orders", Some(big.as_bytes()), &[])
        .await;
    assert_error(signed, 413, "payload_too_large").await;
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn nul_characters_are_refused_not_failed_on() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let acceptor = online_acceptor(&app, AcceptorSpec::default()).await;
    for path in [
        "/api/v1/admin/acceptors?starting_after=acc_%00x",
        "/api/v1/admin/acceptors/acc_%00",
    ] {
        assert_error(app.get(path, Some(&admin)).await, 400, "invalid_request").await;
    }
    let body = r#"{"reason": "not \u0000 mine"}"#;
    let response = app
        .client
        .post(app.url("/api/v1/acceptor/orders/ord_01M000000000000000000000000/reject"))
        .bearer_auth(&acceptor.token)
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_error(response, 400, "invalid_request").await;
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn hardening_headers_metadata_and_private_files() {
    let app = TestApp::spawn().await;
    online_acceptor(&app, AcceptorSpec::default()).await;
    let shop = create_merchant(&app, json!({})).await;
    // Metadata comes back byte for byte, whatever JSON numbers it holds.
    let raw = br#"{"merchant_order_id": "meta-1", "amount": "20.00", "fiat_currency": "CNY", "metadata": {"big": 123456789012345678901234567890, "pi": 3.14159265358979323846264338327950288, "s": "x"}}"#;
    let created = shop
        .live
        .request(Method::POST, "/api/v1/orders", Some(raw), &[])
        .await;
    assert_eq!(created.status(), 201);
    let text = created.text().await.unwrap();
    assert!(
        text.contains(r#""metadata":{"big": 123456789012345678901234567890, "pi": 3.14159265358979323846264338327950288, "s": "x"}"#),
        "{text}"
    );
    let id = serde_json::from_str::<Value>(&text).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let read = shop
        .live
        .get(&format!("/api/v1/orders/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(read.contains("123456789012345678901234567890"), "{read}");

    // Headers on API responses and pages.
    for path in [
        "/api/v1/public/time",
        "/api/docs",
        "/healthz",
        "/api/v1/nothing",
    ] {
        let response = app.get(path, None).await;
        let headers = response.headers();
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert!(headers.contains_key("referrer-policy"), "{path}");
    }
    let cashier = serde_json::from_str::<Value>(&text).unwrap()["cashier_url"]
        .as_str()
        .unwrap()
        .to_owned();
    let page = app
        .get(&cashier[cashier.find("/pay/").unwrap()..], None)
        .await;
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");

    // The data dir and the SQLite database are the owner's alone.
    #[cfg(unix)]
    if app.db.backend == otcpay_tests::Backend::Sqlite {
        use std::os::unix::fs::PermissionsExt;
        let embedded = TestApp::spawn_with(|s| s.database_url = None).await;
        let dir = &embedded.state.settings.data_dir;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(dir), 0o700);
        assert_eq!(mode(&dir.join("otcpay.db")), 0o600);
    }
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn known_paths_with_another_method_are_405_with_allow() {
    let app = TestApp::spawn().await;
    for (method, path, allow) in [
        (Method::DELETE, "/api/v1/orders", "GET, POST"),
        (Method::GET, "/api/v1/orders/ord_x/cancel", "POST"),
        (Method::GET, "/api/v1/auth/login", "POST"),
        (Method::POST, "/api/v1/balance", "GET"),
        (Method::PUT, "/api/v1/admin/merchants", "GET, POST"),
        (Method::GET, "/api/v1/acceptor/quotes/CNY", "DELETE, PUT"),
    ] {
        let response = app.request(method.clone(), path, None, None).await;
        assert_eq!(response.status(), 405, "{method} {path}");
        assert_eq!(response.headers()["allow"], allow, "{method} {path}");
        assert_error(response, 405, "method_not_allowed").await;
    }
    assert_error(
        app.get("/api/v1/nothing-here", None).await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn no_secret_reaches_the_log() {
    use std::io::Read;
    use std::process::{Command, Stdio};

    let binary = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/debug/otcpay");
    assert!(
        binary.exists(),
        "{} is built by the test run",
        binary.display()
    );
    let data_dir =
        std::env::temp_dir().join(format!("otcpay-attack-{}", otcpay::ids::random_hex(6)));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let master_key = otcpay::ids::random_hex(32);
    let mut child = Command::new(&binary)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("OTCPAY_LISTEN", format!("127.0.0.1:{port}"))
        .env("OTCPAY_DATA_DIR", &data_dir)
        .env("OTCPAY_MASTER_KEY", &master_key)
        .env("OTCPAY_ADMIN_EMAIL", ADMIN_EMAIL)
        .env("OTCPAY_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("OTCPAY_LOG_FORMAT", "json")
        .env("RUST_LOG", "debug,sqlx=warn,sea_orm=warn,actix_server=warn,hyper=warn,reqwest=warn,h2=warn,rustls=warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("otcpay starts");
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    for _ in 0..200 {
        if client.get(format!("{base}/healthz")).send().await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let post = |path: &str, token: Option<&str>, body: Value| {
        let mut request = client.post(format!("{base}{path}")).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token.to_owned());
        }
        request.send()
    };
    let login: Value = post(
        "/api/v1/auth/login",
        None,
        json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let token = login["token"].as_str().unwrap().to_owned();
    let setup: Value = post("/api/v1/auth/totp/setup", Some(&token), json!({}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let totp_secret = setup["secret"].as_str().unwrap().to_owned();
    let code = otcpay_tests::totp::code(&totp_secret, 0);
    assert_eq!(
        post(
            "/api/v1/auth/totp/enable",
            Some(&token),
            json!({"code": code})
        )
        .await
        .unwrap()
        .status(),
        200
    );
    let merchant: Value = post(
        "/api/v1/admin/merchants",
        Some(&token),
        json!({"name": "Log Shop", "email": "log@shop.test", "fee_rate": "0.01", "default_fiat": "CNY"}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let api_secret = merchant["api_key"]["secret"].as_str().unwrap().to_owned();
    let key_id = merchant["api_key"]["key_id"].as_str().unwrap().to_owned();
    let webhook_secret = merchant["webhook_secret"].as_str().unwrap().to_owned();
    let acceptor_password = "acceptor-password-log";
    let acceptor: Value = post(
        "/api/v1/admin/acceptors",
        Some(&token),
        json!({"email": "acc@log.test", "password": acceptor_password, "display_name": "Log Acceptor"}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let acceptor_id = acceptor["id"].as_str().unwrap();
    let deposit = post(
        &format!("/api/v1/admin/acceptors/{acceptor_id}/deposits"),
        Some(&token),
        json!({"amount": "1000.00", "network": "tron", "txid": "log-tx-1"}),
    )
    .await
    .unwrap();
    assert_eq!(deposit.status(), 201);
    let acc_login: Value = post(
        "/api/v1/auth/login",
        None,
        json!({"email": "acc@log.test", "password": acceptor_password}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let acc_token = acc_login["token"].as_str().unwrap().to_owned();
    client
        .put(format!("{base}/api/v1/acceptor/quotes/CNY"))
        .bearer_auth(&acc_token)
        .json(&json!({"rate": "7.10", "min_amount": "1.00", "max_amount": "1000.00"}))
        .send()
        .await
        .unwrap();
    post(
        "/api/v1/acceptor/payment-methods",
        Some(&acc_token),
        json!({"fiat": "CNY", "method": "bank_transfer",
        "details": {"bank_name": "B", "account_name": "A", "account_number": "1"}}),
    )
    .await
    .unwrap();
    client
        .put(format!("{base}/api/v1/acceptor/online"))
        .bearer_auth(&acc_token)
        .json(&json!({"online": true}))
        .send()
        .await
        .unwrap();
    // A signed order, then the customer's cashier page, "paid" and status.
    let body = br#"{"merchant_order_id":"log-1","amount":"10.00"}"#;
    let time = now_ms().to_string();
    let mut message = time.clone().into_bytes();
    message.extend_from_slice(b"POST/api/v1/orders");
    message.extend_from_slice(body);
    let signature = hex::encode(otcpay::crypto::hmac_sha256(api_secret.as_bytes(), &message));
    let order: Value = client
        .post(format!("{base}/api/v1/orders"))
        .header("API-Key", &key_id)
        .header("Request-Time", &time)
        .header("Signature-V1", &signature)
        .header("Content-Type", "application/json")
        .body(body.to_vec())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let cashier_url = order["cashier_url"].as_str().unwrap().to_owned();
    let cashier_token = cashier_url.rsplit('/').next().unwrap().to_owned();
    assert_eq!(cashier_token.len(), 48, "{order}");
    assert_eq!(client.get(&cashier_url).send().await.unwrap().status(), 200);
    client
        .get(format!("{cashier_url}/status"))
        .send()
        .await
        .unwrap();
    client
        .post(format!("{cashier_url}/paid"))
        .json(&json!({"payer_name": "Payer"}))
        .send()
        .await
        .unwrap();
    // Failures log too: a wrong password, a bad signature.
    post(
        "/api/v1/auth/login",
        None,
        json!({"email": ADMIN_EMAIL, "password": "wrong-password-log"}),
    )
    .await
    .unwrap();

    terminate(&mut child);
    let mut log = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    let _ = std::fs::remove_dir_all(&data_dir);
    assert!(
        log.contains("\"path\":\"/pay/{token}/paid\""),
        "the cashier route is logged by pattern"
    );
    for (what, secret) in [
        ("admin password", ADMIN_PASSWORD),
        ("acceptor password", acceptor_password),
        ("wrong password", "wrong-password-log"),
        ("TOTP secret", totp_secret.as_str()),
        ("API secret", api_secret.as_str()),
        ("webhook secret", webhook_secret.as_str()),
        (
            "webhook secret key",
            webhook_secret.trim_start_matches("whsec_"),
        ),
        ("admin JWT", token.as_str()),
        ("acceptor JWT", acc_token.as_str()),
        ("master key", master_key.as_str()),
        ("cashier token", cashier_token.as_str()),
        ("signature", signature.as_str()),
    ] {
        assert!(!log.contains(secret), "the {what} reached the log");
    }
}

/// SIGTERM, then wait for the process to end.
fn terminate(child: &mut std::process::Child) {
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    for _ in 0..200 {
        if child.try_wait().ok().flatten().is_some() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}
