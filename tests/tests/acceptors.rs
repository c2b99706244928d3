//! Acceptors as clients see them: admin management (create, list, approve, freeze,
//! unfreeze, patch), deposits and their idempotency, the acceptor's profile, presence,
//! quotes, payment methods, orders and live events.

use otcpay_tests::TestApp;
use otcpay_tests::app::assert_error;
use reqwest::Method;
use serde_json::{Value, json};

const PASSWORD: &str = "acceptor-password-1";

async fn create_acceptor(app: &TestApp, admin: &str, email: &str, extra: Value) -> Value {
    let mut body = json!({"email": email, "password": PASSWORD, "display_name": "Ann OTC"});
    if let (Some(body), Value::Object(extra)) = (body.as_object_mut(), extra) {
        body.extend(extra);
    }
    let response = app
        .post("/api/v1/admin/acceptors", Some(admin), &body)
        .await;
    assert_eq!(response.status(), 201, "create acceptor");
    response.json().await.unwrap()
}

async fn login_token(app: &TestApp, email: &str) -> String {
    let response = app.login(email, PASSWORD).await;
    assert_eq!(response.status(), 200, "acceptor login");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["user"]["role"], "acceptor");
    body["token"].as_str().unwrap().to_owned()
}

/// An active acceptor: (acceptor object, session token).
async fn acceptor(app: &TestApp, admin: &str, email: &str) -> (Value, String) {
    let created = create_acceptor(app, admin, email, json!({})).await;
    let token = login_token(app, email).await;
    (created, token)
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

async fn deposit(app: &TestApp, admin: &str, acceptor_id: &str, body: Value) -> reqwest::Response {
    app.post(
        &format!("/api/v1/admin/acceptors/{acceptor_id}/deposits"),
        Some(admin),
        &body,
    )
    .await
}

async fn put(app: &TestApp, path: &str, token: &str, body: &Value) -> reqwest::Response {
    app.request(Method::PUT, path, Some(token), Some(body))
        .await
}

async fn delete(app: &TestApp, path: &str, token: &str) -> reqwest::Response {
    app.request(Method::DELETE, path, Some(token), None).await
}

async fn patch(app: &TestApp, path: &str, token: &str, body: &Value) -> reqwest::Response {
    app.request(Method::PATCH, path, Some(token), Some(body))
        .await
}

async fn profile(app: &TestApp, token: &str) -> Value {
    let response = app.get("/api/v1/acceptor/profile", Some(token)).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn audit_actions(app: &TestApp, admin: &str) -> Vec<String> {
    let page: Value = app
        .get("/api/v1/admin/audit-log?limit=100", Some(admin))
        .await
        .json()
        .await
        .unwrap();
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn admin_creates_an_active_acceptor_who_logs_in_and_sees_its_profile() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let created = create_acceptor(
        &app,
        &admin,
        "Ann@Example.com",
        json!({"commission_rate": "0.004", "max_concurrent_orders": 5}),
    )
    .await;
    let acceptor_id = id(&created);
    assert!(acceptor_id.starts_with("acc_"), "{created}");
    assert_eq!(created["email"], "ann@example.com");
    assert_eq!(created["display_name"], "Ann OTC");
    assert_eq!(created["status"], "active");
    assert_eq!(created["online"], false);
    assert_eq!(created["commission_rate"], "0.004");
    assert_eq!(created["max_concurrent_orders"], 5);
    assert_eq!(
        created["balance"],
        json!({"available": "0.00", "reserved": "0.00"})
    );
    assert_eq!(
        created["stats"],
        json!({"completed": 0, "completion_rate": "0.00", "avg_release_seconds": null, "disputes": 0})
    );
    assert!(created["created_at"].as_str().unwrap().ends_with('Z'));

    // Registered with the matching engine.
    let engine = app.state.engine.balance(&acceptor_id).await.unwrap();
    assert_eq!(engine.map(|b| b.liquidity), Some(0));

    let token = login_token(&app, "ann@example.com").await;
    let me = profile(&app, &token).await;
    assert_eq!(me, created);

    // Defaults.
    let plain = create_acceptor(&app, &admin, "bob@example.com", json!({})).await;
    assert_eq!(plain["commission_rate"], "0.00");
    assert_eq!(plain["max_concurrent_orders"], 10);

    // The email is taken (case-insensitively).
    let taken = app
        .post(
            "/api/v1/admin/acceptors",
            Some(&admin),
            &json!({"email": "ANN@example.com", "password": PASSWORD, "display_name": "Again"}),
        )
        .await;
    let body = assert_error(taken, 409, "email_taken").await;
    assert_eq!(body["error"]["param"], "email");

    assert!(
        audit_actions(&app, &admin)
            .await
            .contains(&"acceptor.create".to_owned())
    );
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn acceptor_creation_is_validated() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let base = json!({"email": "v@example.com", "password": PASSWORD, "display_name": "V"});
    let cases = [
        ("commission_rate", json!("1"), "invalid_amount"),
        ("commission_rate", json!("0.0000000001"), "invalid_amount"),
        ("commission_rate", json!("-0.01"), "invalid_amount"),
        ("max_concurrent_orders", json!(0), "invalid_request"),
        ("max_concurrent_orders", json!(1001), "invalid_request"),
        ("password", json!("short"), "invalid_request"),
        ("email", json!("not-an-email"), "invalid_request"),
        ("display_name", json!("   "), "invalid_request"),
    ];
    for (field, value, code) in cases {
        let mut body = base.clone();
        body[field] = value;
        let response = app
            .post("/api/v1/admin/acceptors", Some(&admin), &body)
            .await;
        let error = assert_error(response, 400, code).await;
        assert_eq!(error["error"]["param"], field, "{error}");
    }
    // Nothing was created, not even a user: the email is still free.
    create_acceptor(&app, &admin, "v@example.com", json!({})).await;
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn admin_lists_and_gets_acceptors_newest_first() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let mut ids = Vec::new();
    for i in 0..3 {
        let created = create_acceptor(&app, &admin, &format!("a{i}@example.com"), json!({})).await;
        ids.push(id(&created));
    }
    let page: Value = app
        .get("/api/v1/admin/acceptors?limit=2", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["has_more"], true);
    assert_eq!(page["data"][0]["id"], ids[2].as_str());
    assert_eq!(page["data"][1]["id"], ids[1].as_str());
    assert_eq!(page["data"][0]["email"], "a2@example.com");
    assert_eq!(page["data"][0]["balance"]["available"], "0.00");
    let next: Value = app
        .get(
            &format!("/api/v1/admin/acceptors?limit=2&starting_after={}", ids[1]),
            Some(&admin),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(next["has_more"], false);
    assert_eq!(next["data"].as_array().unwrap().len(), 1);
    assert_eq!(next["data"][0]["id"], ids[0].as_str());

    let one: Value = app
        .get(&format!("/api/v1/admin/acceptors/{}", ids[0]), Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one["email"], "a0@example.com");

    let frozen = app
        .post(
            &format!("/api/v1/admin/acceptors/{}/freeze", ids[1]),
            Some(&admin),
            &json!({}),
        )
        .await;
    assert_eq!(frozen.status(), 200);
    let only_frozen: Value = app
        .get("/api/v1/admin/acceptors?status=frozen", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(only_frozen["data"].as_array().unwrap().len(), 1);
    assert_eq!(only_frozen["data"][0]["id"], ids[1].as_str());

    assert_error(
        app.get("/api/v1/admin/acceptors?status=sleeping", Some(&admin))
            .await,
        400,
        "invalid_request",
    )
    .await;
    assert_error(
        app.get("/api/v1/admin/acceptors?limit=0", Some(&admin))
            .await,
        400,
        "invalid_request",
    )
    .await;
    assert_error(
        app.get(
            "/api/v1/admin/acceptors/acc_00000000000000000000000000",
            Some(&admin),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        app.get("/api/v1/admin/acceptors/nope", Some(&admin)).await,
        404,
        "not_found",
    )
    .await;
    app.assert_ledger_ok().await;
}

/// A `pending` acceptor as self-registration leaves it (the registration flow is
/// another feature's; the row is written directly here).
async fn pending_acceptor(app: &TestApp, email: &str) -> String {
    use sea_orm::{ActiveModelTrait, ActiveValue::Set};
    let user = otcpay::auth::service::create_user(
        &app.state.db,
        &app.state.settings,
        email,
        PASSWORD,
        otcpay::auth::Role::Acceptor,
        "Pending",
    )
    .await
    .unwrap();
    let now = otcpay::db::now_ms();
    let row = otcpay::acceptors::acceptor::ActiveModel {
        id: Set(otcpay::ids::AcceptorId::generate()),
        user_id: Set(user.id),
        display_name: Set("Pending".to_owned()),
        status: Set(otcpay::acceptors::model::AcceptorStatus::Pending),
        online: Set(false),
        commission_rate: Set("0".to_owned()),
        max_concurrent_orders: Set(10),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&app.state.db)
    .await
    .unwrap();
    for command in otcpay::acceptors::engine_sync::register_commands(&row) {
        app.state.engine.apply(command).await.unwrap();
    }
    row.id.to_string()
}

async fn admin_action(
    app: &TestApp,
    admin: &str,
    acceptor_id: &str,
    action: &str,
) -> reqwest::Response {
    app.post(
        &format!("/api/v1/admin/acceptors/{acceptor_id}/{action}"),
        Some(admin),
        &json!({}),
    )
    .await
}

#[tokio::test]
async fn approve_freeze_and_unfreeze_follow_the_status_machine() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;

    let pending = pending_acceptor(&app, "p@example.com").await;
    let pending_token = login_token(&app, "p@example.com").await;
    assert_eq!(profile(&app, &pending_token).await["status"], "pending");
    // A pending acceptor cannot trade yet.
    let refused = put(
        &app,
        "/api/v1/acceptor/online",
        &pending_token,
        &json!({"online": true}),
    )
    .await;
    let body = assert_error(refused, 403, "forbidden").await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("approval")
    );
    assert_error(
        admin_action(&app, &admin, &pending, "freeze").await,
        409,
        "invalid_state",
    )
    .await;
    assert_error(
        admin_action(&app, &admin, &pending, "unfreeze").await,
        409,
        "invalid_state",
    )
    .await;

    let approved = admin_action(&app, &admin, &pending, "approve").await;
    assert_eq!(approved.status(), 200);
    assert_eq!(approved.json::<Value>().await.unwrap()["status"], "active");
    assert_error(
        admin_action(&app, &admin, &pending, "approve").await,
        409,
        "invalid_state",
    )
    .await;
    let online = put(
        &app,
        "/api/v1/acceptor/online",
        &pending_token,
        &json!({"online": true}),
    )
    .await;
    assert_eq!(online.status(), 200);

    let frozen = admin_action(&app, &admin, &pending, "freeze").await;
    assert_eq!(frozen.status(), 200);
    assert_eq!(frozen.json::<Value>().await.unwrap()["status"], "frozen");
    assert_error(
        admin_action(&app, &admin, &pending, "freeze").await,
        409,
        "invalid_state",
    )
    .await;
    // Frozen: no trading; stepping back (going offline) is still allowed.
    let quote = put(
        &app,
        "/api/v1/acceptor/quotes/CNY",
        &pending_token,
        &json!({"rate": "7.18", "min_amount": "10", "max_amount": "100"}),
    )
    .await;
    let body = assert_error(quote, 403, "forbidden").await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("frozen")
    );
    let offline = put(
        &app,
        "/api/v1/acceptor/online",
        &pending_token,
        &json!({"online": false}),
    )
    .await;
    assert_eq!(offline.status(), 200);
    assert_eq!(offline.json::<Value>().await.unwrap()["online"], false);

    let unfrozen = admin_action(&app, &admin, &pending, "unfreeze").await;
    assert_eq!(unfrozen.status(), 200);
    assert_eq!(unfrozen.json::<Value>().await.unwrap()["status"], "active");
    assert_error(
        admin_action(&app, &admin, &pending, "unfreeze").await,
        409,
        "invalid_state",
    )
    .await;

    assert_error(
        admin_action(&app, &admin, "acc_00000000000000000000000000", "freeze").await,
        404,
        "not_found",
    )
    .await;

    let actions = audit_actions(&app, &admin).await;
    for expected in ["acceptor.approve", "acceptor.freeze", "acceptor.unfreeze"] {
        assert!(
            actions.contains(&expected.to_owned()),
            "{expected} in {actions:?}"
        );
    }
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn patch_updates_the_acceptor_and_is_audited() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let created = create_acceptor(&app, &admin, "patch@example.com", json!({})).await;
    let path = format!("/api/v1/admin/acceptors/{}", id(&created));

    let response = patch(
        &app,
        &path,
        &admin,
        &json!({"display_name": "New Name", "commission_rate": "0.005", "max_concurrent_orders": 3}),
    )
    .await;
    assert_eq!(response.status(), 200);
    let updated: Value = response.json().await.unwrap();
    assert_eq!(updated["display_name"], "New Name");
    assert_eq!(updated["commission_rate"], "0.005");
    assert_eq!(updated["max_concurrent_orders"], 3);
    assert_eq!(updated["status"], "active");

    // Only what is sent changes.
    let response = patch(&app, &path, &admin, &json!({"max_concurrent_orders": 1000})).await;
    let updated: Value = response.json().await.unwrap();
    assert_eq!(updated["max_concurrent_orders"], 1000);
    assert_eq!(updated["display_name"], "New Name");

    let error = assert_error(
        patch(&app, &path, &admin, &json!({"max_concurrent_orders": 0})).await,
        400,
        "invalid_request",
    )
    .await;
    assert_eq!(error["error"]["param"], "max_concurrent_orders");
    let error = assert_error(
        patch(&app, &path, &admin, &json!({"commission_rate": "2"})).await,
        400,
        "invalid_amount",
    )
    .await;
    assert_eq!(error["error"]["param"], "commission_rate");
    // Status is not patchable (approve/freeze/unfreeze are).
    assert_error(
        patch(&app, &path, &admin, &json!({"status": "frozen"})).await,
        400,
        "invalid_request",
    )
    .await;
    assert_error(
        patch(
            &app,
            "/api/v1/admin/acceptors/acc_00000000000000000000000000",
            &admin,
            &json!({"display_name": "X"}),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    let page: Value = app
        .get("/api/v1/admin/audit-log?limit=100", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    let updates: Vec<&Value> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "acceptor.update")
        .collect();
    assert_eq!(updates.len(), 2, "{page}");
    assert_eq!(updates[1]["details"]["commission_rate"], "0.005");
    assert_eq!(updates[0]["target_id"], id(&created).as_str());
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn deposits_credit_the_ledger_exactly_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (ann, token) = acceptor(&app, &admin, "dep@example.com").await;
    let ann_id = id(&ann);
    let other = create_acceptor(&app, &admin, "other@example.com", json!({})).await;
    let txid = "AB".repeat(32);

    let body =
        json!({"amount": "1000.5", "network": "tron", "txid": txid, "note": "first funding"});
    let response = deposit(&app, &admin, &ann_id, body.clone()).await;
    assert_eq!(response.status(), 201);
    assert!(!response.headers().contains_key("idempotent-replayed"));
    let created: Value = response.json().await.unwrap();
    assert!(
        created["id"].as_str().unwrap().starts_with("dep_"),
        "{created}"
    );
    assert_eq!(created["acceptor_id"], ann_id.as_str());
    assert_eq!(created["amount"], "1000.50");
    assert_eq!(created["network"], "tron");
    assert_eq!(created["txid"], "ab".repeat(32));
    assert_eq!(created["note"], "first funding");
    assert!(created["created_at"].as_str().unwrap().ends_with('Z'));

    // The same transaction again (any case, with 0x): a replay, nothing moves.
    for replay_txid in [txid.clone(), format!("0x{}", txid.to_lowercase())] {
        let replay = deposit(
            &app,
            &admin,
            &ann_id,
            json!({"amount": "1000.50", "network": "tron", "txid": replay_txid}),
        )
        .await;
        assert_eq!(replay.status(), 200);
        assert_eq!(replay.headers()["idempotent-replayed"], "true");
        let replayed: Value = replay.json().await.unwrap();
        assert_eq!(replayed, created);
    }
    // …with another amount or acceptor: a conflict.
    let error = assert_error(
        deposit(
            &app,
            &admin,
            &ann_id,
            json!({"amount": "1000.51", "network": "tron", "txid": txid}),
        )
        .await,
        409,
        "conflict",
    )
    .await;
    assert!(error["error"]["message"].as_str().unwrap().contains("dep_"));
    assert_error(
        deposit(
            &app,
            &admin,
            &id(&other),
            json!({"amount": "1000.5", "network": "tron", "txid": txid}),
        )
        .await,
        409,
        "conflict",
    )
    .await;
    // The same hash on another network is another transaction.
    let bsc = deposit(
        &app,
        &admin,
        &ann_id,
        json!({"amount": "0.25", "network": "bsc", "txid": txid}),
    )
    .await;
    assert_eq!(bsc.status(), 201);
    assert_eq!(
        bsc.json::<Value>().await.unwrap()["txid"],
        format!("0x{}", "ab".repeat(32))
    );

    let me = profile(&app, &token).await;
    assert_eq!(
        me["balance"],
        json!({"available": "1000.75", "reserved": "0.00"})
    );

    // The ledger: exactly two transfers custody → acceptor, named by the transaction.
    let account = format!("acceptor:{ann_id}:live");
    let transfers = otcpay::ledger::transfers_of_account(&app.state.db, &account, None, 100)
        .await
        .unwrap();
    assert_eq!(transfers.len(), 2, "{transfers:?}");
    let tron = transfers
        .iter()
        .find(|t| t.id == format!("dep:tron:{}", "ab".repeat(32)))
        .expect("the tron deposit transfer");
    assert_eq!(tron.amount, 1_000_500_000);
    assert_eq!(tron.kind, "deposit");
    assert_eq!(tron.debit_account_id, "custody:platform:live");
    assert_eq!(tron.credit_account_id, account);
    assert_eq!(tron.reference, created["id"].as_str().unwrap());
    assert!(tron.is_posted());
    let custody =
        otcpay::ledger::balance(&app.state.db, &otcpay::ledger::AccountKey::custody(true))
            .await
            .unwrap();
    assert_eq!(custody.posted, -1_000_750_000);

    // The engine's liquidity follows.
    let engine = app.state.engine.balance(&ann_id).await.unwrap().unwrap();
    assert_eq!(engine.liquidity, 1_000_750_000);

    let deposits = audit_actions(&app, &admin)
        .await
        .into_iter()
        .filter(|a| a == "acceptor.deposit")
        .count();
    assert_eq!(deposits, 2);
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn concurrent_identical_deposits_credit_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let created = create_acceptor(&app, &admin, "race@example.com", json!({})).await;
    let acceptor_id = id(&created);
    let body =
        json!({"amount": "250", "network": "ethereum", "txid": format!("0x{}", "cd".repeat(32))});
    let attempts = (0..6).map(|_| deposit(&app, &admin, &acceptor_id, body.clone()));
    let responses = futures_util::future::join_all(attempts).await;
    let mut statuses: Vec<u16> = responses.iter().map(|r| r.status().as_u16()).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 200, 200, 200, 200, 201]);
    for response in &responses {
        if response.status() == 200 {
            assert_eq!(response.headers()["idempotent-replayed"], "true");
        }
    }
    let account = format!("acceptor:{acceptor_id}:live");
    let transfers = otcpay::ledger::transfers_of_account(&app.state.db, &account, None, 100)
        .await
        .unwrap();
    assert_eq!(transfers.len(), 1);
    let engine = app.engine_balance(&acceptor_id).await;
    assert_eq!(engine.liquidity, 250_000_000);
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn deposits_are_validated() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let created = create_acceptor(&app, &admin, "val@example.com", json!({})).await;
    let acceptor_id = id(&created);
    let cases = [
        (
            json!({"amount": "10", "network": "bitcoin", "txid": "t1"}),
            400,
            "unsupported_network",
            "network",
        ),
        (
            json!({"amount": "0", "network": "tron", "txid": "t1"}),
            400,
            "invalid_amount",
            "amount",
        ),
        (
            json!({"amount": "1.0000001", "network": "tron", "txid": "t1"}),
            400,
            "invalid_amount",
            "amount",
        ),
        (
            json!({"amount": "-5", "network": "tron", "txid": "t1"}),
            400,
            "invalid_amount",
            "amount",
        ),
        (
            json!({"amount": "1e3", "network": "tron", "txid": "t1"}),
            400,
            "invalid_amount",
            "amount",
        ),
        (
            json!({"amount": "10", "network": "tron", "txid": ""}),
            400,
            "invalid_request",
            "txid",
        ),
        (
            json!({"amount": "10", "network": "tron", "txid": "x".repeat(129)}),
            400,
            "invalid_request",
            "txid",
        ),
    ];
    for (body, status, code, param) in cases {
        let error = assert_error(
            deposit(&app, &admin, &acceptor_id, body).await,
            status,
            code,
        )
        .await;
        assert_eq!(error["error"]["param"], param);
    }
    assert_error(
        deposit(
            &app,
            &admin,
            "acc_00000000000000000000000000",
            json!({"amount": "10", "network": "tron", "txid": "t1"}),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    // A 128-character txid is fine.
    let ok = deposit(
        &app,
        &admin,
        &acceptor_id,
        json!({"amount": "10", "network": "ethereum", "txid": "x".repeat(128)}),
    )
    .await;
    assert_eq!(ok.status(), 201);
    let view: Value = app
        .get(
            &format!("/api/v1/admin/acceptors/{acceptor_id}"),
            Some(&admin),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(view["balance"]["available"], "10.00");
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn roles_are_enforced_on_both_apis() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (ann, token) = acceptor(&app, &admin, "role@example.com").await;
    // An acceptor on admin routes.
    assert_error(
        app.get("/api/v1/admin/acceptors", Some(&token)).await,
        403,
        "forbidden",
    )
    .await;
    assert_error(
        app.post(
            &format!("/api/v1/admin/acceptors/{}/deposits", id(&ann)),
            Some(&token),
            &json!({"amount": "10", "network": "tron", "txid": "self-credit"}),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    // An admin on acceptor routes.
    assert_error(
        app.get("/api/v1/acceptor/profile", Some(&admin)).await,
        403,
        "forbidden",
    )
    .await;
    // Nobody.
    assert_error(
        app.get("/api/v1/acceptor/profile", None).await,
        401,
        "missing_credentials",
    )
    .await;
    assert_error(
        app.get("/api/v1/admin/acceptors", None).await,
        401,
        "missing_credentials",
    )
    .await;
    // A user with the acceptor role but no acceptor profile.
    otcpay::auth::service::create_user(
        &app.state.db,
        &app.state.settings,
        "orphan@example.com",
        PASSWORD,
        otcpay::auth::Role::Acceptor,
        "Orphan",
    )
    .await
    .unwrap();
    let orphan = login_token(&app, "orphan@example.com").await;
    assert_error(
        app.get("/api/v1/acceptor/profile", Some(&orphan)).await,
        403,
        "forbidden",
    )
    .await;
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn quotes_are_validated_upserted_and_removed() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (_, token) = acceptor(&app, &admin, "quote@example.com").await;

    let empty: Value = app
        .get("/api/v1/acceptor/quotes", Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(empty["data"], json!([]));

    let response = put(
        &app,
        "/api/v1/acceptor/quotes/CNY",
        &token,
        &json!({"rate": "7.18", "min_amount": "10.00", "max_amount": "5000.00"}),
    )
    .await;
    assert_eq!(response.status(), 200);
    let quote: Value = response.json().await.unwrap();
    assert_eq!(quote["fiat"], "CNY");
    assert_eq!(quote["rate"], "7.18");
    assert_eq!(quote["min_amount"], "10.00");
    assert_eq!(quote["max_amount"], "5000.00");
    assert!(quote["updated_at"].as_str().unwrap().ends_with('Z'));

    // Upsert: one quote per fiat.
    let replaced: Value = put(
        &app,
        "/api/v1/acceptor/quotes/CNY",
        &token,
        &json!({"rate": "7.2", "min_amount": "1", "max_amount": "100.5"}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(replaced["rate"], "7.20");
    assert_eq!(replaced["max_amount"], "100.50");
    let jpy = put(
        &app,
        "/api/v1/acceptor/quotes/jpy",
        &token,
        &json!({"rate": "150", "min_amount": "5", "max_amount": "5"}),
    )
    .await;
    assert_eq!(jpy.status(), 200);
    let list: Value = app
        .get("/api/v1/acceptor/quotes", Some(&token))
        .await
        .json()
        .await
        .unwrap();
    let fiats: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["fiat"].as_str().unwrap())
        .collect();
    assert_eq!(fiats, ["CNY", "JPY"]);
    assert_eq!(list["data"][0]["rate"], "7.20");

    let cases = [
        (
            "/api/v1/acceptor/quotes/XXX",
            json!({"rate": "7", "min_amount": "1", "max_amount": "2"}),
            "unsupported_currency",
            "fiat",
        ),
        (
            "/api/v1/acceptor/quotes/CNY",
            json!({"rate": "abc", "min_amount": "1", "max_amount": "2"}),
            "invalid_amount",
            "rate",
        ),
        (
            "/api/v1/acceptor/quotes/CNY",
            json!({"rate": "0", "min_amount": "1", "max_amount": "2"}),
            "invalid_amount",
            "rate",
        ),
        (
            "/api/v1/acceptor/quotes/CNY",
            json!({"rate": "7.123456789", "min_amount": "1", "max_amount": "2"}),
            "invalid_amount",
            "rate",
        ),
        (
            "/api/v1/acceptor/quotes/CNY",
            json!({"rate": "7", "min_amount": "3", "max_amount": "2"}),
            "invalid_amount",
            "min_amount",
        ),
        (
            "/api/v1/acceptor/quotes/CNY",
            json!({"rate": "7", "min_amount": "0", "max_amount": "2"}),
            "invalid_amount",
            "min_amount",
        ),
        (
            "/api/v1/acceptor/quotes/CNY",
            json!({"rate": "7", "min_amount": "1", "max_amount": "2.0000001"}),
            "invalid_amount",
            "max_amount",
        ),
    ];
    for (path, body, code, param) in cases {
        let error = assert_error(put(&app, path, &token, &body).await, 400, code).await;
        assert_eq!(error["error"]["param"], param, "{error}");
    }

    let removed = delete(&app, "/api/v1/acceptor/quotes/CNY", &token).await;
    assert_eq!(removed.status(), 204);
    assert_error(
        delete(&app, "/api/v1/acceptor/quotes/CNY", &token).await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        delete(&app, "/api/v1/acceptor/quotes/XXX", &token).await,
        400,
        "unsupported_currency",
    )
    .await;
    let list: Value = app
        .get("/api/v1/acceptor/quotes", Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn payment_methods_are_validated_and_private_to_their_acceptor() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (_, ann) = acceptor(&app, &admin, "pm-ann@example.com").await;
    let (_, bob) = acceptor(&app, &admin, "pm-bob@example.com").await;

    let details =
        json!({"bank_name": "ICBC", "account_name": "Ann", "account_number": "6222 0000 1111"});
    let response = app
        .post(
            "/api/v1/acceptor/payment-methods",
            Some(&ann),
            &json!({"fiat": "CNY", "method": "bank_transfer", "details": details}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let method: Value = response.json().await.unwrap();
    let method_id = id(&method);
    assert!(method_id.starts_with("pm_"), "{method}");
    assert_eq!(method["fiat"], "CNY");
    assert_eq!(method["method"], "bank_transfer");
    assert_eq!(method["details"], details);
    assert!(method["created_at"].as_str().unwrap().ends_with('Z'));

    let alipay = app
        .post(
            "/api/v1/acceptor/payment-methods",
            Some(&ann),
            &json!({"fiat": "CNY", "method": "alipay", "details": {"account": "ann@alipay"}}),
        )
        .await;
    assert_eq!(alipay.status(), 201);
    let list: Value = app
        .get("/api/v1/acceptor/payment-methods", Some(&ann))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["data"].as_array().unwrap().len(), 2);
    assert_eq!(list["data"][0]["method"], "alipay", "newest first");
    let bobs: Value = app
        .get("/api/v1/acceptor/payment-methods", Some(&bob))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(bobs["data"], json!([]));

    let cases = [
        (
            json!({"fiat": "XXX", "method": "alipay", "details": {"a": "b"}}),
            "unsupported_currency",
            "fiat",
        ),
        (
            json!({"fiat": "CNY", "method": "Bank Transfer", "details": {"a": "b"}}),
            "invalid_request",
            "method",
        ),
        (
            json!({"fiat": "CNY", "method": "m".repeat(33), "details": {"a": "b"}}),
            "invalid_request",
            "method",
        ),
        (
            json!({"fiat": "CNY", "method": "alipay", "details": "ann"}),
            "invalid_request",
            "details",
        ),
        (
            json!({"fiat": "CNY", "method": "alipay"}),
            "invalid_request",
            "details",
        ),
        (
            json!({"fiat": "CNY", "method": "alipay", "details": {"n": 1}}),
            "invalid_request",
            "details",
        ),
        (
            json!({"fiat": "CNY", "method": "alipay", "details": {"a": "x".repeat(2100)}}),
            "invalid_request",
            "details",
        ),
    ];
    for (body, code, param) in cases {
        let error = assert_error(
            app.post("/api/v1/acceptor/payment-methods", Some(&ann), &body)
                .await,
            400,
            code,
        )
        .await;
        assert_eq!(error["error"]["param"], param, "{error}");
    }

    // Another acceptor's method does not exist for Bob.
    let path = format!("/api/v1/acceptor/payment-methods/{method_id}");
    assert_error(delete(&app, &path, &bob).await, 404, "not_found").await;
    assert_eq!(delete(&app, &path, &ann).await.status(), 204);
    assert_error(delete(&app, &path, &ann).await, 404, "not_found").await;
    let list: Value = app
        .get("/api/v1/acceptor/payment-methods", Some(&ann))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn the_acceptor_goes_online_and_offline() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (ann, token) = acceptor(&app, &admin, "online@example.com").await;
    let on = put(
        &app,
        "/api/v1/acceptor/online",
        &token,
        &json!({"online": true}),
    )
    .await;
    assert_eq!(on.status(), 200);
    let on: Value = on.json().await.unwrap();
    assert_eq!(on["online"], true);
    assert_eq!(on["id"], ann["id"]);
    assert_eq!(profile(&app, &token).await["online"], true);
    let admin_view: Value = app
        .get(
            &format!("/api/v1/admin/acceptors/{}", id(&ann)),
            Some(&admin),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(admin_view["online"], true);

    let off: Value = put(
        &app,
        "/api/v1/acceptor/online",
        &token,
        &json!({"online": false}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(off["online"], false);
    assert_error(
        put(
            &app,
            "/api/v1/acceptor/online",
            &token,
            &json!({"online": "yes"}),
        )
        .await,
        400,
        "invalid_request",
    )
    .await;
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn the_event_stream_is_server_sent_events() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (_, token) = acceptor(&app, &admin, "sse@example.com").await;
    let mut response = app
        .client
        .get(app.url("/api/v1/acceptor/events"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let first = tokio::time::timeout(std::time::Duration::from_secs(5), response.chunk())
        .await
        .expect("the stream opens at once")
        .unwrap()
        .expect("a first chunk");
    assert!(first.starts_with(b":"), "{first:?}");
    drop(response);
    assert_error(
        app.get("/api/v1/acceptor/events", Some(&admin)).await,
        403,
        "forbidden",
    )
    .await;
    app.assert_ledger_ok().await;
}

// ---------------------------------------------------------------------------------------
// Orders and stats. The merchant order API belongs to another feature; these tests write
// order rows directly (SQL that runs on SQLite and PostgreSQL) to exercise the
// acceptor's views of them.

struct Seed<'a> {
    acceptor_id: &'a str,
    status: &'a str,
    /// (paid_at, completed_at) offsets in ms from created_at.
    paid_ms: Option<i64>,
    completed_ms: Option<i64>,
}

async fn seed_merchant(app: &TestApp) -> String {
    use sea_orm::ConnectionTrait;
    let merchant_id = otcpay::ids::new("mch");
    app.state
        .db
        .execute_unprepared(&format!(
            "INSERT INTO merchants (id, user_id, name, email, status, fee_rate, default_fiat, \
             webhook_url, webhook_secret_enc, rate_limit_per_minute, \
             auto_approve_withdrawals_below, created_at, updated_at) VALUES \
             ('{merchant_id}', NULL, 'Shop', 'shop@example.com', 'active', '0.01', NULL, NULL, \
             'x', 100, NULL, 0, 0)"
        ))
        .await
        .unwrap();
    merchant_id
}

async fn seed_order(app: &TestApp, merchant_id: &str, seed: Seed<'_>) -> String {
    use sea_orm::ConnectionTrait;
    let order_id = otcpay::ids::new("ord");
    let now = otcpay::db::now_ms();
    let sql_opt = |v: Option<i64>| v.map_or("NULL".to_owned(), |ms| (now + ms).to_string());
    app.state
        .db
        .execute_unprepared(&format!(
            "INSERT INTO orders (id, merchant_id, livemode, merchant_order_id, status, amount, \
             fee, fiat_currency, fiat_amount, rate, payment_method, payment_details, reference, \
             acceptor_id, callback_url, return_url, expires_in, metadata, cashier_token, \
             params_hash, excluded_acceptors, assignment_seq, released_amount, payer_name, \
             expires_at, match_deadline, release_deadline, appeal_deadline, next_deadline, \
             assigned_at, paid_at, completed_at, created_at, updated_at) VALUES \
             ('{order_id}', '{merchant_id}', TRUE, '{order_id}', '{status}', 100000000, 1000000, \
             'CNY', 71800, '7.18', 'bank_transfer', NULL, 'R7K2Q9', '{acceptor}', NULL, NULL, \
             900, NULL, '{token}', 'h', '[]', 0, NULL, NULL, {expires}, NULL, NULL, NULL, NULL, \
             {now}, {paid}, {completed}, {now}, {now})",
            status = seed.status,
            acceptor = seed.acceptor_id,
            token = otcpay::ids::random_hex(16),
            expires = now + 900_000,
            paid = sql_opt(seed.paid_ms),
            completed = sql_opt(seed.completed_ms),
        ))
        .await
        .unwrap();
    if seed.status == "completed" {
        // A completed order has its merchant credit (the ledger check demands exactly
        // one, of amount − fee); the fixture funds it from custody.
        use otcpay::ledger::{AccountKey, TransferRequest};
        let merchant = AccountKey::merchant(merchant_id, true);
        otcpay::ledger::open_accounts(
            &app.state.db,
            &[merchant.clone(), AccountKey::custody(true)],
        )
        .await
        .unwrap();
        otcpay::ledger::transfer(
            &app.state.db,
            &[TransferRequest::posted(
                format!("{order_id}:credit"),
                AccountKey::custody(true),
                merchant,
                99_000_000,
            )
            .with_kind("order_credit")
            .with_reference(order_id.clone())],
        )
        .await
        .unwrap();
    }
    order_id
}

async fn seed_dispute(app: &TestApp, merchant_id: &str, order_id: &str, acceptor_id: &str) {
    use sea_orm::ConnectionTrait;
    app.state
        .db
        .execute_unprepared(&format!(
            "INSERT INTO disputes (id, order_id, merchant_id, acceptor_id, livemode, status, \
             opened_by, reason, contact, outcome, released_amount, resolution_note, resolved_by, \
             created_at, resolved_at) VALUES ('{}', '{order_id}', '{merchant_id}', \
             '{acceptor_id}', TRUE, 'open', 'customer', 'not credited', NULL, NULL, NULL, NULL, \
             NULL, 0, NULL)",
            otcpay::ids::new("dsp")
        ))
        .await
        .unwrap();
}

#[tokio::test]
async fn profile_stats_count_the_acceptors_orders() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (ann, token) = acceptor(&app, &admin, "stats@example.com").await;
    let (bob, _) = acceptor(&app, &admin, "stats-bob@example.com").await;
    let (ann_id, bob_id) = (id(&ann), id(&bob));
    let merchant = seed_merchant(&app).await;
    // Ann: 3 completed (released after 30 s, 60 s, and one without paid_at), 1 expired,
    // 1 cancelled, 1 still assigned, 1 disputed (with its dispute). Bob: 1 completed.
    let seeds = [
        ("completed", Some(10_000), Some(40_000)),
        ("completed", Some(10_000), Some(70_000)),
        ("completed", None, Some(5_000)),
        ("expired", None, None),
        ("cancelled", None, None),
        ("assigned", None, None),
    ];
    for (status, paid_ms, completed_ms) in seeds {
        seed_order(
            &app,
            &merchant,
            Seed {
                acceptor_id: &ann_id,
                status,
                paid_ms,
                completed_ms,
            },
        )
        .await;
    }
    let disputed = seed_order(
        &app,
        &merchant,
        Seed {
            acceptor_id: &ann_id,
            status: "disputed",
            paid_ms: Some(1_000),
            completed_ms: None,
        },
    )
    .await;
    seed_dispute(&app, &merchant, &disputed, &ann_id).await;
    seed_order(
        &app,
        &merchant,
        Seed {
            acceptor_id: &bob_id,
            status: "completed",
            paid_ms: Some(0),
            completed_ms: Some(1_000),
        },
    )
    .await;

    let me = profile(&app, &token).await;
    assert_eq!(
        me["stats"],
        json!({"completed": 3, "completion_rate": "0.60", "avg_release_seconds": 45, "disputes": 1})
    );
    let page: Value = app
        .get("/api/v1/admin/acceptors", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    let bob_view = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == bob_id.as_str())
        .unwrap()
        .clone();
    assert_eq!(
        bob_view["stats"],
        json!({"completed": 1, "completion_rate": "1.00", "avg_release_seconds": 1, "disputes": 0})
    );
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn the_acceptor_sees_only_its_own_orders() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (ann, ann_token) = acceptor(&app, &admin, "orders-ann@example.com").await;
    let (bob, bob_token) = acceptor(&app, &admin, "orders-bob@example.com").await;
    let merchant = seed_merchant(&app).await;
    let ann_id = id(&ann);
    let seed = |acceptor_id, status| Seed {
        acceptor_id,
        status,
        paid_ms: None,
        completed_ms: None,
    };
    let first = seed_order(&app, &merchant, seed(&ann_id, "completed")).await;
    let second = seed_order(&app, &merchant, seed(&ann_id, "assigned")).await;
    let bobs = seed_order(&app, &merchant, seed(&id(&bob), "assigned")).await;

    let page: Value = app
        .get("/api/v1/acceptor/orders", Some(&ann_token))
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [second.as_str(), first.as_str()],
        "newest first, own only"
    );
    assert_eq!(page["has_more"], false);
    let order = &page["data"][0];
    assert_eq!(order["status"], "assigned");
    assert_eq!(order["amount"], "100.00");
    assert_eq!(order["fiat_amount"], "718.00");
    assert!(order["cashier_url"].as_str().unwrap().contains("/pay/"));

    let limited: Value = app
        .get("/api/v1/acceptor/orders?limit=1", Some(&ann_token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(limited["has_more"], true);
    let completed: Value = app
        .get("/api/v1/acceptor/orders?status=completed", Some(&ann_token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(completed["data"].as_array().unwrap().len(), 1);
    assert_eq!(completed["data"][0]["id"], first.as_str());
    assert_error(
        app.get("/api/v1/acceptor/orders?status=lost", Some(&ann_token))
            .await,
        400,
        "invalid_request",
    )
    .await;

    let one = app
        .get(
            &format!("/api/v1/acceptor/orders/{first}"),
            Some(&ann_token),
        )
        .await;
    assert_eq!(one.status(), 200);
    // Bob's order does not exist for Ann, whatever she tries.
    assert_error(
        app.get(&format!("/api/v1/acceptor/orders/{bobs}"), Some(&ann_token))
            .await,
        404,
        "not_found",
    )
    .await;
    for action in ["confirm", "reject"] {
        assert_error(
            app.post(
                &format!("/api/v1/acceptor/orders/{bobs}/{action}"),
                Some(&ann_token),
                &json!({}),
            )
            .await,
            404,
            "not_found",
        )
        .await;
    }
    assert_error(
        app.post(
            &format!("/api/v1/acceptor/orders/{bobs}/dispute"),
            Some(&ann_token),
            &json!({"reason": "x"}),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    // Transitions that do not apply are 409.
    assert_error(
        app.post(
            &format!("/api/v1/acceptor/orders/{first}/confirm"),
            Some(&ann_token),
            &json!({}),
        )
        .await,
        409,
        "invalid_state",
    )
    .await;
    assert_error(
        app.post(
            &format!("/api/v1/acceptor/orders/{second}/dispute"),
            Some(&ann_token),
            &json!({"reason": "not received"}),
        )
        .await,
        409,
        "invalid_state",
    )
    .await;
    let error = assert_error(
        app.post(
            &format!("/api/v1/acceptor/orders/{second}/dispute"),
            Some(&ann_token),
            &json!({}),
        )
        .await,
        400,
        "invalid_request",
    )
    .await;
    assert_eq!(error["error"]["param"], "reason");
    // Confirm without any body is accepted as a request shape.
    let bare = app
        .client
        .post(app.url(&format!("/api/v1/acceptor/orders/{first}/confirm")))
        .bearer_auth(&ann_token)
        .send()
        .await
        .unwrap();
    assert_error(bare, 409, "invalid_state").await;

    // A frozen acceptor cannot act on orders.
    let frozen = admin_action(&app, &admin, &id(&bob), "freeze").await;
    assert_eq!(frozen.status(), 200);
    assert_error(
        app.post(
            &format!("/api/v1/acceptor/orders/{bobs}/confirm"),
            Some(&bob_token),
            &json!({}),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    app.assert_ledger_ok().await;
}

// ---------------------------------------------------------------------------------------
// End to end with the merchant order API.

mod end_to_end {
    use super::*;
    use otcpay_tests::merchant::{CreatedMerchant, create_merchant};
    use otcpay_tests::scenario::{AcceptorSpec, online_acceptor};

    async fn order(merchant: &CreatedMerchant, merchant_order_id: &str, amount: &str) -> Value {
        let response = merchant
            .live
            .post(
                "/api/v1/orders",
                &json!({"merchant_order_id": merchant_order_id, "amount": amount,
                        "fiat_currency": "CNY", "payment_method": "bank_transfer"}),
            )
            .await;
        assert_eq!(response.status(), 201);
        response.json().await.unwrap()
    }

    async fn merchant_view(merchant: &CreatedMerchant, order: &Value) -> Value {
        merchant
            .live
            .get(&format!("/api/v1/orders/{}", order["id"].as_str().unwrap()))
            .await
            .json()
            .await
            .unwrap()
    }

    /// Reads the stream until a frame of `kind` about `order_id` arrives.
    async fn next_event(response: &mut reqwest::Response, kind: &str, order_id: &str) -> String {
        let mut seen = String::new();
        let deadline = std::time::Duration::from_secs(10);
        tokio::time::timeout(deadline, async {
            loop {
                let chunk = response
                    .chunk()
                    .await
                    .unwrap()
                    .expect("the stream stays open");
                seen.push_str(&String::from_utf8_lossy(&chunk));
                let found = seen.split("\n\n").find(|frame| {
                    frame.contains(&format!("event: {kind}\n")) && frame.contains(order_id)
                });
                if let Some(frame) = found {
                    return frame.to_owned();
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("no {kind} event for {order_id}"))
    }

    #[tokio::test]
    async fn assignments_reach_the_acceptor_live_and_reserve_its_balance() {
        let app = TestApp::spawn().await;
        let merchant = create_merchant(&app, json!({})).await;
        let ann = online_acceptor(
            &app,
            AcceptorSpec {
                name: "Ann",
                deposit: "500.00",
                ..Default::default()
            },
        )
        .await;
        let mut stream = app
            .client
            .get(app.url("/api/v1/acceptor/events"))
            .bearer_auth(&ann.token)
            .send()
            .await
            .unwrap();
        assert_eq!(stream.status(), 200);

        let created = order(&merchant, "live-1", "120.00").await;
        let order_id = created["id"].as_str().unwrap();
        assert_eq!(created["status"], "assigned");
        let frame = next_event(&mut stream, "order.assigned", order_id).await;
        let data: Value = serde_json::from_str(
            frame
                .lines()
                .find_map(|l| l.strip_prefix("data: "))
                .unwrap(),
        )
        .unwrap();
        assert_eq!(data["id"], order_id);
        assert_eq!(data["status"], "assigned");
        assert_eq!(data["payment_details"]["account_name"], "Ann");

        let me = profile(&app, &ann.token).await;
        assert_eq!(
            me["balance"],
            json!({"available": "380.00", "reserved": "120.00"})
        );
        let mine: Value = app
            .get("/api/v1/acceptor/orders?status=assigned", Some(&ann.token))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(mine["data"][0]["id"], order_id);

        // The customer pays, the acceptor hears it and releases; the stats follow.
        let token = created["cashier_url"]
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
        next_event(&mut stream, "order.paid", order_id).await;
        let confirmed = app
            .post(
                &format!("/api/v1/acceptor/orders/{order_id}/confirm"),
                Some(&ann.token),
                &json!({}),
            )
            .await;
        assert_eq!(confirmed.status(), 200);
        let confirmed: Value = confirmed.json().await.unwrap();
        assert_eq!(confirmed["status"], "completed");
        let me = profile(&app, &ann.token).await;
        assert_eq!(me["stats"]["completed"], 1);
        assert_eq!(me["stats"]["completion_rate"], "1.00");
        assert!(me["stats"]["avg_release_seconds"].is_i64(), "{me}");
        assert_eq!(me["balance"]["reserved"], "0.00");
        // 500 − 120 released + the commission on it (0.4 % of 120 = 0.48).
        assert_eq!(me["balance"]["available"], "380.48");
        app.assert_ledger_ok().await;
    }

    #[tokio::test]
    async fn freezing_hands_unpaid_orders_to_other_acceptors() {
        let app = TestApp::spawn().await;
        let admin = app.admin_token().await;
        let merchant = create_merchant(&app, json!({})).await;
        let frozen = online_acceptor(
            &app,
            AcceptorSpec {
                name: "Frozen",
                rate: "7.00",
                ..Default::default()
            },
        )
        .await;
        online_acceptor(
            &app,
            AcceptorSpec {
                name: "Other",
                rate: "7.50",
                ..Default::default()
            },
        )
        .await;
        let unpaid = order(&merchant, "frz-1", "10.00").await;
        assert_eq!(unpaid["payment_details"]["account_name"], "Frozen");
        assert_eq!(
            profile(&app, &frozen.token).await["balance"]["reserved"],
            "10.00"
        );

        let response = admin_action(&app, &admin, &frozen.id, "freeze").await;
        assert_eq!(response.status(), 200);
        let moved = merchant_view(&merchant, &unpaid).await;
        assert_eq!(moved["status"], "assigned");
        assert_eq!(moved["payment_details"]["account_name"], "Other");
        assert_eq!(
            profile(&app, &frozen.token).await["balance"]["reserved"],
            "0.00"
        );
        // Frozen: new orders go elsewhere even though it is still online.
        let next = order(&merchant, "frz-2", "10.00").await;
        assert_eq!(next["payment_details"]["account_name"], "Other");
        // Unfrozen: it gets orders again (best rate).
        assert_eq!(
            admin_action(&app, &admin, &frozen.id, "unfreeze")
                .await
                .status(),
            200
        );
        let back = order(&merchant, "frz-3", "10.00").await;
        assert_eq!(back["payment_details"]["account_name"], "Frozen");
        app.assert_ledger_ok().await;
    }

    #[tokio::test]
    async fn quotes_and_payment_methods_drive_matching() {
        let app = TestApp::spawn().await;
        let merchant = create_merchant(&app, json!({})).await;
        let ann = online_acceptor(
            &app,
            AcceptorSpec {
                name: "Ann",
                rate: "7.00",
                ..Default::default()
            },
        )
        .await;
        online_acceptor(
            &app,
            AcceptorSpec {
                name: "Bob",
                rate: "7.50",
                ..Default::default()
            },
        )
        .await;
        assert_eq!(
            order(&merchant, "q-1", "10.00").await["payment_details"]["account_name"],
            "Ann"
        );

        // Ann's quote no longer covers the amount: Bob gets it.
        let narrowed = put(
            &app,
            "/api/v1/acceptor/quotes/CNY",
            &ann.token,
            &json!({"rate": "7.00", "min_amount": "1", "max_amount": "5"}),
        )
        .await;
        assert_eq!(narrowed.status(), 200);
        assert_eq!(
            order(&merchant, "q-2", "10.00").await["payment_details"]["account_name"],
            "Bob"
        );
        assert_eq!(
            order(&merchant, "q-3", "4.00").await["payment_details"]["account_name"],
            "Ann"
        );

        // Without a quote or without the payment method, Ann gets nothing.
        assert_eq!(
            delete(&app, "/api/v1/acceptor/quotes/CNY", &ann.token)
                .await
                .status(),
            204
        );
        assert_eq!(
            order(&merchant, "q-4", "4.00").await["payment_details"]["account_name"],
            "Bob"
        );
        let requote = put(
            &app,
            "/api/v1/acceptor/quotes/CNY",
            &ann.token,
            &json!({"rate": "7.00", "min_amount": "1", "max_amount": "5000"}),
        )
        .await;
        assert_eq!(requote.status(), 200);
        assert_eq!(
            order(&merchant, "q-5", "4.00").await["payment_details"]["account_name"],
            "Ann"
        );
        let methods: Value = app
            .get("/api/v1/acceptor/payment-methods", Some(&ann.token))
            .await
            .json()
            .await
            .unwrap();
        let method_id = methods["data"][0]["id"].as_str().unwrap().to_owned();
        let removed = delete(
            &app,
            &format!("/api/v1/acceptor/payment-methods/{method_id}"),
            &ann.token,
        )
        .await;
        assert_eq!(removed.status(), 204);
        assert_eq!(
            order(&merchant, "q-6", "4.00").await["payment_details"]["account_name"],
            "Bob"
        );
        app.assert_ledger_ok().await;
    }
}
