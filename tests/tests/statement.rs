//! The merchant statement, `GET /api/v1/ledger/entries`: signed amounts, the running
//! `balance_after` across pages, only posted effects (a hold under review is not a
//! line; a completed withdrawal is), and one statement per mode.

use otcpay::ledger::{AccountKey, TransferRequest};
use otcpay_tests::TestApp;
use otcpay_tests::app::assert_error;
use otcpay_tests::merchant::{CreatedMerchant, MerchantClient, create_merchant};
use otcpay_tests::scenario::{Acceptor, AcceptorSpec, ledger_balance, online_acceptor};
use serde_json::{Value, json};

const USDT: i64 = 1_000_000;
const TRON: &str = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t";

/// Parses a signed decimal string of the API into micro-USDT.
fn micros(text: &str) -> i64 {
    let (sign, digits) = match text.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, text),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    assert!(frac.len() <= 6, "{text}");
    let frac: i64 = format!("{frac:0<6}").parse().unwrap();
    sign * (int.parse::<i64>().unwrap() * USDT + frac)
}

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
    let token = order["cashier_url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(
        app.post(&format!("/pay/{token}/paid"), None, &json!({}))
            .await
            .status(),
        200
    );
    let id = order["id"].as_str().unwrap().to_owned();
    let confirmed = app
        .post(
            &format!("/api/v1/acceptor/orders/{id}/confirm"),
            Some(&acceptor.token),
            &json!({}),
        )
        .await;
    assert_eq!(confirmed.status(), 200);
    id
}

async fn withdraw(client: &MerchantClient, id: &str, amount: &str) -> String {
    let response = client
        .post(
            "/api/v1/withdrawals",
            &json!({"merchant_withdrawal_id": id, "network": "tron",
                                              "address": TRON, "amount": amount}),
        )
        .await;
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 201, "{body}");
    body["id"].as_str().unwrap().to_owned()
}

async fn admin(app: &TestApp, token: &str, id: &str, action: &str, body: Value) {
    let response = app
        .post(
            &format!("/api/v1/admin/withdrawals/{id}/{action}"),
            Some(token),
            &body,
        )
        .await;
    assert_eq!(response.status(), 200, "{action}");
}

/// Every entry of the statement, fetched `limit` at a time by following the cursor.
async fn all_entries(client: &MerchantClient, limit: usize) -> Vec<Value> {
    let mut entries: Vec<Value> = Vec::new();
    loop {
        let path = match entries.last() {
            None => format!("/api/v1/ledger/entries?limit={limit}"),
            Some(last) => format!(
                "/api/v1/ledger/entries?limit={limit}&starting_after={}",
                last["id"].as_str().unwrap()
            ),
        };
        let response = client.get(&path).await;
        assert_eq!(response.status(), 200);
        let page: Value = response.json().await.unwrap();
        let data = page["data"].as_array().unwrap();
        assert!(data.len() <= limit);
        entries.extend(data.iter().cloned());
        if !page["has_more"].as_bool().unwrap() {
            assert!(data.len() <= limit);
            return entries;
        }
        assert_eq!(data.len(), limit, "a page with more after it is full");
    }
}

/// The statement's own consistency: newest first, each `balance_after` is the next
/// (older) one plus the entry's amount, the oldest starts from zero, and the newest is
/// the account's posted balance.
fn assert_running_balance(entries: &[Value], posted: i64) {
    assert_eq!(
        micros(entries[0]["balance_after"].as_str().unwrap()),
        posted
    );
    for pair in entries.windows(2) {
        let (newer, older) = (&pair[0], &pair[1]);
        assert!(newer["created_at"].as_str() >= older["created_at"].as_str());
        assert_eq!(
            micros(newer["balance_after"].as_str().unwrap()),
            micros(older["balance_after"].as_str().unwrap())
                + micros(newer["amount"].as_str().unwrap()),
            "{newer} after {older}"
        );
    }
    let oldest = entries.last().unwrap();
    assert_eq!(oldest["balance_after"], oldest["amount"]);
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
async fn statement_entries_are_signed_with_a_running_balance_across_pages() {
    let app = TestApp::spawn().await;
    let merchant = create_merchant(&app, json!({"fee_rate": "0.01"})).await;
    let acceptor = online_acceptor(&app, AcceptorSpec::default()).await;
    let token = app.admin_token().await;

    let first_order = fund_live(&app, &merchant, &acceptor, "100.00").await; // +99
    let second_order = fund_live(&app, &merchant, &acceptor, "50.00").await; // +49.50
    let paid_out = withdraw(&merchant.live, "s-paid", "30").await; // −31 once completed
    admin(&app, &token, &paid_out, "approve", json!({})).await;
    admin(
        &app,
        &token,
        &paid_out,
        "complete",
        json!({"txid": "tx-s-1"}),
    )
    .await;
    let rejected = withdraw(&merchant.live, "s-rejected", "20").await; // held, then voided
    admin(&app, &token, &rejected, "reject", json!({"reason": "no"})).await;
    let third_order = fund_live(&app, &merchant, &acceptor, "200.00").await; // +198
    let _pending = withdraw(&merchant.live, "s-pending", "10").await; // held: no line yet

    let expected = [
        ("order_credit", "198.00", "315.50", third_order.as_str()),
        ("withdrawal", "-31.00", "117.50", paid_out.as_str()),
        ("order_credit", "49.50", "148.50", second_order.as_str()),
        ("order_credit", "99.00", "99.00", first_order.as_str()),
    ];
    let posted = ledger_balance(&app, AccountKey::merchant(merchant.id(), true)).await;
    assert_eq!(
        (posted.posted, posted.pending_debits),
        (315_500_000, 11 * USDT)
    );

    for limit in [1, 2, 3, 20] {
        let entries = all_entries(&merchant.live, limit).await;
        let seen: Vec<(&str, &str, &str, &str)> = entries
            .iter()
            .map(|e| {
                (
                    e["kind"].as_str().unwrap(),
                    e["amount"].as_str().unwrap(),
                    e["balance_after"].as_str().unwrap(),
                    e["reference"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(seen, expected, "limit {limit}");
        assert_running_balance(&entries, posted.posted);
        for e in &entries {
            assert!(e["id"].is_string() && e["created_at"].as_str().unwrap().ends_with('Z'));
        }
    }

    // A cursor that is not an entry of this statement gives an empty page.
    let foreign: Value = merchant
        .live
        .get("/api/v1/ledger/entries?starting_after=nope")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(foreign, json!({"data": [], "has_more": false}));
    let bad = assert_error(
        merchant.live.get("/api/v1/ledger/entries?limit=0").await,
        400,
        "invalid_request",
    )
    .await;
    assert_eq!(bad["error"]["param"], "limit");
    assert_withdrawals_consistent(&app).await;
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn a_page_keeps_its_balances_while_new_entries_arrive() {
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
    for amount in ["10.00", "20.00", "30.00"] {
        fund_live(&app, &merchant, &acceptor, amount).await;
    }
    let first: Value = merchant
        .live
        .get("/api/v1/ledger/entries?limit=1")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["data"][0]["balance_after"], "60.00");
    let cursor = first["data"][0]["id"].as_str().unwrap().to_owned();
    // A new credit lands between the pages; the older entries' balances do not move.
    fund_live(&app, &merchant, &acceptor, "40.00").await;
    let rest: Value = merchant
        .live
        .get(&format!("/api/v1/ledger/entries?starting_after={cursor}"))
        .await
        .json()
        .await
        .unwrap();
    let balances: Vec<&str> = rest["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["balance_after"].as_str().unwrap())
        .collect();
    assert_eq!(balances, ["30.00", "10.00"]);
    let now: Value = merchant
        .live
        .get("/api/v1/ledger/entries?limit=1")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(now["data"][0]["balance_after"], "100.00");
    assert_eq!(now["data"][0]["amount"], "40.00");
    assert_withdrawals_consistent(&app).await;
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn each_mode_has_its_own_statement() {
    let app = TestApp::spawn().await;
    let merchant = create_merchant(&app, json!({"fee_rate": "0"})).await;
    let custody = AccountKey::custody(false);
    let sandbox = AccountKey::merchant(merchant.id(), false);
    otcpay::ledger::open_accounts(&app.state.db, &[custody.clone(), sandbox.clone()])
        .await
        .unwrap();
    otcpay::ledger::transfer(
        &app.state.db,
        &[
            TransferRequest::posted("stmt-test-funding", custody, sandbox, 250 * USDT)
                .with_kind("test_funding"),
        ],
    )
    .await
    .unwrap();
    let id = withdraw(&merchant.test, "t-1", "100").await;
    let token = app.admin_token().await;
    admin(&app, &token, &id, "approve", json!({})).await;
    admin(&app, &token, &id, "complete", json!({"txid": "sandbox-1"})).await;

    let test: Value = merchant
        .test
        .get("/api/v1/ledger/entries")
        .await
        .json()
        .await
        .unwrap();
    let lines: Vec<(&str, &str, &str)> = test["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap(),
                e["amount"].as_str().unwrap(),
                e["balance_after"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            ("withdrawal", "-101.00", "149.00"),
            ("test_funding", "250.00", "250.00")
        ]
    );
    assert_eq!(test["data"][0]["reference"], id.as_str());
    let live: Value = merchant
        .live
        .get("/api/v1/ledger/entries")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(live, json!({"data": [], "has_more": false}));
    // A live key cannot page through the sandbox statement with its ids.
    let entry_id = test["data"][1]["id"].as_str().unwrap();
    let crossed: Value = merchant
        .live
        .get(&format!("/api/v1/ledger/entries?starting_after={entry_id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(crossed["data"], json!([]));
    assert_withdrawals_consistent(&app).await;
    app.assert_ledger_ok().await;
}
