//! Sandbox: test keys create test-mode orders that the built-in simulated acceptor takes
//! at once and confirms after `OTCPAY_SANDBOX_CONFIRM_AFTER` seconds; their money stays
//! in `livemode = false` accounts and live keys never see them.

use otcpay::ledger::AccountKey;
use otcpay_tests::TestApp;
use otcpay_tests::app::assert_error;
use otcpay_tests::merchant::create_merchant;
use otcpay_tests::scenario::{
    AcceptorSpec, WebhookReceiver, ledger_balance, online_acceptor, verify_webhook,
};
use serde_json::{Value, json};

#[tokio::test]
async fn sandbox_orders_complete_by_themselves_and_never_touch_live_money() {
    let app = TestApp::spawn_with(|s| {
        s.sandbox_confirm_after = 1;
        s.scheduler_interval_ms = 100;
    })
    .await;
    let receiver = WebhookReceiver::start().await;
    let merchant = create_merchant(
        &app,
        json!({"fee_rate": "0.02", "webhook_url": receiver.url}),
    )
    .await;
    // A live acceptor exists, but test orders never go to it.
    let live_acceptor = online_acceptor(&app, AcceptorSpec::default()).await;

    let response = merchant
        .test
        .post(
            "/api/v1/orders",
            &json!({"merchant_order_id": "sb-1", "amount": "50.00", "fiat_currency": "CNY"}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    assert_eq!(created["livemode"], false);
    assert_eq!(created["status"], "assigned");
    assert_eq!(created["rate"], "7.20");
    assert_eq!(created["fiat_amount"], "360.00");
    assert_eq!(
        created["payment_details"]["bank_name"],
        "OTCPay Sandbox Bank"
    );
    let id = created["id"].as_str().unwrap();

    let completed = receiver.wait_for("order.completed", id).await;
    assert!(verify_webhook(&merchant.webhook_secret, &completed));
    assert_eq!(completed.json()["livemode"], false);
    receiver.wait_for("order.paid", id).await;
    let now: Value = merchant
        .test
        .get(&format!("/api/v1/orders/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(now["status"], "completed");

    // Test money: 50 − 2 % fee on the test account; nothing on the live one.
    assert_eq!(
        ledger_balance(&app, AccountKey::merchant(merchant.id(), false))
            .await
            .available,
        49_000_000
    );
    assert_eq!(
        ledger_balance(&app, AccountKey::merchant(merchant.id(), true))
            .await
            .posted,
        0
    );
    let live_acceptor_balance =
        ledger_balance(&app, AccountKey::acceptor(&live_acceptor.id, true)).await;
    assert_eq!(live_acceptor_balance.pending_debits, 0);
    assert_eq!(live_acceptor_balance.posted, 10_000_000_000);
    let test_balance: Value = merchant
        .test
        .get("/api/v1/balance")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(test_balance["balances"][0]["available"], "49.00");
    let live_balance: Value = merchant
        .live
        .get("/api/v1/balance")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(live_balance["balances"][0]["available"], "0.00");

    // Each mode sees only its own orders.
    assert_error(
        merchant.live.get(&format!("/api/v1/orders/{id}")).await,
        404,
        "not_found",
    )
    .await;
    let live_list: Value = merchant
        .live
        .get("/api/v1/orders")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(live_list["data"], json!([]));
    let live = merchant
        .live
        .post(
            "/api/v1/orders",
            &json!({"merchant_order_id": "sb-1", "amount": "50.00", "fiat_currency": "CNY"}),
        )
        .await;
    assert_eq!(
        live.status(),
        201,
        "the same merchant_order_id is free in live mode"
    );
    let live_order: Value = live.json().await.unwrap();
    assert_eq!(live_order["livemode"], true);
    assert_error(
        merchant
            .test
            .get(&format!(
                "/api/v1/orders/{}",
                live_order["id"].as_str().unwrap()
            ))
            .await,
        404,
        "not_found",
    )
    .await;
    app.assert_ledger_ok().await;
}
