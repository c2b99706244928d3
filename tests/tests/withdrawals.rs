//! Merchant withdrawals end to end: validation with the contract's codes, the hold on
//! the balance, review by an admin (approve → complete, reject, fail) with signed
//! callbacks and exact ledger balances, automatic approval, idempotency, insufficient
//! balance, live/test isolation and wrong-state conflicts. Every scenario ends with the
//! ledger invariant check.

use otcpay::ledger::{AccountKey, TransferRequest};
use otcpay_tests::TestApp;
use otcpay_tests::app::assert_error;
use otcpay_tests::merchant::{CreatedMerchant, create_merchant};
use otcpay_tests::scenario::{
    Acceptor, AcceptorSpec, WebhookReceiver, ledger_balance, online_acceptor, verify_webhook,
};
use serde_json::{Value, json};

const USDT: i64 = 1_000_000;
const TRON: &str = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t";
const ETH: &str = "0xdAC17F958D2ee523a2206206994597C13D831ec7";

/// An acceptor that takes no commission, so merchant credits are round numbers.
async fn acceptor(app: &TestApp) -> Acceptor {
    online_acceptor(
        app,
        AcceptorSpec {
            commission_rate: "0",
            ..Default::default()
        },
    )
    .await
}

/// Credits the merchant's live balance with `amount` through a real order: created
/// with the live key, paid by the customer, confirmed by the acceptor. With the
/// merchant's `fee_rate` 0 the credit is exactly `amount`.
async fn fund_live(
    app: &TestApp,
    merchant: &CreatedMerchant,
    acceptor: &Acceptor,
    amount: &str,
) -> String {
    let body = json!({"merchant_order_id": format!("fund-{}", otcpay::ids::random_hex(4)),
                      "amount": amount, "fiat_currency": "CNY"});
    let response = merchant.live.post("/api/v1/orders", &body).await;
    assert_eq!(response.status(), 201);
    let order: Value = response.json().await.unwrap();
    assert_eq!(order["status"], "assigned", "{order}");
    let token = order["cashier_url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let paid = app
        .post(&format!("/pay/{token}/paid"), None, &json!({}))
        .await;
    assert_eq!(paid.status(), 200);
    let id = order["id"].as_str().unwrap().to_owned();
    let confirmed = app
        .post(
            &format!("/api/v1/acceptor/orders/{id}/confirm"),
            Some(&acceptor.token),
            &json!({}),
        )
        .await;
    assert_eq!(confirmed.status(), 200, "{:?}", confirmed.text().await);
    id
}

/// Credits the merchant's sandbox balance straight from the test custody account.
async fn fund_test(app: &TestApp, merchant: &CreatedMerchant, micros: i64) {
    let custody = AccountKey::custody(false);
    let account = AccountKey::merchant(merchant.id(), false);
    otcpay::ledger::open_accounts(&app.state.db, &[custody.clone(), account.clone()])
        .await
        .unwrap();
    otcpay::ledger::transfer(
        &app.state.db,
        &[TransferRequest::posted(
            format!("test-funding:{}", otcpay::ids::random_hex(6)),
            custody,
            account,
            micros,
        )
        .with_kind("test_funding")],
    )
    .await
    .unwrap();
}

fn withdrawal_body(id: &str, network: &str, address: &str, amount: &str) -> Value {
    json!({"merchant_withdrawal_id": id, "network": network, "address": address, "amount": amount})
}

async fn withdraw(client: &otcpay_tests::merchant::MerchantClient, body: &Value) -> (u16, Value) {
    let response = client.post("/api/v1/withdrawals", body).await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

async fn admin_action(
    app: &TestApp,
    token: &str,
    id: &str,
    action: &str,
    body: Value,
) -> reqwest::Response {
    app.post(
        &format!("/api/v1/admin/withdrawals/{id}/{action}"),
        Some(token),
        &body,
    )
    .await
}

async fn admin_ok(app: &TestApp, token: &str, id: &str, action: &str, body: Value) -> Value {
    let response = admin_action(app, token, id, action, body).await;
    let status = response.status();
    let json: Value = response.json().await.unwrap();
    assert_eq!(status, 200, "{action}: {json}");
    json
}

async fn api_balance(client: &otcpay_tests::merchant::MerchantClient) -> (String, String) {
    let body: Value = client.get("/api/v1/balance").await.json().await.unwrap();
    let b = &body["balances"][0];
    (
        b["available"].as_str().unwrap().to_owned(),
        b["pending"].as_str().unwrap().to_owned(),
    )
}

/// The withdrawal invariants of the ledger audit (`withdrawals::service::check_withdrawals`).
async fn assert_withdrawals_consistent(app: &TestApp) {
    let violations = otcpay::withdrawals::service::check_withdrawals(&app.state.db)
        .await
        .unwrap();
    assert!(
        violations.is_empty(),
        "withdrawal violations: {violations:?}"
    );
}

#[tokio::test]
async fn withdrawal_requests_are_validated_with_the_contract_codes() {
    let app = TestApp::spawn().await;
    let merchant = create_merchant(&app, json!({})).await;
    let cases = [
        (
            json!({"network": "tron", "address": TRON, "amount": "50.00"}),
            400,
            "invalid_request",
            "merchant_withdrawal_id",
        ),
        (
            withdrawal_body("w 1", "tron", TRON, "50.00"),
            400,
            "invalid_request",
            "merchant_withdrawal_id",
        ),
        (
            withdrawal_body(&"x".repeat(65), "tron", TRON, "50.00"),
            400,
            "invalid_request",
            "merchant_withdrawal_id",
        ),
        (
            withdrawal_body("w-1", "bitcoin", TRON, "50.00"),
            400,
            "unsupported_network",
            "network",
        ),
        (
            withdrawal_body("w-1", "TRON", TRON, "50.00"),
            400,
            "unsupported_network",
            "network",
        ),
        (
            json!({"merchant_withdrawal_id": "w-1", "address": TRON, "amount": "50.00"}),
            400,
            "unsupported_network",
            "network",
        ),
        // Last character changed: the base58check checksum fails.
        (
            withdrawal_body("w-1", "tron", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6u", "50.00"),
            400,
            "invalid_address",
            "address",
        ),
        (
            withdrawal_body("w-1", "tron", ETH, "50.00"),
            400,
            "invalid_address",
            "address",
        ),
        (
            withdrawal_body("w-1", "ethereum", TRON, "50.00"),
            400,
            "invalid_address",
            "address",
        ),
        // Mixed case that is not the EIP-55 checksum.
        (
            withdrawal_body(
                "w-1",
                "ethereum",
                "0xDAC17F958D2ee523a2206206994597C13D831ec7",
                "50.00",
            ),
            400,
            "invalid_address",
            "address",
        ),
        (
            withdrawal_body(
                "w-1",
                "bsc",
                "0xdAC17F958D2ee523a2206206994597C13D831e",
                "50.00",
            ),
            400,
            "invalid_address",
            "address",
        ),
        (
            json!({"merchant_withdrawal_id": "w-1", "network": "tron", "address": TRON, "amount": 50}),
            400,
            "invalid_amount",
            "amount",
        ),
        (
            withdrawal_body("w-1", "tron", TRON, "5e1"),
            400,
            "invalid_amount",
            "amount",
        ),
        (
            withdrawal_body("w-1", "tron", TRON, "-50"),
            400,
            "invalid_amount",
            "amount",
        ),
        (
            withdrawal_body("w-1", "tron", TRON, "0"),
            400,
            "invalid_amount",
            "amount",
        ),
        (
            withdrawal_body("w-1", "tron", TRON, "50.0000001"),
            400,
            "invalid_amount",
            "amount",
        ),
        (
            json!({"merchant_withdrawal_id": "w-1", "network": "tron", "address": TRON}),
            400,
            "invalid_amount",
            "amount",
        ),
        // Below the network minimums (tron 10, ethereum 20).
        (
            withdrawal_body("w-1", "tron", TRON, "9.99"),
            400,
            "invalid_amount",
            "amount",
        ),
        (
            withdrawal_body("w-1", "ethereum", ETH, "19.999999"),
            400,
            "invalid_amount",
            "amount",
        ),
    ];
    for (body, status, code, param) in cases {
        let error = assert_error(
            merchant.live.post("/api/v1/withdrawals", &body).await,
            status,
            code,
        )
        .await;
        assert_eq!(error["error"]["param"], param, "{body}");
    }
    let bytes = b"{not json".to_vec();
    let response = merchant
        .live
        .request(
            reqwest::Method::POST,
            "/api/v1/withdrawals",
            Some(&bytes),
            &[],
        )
        .await;
    assert_error(response, 400, "invalid_request").await;
    // Valid, but nothing to withdraw from.
    let error = assert_error(
        merchant
            .live
            .post(
                "/api/v1/withdrawals",
                &withdrawal_body("w-1", "tron", TRON, "10"),
            )
            .await,
        422,
        "insufficient_balance",
    )
    .await;
    assert!(error["error"].get("param").is_none());
    // Nothing was written.
    let list: Value = merchant
        .live
        .get("/api/v1/withdrawals")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list, json!({"data": [], "has_more": false}));
    assert_withdrawals_consistent(&app).await;
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn a_withdrawal_is_reviewed_approved_and_completed_with_callbacks_and_exact_balances() {
    let app = TestApp::spawn().await;
    let receiver = WebhookReceiver::start().await;
    let merchant =
        create_merchant(&app, json!({"fee_rate": "0", "webhook_url": receiver.url})).await;
    let acc = acceptor(&app).await;
    fund_live(&app, &merchant, &acc, "100.00").await;
    let admin = app.admin_token().await;

    let (status, created) = withdraw(
        &merchant.live,
        &withdrawal_body("w-1", "tron", TRON, "50.00"),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("wd_"));
    assert_eq!(created["merchant_withdrawal_id"], "w-1");
    assert_eq!(created["status"], "review");
    assert_eq!(created["amount"], "50.00");
    assert_eq!(created["fee"], "1.00");
    assert_eq!(created["network"], "tron");
    assert_eq!(created["address"], TRON);
    assert_eq!(created["txid"], Value::Null);
    assert_eq!(created["reason"], Value::Null);
    assert_eq!(created["livemode"], true);
    assert!(created["created_at"].as_str().unwrap().ends_with('Z'));
    assert!(created["updated_at"].is_string());

    // Held: amount + fee leave the available balance and show as pending.
    let merchant_key = AccountKey::merchant(merchant.id(), true);
    let held = ledger_balance(&app, merchant_key.clone()).await;
    assert_eq!(
        (held.posted, held.available, held.pending_debits),
        (100 * USDT, 49 * USDT, 51 * USDT)
    );
    assert_eq!(
        api_balance(&merchant.live).await,
        ("49.00".to_owned(), "51.00".to_owned())
    );
    assert_eq!(
        ledger_balance(&app, AccountKey::withdrawals(true))
            .await
            .pending_credits,
        51 * USDT
    );

    // The admin queue lists it; the merchant reads it back.
    let queue: Value = app
        .get("/api/v1/admin/withdrawals?status=review", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(queue["data"][0]["id"], id.as_str());
    assert_eq!(queue["data"][0]["merchant_id"], merchant.id());
    let detail: Value = app
        .get(&format!("/api/v1/admin/withdrawals/{id}"), Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail["status"], "review");
    let mine: Value = merchant
        .live
        .get(&format!("/api/v1/withdrawals/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["id"], id.as_str());

    let approved = admin_ok(&app, &admin, &id, "approve", json!({})).await;
    assert_eq!(approved["status"], "approved");
    assert!(approved["reviewed_at"].is_string());
    let reviewed = receiver.wait_for("withdrawal.reviewed", &id).await;
    assert!(
        verify_webhook(&merchant.webhook_secret, &reviewed),
        "withdrawal.reviewed signature"
    );
    assert_eq!(
        reviewed.header("webhook-id"),
        reviewed.json()["id"].as_str()
    );
    assert_eq!(reviewed.json()["data"]["status"], "approved");
    assert_eq!(reviewed.json()["data"]["amount"], "50.00");
    // Approval moves no money.
    assert_eq!(ledger_balance(&app, merchant_key.clone()).await, held);

    let txid = "a".repeat(64);
    let completed = admin_ok(&app, &admin, &id, "complete", json!({"txid": txid})).await;
    assert_eq!(completed["status"], "completed");
    assert_eq!(completed["txid"], txid.as_str());
    assert!(completed["completed_at"].is_string());
    let done = receiver.wait_for("withdrawal.completed", &id).await;
    assert!(
        verify_webhook(&merchant.webhook_secret, &done),
        "withdrawal.completed signature"
    );
    assert_eq!(done.json()["data"]["status"], "completed");
    assert_eq!(done.json()["data"]["txid"], txid.as_str());
    assert_eq!(done.json()["livemode"], true);

    // Merchant 100 − 51; the amount went out through custody, the fee to revenue.
    let after = ledger_balance(&app, merchant_key).await;
    assert_eq!(
        (after.posted, after.available, after.pending_debits),
        (49 * USDT, 49 * USDT, 0)
    );
    assert_eq!(
        api_balance(&merchant.live).await,
        ("49.00".to_owned(), "0.00".to_owned())
    );
    let custody = ledger_balance(&app, AccountKey::custody(true)).await;
    assert_eq!(
        custody.posted,
        -10_000 * USDT + 50 * USDT,
        "the acceptor's deposit came in, 50 went out"
    );
    assert_eq!(
        ledger_balance(&app, AccountKey::revenue(true)).await.posted,
        USDT
    );
    let withdrawals = ledger_balance(&app, AccountKey::withdrawals(true)).await;
    assert_eq!((withdrawals.posted, withdrawals.pending_credits), (0, 0));

    let mine: Value = merchant
        .live
        .get(&format!("/api/v1/withdrawals/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["status"], "completed");
    assert_eq!(mine["txid"], txid.as_str());
    assert_withdrawals_consistent(&app).await;
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn a_rejected_withdrawal_returns_the_funds() {
    let app = TestApp::spawn().await;
    let receiver = WebhookReceiver::start().await;
    let merchant =
        create_merchant(&app, json!({"fee_rate": "0", "webhook_url": receiver.url})).await;
    let acc = acceptor(&app).await;
    fund_live(&app, &merchant, &acc, "100.00").await;
    let admin = app.admin_token().await;
    let (status, created) = withdraw(
        &merchant.live,
        &withdrawal_body("w-rej", "ethereum", ETH, "60"),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["fee"], "5.00");
    let id = created["id"].as_str().unwrap();
    assert_eq!(
        api_balance(&merchant.live).await,
        ("35.00".to_owned(), "65.00".to_owned())
    );

    let missing = assert_error(
        admin_action(&app, &admin, id, "reject", json!({})).await,
        400,
        "invalid_request",
    )
    .await;
    assert_eq!(missing["error"]["param"], "reason");
    let rejected = admin_ok(
        &app,
        &admin,
        id,
        "reject",
        json!({"reason": "address on a sanctions list"}),
    )
    .await;
    assert_eq!(rejected["status"], "rejected");
    assert_eq!(rejected["reason"], "address on a sanctions list");

    let hook = receiver.wait_for("withdrawal.reviewed", id).await;
    assert!(verify_webhook(&merchant.webhook_secret, &hook));
    assert_eq!(hook.json()["data"]["status"], "rejected");
    assert_eq!(hook.json()["data"]["reason"], "address on a sanctions list");

    let balance = ledger_balance(&app, AccountKey::merchant(merchant.id(), true)).await;
    assert_eq!(
        (balance.posted, balance.available, balance.pending_debits),
        (100 * USDT, 100 * USDT, 0)
    );
    assert_eq!(
        api_balance(&merchant.live).await,
        ("100.00".to_owned(), "0.00".to_owned())
    );
    assert_eq!(
        ledger_balance(&app, AccountKey::revenue(true)).await.posted,
        0
    );
    assert_error(
        admin_action(&app, &admin, id, "complete", json!({"txid": "0xabc"})).await,
        409,
        "invalid_state",
    )
    .await;
    assert_error(
        admin_action(&app, &admin, id, "approve", json!({})).await,
        409,
        "invalid_state",
    )
    .await;
    assert_withdrawals_consistent(&app).await;
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn a_failed_payout_returns_the_funds() {
    let app = TestApp::spawn().await;
    let receiver = WebhookReceiver::start().await;
    let merchant =
        create_merchant(&app, json!({"fee_rate": "0", "webhook_url": receiver.url})).await;
    let acc = acceptor(&app).await;
    fund_live(&app, &merchant, &acc, "100.00").await;
    let admin = app.admin_token().await;
    let (_, created) = withdraw(&merchant.live, &withdrawal_body("w-fail", "bsc", ETH, "40")).await;
    let id = created["id"].as_str().unwrap();
    assert_eq!(created["fee"], "0.50");
    admin_ok(&app, &admin, id, "approve", json!(null)).await;
    assert_eq!(
        api_balance(&merchant.live).await,
        ("59.50".to_owned(), "40.50".to_owned())
    );

    let failed = admin_ok(
        &app,
        &admin,
        id,
        "fail",
        json!({"reason": "node unreachable"}),
    )
    .await;
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["reason"], "node unreachable");
    assert_eq!(
        receiver.wait_for("withdrawal.reviewed", id).await.json()["data"]["status"],
        "approved"
    );
    let hook = receiver.wait_for("withdrawal.failed", id).await;
    assert!(verify_webhook(&merchant.webhook_secret, &hook));
    assert_eq!(hook.json()["data"]["status"], "failed");

    let balance = ledger_balance(&app, AccountKey::merchant(merchant.id(), true)).await;
    assert_eq!(
        (balance.posted, balance.available, balance.pending_debits),
        (100 * USDT, 100 * USDT, 0)
    );
    assert_eq!(
        ledger_balance(&app, AccountKey::custody(true)).await.posted,
        -10_000 * USDT
    );
    assert_error(
        admin_action(&app, &admin, id, "complete", json!({"txid": "0xabc"})).await,
        409,
        "invalid_state",
    )
    .await;
    assert_withdrawals_consistent(&app).await;
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn withdrawals_below_the_threshold_are_approved_automatically() {
    let app = TestApp::spawn().await;
    let receiver = WebhookReceiver::start().await;
    let merchant = create_merchant(
        &app,
        json!({"fee_rate": "0", "webhook_url": receiver.url, "auto_approve_withdrawals_below": "25.00"}),
    )
    .await;
    let acc = acceptor(&app).await;
    fund_live(&app, &merchant, &acc, "100.00").await;
    let admin = app.admin_token().await;

    // EVM address in lower case comes back in EIP-55.
    let (status, auto) = withdraw(
        &merchant.live,
        &withdrawal_body("auto-1", "bsc", &ETH.to_lowercase(), "24.99"),
    )
    .await;
    assert_eq!(status, 201, "{auto}");
    assert_eq!(
        auto["status"], "approved",
        "below the threshold: automatic payment"
    );
    assert_eq!(auto["address"], ETH);
    assert!(auto["reviewed_at"].is_string());
    let id = auto["id"].as_str().unwrap();
    let hook = receiver.wait_for("withdrawal.reviewed", id).await;
    assert!(verify_webhook(&merchant.webhook_secret, &hook));
    assert_eq!(hook.json()["data"]["status"], "approved");
    let detail: Value = app
        .get(&format!("/api/v1/admin/withdrawals/{id}"), Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail["reviewed_by"], "system");
    let audit: Value = app
        .get("/api/v1/admin/audit-log", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        audit.to_string().contains("withdrawal.auto_approve"),
        "{audit}"
    );

    // Still held until paid out; the admin completes it.
    assert_error(
        admin_action(&app, &admin, id, "approve", json!({})).await,
        409,
        "invalid_state",
    )
    .await;
    admin_ok(
        &app,
        &admin,
        id,
        "complete",
        json!({"txid": format!("0x{}", "b".repeat(64))}),
    )
    .await;
    receiver.wait_for("withdrawal.completed", id).await;

    // At the threshold: a human looks at it.
    let (status, manual) = withdraw(
        &merchant.live,
        &withdrawal_body("auto-2", "tron", TRON, "25.00"),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(manual["status"], "review");
    assert_eq!(manual["reviewed_at"], Value::Null);

    let balance = ledger_balance(&app, AccountKey::merchant(merchant.id(), true)).await;
    assert_eq!(balance.posted, 100 * USDT - 24_990_000 - 500_000);
    assert_eq!(balance.pending_debits, 26 * USDT);
    assert_withdrawals_consistent(&app).await;
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn merchant_withdrawal_ids_are_idempotent() {
    let app = TestApp::spawn().await;
    let merchant = create_merchant(&app, json!({"fee_rate": "0"})).await;
    let acc = acceptor(&app).await;
    fund_live(&app, &merchant, &acc, "100.00").await;
    fund_test(&app, &merchant, 100 * USDT).await;

    let (status, first) = withdraw(
        &merchant.live,
        &withdrawal_body("idem-1", "ethereum", ETH, "30.00"),
    )
    .await;
    assert_eq!(status, 201);
    // Same parameters, spelled differently: the same withdrawal.
    let replay = merchant
        .live
        .post(
            "/api/v1/withdrawals",
            &withdrawal_body("idem-1", "ethereum", &ETH.to_lowercase(), "30"),
        )
        .await;
    assert_eq!(replay.status(), 200);
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    let replayed: Value = replay.json().await.unwrap();
    assert_eq!(replayed, first);
    for other in [
        withdrawal_body("idem-1", "ethereum", ETH, "31.00"),
        withdrawal_body("idem-1", "bsc", ETH, "30.00"),
        withdrawal_body("idem-1", "tron", TRON, "30.00"),
    ] {
        let error = assert_error(
            merchant.live.post("/api/v1/withdrawals", &other).await,
            409,
            "duplicate_merchant_withdrawal_id",
        )
        .await;
        assert_eq!(error["error"]["param"], "merchant_withdrawal_id");
    }
    // One row, one hold.
    let list: Value = merchant
        .live
        .get("/api/v1/withdrawals")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    assert_eq!(
        ledger_balance(&app, AccountKey::merchant(merchant.id(), true))
            .await
            .pending_debits,
        35 * USDT
    );

    // The sandbox has its own id space.
    let (status, sandbox) = withdraw(
        &merchant.test,
        &withdrawal_body("idem-1", "ethereum", ETH, "30.00"),
    )
    .await;
    assert_eq!(status, 201, "{sandbox}");
    assert_ne!(sandbox["id"], first["id"]);
    assert_eq!(sandbox["livemode"], false);
    assert_withdrawals_consistent(&app).await;
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn concurrent_duplicates_create_one_withdrawal() {
    let app = TestApp::spawn().await;
    let merchant = create_merchant(&app, json!({"fee_rate": "0"})).await;
    fund_test(&app, &merchant, 100 * USDT).await;
    let body = withdrawal_body("race-1", "tron", TRON, "20");
    let (a, b, c) = tokio::join!(
        withdraw(&merchant.test, &body),
        withdraw(&merchant.test, &body),
        withdraw(&merchant.test, &body)
    );
    let mut statuses = [a.0, b.0, c.0];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 200, 201]);
    assert!(a.1["id"] == b.1["id"] && b.1["id"] == c.1["id"]);
    assert_eq!(
        ledger_balance(&app, AccountKey::merchant(merchant.id(), false))
            .await
            .pending_debits,
        21 * USDT
    );
    assert_withdrawals_consistent(&app).await;
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn insufficient_balance_is_refused_without_a_hold() {
    let app = TestApp::spawn().await;
    let merchant = create_merchant(&app, json!({"fee_rate": "0"})).await;
    let acc = acceptor(&app).await;
    fund_live(&app, &merchant, &acc, "100.00").await;

    // 99.01 + 1 fee > 100.
    assert_error(
        merchant
            .live
            .post(
                "/api/v1/withdrawals",
                &withdrawal_body("big", "tron", TRON, "99.01"),
            )
            .await,
        422,
        "insufficient_balance",
    )
    .await;
    // Exactly the balance: 99 + 1.
    let (status, all) = withdraw(&merchant.live, &withdrawal_body("all", "tron", TRON, "99")).await;
    assert_eq!(status, 201, "{all}");
    assert_eq!(
        api_balance(&merchant.live).await,
        ("0.00".to_owned(), "100.00".to_owned())
    );
    // Held funds cannot be withdrawn twice.
    assert_error(
        merchant
            .live
            .post(
                "/api/v1/withdrawals",
                &withdrawal_body("more", "tron", TRON, "10"),
            )
            .await,
        422,
        "insufficient_balance",
    )
    .await;
    // The refused merchant_withdrawal_id is free to use later (nothing was written).
    let list: Value = merchant
        .live
        .get("/api/v1/withdrawals")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    let admin = app.admin_token().await;
    admin_ok(
        &app,
        &admin,
        all["id"].as_str().unwrap(),
        "reject",
        json!({"reason": "changed mind"}),
    )
    .await;
    let (status, retry) =
        withdraw(&merchant.live, &withdrawal_body("more", "tron", TRON, "10")).await;
    assert_eq!(status, 201, "{retry}");
    let balance = ledger_balance(&app, AccountKey::merchant(merchant.id(), true)).await;
    assert_eq!(
        (balance.available, balance.pending_debits),
        (89 * USDT, 11 * USDT)
    );
    assert_withdrawals_consistent(&app).await;
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn live_and_test_withdrawals_are_isolated() {
    let app = TestApp::spawn().await;
    let merchant = create_merchant(&app, json!({"fee_rate": "0"})).await;
    let other = create_merchant(&app, json!({})).await;
    fund_test(&app, &merchant, 500 * USDT).await;
    let admin = app.admin_token().await;

    // Sandbox money cannot leave through a live key.
    assert_error(
        merchant
            .live
            .post(
                "/api/v1/withdrawals",
                &withdrawal_body("w-live", "tron", TRON, "100"),
            )
            .await,
        422,
        "insufficient_balance",
    )
    .await;
    let (status, sandbox) = withdraw(
        &merchant.test,
        &withdrawal_body("w-test", "tron", TRON, "100"),
    )
    .await;
    assert_eq!(status, 201, "{sandbox}");
    assert_eq!(sandbox["livemode"], false);
    let id = sandbox["id"].as_str().unwrap();
    assert_eq!(
        api_balance(&merchant.test).await,
        ("399.00".to_owned(), "101.00".to_owned())
    );
    assert_eq!(
        api_balance(&merchant.live).await,
        ("0.00".to_owned(), "0.00".to_owned())
    );

    // Each key sees only its mode; other merchants see nothing.
    assert_error(
        merchant
            .live
            .get(&format!("/api/v1/withdrawals/{id}"))
            .await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        other.test.get(&format!("/api/v1/withdrawals/{id}")).await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        other.live.get(&format!("/api/v1/withdrawals/{id}")).await,
        404,
        "not_found",
    )
    .await;
    let live_list: Value = merchant
        .live
        .get("/api/v1/withdrawals")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(live_list["data"], json!([]));
    let test_list: Value = merchant
        .test
        .get("/api/v1/withdrawals")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(test_list["data"][0]["id"], id);
    let other_list: Value = other
        .test
        .get("/api/v1/withdrawals")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(other_list["data"], json!([]));

    // Admins can narrow the queue to a mode.
    let live_queue: Value = app
        .get("/api/v1/admin/withdrawals?livemode=true", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(live_queue["data"], json!([]));
    let test_queue: Value = app
        .get(
            "/api/v1/admin/withdrawals?livemode=false&status=review",
            Some(&admin),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(test_queue["data"][0]["id"], id);

    // Completing it moves sandbox money only.
    admin_ok(&app, &admin, id, "approve", json!({})).await;
    admin_ok(
        &app,
        &admin,
        id,
        "complete",
        json!({"txid": "sandbox-tx-1"}),
    )
    .await;
    assert_eq!(
        ledger_balance(&app, AccountKey::merchant(merchant.id(), false))
            .await
            .posted,
        399 * USDT
    );
    assert_eq!(
        ledger_balance(&app, AccountKey::custody(false))
            .await
            .posted,
        -400 * USDT
    );
    assert_eq!(
        ledger_balance(&app, AccountKey::revenue(false))
            .await
            .posted,
        USDT
    );
    assert_eq!(
        ledger_balance(&app, AccountKey::custody(true)).await,
        Default::default()
    );
    assert_eq!(
        ledger_balance(&app, AccountKey::revenue(true)).await,
        Default::default()
    );
    assert_eq!(
        ledger_balance(&app, AccountKey::merchant(merchant.id(), true)).await,
        Default::default()
    );
    assert_withdrawals_consistent(&app).await;
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn admin_transitions_in_the_wrong_state_are_conflicts() {
    let app = TestApp::spawn().await;
    let merchant = create_merchant(&app, json!({"fee_rate": "0"})).await;
    fund_test(&app, &merchant, 100 * USDT).await;
    let admin = app.admin_token().await;
    let (_, created) = withdraw(&merchant.test, &withdrawal_body("w-1", "tron", TRON, "10")).await;
    let id = created["id"].as_str().unwrap();

    // In review: neither paid out nor failed.
    assert_error(
        admin_action(&app, &admin, id, "complete", json!({"txid": "t-1"})).await,
        409,
        "invalid_state",
    )
    .await;
    assert_error(
        admin_action(&app, &admin, id, "fail", json!({"reason": "x"})).await,
        409,
        "invalid_state",
    )
    .await;
    admin_ok(&app, &admin, id, "approve", json!({})).await;
    // Approved: no second review.
    assert_error(
        admin_action(&app, &admin, id, "approve", json!({})).await,
        409,
        "invalid_state",
    )
    .await;
    assert_error(
        admin_action(&app, &admin, id, "reject", json!({"reason": "late"})).await,
        409,
        "invalid_state",
    )
    .await;
    let bad_txid = assert_error(
        admin_action(&app, &admin, id, "complete", json!({"txid": "has space"})).await,
        400,
        "invalid_request",
    )
    .await;
    assert_eq!(bad_txid["error"]["param"], "txid");
    admin_ok(&app, &admin, id, "complete", json!({"txid": "t-1"})).await;
    // Completed is final.
    for (action, body) in [
        ("approve", json!({})),
        ("reject", json!({"reason": "x"})),
        ("complete", json!({"txid": "t-2"})),
        ("fail", json!({"reason": "x"})),
    ] {
        assert_error(
            admin_action(&app, &admin, id, action, body).await,
            409,
            "invalid_state",
        )
        .await;
    }
    let detail: Value = app
        .get(&format!("/api/v1/admin/withdrawals/{id}"), Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        detail["txid"], "t-1",
        "a refused second completion changes nothing"
    );

    // Unknown ids, unknown actions, and callers who are not admins.
    assert_error(
        admin_action(&app, &admin, "wd_unknown", "approve", json!({})).await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        app.get("/api/v1/admin/withdrawals/wd_unknown", Some(&admin))
            .await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        admin_action(&app, &admin, id, "explode", json!({})).await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        app.post(
            &format!("/api/v1/admin/withdrawals/{id}/approve"),
            None,
            &json!({}),
        )
        .await,
        401,
        "missing_credentials",
    )
    .await;
    let acc = acceptor(&app).await;
    assert_error(
        app.get("/api/v1/admin/withdrawals", Some(&acc.token)).await,
        403,
        "forbidden",
    )
    .await;
    assert_error(
        admin_action(&app, &acc.token, id, "approve", json!({})).await,
        403,
        "forbidden",
    )
    .await;
    let audit: Value = app
        .get("/api/v1/admin/audit-log", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    let text = audit.to_string();
    assert!(
        text.contains("withdrawal.approve") && text.contains("withdrawal.complete"),
        "{audit}"
    );
    assert_withdrawals_consistent(&app).await;
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn withdrawals_are_listed_newest_first_with_pagination_and_a_status_filter() {
    let app = TestApp::spawn().await;
    let merchant = create_merchant(&app, json!({"fee_rate": "0"})).await;
    fund_test(&app, &merchant, 1000 * USDT).await;
    let admin = app.admin_token().await;
    let mut ids = Vec::new();
    for i in 0..3 {
        let (status, created) = withdraw(
            &merchant.test,
            &withdrawal_body(&format!("l-{i}"), "tron", TRON, "10"),
        )
        .await;
        assert_eq!(status, 201);
        ids.push(created["id"].as_str().unwrap().to_owned());
    }
    admin_ok(&app, &admin, &ids[1], "reject", json!({"reason": "no"})).await;

    let first: Value = merchant
        .test
        .get("/api/v1/withdrawals?limit=2")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["has_more"], true);
    assert_eq!(first["data"][0]["id"], ids[2].as_str());
    assert_eq!(first["data"][1]["id"], ids[1].as_str());
    let second: Value = merchant
        .test
        .get(&format!(
            "/api/v1/withdrawals?limit=2&starting_after={}",
            ids[1]
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(second["has_more"], false);
    assert_eq!(second["data"].as_array().unwrap().len(), 1);
    assert_eq!(second["data"][0]["id"], ids[0].as_str());

    let review: Value = merchant
        .test
        .get("/api/v1/withdrawals?status=review")
        .await
        .json()
        .await
        .unwrap();
    let review_ids: Vec<&str> = review["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["id"].as_str().unwrap())
        .collect();
    assert_eq!(review_ids, [ids[2].as_str(), ids[0].as_str()]);
    let rejected: Value = app
        .get("/api/v1/admin/withdrawals?status=rejected", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(rejected["data"].as_array().unwrap().len(), 1);
    assert_eq!(rejected["data"][0]["reason"], "no");
    let admin_page: Value = app
        .get("/api/v1/admin/withdrawals?limit=1", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            admin_page["data"][0]["id"].as_str(),
            admin_page["has_more"].as_bool()
        ),
        (Some(ids[2].as_str()), Some(true))
    );

    let bad = assert_error(
        merchant
            .test
            .get("/api/v1/withdrawals?status=pending")
            .await,
        400,
        "invalid_request",
    )
    .await;
    assert_eq!(bad["error"]["param"], "status");
    let bad = assert_error(
        merchant.test.get("/api/v1/withdrawals?limit=101").await,
        400,
        "invalid_request",
    )
    .await;
    assert_eq!(bad["error"]["param"], "limit");
    assert_error(
        app.get("/api/v1/admin/withdrawals?status=nope", Some(&admin))
            .await,
        400,
        "invalid_request",
    )
    .await;
    assert_withdrawals_consistent(&app).await;
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn concurrent_withdrawals_never_overdraw_the_balance() {
    let app = TestApp::spawn().await;
    let merchant = create_merchant(&app, json!({"fee_rate": "0"})).await;
    fund_test(&app, &merchant, 100 * USDT).await;
    let bodies: Vec<Value> = (0..5)
        .map(|i| withdrawal_body(&format!("c-{i}"), "tron", TRON, "30"))
        .collect();
    let results =
        futures_util::future::join_all(bodies.iter().map(|b| withdraw(&merchant.test, b))).await;
    let created = results.iter().filter(|(s, _)| *s == 201).count();
    let refused = results
        .iter()
        .filter(|(s, body)| *s == 422 && body["error"]["code"] == "insufficient_balance")
        .count();
    assert_eq!((created, refused), (3, 2), "{results:?}");
    let balance = ledger_balance(&app, AccountKey::merchant(merchant.id(), false)).await;
    assert_eq!(
        (balance.available, balance.pending_debits),
        (7 * USDT, 93 * USDT)
    );
    assert_withdrawals_consistent(&app).await;
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn racing_admin_actions_have_exactly_one_outcome() {
    let app = TestApp::spawn().await;
    let merchant = create_merchant(&app, json!({"fee_rate": "0"})).await;
    fund_test(&app, &merchant, 1000 * USDT).await;
    let admin = app.admin_token().await;
    for i in 0..4 {
        let (_, created) = withdraw(
            &merchant.test,
            &withdrawal_body(&format!("r-{i}"), "tron", TRON, "10"),
        )
        .await;
        let id = created["id"].as_str().unwrap().to_owned();
        // In review: approve races reject.
        let (approve, reject) = tokio::join!(
            admin_action(&app, &admin, &id, "approve", json!({})),
            admin_action(&app, &admin, &id, "reject", json!({"reason": "race"}))
        );
        let mut statuses = [approve.status().as_u16(), reject.status().as_u16()];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 409]);
        if approve.status() == 200 {
            // Approved: complete races fail.
            let (complete, fail) = tokio::join!(
                admin_action(
                    &app,
                    &admin,
                    &id,
                    "complete",
                    json!({"txid": format!("t-{i}")})
                ),
                admin_action(&app, &admin, &id, "fail", json!({"reason": "race"}))
            );
            let mut statuses = [complete.status().as_u16(), fail.status().as_u16()];
            statuses.sort_unstable();
            assert_eq!(statuses, [200, 409]);
        }
    }
    let balance = ledger_balance(&app, AccountKey::merchant(merchant.id(), false)).await;
    assert_eq!(
        balance.pending_debits, 0,
        "every hold was settled exactly once"
    );
    let list: Value = merchant
        .test
        .get("/api/v1/withdrawals")
        .await
        .json()
        .await
        .unwrap();
    let paid: i64 = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["status"] == "completed")
        .count() as i64;
    assert_eq!(balance.posted, 1000 * USDT - paid * 11 * USDT);
    assert_withdrawals_consistent(&app).await;
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn the_withdrawal_check_finds_a_status_that_disagrees_with_the_ledger() {
    use sea_orm::{ActiveModelTrait, ActiveValue::Set, IntoActiveModel};
    let app = TestApp::spawn().await;
    let merchant = create_merchant(&app, json!({"fee_rate": "0"})).await;
    fund_test(&app, &merchant, 100 * USDT).await;
    let (_, created) = withdraw(&merchant.test, &withdrawal_body("t-1", "tron", TRON, "10")).await;
    let id = created["id"].as_str().unwrap();
    assert_withdrawals_consistent(&app).await;

    // Marked completed behind the ledger's back: the hold is still open, nothing paid.
    let row = otcpay::withdrawals::service::find(
        &app.state.db,
        &otcpay::ids::WithdrawalId::parse(id).unwrap(),
    )
    .await
    .unwrap()
    .unwrap();
    let mut active = row.clone().into_active_model();
    active.status = Set(otcpay::withdrawals::model::WithdrawalStatus::Completed);
    active.update(&app.state.db).await.unwrap();
    let kinds: Vec<String> = otcpay::withdrawals::service::check_withdrawals(&app.state.db)
        .await
        .unwrap()
        .into_iter()
        .map(|v| v.kind)
        .collect();
    assert_eq!(
        kinds,
        [
            "withdrawal_hold_state_mismatch",
            "withdrawal_payout_mismatch"
        ]
    );

    row.into_active_model()
        .reset_all()
        .update(&app.state.db)
        .await
        .unwrap();
    assert_withdrawals_consistent(&app).await;
    app.assert_ledger_ok().await;
}
