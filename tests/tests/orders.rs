//! The order lifecycle end to end, as a merchant, an acceptor, a customer and an admin
//! see it: matching by rate, round-robin, reject and reassignment, idempotency, tenant
//! isolation, cancellation, the races of the state machine, timers, disputes, and the
//! signed callbacks. Every scenario ends with the ledger invariant check.

use otcpay::ledger::AccountKey;
use otcpay::orders::service::escrow_of;
use otcpay_tests::TestApp;
use otcpay_tests::app::assert_error;
use otcpay_tests::merchant::{CreatedMerchant, create_merchant};
use otcpay_tests::scenario::{
    Acceptor, AcceptorSpec, WebhookReceiver, ledger_balance, online_acceptor, set_online,
    verify_webhook,
};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, IntoActiveModel};
use serde_json::{Value, json};

const USDT: i64 = 1_000_000;

async fn order(merchant: &CreatedMerchant, body: Value) -> (u16, Value) {
    let response = merchant.live.post("/api/v1/orders", &body).await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

fn order_body(id: &str, amount: &str) -> Value {
    json!({"merchant_order_id": id, "amount": amount, "fiat_currency": "CNY",
           "payment_method": "bank_transfer", "metadata": {"cart": "42"}})
}

fn token_of(order: &Value) -> String {
    order["cashier_url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned()
}

async fn pay(app: &TestApp, order: &Value) -> Value {
    let token = token_of(order);
    let response = app
        .post(
            &format!("/pay/{token}/paid"),
            None,
            &json!({"payer_name": "Li Lei"}),
        )
        .await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn confirm(app: &TestApp, acceptor: &Acceptor, order_id: &str) -> reqwest::Response {
    app.post(
        &format!("/api/v1/acceptor/orders/{order_id}/confirm"),
        Some(&acceptor.token),
        &json!({}),
    )
    .await
}

/// Moves a deadline of an order into the past and runs one scheduler round.
async fn pass_deadline(app: &TestApp, order_id: &str, which: &str) {
    let row = otcpay::orders::service::find(
        &app.state.db,
        &otcpay::ids::OrderId::parse(order_id).unwrap(),
    )
    .await
    .unwrap()
    .unwrap();
    let past = otcpay::db::now_ms() - 1000;
    let mut active = row.into_active_model();
    match which {
        "expires_at" => active.expires_at = Set(past),
        "match_deadline" => active.match_deadline = Set(Some(past)),
        "release_deadline" => active.release_deadline = Set(Some(past)),
        other => panic!("unknown deadline {other}"),
    }
    active.next_deadline = Set(Some(past));
    active.update(&app.state.db).await.unwrap();
    otcpay::orders::scheduler::run_once(&app.state)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_paid_order_completes_with_exact_balances_and_signed_callbacks() {
    let app = TestApp::spawn().await;
    let receiver = WebhookReceiver::start().await;
    let merchant = create_merchant(
        &app,
        json!({"fee_rate": "0.01", "webhook_url": receiver.url}),
    )
    .await;
    let dear = online_acceptor(
        &app,
        AcceptorSpec {
            name: "Dear",
            rate: "7.25",
            ..Default::default()
        },
    )
    .await;
    let best = online_acceptor(
        &app,
        AcceptorSpec {
            name: "Best",
            rate: "7.18",
            ..Default::default()
        },
    )
    .await;

    let (status, created) = order(&merchant, order_body("inv-1001", "100.00")).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["status"], "assigned");
    assert!(created["id"].as_str().unwrap().starts_with("ord_"));
    assert_eq!(
        created["rate"], "7.18",
        "the best rate for the customer wins"
    );
    assert_eq!(created["fiat_amount"], "718.00");
    assert_eq!(created["fee"], "1.00");
    assert_eq!(created["net_amount"], "99.00");
    assert_eq!(created["currency"], "USDT");
    assert_eq!(created["livemode"], true);
    assert_eq!(created["metadata"], json!({"cart": "42"}));
    assert_eq!(created["payment_details"]["method"], "bank_transfer");
    assert_eq!(created["payment_details"]["account_name"], "Best");
    assert_eq!(
        created["payment_details"]["reference"],
        created["reference"]
    );
    assert!(
        created["qr_code"]
            .as_str()
            .unwrap()
            .starts_with("data:image/png;base64,")
    );
    assert!(
        created["cashier_url"]
            .as_str()
            .unwrap()
            .starts_with(&app.address)
    );
    let id = created["id"].as_str().unwrap().to_owned();

    // The cashier shows what to pay, then the customer reports payment.
    let token = token_of(&created);
    let status: Value = app
        .get(&format!("/pay/{token}/status"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status["fiat_amount"], "718.00");
    assert_eq!(status["status"], "assigned");
    let page = app
        .get(&format!("/pay/{token}"), None)
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("718.00") && page.contains("I have paid"));
    assert_eq!(pay(&app, &created).await["status"], "paid");

    // Another acceptor cannot see or confirm it.
    assert_error(confirm(&app, &dear, &id).await, 404, "not_found").await;
    let done = confirm(&app, &best, &id).await;
    assert_eq!(done.status(), 200);
    assert_eq!(done.json::<Value>().await.unwrap()["status"], "completed");

    // Merchant: 100 − 1 % fee. Acceptor: 10 000 − 100 + 0.4 commission. Platform: 0.6.
    let merchant_balance = ledger_balance(&app, AccountKey::merchant(merchant.id(), true)).await;
    assert_eq!(merchant_balance.available, 99 * USDT);
    let acceptor_balance = ledger_balance(&app, AccountKey::acceptor(&best.id, true)).await;
    assert_eq!(
        acceptor_balance.posted,
        10_000 * USDT - 100 * USDT + 400_000
    );
    assert_eq!(acceptor_balance.pending_debits, 0);
    assert_eq!(
        ledger_balance(&app, AccountKey::revenue(true)).await.posted,
        600_000
    );
    assert_eq!(
        ledger_balance(
            &app,
            escrow_of(&otcpay::ids::AcceptorId::parse(&best.id).unwrap(), true)
        )
        .await
        .posted,
        0
    );
    let api_balance: Value = merchant
        .live
        .get("/api/v1/balance")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(api_balance["balances"][0]["available"], "99.00");

    for event in ["order.assigned", "order.paid", "order.completed"] {
        let hook = receiver.wait_for(event, &id).await;
        assert!(
            verify_webhook(&merchant.webhook_secret, &hook),
            "{event} signature"
        );
        assert_eq!(hook.header("webhook-id"), hook.json()["id"].as_str());
    }
    let completed = receiver.wait_for("order.completed", &id).await.json();
    assert_eq!(completed["data"]["status"], "completed");
    assert_eq!(completed["data"]["net_amount"], "99.00");
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn equal_rates_are_served_round_robin() {
    let app = TestApp::spawn().await;
    let merchant = create_merchant(&app, json!({})).await;
    let mut acceptors = Vec::new();
    for name in ["A", "B", "C"] {
        acceptors.push(
            online_acceptor(
                &app,
                AcceptorSpec {
                    name,
                    rate: "7.20",
                    ..Default::default()
                },
            )
            .await,
        );
    }
    let mut counts = std::collections::HashMap::new();
    let mut sequence = Vec::new();
    for i in 0..6 {
        let (status, created) = order(&merchant, order_body(&format!("rr-{i}"), "10.00")).await;
        assert_eq!(status, 201);
        let holder = created["payment_details"]["account_name"]
            .as_str()
            .unwrap()
            .to_owned();
        sequence.push(holder.clone());
        *counts.entry(holder).or_insert(0) += 1;
    }
    assert_eq!(counts.len(), 3, "{sequence:?}");
    assert!(counts.values().all(|c| *c == 2), "{sequence:?}");
    assert_ne!(sequence[0], sequence[1]);
    assert_ne!(sequence[1], sequence[2]);
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn a_rejected_order_goes_to_another_acceptor() {
    let app = TestApp::spawn().await;
    let merchant = create_merchant(&app, json!({})).await;
    let first = online_acceptor(
        &app,
        AcceptorSpec {
            name: "First",
            rate: "7.10",
            ..Default::default()
        },
    )
    .await;
    let second = online_acceptor(
        &app,
        AcceptorSpec {
            name: "Second",
            rate: "7.30",
            ..Default::default()
        },
    )
    .await;
    let (_, created) = order(&merchant, order_body("rej-1", "50.00")).await;
    assert_eq!(created["payment_details"]["account_name"], "First");
    let id = created["id"].as_str().unwrap();

    let rejected = app
        .post(
            &format!("/api/v1/acceptor/orders/{id}/reject"),
            Some(&first.token),
            &json!({"reason": "bank down"}),
        )
        .await;
    assert_eq!(rejected.status(), 200);
    let now: Value = merchant
        .live
        .get(&format!("/api/v1/orders/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(now["status"], "assigned");
    assert_eq!(now["rate"], "7.30");
    assert_eq!(now["fiat_amount"], "365.00");
    assert_eq!(now["payment_details"]["account_name"], "Second");
    // The first acceptor's reservation came back; the second holds one now.
    assert_eq!(
        ledger_balance(&app, AccountKey::acceptor(&first.id, true))
            .await
            .pending_debits,
        0
    );
    assert_eq!(
        ledger_balance(&app, AccountKey::acceptor(&second.id, true))
            .await
            .pending_debits,
        50 * USDT
    );
    // The first one no longer sees it; rejecting twice is a conflict for the holder.
    assert_error(
        app.get(&format!("/api/v1/acceptor/orders/{id}"), Some(&first.token))
            .await,
        404,
        "not_found",
    )
    .await;
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn merchant_order_ids_are_idempotent() {
    let app = TestApp::spawn().await;
    let merchant = create_merchant(&app, json!({})).await;
    let acceptor = online_acceptor(&app, AcceptorSpec::default()).await;
    let (status, first) = order(&merchant, order_body("idem-1", "20.00")).await;
    assert_eq!(status, 201);
    let replay = merchant
        .live
        .post("/api/v1/orders", &order_body("idem-1", "20.0"))
        .await;
    assert_eq!(replay.status(), 200);
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    assert_eq!(replay.json::<Value>().await.unwrap()["id"], first["id"]);
    assert_error(
        merchant
            .live
            .post("/api/v1/orders", &order_body("idem-1", "21.00"))
            .await,
        409,
        "duplicate_merchant_order_id",
    )
    .await;
    // Only one order and one reservation exist.
    let list: Value = merchant
        .live
        .get("/api/v1/orders?merchant_order_id=idem-1")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    // The retries were matched before their write found the id taken: the engine has
    // forgotten those matches, and the acceptor holds the first order only.
    let engine = app.engine_balance(&acceptor.id).await;
    assert_eq!((engine.reserved, engine.open_orders), (20 * USDT, 1));
    let acceptor_account = ledger_balance(&app, AccountKey::acceptor(&acceptor.id, true)).await;
    assert_eq!(acceptor_account.available, 10_000 * USDT - 20 * USDT);
    app.assert_ledger_ok().await;
}

/// Orders created at the same time are written together (group commit); copies of one
/// `merchant_order_id` racing each other, in one batch or in several, are written once
/// and the others answered with that order: every distinct order is created, the
/// duplicate exactly once, and the engine and the ledger agree on what is reserved.
#[tokio::test]
async fn concurrent_orders_and_a_concurrent_duplicate_are_each_created_once() {
    let app = TestApp::spawn().await;
    let merchant = create_merchant(&app, json!({})).await;
    let acceptor = online_acceptor(&app, AcceptorSpec::default()).await;
    let distinct = (0..20).map(|n| order(&merchant, order_body(&format!("many-{n}"), "11.00")));
    let duplicates = (0..6).map(|_| order(&merchant, order_body("dup-1", "13.00")));
    let (distinct, duplicates) = futures_util::join!(
        futures_util::future::join_all(distinct),
        futures_util::future::join_all(duplicates)
    );
    for (status, body) in &distinct {
        assert_eq!(*status, 201, "{body}");
        assert_eq!(body["status"], "assigned", "{body}");
    }
    let created: Vec<&Value> = duplicates
        .iter()
        .filter(|(status, _)| *status == 201)
        .map(|(_, body)| body)
        .collect();
    assert_eq!(created.len(), 1, "{duplicates:?}");
    for (status, body) in &duplicates {
        assert!(*status == 201 || *status == 200, "{body}");
        assert_eq!(body["id"], created[0]["id"]);
    }

    let reserved = 20 * 11 * USDT + 13 * USDT;
    assert_eq!(
        ledger_balance(
            &app,
            escrow_of(&otcpay::ids::AcceptorId::parse(&acceptor.id).unwrap(), true)
        )
        .await
        .pending_credits,
        reserved
    );
    let acceptor_account = ledger_balance(&app, AccountKey::acceptor(&acceptor.id, true)).await;
    assert_eq!(acceptor_account.available, 10_000 * USDT - reserved);
    let engine = app.engine_balance(&acceptor.id).await;
    assert_eq!((engine.reserved, engine.open_orders), (reserved, 21));
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn order_input_is_validated_with_the_contract_codes() {
    let app = TestApp::spawn().await;
    let merchant = create_merchant(&app, json!({})).await;
    let cases = [
        (
            json!({"merchant_order_id": "v1", "amount": 100, "fiat_currency": "CNY"}),
            400,
            "invalid_amount",
            "amount",
        ),
        (
            json!({"merchant_order_id": "v1", "amount": "1e2", "fiat_currency": "CNY"}),
            400,
            "invalid_amount",
            "amount",
        ),
        (
            json!({"merchant_order_id": "v1", "amount": "0", "fiat_currency": "CNY"}),
            400,
            "invalid_amount",
            "amount",
        ),
        (
            json!({"merchant_order_id": "v1", "amount": "1.1234567", "fiat_currency": "CNY"}),
            400,
            "invalid_amount",
            "amount",
        ),
        (
            json!({"merchant_order_id": "v1", "amount": "1.00", "fiat_currency": "XYZ"}),
            400,
            "unsupported_currency",
            "fiat_currency",
        ),
        (
            json!({"merchant_order_id": "v 1", "amount": "1.00", "fiat_currency": "CNY"}),
            400,
            "invalid_request",
            "merchant_order_id",
        ),
        (
            json!({"merchant_order_id": "v1", "amount": "1.00"}),
            400,
            "invalid_request",
            "fiat_currency",
        ),
        (
            json!({"merchant_order_id": "v1", "amount": "1.00", "fiat_currency": "CNY", "expires_in": 30}),
            400,
            "invalid_request",
            "expires_in",
        ),
    ];
    for (body, status, code, param) in cases {
        let error = assert_error(
            merchant.live.post("/api/v1/orders", &body).await,
            status,
            code,
        )
        .await;
        assert_eq!(error["error"]["param"], param, "{body}");
    }
    // Nothing was written.
    let list: Value = merchant
        .live
        .get("/api/v1/orders")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["data"], json!([]));
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn tenants_only_see_their_own_orders() {
    let app = TestApp::spawn().await;
    let owner = create_merchant(&app, json!({})).await;
    let other = create_merchant(&app, json!({})).await;
    let acceptor = online_acceptor(&app, AcceptorSpec::default()).await;
    let outsider = online_acceptor(
        &app,
        AcceptorSpec {
            name: "Outsider",
            rate: "9.99",
            ..Default::default()
        },
    )
    .await;
    let (_, created) = order(&owner, order_body("iso-1", "10.00")).await;
    let id = created["id"].as_str().unwrap();
    assert_error(
        other.live.get(&format!("/api/v1/orders/{id}")).await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        other
            .live
            .post_empty(&format!("/api/v1/orders/{id}/cancel"))
            .await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        owner.test.get(&format!("/api/v1/orders/{id}")).await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        app.get(
            &format!("/api/v1/acceptor/orders/{id}"),
            Some(&outsider.token),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    let mine: Value = app
        .get(
            &format!("/api/v1/acceptor/orders/{id}"),
            Some(&acceptor.token),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["id"], id);
    assert_error(
        app.get("/api/v1/admin/disputes", Some(&acceptor.token))
            .await,
        403,
        "forbidden",
    )
    .await;
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn cancel_releases_the_reservation_and_is_refused_once_paid() {
    let app = TestApp::spawn().await;
    let receiver = WebhookReceiver::start().await;
    let merchant = create_merchant(&app, json!({"webhook_url": receiver.url})).await;
    let acceptor = online_acceptor(&app, AcceptorSpec::default()).await;
    let (_, a) = order(&merchant, order_body("c-1", "30.00")).await;
    let id = a["id"].as_str().unwrap();
    let cancelled = merchant
        .live
        .post_empty(&format!("/api/v1/orders/{id}/cancel"))
        .await;
    assert_eq!(cancelled.status(), 200);
    assert_eq!(
        cancelled.json::<Value>().await.unwrap()["status"],
        "cancelled"
    );
    assert_eq!(
        ledger_balance(&app, AccountKey::acceptor(&acceptor.id, true))
            .await
            .available,
        10_000 * USDT
    );
    receiver.wait_for("order.cancelled", id).await;
    assert_error(
        merchant
            .live
            .post_empty(&format!("/api/v1/orders/{id}/cancel"))
            .await,
        409,
        "invalid_state",
    )
    .await;

    let (_, b) = order(&merchant, order_body("c-2", "30.00")).await;
    pay(&app, &b).await;
    let bid = b["id"].as_str().unwrap();
    assert_error(
        merchant
            .live
            .post_empty(&format!("/api/v1/orders/{bid}/cancel"))
            .await,
        409,
        "invalid_state",
    )
    .await;
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn confirm_racing_expiry_has_exactly_one_outcome() {
    let app = TestApp::spawn().await;
    let merchant = create_merchant(&app, json!({})).await;
    let acceptor = online_acceptor(&app, AcceptorSpec::default()).await;
    for i in 0..6 {
        let (_, created) = order(&merchant, order_body(&format!("race-{i}"), "10.00")).await;
        let id = created["id"].as_str().unwrap().to_owned();
        // Make the payment window due, then fire confirm and the scheduler together.
        let row = otcpay::orders::service::find(
            &app.state.db,
            &otcpay::ids::OrderId::parse(&id).unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
        let past = otcpay::db::now_ms() - 1;
        let mut active = row.into_active_model();
        active.expires_at = Set(past);
        active.next_deadline = Set(Some(past));
        active.update(&app.state.db).await.unwrap();
        let (confirmed, _) = tokio::join!(
            confirm(&app, &acceptor, &id),
            otcpay::orders::scheduler::run_once(&app.state)
        );
        let final_order: Value = merchant
            .live
            .get(&format!("/api/v1/orders/{id}"))
            .await
            .json()
            .await
            .unwrap();
        match confirmed.status().as_u16() {
            200 => assert_eq!(final_order["status"], "completed"),
            409 => assert_eq!(final_order["status"], "expired"),
            other => panic!("unexpected confirm status {other}"),
        }
    }
    let balance = ledger_balance(&app, AccountKey::acceptor(&acceptor.id, true)).await;
    assert_eq!(balance.pending_debits, 0, "no reservation is left dangling");
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn double_confirm_credits_once() {
    let app = TestApp::spawn().await;
    let merchant = create_merchant(&app, json!({"fee_rate": "0"})).await;
    let acceptor = online_acceptor(
        &app,
        AcceptorSpec {
            commission_rate: "0",
            ..Default::default()
        },
    )
    .await;
    let (_, created) = order(&merchant, order_body("dbl-1", "40.00")).await;
    let id = created["id"].as_str().unwrap();
    pay(&app, &created).await;
    let (a, b) = tokio::join!(confirm(&app, &acceptor, id), confirm(&app, &acceptor, id));
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 409]);
    assert_eq!(
        ledger_balance(&app, AccountKey::merchant(merchant.id(), true))
            .await
            .available,
        40 * USDT
    );
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn cancel_racing_assignment_ends_cancelled_without_a_reservation() {
    let app = TestApp::spawn().await;
    let merchant = create_merchant(&app, json!({})).await;
    let acceptor = online_acceptor(&app, AcceptorSpec::default()).await;
    set_online(&app, &acceptor.token, false).await;
    for i in 0..4 {
        let (_, created) = order(&merchant, order_body(&format!("cra-{i}"), "10.00")).await;
        assert_eq!(created["status"], "matching");
        let id = created["id"].as_str().unwrap().to_owned();
        let online = async {
            set_online(&app, &acceptor.token, true).await;
        };
        let cancel_path = format!("/api/v1/orders/{id}/cancel");
        let (cancelled, _) = tokio::join!(merchant.live.post_empty(&cancel_path), online);
        assert_eq!(cancelled.status(), 200);
        let final_order: Value = merchant
            .live
            .get(&format!("/api/v1/orders/{id}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(final_order["status"], "cancelled");
        set_online(&app, &acceptor.token, false).await;
    }
    let balance = ledger_balance(&app, AccountKey::acceptor(&acceptor.id, true)).await;
    assert_eq!(balance.available, 10_000 * USDT);
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn waiting_orders_are_assigned_when_an_acceptor_comes_online_and_expire_otherwise() {
    let app = TestApp::spawn().await;
    let receiver = WebhookReceiver::start().await;
    let merchant = create_merchant(&app, json!({"webhook_url": receiver.url})).await;
    let acceptor = online_acceptor(&app, AcceptorSpec::default()).await;
    set_online(&app, &acceptor.token, false).await;
    let (_, waiting) = order(&merchant, order_body("q-1", "10.00")).await;
    assert_eq!(waiting["status"], "matching");
    assert_eq!(waiting["rate"], Value::Null);
    set_online(&app, &acceptor.token, true).await;
    let now: Value = merchant
        .live
        .get(&format!(
            "/api/v1/orders/{}",
            waiting["id"].as_str().unwrap()
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(now["status"], "assigned");

    set_online(&app, &acceptor.token, false).await;
    let (_, lonely) = order(&merchant, order_body("q-2", "10.00")).await;
    let id = lonely["id"].as_str().unwrap();
    pass_deadline(&app, id, "match_deadline").await;
    let expired: Value = merchant
        .live
        .get(&format!("/api/v1/orders/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(expired["status"], "expired");
    receiver.wait_for("order.expired", id).await;
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn going_offline_hands_unpaid_orders_to_others() {
    let app = TestApp::spawn().await;
    let merchant = create_merchant(&app, json!({})).await;
    let leaving = online_acceptor(
        &app,
        AcceptorSpec {
            name: "Leaving",
            rate: "7.00",
            ..Default::default()
        },
    )
    .await;
    online_acceptor(
        &app,
        AcceptorSpec {
            name: "Staying",
            rate: "7.50",
            ..Default::default()
        },
    )
    .await;
    let (_, unpaid) = order(&merchant, order_body("off-1", "10.00")).await;
    let (_, paid) = order(&merchant, order_body("off-2", "10.00")).await;
    assert_eq!(unpaid["payment_details"]["account_name"], "Leaving");
    pay(&app, &paid).await;
    set_online(&app, &leaving.token, false).await;
    let moved: Value = merchant
        .live
        .get(&format!(
            "/api/v1/orders/{}",
            unpaid["id"].as_str().unwrap()
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(moved["payment_details"]["account_name"], "Staying");
    let kept: Value = merchant
        .live
        .get(&format!("/api/v1/orders/{}", paid["id"].as_str().unwrap()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        kept["status"], "paid",
        "a paid order stays with its acceptor"
    );
    app.assert_ledger_ok().await;
}

async fn open_paid_dispute(
    app: &TestApp,
    merchant: &CreatedMerchant,
    acceptor: &Acceptor,
    id: &str,
    amount: &str,
) -> (Value, String) {
    let (_, created) = order(merchant, order_body(id, amount)).await;
    pay(app, &created).await;
    let order_id = created["id"].as_str().unwrap().to_owned();
    let disputed = app
        .post(
            &format!("/api/v1/acceptor/orders/{order_id}/dispute"),
            Some(&acceptor.token),
            &json!({"reason": "not received"}),
        )
        .await;
    assert_eq!(disputed.status(), 200, "{:?}", disputed.text().await);
    let admin = app.admin_token().await;
    let list: Value = app
        .get("/api/v1/admin/disputes?status=open", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    let dispute_id = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["order_id"] == order_id.as_str())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    (created, dispute_id)
}

#[tokio::test]
async fn disputes_resolve_by_full_release_partial_release_or_cancel() {
    let app = TestApp::spawn().await;
    let receiver = WebhookReceiver::start().await;
    let merchant = create_merchant(
        &app,
        json!({"fee_rate": "0.01", "webhook_url": receiver.url}),
    )
    .await;
    let acceptor = online_acceptor(
        &app,
        AcceptorSpec {
            commission_rate: "0",
            ..Default::default()
        },
    )
    .await;
    let admin = app.admin_token().await;

    let (full, full_dispute) =
        open_paid_dispute(&app, &merchant, &acceptor, "d-full", "100.00").await;
    receiver
        .wait_for("order.disputed", full["id"].as_str().unwrap())
        .await;
    let detail: Value = app
        .get(
            &format!("/api/v1/admin/disputes/{full_dispute}"),
            Some(&admin),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail["dispute"]["opened_by"], "acceptor");
    assert_eq!(detail["order"]["status"], "disputed");
    assert!(detail["events"].as_array().unwrap().len() >= 3, "{detail}");
    let message = app
        .post(
            &format!("/api/v1/admin/disputes/{full_dispute}/messages"),
            Some(&admin),
            &json!({"body": "Please send the receipt."}),
        )
        .await;
    assert_eq!(message.status(), 201);
    let resolved = app
        .post(
            &format!("/api/v1/admin/disputes/{full_dispute}/resolve"),
            Some(&admin),
            &json!({"outcome": "release", "note": "receipt checked"}),
        )
        .await;
    assert_eq!(resolved.status(), 200);
    let resolved: Value = resolved.json().await.unwrap();
    assert_eq!(resolved["order"]["status"], "completed");
    assert_eq!(resolved["dispute"]["outcome"], "release");
    receiver
        .wait_for("order.dispute_resolved", full["id"].as_str().unwrap())
        .await;

    let (_, partial_dispute) =
        open_paid_dispute(&app, &merchant, &acceptor, "d-part", "100.00").await;
    let partial: Value = app
        .post(
            &format!("/api/v1/admin/disputes/{partial_dispute}/resolve"),
            Some(&admin),
            &json!({"outcome": "release", "amount": "40.00", "note": "paid 40 only"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(partial["order"]["released_amount"], "40.00");
    assert_eq!(partial["order"]["net_amount"], "39.60");

    let (_, cancel_dispute) =
        open_paid_dispute(&app, &merchant, &acceptor, "d-cancel", "100.00").await;
    let cancelled: Value = app
        .post(
            &format!("/api/v1/admin/disputes/{cancel_dispute}/resolve"),
            Some(&admin),
            &json!({"outcome": "cancel", "note": "never paid"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(cancelled["order"]["status"], "cancelled");
    assert_error(
        app.post(
            &format!("/api/v1/admin/disputes/{cancel_dispute}/resolve"),
            Some(&admin),
            &json!({"outcome": "cancel", "note": "again"}),
        )
        .await,
        409,
        "invalid_state",
    )
    .await;

    // Merchant: 99 + 39.60. Acceptor: 10 000 − 100 − 40, nothing reserved.
    let merchant_balance = ledger_balance(&app, AccountKey::merchant(merchant.id(), true)).await;
    assert_eq!(merchant_balance.available, 99 * USDT + 39_600_000);
    let acceptor_balance = ledger_balance(&app, AccountKey::acceptor(&acceptor.id, true)).await;
    assert_eq!(acceptor_balance.posted, 10_000 * USDT - 140 * USDT);
    assert_eq!(acceptor_balance.pending_debits, 0);
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn release_window_over_disputes_and_expired_orders_can_be_appealed() {
    let app = TestApp::spawn().await;
    let merchant = create_merchant(&app, json!({"fee_rate": "0"})).await;
    let acceptor = online_acceptor(
        &app,
        AcceptorSpec {
            commission_rate: "0",
            ..Default::default()
        },
    )
    .await;
    let admin = app.admin_token().await;

    let (_, slow) = order(&merchant, order_body("rw-1", "10.00")).await;
    pay(&app, &slow).await;
    let slow_id = slow["id"].as_str().unwrap();
    pass_deadline(&app, slow_id, "release_deadline").await;
    let now: Value = merchant
        .live
        .get(&format!("/api/v1/orders/{slow_id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(now["status"], "disputed");

    // An expired order: the customer appeals within the window, the admin releases,
    // and the funds are captured from the acceptor.
    let (_, late) = order(&merchant, order_body("rw-2", "10.00")).await;
    let late_id = late["id"].as_str().unwrap();
    pass_deadline(&app, late_id, "expires_at").await;
    let expired: Value = merchant
        .live
        .get(&format!("/api/v1/orders/{late_id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(expired["status"], "expired");
    assert_eq!(
        ledger_balance(&app, AccountKey::acceptor(&acceptor.id, true))
            .await
            .pending_debits,
        10 * USDT,
        "only the paid one is still reserved"
    );
    let appeal = app
        .post(
            &format!("/pay/{}/dispute", token_of(&late)),
            None,
            &json!({"reason": "I paid in time", "contact": "li@example.com"}),
        )
        .await;
    assert_eq!(appeal.status(), 201);
    let dispute: Value = appeal.json().await.unwrap();
    assert_eq!(dispute["opened_by"], "customer");
    let released = app
        .post(
            &format!(
                "/api/v1/admin/disputes/{}/resolve",
                dispute["id"].as_str().unwrap()
            ),
            Some(&admin),
            &json!({"outcome": "release", "note": "bank statement shows it"}),
        )
        .await;
    assert_eq!(released.status(), 200);
    assert_eq!(
        ledger_balance(&app, AccountKey::merchant(merchant.id(), true))
            .await
            .available,
        10 * USDT
    );

    // The merchant's own dispute route works in `paid` and refuses `completed`.
    let (_, other) = order(&merchant, order_body("rw-3", "10.00")).await;
    pay(&app, &other).await;
    let opened = merchant
        .live
        .post(
            &format!("/api/v1/orders/{}/disputes", other["id"].as_str().unwrap()),
            &json!({"reason": "customer complains"}),
        )
        .await;
    assert_eq!(opened.status(), 201);
    assert_eq!(
        opened.json::<Value>().await.unwrap()["opened_by"],
        "merchant"
    );
    assert_error(
        merchant
            .live
            .post(
                &format!("/api/v1/orders/{late_id}/disputes"),
                &json!({"reason": "again"}),
            )
            .await,
        409,
        "invalid_state",
    )
    .await;
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn the_ledger_check_catches_an_order_credited_with_the_wrong_amount() {
    let app = TestApp::spawn().await;
    let merchant = create_merchant(&app, json!({})).await;
    let acceptor = online_acceptor(&app, AcceptorSpec::default()).await;
    let (_, created) = order(&merchant, order_body("chk-1", "10.00")).await;
    let id = created["id"].as_str().unwrap();
    pay(&app, &created).await;
    assert_eq!(confirm(&app, &acceptor, id).await.status(), 200);
    app.assert_ledger_ok().await;

    // Tamper with the order so that its credit no longer matches it.
    let row =
        otcpay::orders::service::find(&app.state.db, &otcpay::ids::OrderId::parse(id).unwrap())
            .await
            .unwrap()
            .unwrap();
    let mut active = row.into_active_model();
    active.fee = Set(0);
    active.update(&app.state.db).await.unwrap();
    let token = app.admin_token().await;
    let report: Value = app
        .get("/api/v1/admin/ledger/check", Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(report["ok"], false);
    assert_eq!(
        report["violations"][0]["kind"], "order_credit_mismatch",
        "{report}"
    );
}
