//! The public endpoints as a client sees them: server time, currencies and networks,
//! the aggregated rates of active online acceptors, address validation.

use otcpay::acceptors::{acceptor, quote};
use otcpay::db::now_ms;
use otcpay::ledger::{self, AccountKey, TransferRequest};
use otcpay_tests::TestApp;
use otcpay_tests::app::assert_error;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};
use serde_json::{Value, json};

const TRON_USDT: &str = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t";
const ETH_USDT: &str = "0xdAC17F958D2ee523a2206206994597C13D831ec7";
const BSC_USDT: &str = "0x55d398326f99059fF775485246999027B3197955";

#[tokio::test]
async fn server_time_is_close_to_now() {
    let app = TestApp::spawn().await;
    let before = now_ms();
    let response = app.get("/api/v1/public/time", None).await;
    let after = now_ms();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    let server_time = body["server_time"]
        .as_i64()
        .unwrap_or_else(|| panic!("server_time is a JSON integer: {body}"));
    assert!(
        (before - 1_000..=after + 1_000).contains(&server_time),
        "{before} ≤ {server_time} ≤ {after}"
    );
    assert_eq!(body.as_object().unwrap().len(), 1, "{body}");
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn currencies_list_usdt_on_three_networks_and_the_fiats() {
    let app = TestApp::spawn().await;
    let response = app.get("/api/v1/public/currencies", None).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["assets"],
        json!([{
            "code": "USDT",
            "scale": 6,
            "networks": [
                {"id": "tron", "name": "TRON (TRC-20)", "chain_id": null,
                 "withdrawal_fee": "1.00", "min_withdrawal": "10.00", "onchain_deposits": false},
                {"id": "ethereum", "name": "Ethereum (ERC-20)", "chain_id": 1,
                 "withdrawal_fee": "5.00", "min_withdrawal": "20.00", "onchain_deposits": false},
                {"id": "bsc", "name": "BNB Smart Chain (BEP-20)", "chain_id": 56,
                 "withdrawal_fee": "0.50", "min_withdrawal": "10.00", "onchain_deposits": false},
            ],
        }])
    );
    let fiats = body["fiats"].as_array().unwrap();
    assert_eq!(fiats.len(), otcpay::money::FIATS.len());
    assert_eq!(fiats[0], json!({"code": "CNY", "scale": 2}));
    assert!(fiats.contains(&json!({"code": "JPY", "scale": 0})));
    assert!(fiats.contains(&json!({"code": "USD", "scale": 2})));
    app.assert_ledger_ok().await;
}

async fn validate(app: &TestApp, network: &str, address: &str) -> Value {
    let response = app
        .post(
            "/api/v1/public/addresses/validate",
            None,
            &json!({"network": network, "address": address}),
        )
        .await;
    assert_eq!(response.status(), 200, "{network} {address}");
    response.json().await.unwrap()
}

fn invalid(reason: &str) -> Value {
    json!({"valid": false, "reason": reason})
}

#[tokio::test]
async fn valid_addresses_come_back_normalized() {
    let app = TestApp::spawn().await;
    assert_eq!(
        validate(&app, "tron", TRON_USDT).await,
        json!({"valid": true, "network": "tron", "address": TRON_USDT})
    );
    assert_eq!(
        validate(&app, "ethereum", ETH_USDT).await,
        json!({"valid": true, "network": "ethereum", "address": ETH_USDT})
    );
    assert_eq!(
        validate(&app, "bsc", BSC_USDT).await,
        json!({"valid": true, "network": "bsc", "address": BSC_USDT})
    );
    // Single-case hex has no checksum to check; the answer is the EIP-55 spelling.
    assert_eq!(
        validate(&app, "ethereum", &ETH_USDT.to_ascii_lowercase()).await,
        json!({"valid": true, "network": "ethereum", "address": ETH_USDT})
    );
    let upper = format!("0x{}", BSC_USDT[2..].to_ascii_uppercase());
    assert_eq!(
        validate(&app, "bsc", &upper).await,
        json!({"valid": true, "network": "bsc", "address": BSC_USDT})
    );
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn invalid_addresses_report_each_reason() {
    let app = TestApp::spawn().await;
    // TRON
    let bad_checksum_tron = TRON_USDT.replace("6t", "6u");
    assert_eq!(
        validate(&app, "tron", &bad_checksum_tron).await,
        invalid("bad_checksum")
    );
    assert_eq!(
        validate(&app, "tron", &TRON_USDT[..33]).await,
        invalid("bad_length")
    );
    assert_eq!(
        validate(&app, "tron", "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2").await,
        invalid("bad_prefix"),
        "a Bitcoin address"
    );
    assert_eq!(
        validate(&app, "tron", ETH_USDT).await,
        invalid("bad_prefix"),
        "an EVM address"
    );
    assert_eq!(
        validate(&app, "tron", &TRON_USDT.replace('L', "l")).await,
        invalid("bad_characters")
    );
    // EVM
    let bad_checksum_evm = ETH_USDT.replace("dAC", "Dac");
    assert_eq!(
        validate(&app, "ethereum", &bad_checksum_evm).await,
        invalid("bad_checksum")
    );
    assert_eq!(
        validate(&app, "bsc", &BSC_USDT[..41]).await,
        invalid("bad_length")
    );
    assert_eq!(
        validate(&app, "bsc", &BSC_USDT[2..]).await,
        invalid("bad_prefix")
    );
    assert_eq!(
        validate(&app, "ethereum", TRON_USDT).await,
        invalid("bad_prefix")
    );
    assert_eq!(
        validate(&app, "ethereum", &ETH_USDT.replace('7', "g")).await,
        invalid("bad_characters")
    );
    assert_eq!(validate(&app, "bsc", "").await, invalid("bad_prefix"));
    assert_eq!(validate(&app, "tron", "").await, invalid("bad_length"));
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn validation_needs_a_supported_network_and_an_address() {
    let app = TestApp::spawn().await;
    let path = "/api/v1/public/addresses/validate";
    for body in [
        json!({"network": "bitcoin", "address": TRON_USDT}),
        json!({"network": "TRON", "address": TRON_USDT}),
        json!({"network": "", "address": TRON_USDT}),
        json!({"network": 1, "address": ETH_USDT}),
        json!({"address": TRON_USDT}),
    ] {
        let error = assert_error(
            app.post(path, None, &body).await,
            400,
            "unsupported_network",
        )
        .await;
        assert_eq!(error["error"]["param"], "network", "{body}");
    }
    for body in [
        json!({"network": "tron"}),
        json!({"network": "tron", "address": null}),
        json!({"network": "tron", "address": 42}),
    ] {
        let error = assert_error(app.post(path, None, &body).await, 400, "invalid_request").await;
        assert_eq!(error["error"]["param"], "address", "{body}");
    }
    app.assert_ledger_ok().await;
}

/// An acceptor row (with its user) as the admin API would create it, with quotes and a
/// posted live deposit of `deposit_micros`.
struct AcceptorSetup<'a> {
    name: &'a str,
    status: &'a str,
    online: bool,
    quotes: &'a [(&'a str, &'a str)],
    deposit_micros: i64,
}

async fn create_acceptor(app: &TestApp, setup: AcceptorSetup<'_>) -> String {
    let db = &app.state.db;
    let user = otcpay::auth::service::create_user(
        db,
        &app.state.settings,
        &format!("{}@otcpay.test", setup.name),
        "acceptor-password",
        otcpay::auth::Role::Acceptor,
        setup.name,
    )
    .await
    .unwrap();
    let id = otcpay::ids::AcceptorId::generate();
    let now = now_ms();
    acceptor::ActiveModel {
        id: Set(id.clone()),
        user_id: Set(user.id),
        display_name: Set(setup.name.to_owned()),
        status: Set(setup.status.parse().unwrap()),
        online: Set(setup.online),
        commission_rate: Set("0.004".to_owned()),
        max_concurrent_orders: Set(5),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    for (fiat, rate) in setup.quotes {
        quote::ActiveModel {
            id: Set(otcpay::ids::new("quo")),
            acceptor_id: Set(id.clone()),
            fiat: Set((*fiat).to_owned()),
            rate: Set((*rate).to_owned()),
            min_amount: Set(10_000_000),
            max_amount: Set(5_000_000_000),
            updated_at: Set(now),
        }
        .insert(db)
        .await
        .unwrap();
    }
    let account = AccountKey::acceptor(id.as_str(), true);
    ledger::open_accounts(db, &[account.clone(), AccountKey::custody(true)])
        .await
        .unwrap();
    if setup.deposit_micros > 0 {
        deposit(app, account, setup.deposit_micros).await;
    }
    id.to_string()
}

async fn deposit(app: &TestApp, account: AccountKey, micros: i64) {
    let custody = AccountKey::custody(account.livemode);
    ledger::open_accounts(&app.state.db, &[account.clone(), custody.clone()])
        .await
        .unwrap();
    ledger::transfer(
        &app.state.db,
        &[
            TransferRequest::posted(otcpay::ids::new("xfr"), custody, account, micros)
                .with_kind("deposit"),
        ],
    )
    .await
    .unwrap();
}

const USDT: i64 = 1_000_000;

async fn rates(app: &TestApp, fiat: &str) -> Value {
    let response = app
        .get(&format!("/api/v1/public/rates?fiat={fiat}"), None)
        .await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[tokio::test]
async fn rates_aggregate_the_available_liquidity_of_active_online_acceptors() {
    let app = TestApp::spawn().await;
    let setups = [
        // Two acceptors at the same rate: one level of 50 000.
        AcceptorSetup {
            name: "alice",
            status: "active",
            online: true,
            quotes: &[("CNY", "7.18"), ("USD", "1.001")],
            deposit_micros: 30_000 * USDT,
        },
        AcceptorSetup {
            name: "bob",
            status: "active",
            online: true,
            quotes: &[("CNY", "7.180")],
            deposit_micros: 20_000 * USDT,
        },
        // Part of its balance is reserved (pending): only the rest counts.
        AcceptorSetup {
            name: "carol",
            status: "active",
            online: true,
            quotes: &[("CNY", "7.25")],
            deposit_micros: 1_000 * USDT,
        },
        // The best rate, a small amount.
        AcceptorSetup {
            name: "dave",
            status: "active",
            online: true,
            quotes: &[("CNY", "7.1")],
            deposit_micros: 500_500_000,
        },
        // Left out: offline, frozen, pending approval, nothing available, sandbox-only.
        AcceptorSetup {
            name: "erin",
            status: "active",
            online: false,
            quotes: &[("CNY", "6.90")],
            deposit_micros: 9_999 * USDT,
        },
        AcceptorSetup {
            name: "frank",
            status: "frozen",
            online: true,
            quotes: &[("CNY", "6.80")],
            deposit_micros: 9_999 * USDT,
        },
        AcceptorSetup {
            name: "grace",
            status: "pending",
            online: true,
            quotes: &[("CNY", "6.70")],
            deposit_micros: 9_999 * USDT,
        },
        AcceptorSetup {
            name: "heidi",
            status: "active",
            online: true,
            quotes: &[("CNY", "6.50")],
            deposit_micros: 0,
        },
        AcceptorSetup {
            name: "ivan",
            status: "active",
            online: true,
            quotes: &[("CNY", "6.60")],
            deposit_micros: 0,
        },
    ];
    let mut ids = Vec::new();
    for setup in setups {
        ids.push(create_acceptor(&app, setup).await);
    }
    // carol: 400 of 1 000 reserved for an order.
    ledger::open_accounts(&app.state.db, &[AccountKey::escrow(true)])
        .await
        .unwrap();
    ledger::transfer(
        &app.state.db,
        &[TransferRequest::pending(
            otcpay::ids::new("xfr"),
            AccountKey::acceptor(ids[2].as_str(), true),
            AccountKey::escrow(true),
            400 * USDT,
        )],
    )
    .await
    .unwrap();
    // ivan only has sandbox money.
    deposit(
        &app,
        AccountKey::acceptor(ids[8].as_str(), false),
        7_777 * USDT,
    )
    .await;

    let response = app.get("/api/v1/public/rates?fiat=CNY", None).await;
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        body,
        json!({
            "fiat": "CNY",
            "best_rate": "7.10",
            "depth": [
                {"rate": "7.10", "liquidity": "500.50"},
                {"rate": "7.18", "liquidity": "50000.00"},
                {"rate": "7.25", "liquidity": "600.00"},
            ],
        })
    );
    assert!(!text.contains("acc_"), "no acceptor ids: {text}");
    for id in &ids {
        assert!(!text.contains(id.as_str()), "{id} leaked: {text}");
    }

    // Another fiat sees only its own quotes.
    assert_eq!(
        rates(&app, "USD").await,
        json!({"fiat": "USD", "best_rate": "1.001",
               "depth": [{"rate": "1.001", "liquidity": "30000.00"}]})
    );

    // Going offline takes the liquidity out.
    for id in &ids[..2] {
        let mut row: acceptor::ActiveModel =
            acceptor::Entity::find_by_id(otcpay::ids::AcceptorId::parse(id).unwrap())
                .one(&app.state.db)
                .await
                .unwrap()
                .unwrap()
                .into();
        row.online = Set(false);
        row.update(&app.state.db).await.unwrap();
    }
    assert_eq!(
        rates(&app, "CNY").await["depth"],
        json!([
            {"rate": "7.10", "liquidity": "500.50"},
            {"rate": "7.25", "liquidity": "600.00"},
        ])
    );
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn rates_without_liquidity_have_no_best_rate() {
    let app = TestApp::spawn().await;
    assert_eq!(
        rates(&app, "JPY").await,
        json!({"fiat": "JPY", "best_rate": null, "depth": []})
    );
    create_acceptor(
        &app,
        AcceptorSetup {
            name: "judy",
            status: "active",
            online: false,
            quotes: &[("JPY", "150")],
            deposit_micros: 100 * USDT,
        },
    )
    .await;
    assert_eq!(
        rates(&app, "JPY").await,
        json!({"fiat": "JPY", "best_rate": null, "depth": []})
    );
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn rates_need_a_supported_fiat() {
    let app = TestApp::spawn().await;
    for path in [
        "/api/v1/public/rates?fiat=XXX",
        "/api/v1/public/rates?fiat=cny",
        "/api/v1/public/rates?fiat=",
        "/api/v1/public/rates",
    ] {
        let error = assert_error(app.get(path, None).await, 400, "unsupported_currency").await;
        assert_eq!(error["error"]["param"], "fiat", "{path}");
    }
    app.assert_ledger_ok().await;
}
