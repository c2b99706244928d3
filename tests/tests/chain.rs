//! On-chain deposits against a real local EVM node (anvil) with a test USDT token:
//! credited after the configured confirmations and not before, exactly once per
//! transfer; a reorganisation before the confirmations credits nothing, one after them
//! raises an alert and leaves the credit; a watcher stopped mid-stream and started
//! again credits every deposit once; two nodes on one database never credit twice.
//! Every scenario ends with the ledger check.

use std::time::Duration;

use otcpay::config::{ChainNetworkSettings, Secret, Settings};
use otcpay::ledger::AccountKey;
use otcpay_tests::TestApp;
use otcpay_tests::chain::{Anvil, TEST_XPUB};
use otcpay_tests::merchant::create_merchant;
use otcpay_tests::scenario::{AcceptorSpec, WebhookReceiver, ledger_balance, online_acceptor};
use serde_json::{Value, json};

const USDT: i64 = 1_000_000;
const CONFIRMATIONS: u32 = 3;

/// Ethereum on the local node: the test token, the test xpub, 3 confirmations, a fast
/// poll, starting at the node's current block.
fn follow_node(settings: &mut Settings, node: &Anvil, token: &str, start_block: u64) {
    settings.chain.ethereum = ChainNetworkSettings {
        rpc_url: Some(Secret::new(node.url.clone())),
        usdt_contract: Some(token.to_owned()),
        usdt_decimals: None,
        confirmations: Some(CONFIRMATIONS),
        xpub: Some(TEST_XPUB.to_owned()),
        start_block: Some(start_block),
        poll_ms: Some(50),
    };
}

/// A node, its token, and a server following it.
async fn setup() -> (Anvil, String, TestApp) {
    let node = Anvil::start().await;
    let token = node.deploy_token().await;
    let start = node.block_number().await;
    let app = TestApp::spawn_with(|s| follow_node(s, &node, &token, start)).await;
    (node, token, app)
}

/// Polls `probe` until it returns `Some`, for up to 20 s.
async fn eventually<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    for _ in 0..400 {
        if let Some(found) = probe().await {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

async fn acceptor_address(app: &TestApp, token: &str) -> String {
    let response = app
        .get("/api/v1/acceptor/deposit-addresses", Some(token))
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["data"].as_array().unwrap().len(), 1, "{body}");
    assert_eq!(body["data"][0]["network"], "ethereum");
    body["data"][0]["address"].as_str().unwrap().to_owned()
}

async fn acceptor_deposits(app: &TestApp, token: &str) -> Vec<Value> {
    let response = app.get("/api/v1/acceptor/deposits", Some(token)).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    body["data"].as_array().unwrap().clone()
}

/// The deposit of `txid` once it satisfies `check`.
async fn deposit_where(
    app: &TestApp,
    token: &str,
    txid: &str,
    check: impl Fn(&Value) -> bool,
) -> Value {
    eventually(&format!("deposit {txid}"), || async {
        acceptor_deposits(app, token)
            .await
            .into_iter()
            .find(|d| d["txid"] == txid && check(d))
    })
    .await
}

/// Waits until the watcher of the server whose metrics these are has taken in every
/// block up to the node's head.
async fn caught_up(metrics: &otcpay::metrics::Metrics, node: &Anvil) {
    let head = node.block_number().await;
    eventually("the watcher to reach the head", || async {
        let metrics = metrics.render();
        let last = metrics
            .lines()
            .find(|l| l.starts_with("chain_last_scanned_block{network=\"ethereum\"}"))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|n| n.parse::<u64>().ok())?;
        (last >= head).then_some(())
    })
    .await;
}

/// The merchant's available live balance, as `GET /api/v1/balance` says it.
async fn available(merchant: &otcpay_tests::merchant::MerchantClient) -> Value {
    let body: Value = merchant.get("/api/v1/balance").await.json().await.unwrap();
    body["balances"][0]["available"].clone()
}

fn acceptor_account(id: &str) -> AccountKey {
    AccountKey::acceptor(id.to_owned(), true)
}

#[tokio::test]
async fn an_acceptor_deposit_is_credited_at_its_confirmations_and_not_before() {
    let (node, token, app) = setup().await;
    let acceptor = online_acceptor(&app, AcceptorSpec::default()).await;
    let address = acceptor_address(&app, &acceptor.token).await;
    // The same address every time, with its EIP-681 URI.
    assert_eq!(acceptor_address(&app, &acceptor.token).await, address);
    let body: Value = app
        .get("/api/v1/acceptor/deposit-addresses", Some(&acceptor.token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        body["data"][0]["uri"],
        format!(
            "ethereum:{}@1/transfer?address={address}",
            otcpay::addresses::validate(otcpay::values::networks::Network::ETHEREUM, &token)
                .unwrap()
        )
    );
    let currencies: Value = app
        .get("/api/v1/public/currencies", None)
        .await
        .json()
        .await
        .unwrap();
    let networks = currencies["assets"][0]["networks"].as_array().unwrap();
    let flag =
        |id: &str| networks.iter().find(|n| n["id"] == id).unwrap()["onchain_deposits"].clone();
    assert_eq!(flag("ethereum"), true);
    assert_eq!(flag("tron"), false);

    let before = ledger_balance(&app, acceptor_account(&acceptor.id)).await;
    let liquidity_before = app.engine_balance(&acceptor.id).await.liquidity;
    let txid = node.mint(&token, &address, 25 * USDT as u64).await;

    let pending = deposit_where(&app, &acceptor.token, &txid, |d| d["confirmations"] == 1).await;
    assert_eq!(pending["status"], "pending");
    assert_eq!(pending["required_confirmations"], CONFIRMATIONS);
    assert_eq!(pending["amount"], "25.00");
    node.mine(1).await;
    deposit_where(&app, &acceptor.token, &txid, |d| d["confirmations"] == 2).await;
    caught_up(&app.state.metrics, &node).await;
    assert_eq!(
        ledger_balance(&app, acceptor_account(&acceptor.id)).await,
        before,
        "nothing is credited before the confirmations"
    );

    node.mine(1).await;
    let confirmed =
        deposit_where(&app, &acceptor.token, &txid, |d| d["status"] == "confirmed").await;
    assert_eq!(confirmed["confirmations"], CONFIRMATIONS);
    let after = ledger_balance(&app, acceptor_account(&acceptor.id)).await;
    assert_eq!(after.posted - before.posted, 25 * USDT);
    assert_eq!(
        app.engine_balance(&acceptor.id).await.liquidity - liquidity_before,
        25 * USDT
    );

    // More blocks change nothing: credited once.
    node.mine(5).await;
    caught_up(&app.state.metrics, &node).await;
    assert_eq!(
        ledger_balance(&app, acceptor_account(&acceptor.id)).await,
        after
    );
    assert_eq!(acceptor_deposits(&app, &acceptor.token).await.len(), 1);
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn a_reorg_before_the_confirmations_credits_nothing() {
    let (node, token, app) = setup().await;
    let acceptor = online_acceptor(&app, AcceptorSpec::default()).await;
    let address = acceptor_address(&app, &acceptor.token).await;
    let before = ledger_balance(&app, acceptor_account(&acceptor.id)).await;

    let txid = node.mint(&token, &address, 7 * USDT as u64).await;
    deposit_where(&app, &acceptor.token, &txid, |d| d["status"] == "pending").await;
    // The block with the transfer is replaced before it has its confirmations.
    node.reorg(1).await;
    assert_eq!(
        node.block_of(&txid).await,
        None,
        "the transfer left the chain"
    );
    node.mine(CONFIRMATIONS as u64 + 3).await;
    caught_up(&app.state.metrics, &node).await;

    assert!(
        acceptor_deposits(&app, &acceptor.token).await.is_empty(),
        "a dropped transfer is not listed"
    );
    assert_eq!(
        ledger_balance(&app, acceptor_account(&acceptor.id)).await,
        before
    );
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn a_reorg_after_the_credit_raises_an_alert_and_leaves_the_ledger() {
    let (node, token, app) = setup().await;
    let receiver = WebhookReceiver::start().await;
    let merchant = create_merchant(&app, json!({"webhook_url": receiver.url})).await;
    let addresses: Value = merchant
        .live
        .get("/api/v1/deposit-addresses")
        .await
        .json()
        .await
        .unwrap();
    let address = addresses["data"][0]["address"].as_str().unwrap().to_owned();

    let txid = node.mint(&token, &address, 40 * USDT as u64).await;
    let mined_at = node.block_of(&txid).await.unwrap();
    node.mine(CONFIRMATIONS as u64).await;
    let deposit = eventually("the merchant's deposit to be confirmed", || async {
        let list: Value = merchant
            .live
            .get("/api/v1/deposits")
            .await
            .json()
            .await
            .ok()?;
        list["data"]
            .as_array()?
            .iter()
            .find(|d| d["txid"] == txid && d["status"] == "confirmed")
            .cloned()
    })
    .await;
    let id = deposit["id"].as_str().unwrap();
    let pending = receiver.wait_for("deposit.pending", id).await;
    assert_eq!(pending.json()["data"]["txid"], txid.as_str());
    let confirmed = receiver.wait_for("deposit.confirmed", id).await;
    assert_eq!(confirmed.json()["data"]["amount"], "40.00");
    assert_eq!(available(&merchant.live).await, "40.00");

    // A reorganisation deeper than the confirmations takes the credited block away.
    let head = node.block_number().await;
    node.reorg(head - mined_at + 1).await;
    assert_eq!(node.block_of(&txid).await, None);
    node.mine(1).await;
    let admin = app.admin_token().await;
    let listed = eventually("the vanished transfer in the review list", || async {
        let list: Value = app
            .get("/api/v1/admin/chain-transfers", Some(&admin))
            .await
            .json()
            .await
            .ok()?;
        list["data"]
            .as_array()?
            .iter()
            .find(|t| t["id"] == id)
            .cloned()
    })
    .await;
    assert_eq!(listed["status"], "vanished");
    assert_eq!(listed["owner_kind"], "merchant");
    assert!(
        listed["review_reason"]
            .as_str()
            .unwrap()
            .contains("left the chain")
    );
    // Never silently reversed.
    assert_eq!(available(&merchant.live).await, "40.00");
    let audit: Value = app
        .get("/api/v1/admin/audit-log?limit=100", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        audit.to_string().contains("chain.transfer_vanished") && audit.to_string().contains(id),
        "{audit}"
    );
    // The console lists it for review, with why.
    let html = page(&app, &admin, "/admin/chain", "en").await;
    assert!(html.contains("Credited, block gone"), "{html}");
    assert!(html.contains("left the chain"));
    let html = page(&app, &admin, "/admin/chain", "zh-CN").await;
    assert!(html.contains("已入账，区块已消失"));
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn a_watcher_stopped_mid_stream_and_started_again_credits_every_deposit_once() {
    let node = Anvil::start().await;
    let token = node.deploy_token().await;
    let start = node.block_number().await;
    let db = otcpay_tests::TestDb::new().await;
    let mut settings = otcpay_tests::app::test_settings(&db);
    follow_node(&mut settings, &node, &token, start);
    otcpay::telemetry::install_crypto_provider();
    let first = otcpay::startup::Application::build(settings)
        .await
        .expect("the first server starts");
    let (port, state) = (first.port(), first.state());
    let running = tokio::spawn(first.run_until_stopped());
    let mut app = TestApp::adopt(port, db, state);

    let acceptor = online_acceptor(&app, AcceptorSpec::default()).await;
    let address = acceptor_address(&app, &acceptor.token).await;
    let before = ledger_balance(&app, acceptor_account(&acceptor.id)).await;
    let mut txids = Vec::new();
    for amount in [11, 12, 13] {
        txids.push(node.mint(&token, &address, amount * USDT as u64).await);
    }
    deposit_where(&app, &acceptor.token, &txids[0], |d| {
        d["status"] == "confirmed"
    })
    .await;
    // Stopped while the other two are still confirming; more arrives meanwhile.
    running.abort();
    let _ = running.await;
    node.mine(1).await;
    txids.push(node.mint(&token, &address, 14 * USDT as u64).await);

    let (second_url, second) = app
        .spawn_node(|s| follow_node(s, &node, &token, start))
        .await;
    // The first server is gone: the client talks to the second from now on.
    app.address = second_url;
    app.state = second.clone();
    node.mine(CONFIRMATIONS as u64).await;
    for txid in &txids {
        deposit_where(&app, &acceptor.token, txid, |d| d["status"] == "confirmed").await;
    }
    node.mine(2).await;
    caught_up(&second.metrics, &node).await;
    let after = ledger_balance(&app, acceptor_account(&acceptor.id)).await;
    assert_eq!(after.posted - before.posted, (11 + 12 + 13 + 14) * USDT);
    assert_eq!(acceptor_deposits(&app, &acceptor.token).await.len(), 4);
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn two_nodes_following_one_database_never_credit_twice() {
    let (node, token, app) = setup().await;
    let start = node.block_number().await;
    let (_, _second) = app
        .spawn_node(|s| follow_node(s, &node, &token, start))
        .await;
    let acceptor = online_acceptor(&app, AcceptorSpec::default()).await;
    let address = acceptor_address(&app, &acceptor.token).await;
    let before = ledger_balance(&app, acceptor_account(&acceptor.id)).await;
    let mut txids = Vec::new();
    for amount in 1..=5 {
        txids.push(node.mint(&token, &address, amount * USDT as u64).await);
    }
    node.mine(CONFIRMATIONS as u64).await;
    for txid in &txids {
        deposit_where(&app, &acceptor.token, txid, |d| d["status"] == "confirmed").await;
    }
    node.mine(5).await;
    caught_up(&app.state.metrics, &node).await;
    let after = ledger_balance(&app, acceptor_account(&acceptor.id)).await;
    assert_eq!(after.posted - before.posted, 15 * USDT);
    assert_eq!(acceptor_deposits(&app, &acceptor.token).await.len(), 5);
    app.assert_ledger_ok().await;
}

/// `GET` a page with the session cookie, in `lang`.
async fn page(app: &TestApp, token: &str, path: &str, lang: &str) -> String {
    let response = app
        .client
        .get(app.url(path))
        .header(reqwest::header::COOKIE, format!("otcpay_session={token}"))
        .header(reqwest::header::ACCEPT_LANGUAGE, lang)
        .send()
        .await
        .expect("page request");
    assert_eq!(response.status(), 200, "{path}");
    response.text().await.expect("page body")
}

#[tokio::test]
async fn the_portals_show_the_top_up_address_and_the_confirmations() {
    let (node, token, app) = setup().await;
    let acceptor = online_acceptor(&app, AcceptorSpec::default()).await;
    let html = page(&app, &acceptor.token, "/acceptor/top-up", "en").await;
    let address = acceptor_address(&app, &acceptor.token).await;
    assert!(html.contains(&address), "the address is shown");
    assert!(html.contains("data:image/png;base64,"), "with its QR code");
    assert!(html.contains("No deposits yet"));

    let txid = node.mint(&token, &address, 5 * USDT as u64).await;
    deposit_where(&app, &acceptor.token, &txid, |d| d["confirmations"] == 1).await;
    let html = page(&app, &acceptor.token, "/acceptor/top-up", "en").await;
    assert!(
        html.contains("1 of 3 confirmations"),
        "pending with its count"
    );
    assert!(
        html.contains("data-refresh-every"),
        "refreshing while confirming"
    );
    let html = page(&app, &acceptor.token, "/acceptor/top-up", "zh-CN").await;
    assert!(html.contains("1 / 3 个确认"));

    node.mine(CONFIRMATIONS as u64).await;
    deposit_where(&app, &acceptor.token, &txid, |d| d["status"] == "confirmed").await;
    let html = page(&app, &acceptor.token, "/acceptor/top-up", "en").await;
    assert!(html.contains("Credited") && !html.contains("data-refresh-every"));

    let merchant = create_merchant(&app, json!({})).await;
    let login = otcpay_tests::merchant::merchant_login(&app, merchant.id()).await;
    let addresses: Value = merchant
        .live
        .get("/api/v1/deposit-addresses")
        .await
        .json()
        .await
        .unwrap();
    let merchant_address = addresses["data"][0]["address"].as_str().unwrap();
    let html = page(&app, &login.token, "/merchant/balance", "en").await;
    assert!(
        html.contains(merchant_address),
        "the merchant's address on its balance page"
    );
    assert_ne!(merchant_address, address, "each owner has its own address");
    app.assert_ledger_ok().await;
}

/// Creates an on-chain order with the merchant's live key.
async fn onchain_order(
    merchant: &otcpay_tests::merchant::CreatedMerchant,
    id: &str,
    amount: &str,
) -> Value {
    let response = merchant
        .live
        .post(
            "/api/v1/orders",
            &json!({"merchant_order_id": id, "amount": amount, "rail": "onchain",
                    "network": "ethereum", "expires_in": 600}),
        )
        .await;
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

/// The order once it satisfies `check`.
async fn order_where(
    merchant: &otcpay_tests::merchant::CreatedMerchant,
    id: &str,
    check: impl Fn(&Value) -> bool,
) -> Value {
    eventually(&format!("order {id}"), || async {
        let order: Value = merchant
            .live
            .get(&format!("/api/v1/orders/{id}"))
            .await
            .json()
            .await
            .ok()?;
        check(&order).then_some(order)
    })
    .await
}

#[tokio::test]
async fn a_direct_onchain_order_completes_from_a_transfer_to_its_address() {
    let (node, token, app) = setup().await;
    let receiver = WebhookReceiver::start().await;
    let merchant = create_merchant(
        &app,
        json!({"fee_rate": "0.01", "webhook_url": receiver.url}),
    )
    .await;
    let order = onchain_order(&merchant, "oc-1", "30.00").await;
    let id = order["id"].as_str().unwrap().to_owned();
    assert_eq!(order["status"], "assigned");
    assert_eq!(order["rail"], "onchain");
    assert_eq!(order["network"], "ethereum");
    assert_eq!(order["txid"], Value::Null);
    assert_eq!(order["paid_amount"], "0.00");
    assert_eq!(order["confirmations"], 0);
    let details = &order["payment_details"];
    assert_eq!(details["method"], "onchain");
    assert_eq!(details["amount"], "30.00");
    let address = details["address"].as_str().unwrap().to_owned();
    assert_eq!(
        details["token_contract"].as_str().unwrap().to_lowercase(),
        token.to_lowercase()
    );
    assert!(
        details["uri"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/transfer?address={address}&uint256=30000000")),
        "{details}"
    );
    // Its own address: not the merchant's top-up address.
    let top_up: Value = merchant
        .live
        .get("/api/v1/deposit-addresses")
        .await
        .json()
        .await
        .unwrap();
    assert_ne!(top_up["data"][0]["address"], address.as_str());
    // The same merchant_order_id again is the same order.
    let again = merchant
        .live
        .post(
            "/api/v1/orders",
            &json!({"merchant_order_id": "oc-1", "amount": "30.00", "rail": "onchain",
                    "network": "ethereum", "expires_in": 600}),
        )
        .await;
    assert_eq!(again.status(), 200);
    assert_eq!(again.json::<Value>().await.unwrap()["id"], id.as_str());

    let txid = node.mint(&token, &address, 30 * USDT as u64).await;
    let paid = order_where(&merchant, &id, |o| o["status"] == "paid").await;
    assert_eq!(paid["txid"], txid.as_str());
    assert_eq!(paid["paid_amount"], "30.00");
    receiver.wait_for("order.paid", &id).await;
    node.mine(CONFIRMATIONS as u64).await;
    let completed = order_where(&merchant, &id, |o| o["status"] == "completed").await;
    assert_eq!(completed["confirmations"], CONFIRMATIONS);
    let callback = receiver.wait_for("order.completed", &id).await;
    let data = &callback.json()["data"];
    assert_eq!(data["txid"], txid.as_str());
    assert_eq!(data["paid_amount"], "30.00");
    assert_eq!(data["confirmations"], CONFIRMATIONS);
    // Credited amount − fee (1 %), once.
    node.mine(3).await;
    caught_up(&app.state.metrics, &node).await;
    assert_eq!(available(&merchant.live).await, "29.70");
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn an_underpaid_onchain_order_stays_open_then_expires_with_the_partial_amount_for_review() {
    let (node, token, app) = setup().await;
    let merchant = create_merchant(&app, json!({"fee_rate": "0"})).await;
    let order = onchain_order(&merchant, "oc-under", "30.00").await;
    let id = order["id"].as_str().unwrap().to_owned();
    let address = order["payment_details"]["address"]
        .as_str()
        .unwrap()
        .to_owned();

    let txid = node.mint(&token, &address, 10 * USDT as u64).await;
    node.mine(CONFIRMATIONS as u64 + 2).await;
    caught_up(&app.state.metrics, &node).await;
    let open = order_where(&merchant, &id, |o| o["paid_amount"] == "10.00").await;
    assert_eq!(open["status"], "assigned", "underpaid: still waiting");
    assert_eq!(open["txid"], txid.as_str());
    assert_eq!(available(&merchant.live).await, "0.00");

    // The payment window ends: expired, with the partial amount listed for an admin.
    let order_id = otcpay::ids::OrderId::parse(&id).unwrap();
    let row = otcpay::orders::service::find(&app.state.db, &order_id)
        .await
        .unwrap()
        .unwrap();
    let past = otcpay::db::now_ms() - 1000;
    let mut active = sea_orm::IntoActiveModel::into_active_model(row);
    active.expires_at = sea_orm::ActiveValue::Set(past);
    active.next_deadline = sea_orm::ActiveValue::Set(Some(past));
    sea_orm::ActiveModelTrait::update(active, &app.state.db)
        .await
        .unwrap();
    otcpay::orders::scheduler::run_once(&app.state)
        .await
        .unwrap();
    let expired = order_where(&merchant, &id, |o| o["status"] == "expired").await;
    assert_eq!(expired["paid_amount"], "10.00");
    let admin = app.admin_token().await;
    let list: Value = app
        .get("/api/v1/admin/chain-transfers?status=review", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    let listed = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["txid"] == txid.as_str())
        .cloned()
        .unwrap_or_else(|| panic!("the partial payment is listed: {list}"));
    assert_eq!(listed["owner_kind"], "order");
    assert!(
        listed["review_reason"]
            .as_str()
            .unwrap()
            .contains("underpaid")
    );
    assert_eq!(available(&merchant.live).await, "0.00");

    // The customer appeals; an admin completes it for what was paid, from custody.
    let token = expired["cashier_url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let appeal = app
        .post(
            &format!("/pay/{token}/dispute"),
            None,
            &json!({"reason": "I sent 10 USDT", "contact": "li@example.com"}),
        )
        .await;
    assert_eq!(appeal.status(), 201);
    let dispute: Value = appeal.json().await.unwrap();
    let resolved = app
        .post(
            &format!(
                "/api/v1/admin/disputes/{}/resolve",
                dispute["id"].as_str().unwrap()
            ),
            Some(&admin),
            &json!({"outcome": "release", "amount": "10.00", "note": "paid 10 of 30 on chain"}),
        )
        .await;
    assert_eq!(resolved.status(), 200, "{:?}", resolved.text().await);
    let completed = order_where(&merchant, &id, |o| o["status"] == "completed").await;
    assert_eq!(completed["released_amount"], "10.00");
    assert_eq!(available(&merchant.live).await, "10.00");
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn onchain_orders_refuse_what_they_cannot_be() {
    let (_node, _token, app) = setup().await;
    let merchant = create_merchant(&app, json!({})).await;
    let post = |client: &otcpay_tests::merchant::MerchantClient, body: Value| {
        let client = client.clone();
        async move { client.post("/api/v1/orders", &body).await }
    };
    let base = json!({"merchant_order_id": "oc-x", "amount": "5.00", "rail": "onchain"});
    let with = |extra: Value| {
        let mut body = base.clone();
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        body
    };
    // A network whose deposits are not followed here.
    let r = post(&merchant.live, with(json!({"network": "tron"}))).await;
    otcpay_tests::app::assert_error(r, 400, "unsupported_network").await;
    let r = post(&merchant.live, with(json!({}))).await;
    otcpay_tests::app::assert_error(r, 400, "unsupported_network").await;
    // The sandbox has no chain.
    let r = post(&merchant.test, with(json!({"network": "ethereum"}))).await;
    otcpay_tests::app::assert_error(r, 400, "invalid_request").await;
    // Fields of the other rail.
    let r = post(
        &merchant.live,
        with(json!({"network": "ethereum", "fiat_currency": "CNY"})),
    )
    .await;
    otcpay_tests::app::assert_error(r, 400, "invalid_request").await;
    let r = post(
        &merchant.live,
        json!({"merchant_order_id": "otc-x", "amount": "5.00", "fiat_currency": "CNY", "network": "ethereum"}),
    )
    .await;
    otcpay_tests::app::assert_error(r, 400, "invalid_request").await;
    let r = post(&merchant.live, with(json!({"rail": "lightning"}))).await;
    otcpay_tests::app::assert_error(r, 400, "invalid_request").await;
    // The customer cannot say "I have paid" for an on-chain order.
    let order = onchain_order(&merchant, "oc-ok", "5.00").await;
    let cashier = order["cashier_url"].as_str().unwrap();
    let token = cashier.rsplit('/').next().unwrap();
    let r = app
        .post(&format!("/pay/{token}/paid"), None, &json!({}))
        .await;
    assert_eq!(r.status(), 409);
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn an_overpaid_onchain_order_completes_and_credits_the_excess_apart() {
    let (node, token, app) = setup().await;
    let merchant = create_merchant(&app, json!({"fee_rate": "0.01"})).await;
    let order = onchain_order(&merchant, "oc-over", "10.00").await;
    let id = order["id"].as_str().unwrap().to_owned();
    let address = order["payment_details"]["address"]
        .as_str()
        .unwrap()
        .to_owned();
    node.mint(&token, &address, 12 * USDT as u64).await;
    node.mine(CONFIRMATIONS as u64).await;
    let completed = order_where(&merchant, &id, |o| o["status"] == "completed").await;
    assert_eq!(completed["paid_amount"], "12.00");
    assert_eq!(completed["net_amount"], "9.90");
    // 10 − 1 % fee, and the 2 USDT beyond the amount, each as its own entry.
    assert_eq!(available(&merchant.live).await, "11.90");
    let entries: Value = merchant
        .live
        .get("/api/v1/ledger/entries")
        .await
        .json()
        .await
        .unwrap();
    let kinds: Vec<&str> = entries["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    assert!(
        kinds.contains(&"order_credit") && kinds.contains(&"order_excess"),
        "{entries}"
    );
    app.assert_ledger_ok().await;
}
