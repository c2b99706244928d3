//! Signed merchant requests as a client sees them (API.md "Merchant authentication"):
//! every failure code in the documented order, HMAC and ECDSA signatures, the replay
//! cache, per-key rate limits and bans, the per-IP failure limit, and the live/test split
//! of the balance.

use otcpay::ledger::{self, AccountKey, TransferRequest};
use otcpay_tests::TestApp;
use otcpay_tests::app::assert_error;
use otcpay_tests::merchant::{CreatedMerchant, MerchantClient, add_ecdsa_key, create_merchant};
use reqwest::{Method, Response};
use serde_json::{Value, json};

const BALANCE: &str = "/api/v1/balance";

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn header(response: &Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .map(|v| v.to_str().expect("ascii header").to_owned())
}

fn header_u64(response: &Response, name: &str) -> u64 {
    header(response, name)
        .unwrap_or_else(|| panic!("{name} missing"))
        .parse()
        .unwrap_or_else(|_| panic!("{name} is not a number"))
}

/// Sends exactly these headers (and body) to `GET path`, no signing of its own.
async fn raw_get(
    app: &TestApp,
    path: &str,
    headers: &[(String, String)],
    body: Option<&[u8]>,
) -> Response {
    let mut request = app.client.get(app.url(path));
    for (name, value) in headers {
        request = request.header(name, value);
    }
    if let Some(body) = body {
        request = request.body(body.to_vec());
    }
    request.send().await.expect("request sent")
}

async fn balances(client: &MerchantClient) -> Value {
    let response = client.get(BALANCE).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    body["balances"][0].clone()
}

/// `GET /api/v1/balance` signed as if sent at `request_time`.
async fn get_at(client: &MerchantClient, request_time: &str) -> Response {
    client
        .request(
            Method::GET,
            BALANCE,
            None,
            &[("Request-Time", Some(request_time))],
        )
        .await
}

/// `PATCH /api/v1/admin/merchants/{id}` as the admin whose token is given.
async fn patch_merchant(app: &TestApp, token: &str, id: &str, body: Value) -> Response {
    let path = format!("/api/v1/admin/merchants/{id}");
    app.request(Method::PATCH, &path, Some(token), Some(&body))
        .await
}

async fn shop(app: &TestApp) -> CreatedMerchant {
    create_merchant(app, json!({})).await
}

#[tokio::test]
async fn a_valid_hmac_request_gets_the_balance_with_rate_limit_headers() {
    let app = TestApp::spawn().await;
    let shop = shop(&app).await;
    let response = shop.live.get(BALANCE).await;
    assert_eq!(response.status(), 200);
    assert!(header(&response, "x-request-id").is_some());
    assert_eq!(header_u64(&response, "x-ratelimit-limit"), 100);
    assert_eq!(header_u64(&response, "x-ratelimit-remaining"), 99);
    let reset = header_u64(&response, "x-ratelimit-reset");
    assert!((1..=60).contains(&reset), "{reset}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({"balances": [{"currency": "USDT", "available": "0.00", "pending": "0.00"}]})
    );

    // Remaining counts down per key; the test key has its own allowance.
    let second = shop.live.get(BALANCE).await;
    assert_eq!(header_u64(&second, "x-ratelimit-remaining"), 98);
    let sandbox = shop.test.get(BALANCE).await;
    assert_eq!(sandbox.status(), 200);
    assert_eq!(header_u64(&sandbox, "x-ratelimit-remaining"), 99);

    // Responses of unsigned routes carry no rate limit headers.
    let health = app.get("/healthz", None).await;
    assert!(header(&health, "x-ratelimit-limit").is_none());
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn a_valid_ecdsa_request_gets_the_balance() {
    let app = TestApp::spawn().await;
    let shop = shop(&app).await;
    let live = add_ecdsa_key(&app, shop.id(), true).await;
    let response = live.get(BALANCE).await;
    assert_eq!(response.status(), 200);
    assert_eq!(header_u64(&response, "x-ratelimit-limit"), 100);
    assert_eq!(header_u64(&response, "x-ratelimit-remaining"), 99);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["balances"][0]["currency"], "USDT");

    let test = add_ecdsa_key(&app, shop.id(), false).await;
    assert_eq!(test.get(BALANCE).await.status(), 200);

    // A GET with a body: the body is part of the signed message.
    let response = live
        .request(Method::GET, BALANCE, Some(br#"{"x":1}"#), &[])
        .await;
    assert_eq!(response.status(), 200);

    // Signatures by another private key, or garbage, are refused.
    let impostor = MerchantClient::ecdsa(
        &app,
        &live.key_id,
        otcpay_tests::merchant::random_signing_key(),
    );
    assert_error(impostor.get(BALANCE).await, 401, "invalid_signature").await;
    for garbage in ["zz", "3006020101020101", "00"] {
        let response = live
            .request(
                Method::GET,
                BALANCE,
                None,
                &[("Signature-V1", Some(garbage))],
            )
            .await;
        assert_error(response, 401, "invalid_signature").await;
    }
    // An HMAC signature made with the key id as if it were a secret does not pass either.
    let hmac_like = live.with_secret(&live.key_id);
    assert_error(hmac_like.get(BALANCE).await, 401, "invalid_signature").await;
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn each_missing_header_is_missing_credentials() {
    let app = TestApp::spawn().await;
    let shop = shop(&app).await;
    assert_error(app.get(BALANCE, None).await, 401, "missing_credentials").await;
    for name in ["API-Key", "Request-Time", "Signature-V1"] {
        let response = shop
            .live
            .request(Method::GET, BALANCE, None, &[(name, None)])
            .await;
        let error = assert_error(response, 401, "missing_credentials").await;
        assert!(
            error["error"]["message"].as_str().unwrap().contains(name),
            "{error}"
        );
        // An empty value counts as missing.
        let response = shop
            .live
            .request(Method::GET, BALANCE, None, &[(name, Some(""))])
            .await;
        assert_error(response, 401, "missing_credentials").await;
    }
    // A portal session is no substitute for a signature.
    let token = app.admin_token().await;
    assert_error(
        app.get(BALANCE, Some(&token)).await,
        401,
        "missing_credentials",
    )
    .await;
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn unknown_revoked_or_suspended_keys_are_invalid_api_key() {
    let app = TestApp::spawn().await;
    let shop = shop(&app).await;
    let token = app.admin_token().await;

    for key_id in [
        "mk_live_AAAAAAAAAAAAAAAAAAAAAAAA",
        "mk_test_AAAAAAAAAAAAAAAAAAAAAAAA",
        "nope",
        &shop.live.key_id[..20],
    ] {
        let impostor = MerchantClient::hmac(&app, key_id, &shop.live.secret);
        assert_error(impostor.get(BALANCE).await, 401, "invalid_api_key").await;
    }
    // A live key id presented with the test prefix is another (unknown) key.
    let swapped = shop.live.key_id.replacen("mk_live_", "mk_test_", 1);
    let impostor = MerchantClient::hmac(&app, &swapped, &shop.live.secret);
    assert_error(impostor.get(BALANCE).await, 401, "invalid_api_key").await;

    // Revoked.
    let response = app
        .request(
            Method::DELETE,
            &format!(
                "/api/v1/admin/merchants/{}/api-keys/{}",
                shop.id(),
                shop.test.key_id
            ),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(response.status(), 204);
    assert_error(shop.test.get(BALANCE).await, 401, "invalid_api_key").await;

    // Suspended merchant: the same answer for its still valid key.
    let response = patch_merchant(&app, &token, shop.id(), json!({"status": "suspended"})).await;
    assert_eq!(response.status(), 200);
    let suspended = assert_error(shop.live.get(BALANCE).await, 401, "invalid_api_key").await;
    let unknown = assert_error(
        MerchantClient::hmac(&app, "mk_live_BBBBBBBBBBBBBBBBBBBBBBBB", "x")
            .get(BALANCE)
            .await,
        401,
        "invalid_api_key",
    )
    .await;
    assert_eq!(
        suspended["error"]["message"], unknown["error"]["message"],
        "no oracle on why a key is refused"
    );
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn request_times_outside_the_window_are_request_expired() {
    let app = TestApp::spawn().await;
    let shop = shop(&app).await;
    let live = &shop.live;
    let at = |offset_ms: i64| (now_ms() + offset_ms).to_string();
    let get = |time: String, window: Option<&'static str>| async move {
        let mut overrides = vec![("Request-Time", Some(time.as_str()))];
        if let Some(window) = window {
            overrides.push(("Recv-Window", Some(window)));
        }
        live.request(Method::GET, BALANCE, None, &overrides).await
    };

    // More than 1 s ahead; a little ahead is fine.
    assert_error(get(at(5_000), None).await, 401, "request_expired").await;
    assert_error(get(at(1_500), None).await, 401, "request_expired").await;
    assert_eq!(get(at(500), None).await.status(), 200);
    // Older than the default window (30 s); inside it is fine.
    assert_error(get(at(-31_000), None).await, 401, "request_expired").await;
    assert_eq!(get(at(-25_000), None).await.status(), 200);
    // A custom window, smaller or larger (up to 60 s).
    assert_error(get(at(-6_000), Some("5000")).await, 401, "request_expired").await;
    assert_eq!(get(at(-3_000), Some("5000")).await.status(), 200);
    assert_eq!(get(at(-45_000), Some("60000")).await.status(), 200);
    assert_error(
        get(at(-61_000), Some("60000")).await,
        401,
        "request_expired",
    )
    .await;
    // Not a time at all.
    for bad in ["yesterday", "1.7e12", "-1", "0"] {
        assert_error(get(bad.to_owned(), None).await, 401, "request_expired").await;
    }
    // A window outside 1..=60000 ms is a client bug.
    for bad in ["60001", "0", "-5", "soon"] {
        let error = assert_error(get(at(0), Some(bad)).await, 400, "invalid_request").await;
        assert_eq!(error["error"]["param"], "Recv-Window", "{bad}");
    }
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn wrong_or_tampered_signatures_are_invalid_signature() {
    let app = TestApp::spawn().await;
    let shop = shop(&app).await;
    let live = &shop.live;

    // Wrong secret (the test key's, a random one).
    for secret in [shop.test.secret.as_str(), "0".repeat(64).as_str()] {
        let wrong = live.with_secret(secret);
        assert_error(wrong.get(BALANCE).await, 401, "invalid_signature").await;
    }

    // Tampered body: signed over one body, sent with another.
    let headers = live.signed_headers(&Method::GET, BALANCE, br#"{"amount":"1.00"}"#);
    let response = raw_get(&app, BALANCE, &headers, Some(br#"{"amount":"9.00"}"#)).await;
    assert_error(response, 401, "invalid_signature").await;
    // Signed with a body, sent without.
    let headers = live.signed_headers(&Method::GET, BALANCE, b"{}");
    assert_error(
        raw_get(&app, BALANCE, &headers, None).await,
        401,
        "invalid_signature",
    )
    .await;

    // Tampered query string, path, and method.
    let headers = live.signed_headers(&Method::GET, "/api/v1/balance?currency=USDT", b"");
    let response = raw_get(&app, "/api/v1/balance?currency=BTC", &headers, None).await;
    assert_error(response, 401, "invalid_signature").await;
    let response = raw_get(&app, BALANCE, &headers, None).await;
    assert_error(response, 401, "invalid_signature").await;
    let headers = live.signed_headers(&Method::POST, BALANCE, b"");
    assert_error(
        raw_get(&app, BALANCE, &headers, None).await,
        401,
        "invalid_signature",
    )
    .await;

    // The Request-Time is signed: a valid signature with another time does not pass.
    let mut headers = live.signed_headers(&Method::GET, BALANCE, b"");
    headers[1].1 = (now_ms() - 10).to_string();
    assert_error(
        raw_get(&app, BALANCE, &headers, None).await,
        401,
        "invalid_signature",
    )
    .await;

    // Not hex, or truncated.
    for bad in ["not-hex", "abcd"] {
        let response = live
            .request(Method::GET, BALANCE, None, &[("Signature-V1", Some(bad))])
            .await;
        assert_error(response, 401, "invalid_signature").await;
    }

    // The query string is part of the message: signed correctly, it passes; so does a
    // body on a GET, and upper-case hex.
    let response = live
        .request(Method::GET, "/api/v1/balance?currency=USDT", None, &[])
        .await;
    assert_eq!(response.status(), 200);
    let response = live
        .request(Method::GET, BALANCE, Some(br#"{"note":"hi"}"#), &[])
        .await;
    assert_eq!(response.status(), 200);
    let time = live.next_request_time().to_string();
    let upper = live.sign(&time, "GET", BALANCE, b"").to_uppercase();
    let headers = vec![
        ("API-Key".to_owned(), live.key_id.clone()),
        ("Request-Time".to_owned(), time),
        ("Signature-V1".to_owned(), upper),
    ];
    assert_eq!(raw_get(&app, BALANCE, &headers, None).await.status(), 200);
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn a_signature_is_accepted_only_once() {
    let app = TestApp::spawn().await;
    let shop = shop(&app).await;
    let headers = shop.live.signed_headers(&Method::GET, BALANCE, b"");
    assert_eq!(raw_get(&app, BALANCE, &headers, None).await.status(), 200);
    for _ in 0..2 {
        let again = raw_get(&app, BALANCE, &headers, None).await;
        assert_error(again, 401, "replayed_request").await;
    }
    // The same request re-signed with a new time passes.
    assert_eq!(shop.live.get(BALANCE).await.status(), 200);

    // ECDSA: the same signed message is refused even under another valid signature of
    // it — here the malleated twin (r, n − s), which P-256 verification accepts.
    let ecdsa = add_ecdsa_key(&app, shop.id(), true).await;
    let time = ecdsa.next_request_time().to_string();
    let send = |signature: String| {
        let headers = vec![
            ("API-Key".to_owned(), ecdsa.key_id.clone()),
            ("Request-Time".to_owned(), time.clone()),
            ("Signature-V1".to_owned(), signature),
        ];
        let app = &app;
        async move { raw_get(app, BALANCE, &headers, None).await }
    };
    let first = ecdsa.sign(&time, "GET", BALANCE, b"");
    assert_eq!(send(first.clone()).await.status(), 200);
    assert_error(send(first.clone()).await, 401, "replayed_request").await;
    let twin = {
        use otcpay::merchants::auth::p256::ecdsa::Signature;
        let signature = Signature::from_der(&hex::decode(&first).unwrap()).unwrap();
        let (r, s) = signature.split_scalars();
        let twin = Signature::from_scalars(r, -s).unwrap();
        assert_ne!(twin, signature);
        hex::encode(twin.to_der().as_bytes())
    };
    assert_error(send(twin).await, 401, "replayed_request").await;
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn checks_apply_in_the_documented_order() {
    let app = TestApp::spawn().await;
    let shop = shop(&app).await;
    let stale = (now_ms() - 120_000).to_string();

    // Missing header beats an unknown key.
    let unknown = MerchantClient::hmac(&app, "mk_live_CCCCCCCCCCCCCCCCCCCCCCCC", "x");
    let response = unknown
        .request(Method::GET, BALANCE, None, &[("Signature-V1", None)])
        .await;
    assert_error(response, 401, "missing_credentials").await;
    // An unknown key beats a stale time.
    let response = get_at(&unknown, &stale).await;
    assert_error(response, 401, "invalid_api_key").await;
    // A stale time beats a bad signature.
    let wrong = shop.live.with_secret("wrong");
    let response = get_at(&wrong, &stale).await;
    assert_error(response, 401, "request_expired").await;
    // A bad signature beats a replay: a used request with a tampered signature.
    let headers = shop.live.signed_headers(&Method::GET, BALANCE, b"");
    assert_eq!(raw_get(&app, BALANCE, &headers, None).await.status(), 200);
    let mut tampered = headers.clone();
    tampered[2].1 = "f".repeat(64);
    assert_error(
        raw_get(&app, BALANCE, &tampered, None).await,
        401,
        "invalid_signature",
    )
    .await;
    assert_error(
        raw_get(&app, BALANCE, &headers, None).await,
        401,
        "replayed_request",
    )
    .await;
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn a_key_over_its_rate_limit_gets_429_then_a_418_ban() {
    let app = TestApp::spawn().await;
    let shop = create_merchant(&app, json!({"rate_limit_per_minute": 5})).await;
    for expected_remaining in (0..5).rev() {
        let response = shop.live.get(BALANCE).await;
        assert_eq!(response.status(), 200);
        assert_eq!(header_u64(&response, "x-ratelimit-limit"), 5);
        assert_eq!(
            header_u64(&response, "x-ratelimit-remaining"),
            expected_remaining
        );
    }
    let limited = shop.live.get(BALANCE).await;
    let retry_after = header_u64(&limited, "retry-after");
    assert!(
        (1..=12).contains(&retry_after),
        "one cell every 12 s: {retry_after}"
    );
    assert_eq!(header_u64(&limited, "x-ratelimit-remaining"), 0);
    assert_error(limited, 429, "rate_limited").await;

    // The other key of the merchant has its own bucket.
    assert_eq!(shop.test.get(BALANCE).await.status(), 200);

    // Keep hammering: 10 refusals are tolerated, the 11th earns a ban of 2 minutes.
    let mut refusals = 1;
    let banned = loop {
        let response = shop.live.get(BALANCE).await;
        match response.status().as_u16() {
            429 => refusals += 1,
            418 => break response,
            other => panic!("unexpected status {other}"),
        }
        assert!(refusals <= 10, "no ban after {refusals} refusals");
    };
    assert_eq!(refusals, 10);
    let ban = header_u64(&banned, "retry-after");
    assert!((100..=120).contains(&ban), "{ban}");
    assert_error(banned, 418, "banned").await;
    // Still banned, whatever is sent.
    let again = shop.live.get(BALANCE).await;
    assert!(header_u64(&again, "retry-after") >= 100);
    assert_error(again, 418, "banned").await;
    assert_eq!(shop.test.get(BALANCE).await.status(), 200);
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn failed_authentications_are_limited_per_client_ip() {
    let app = TestApp::spawn().await;
    let shop = shop(&app).await;
    let used = shop.live.signed_headers(&Method::GET, BALANCE, b"");
    assert_eq!(raw_get(&app, BALANCE, &used, None).await.status(), 200);
    let wrong = shop.live.with_secret("wrong-secret");
    for _ in 0..30 {
        assert_error(wrong.get(BALANCE).await, 401, "invalid_signature").await;
    }
    // The allowance is spent: whatever this address sends with a key is refused, a
    // correct request included…
    let limited = shop.live.get(BALANCE).await;
    assert!(header_u64(&limited, "retry-after") >= 1);
    assert_error(limited, 429, "rate_limited").await;
    assert_error(wrong.get(BALANCE).await, 429, "rate_limited").await;
    assert_error(
        raw_get(&app, BALANCE, &used, None).await,
        429,
        "rate_limited",
    )
    .await;
    let stale = (now_ms() - 120_000).to_string();
    let response = get_at(&shop.live, &stale).await;
    assert_error(response, 429, "rate_limited").await;
    let unknown = MerchantClient::hmac(&app, "mk_live_DDDDDDDDDDDDDDDDDDDDDDDD", "x");
    assert_error(unknown.get(BALANCE).await, 429, "rate_limited").await;
    // …also when the key is no longer in the node's key cache (a merchant change empties
    // it, so the key would have to come from the database)…
    let admin = app.admin_token().await;
    let patched = patch_merchant(&app, &admin, shop.id(), json!({"default_fiat": "EUR"})).await;
    assert_eq!(patched.status(), 200);
    assert_error(shop.live.get(BALANCE).await, 429, "rate_limited").await;
    // …except that missing credentials are still told as such.
    assert_error(app.get(BALANCE, None).await, 401, "missing_credentials").await;
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn test_keys_see_the_sandbox_balance_and_live_keys_the_live_one() {
    let app = TestApp::spawn().await;
    let shop = shop(&app).await;
    let id = shop.id().to_owned();
    let db = &app.state.db;
    ledger::open_accounts(
        db,
        &[
            AccountKey::custody(true),
            AccountKey::custody(false),
            AccountKey::withdrawals(true),
        ],
    )
    .await
    .unwrap();
    ledger::transfer(
        db,
        &[
            TransferRequest::posted(
                "test_live_credit",
                AccountKey::custody(true),
                AccountKey::merchant(id.clone(), true),
                100_000_000,
            ),
            TransferRequest::pending(
                "test_live_hold",
                AccountKey::merchant(id.clone(), true),
                AccountKey::withdrawals(true),
                30_500_000,
            ),
        ],
    )
    .await
    .unwrap();
    ledger::transfer(
        db,
        &[TransferRequest::posted(
            "test_sandbox_credit",
            AccountKey::custody(false),
            AccountKey::merchant(id.clone(), false),
            5_250_000,
        )],
    )
    .await
    .unwrap();

    let live = balances(&shop.live).await;
    assert_eq!(
        live,
        json!({"currency": "USDT", "available": "69.50", "pending": "30.50"})
    );
    let sandbox = balances(&shop.test).await;
    assert_eq!(
        sandbox,
        json!({"currency": "USDT", "available": "5.25", "pending": "0.00"})
    );
    // Another merchant sees neither.
    let other = create_merchant(&app, json!({})).await;
    assert_eq!(balances(&other.live).await["available"], "0.00");
    assert_eq!(balances(&other.test).await["available"], "0.00");
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn unsupported_methods_and_oversized_bodies_on_the_balance() {
    let app = TestApp::spawn().await;
    let shop = shop(&app).await;
    let response = shop.live.post(BALANCE, &json!({})).await;
    assert_error(response, 405, "method_not_allowed").await;
    let big = vec![b'x'; 70 * 1024];
    let response = shop
        .live
        .request(Method::GET, BALANCE, Some(&big), &[])
        .await;
    assert_error(response, 413, "payload_too_large").await;
    app.assert_ledger_ok().await;
}
