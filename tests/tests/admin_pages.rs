//! The admin console driven like a browser: `GET` with the session cookie, the CSRF
//! token read from the form, `application/x-www-form-urlencoded` posts, and assertions
//! on what the admin sees (and on the state behind it). Every page for every role;
//! acceptors approved, frozen, edited and funded; merchants created (secrets shown once)
//! and managed; a dispute resolved by a partial release (its audit entry in the same
//! transaction); withdrawals approved, rejected, completed and failed; the two-factor
//! rule for money actions; CSRF; the live stream. Every test ends with the ledger
//! invariant check.

use std::time::Duration;

use futures_util::StreamExt;
use reqwest::Response;
use reqwest::header::{ACCEPT_LANGUAGE, CONTENT_TYPE, COOKIE, LOCATION};
use serde_json::{Value, json};

use otcpay::auth::Role;
use otcpay_tests::TestApp;
use otcpay_tests::merchant::{CreatedMerchant, create_merchant};
use otcpay_tests::scenario::{Acceptor, AcceptorSpec, online_acceptor};

const TRON: &str = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t";

fn session_cookie(token: &str) -> String {
    format!("otcpay_session={token}")
}

/// `GET` a page as the logged-in user; the status and the HTML.
async fn page(app: &TestApp, token: &str, path: &str) -> (u16, String) {
    let response = app
        .client
        .get(app.url(path))
        .header(COOKIE, session_cookie(token))
        .send()
        .await
        .expect("page request");
    let status = response.status().as_u16();
    (status, response.text().await.expect("page body"))
}

/// `GET` a page with the flash cookie a redirect set.
async fn page_after(app: &TestApp, token: &str, redirect: &Response) -> String {
    let flash = redirect
        .headers()
        .get_all("set-cookie")
        .iter()
        .find_map(|c| c.to_str().ok().filter(|c| c.starts_with("otcpay_flash=")))
        .expect("a flash cookie")
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    app.client
        .get(app.url(location(redirect)))
        .header(COOKIE, format!("{}; {flash}", session_cookie(token)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

fn form_encode(fields: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(fields).expect("form encoding")
}

/// `POST` a form as a browser does.
async fn submit(app: &TestApp, token: &str, path: &str, fields: &[(&str, &str)]) -> Response {
    app.client
        .post(app.url(path))
        .header(COOKIE, session_cookie(token))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(form_encode(fields))
        .send()
        .await
        .expect("form posted")
}

/// The value of the first hidden `csrf_token` field of a page.
fn csrf_of(html: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let at = html.find(marker).expect("a form with a CSRF token") + marker.len();
    html[at..at + html[at..].find('"').unwrap()].to_owned()
}

fn location(response: &Response) -> &str {
    response.headers()[LOCATION].to_str().unwrap()
}

/// The rows of a table, by its caption: the HTML between the caption and `</table>`.
fn table<'a>(html: &'a str, caption: &str) -> &'a str {
    let start = html
        .find(&format!("<caption>{caption}</caption>"))
        .unwrap_or_else(|| panic!("a table captioned {caption:?} in {html}"));
    let rest = &html[start..];
    &rest[..rest.find("</table>").unwrap()]
}

/// The `<tr>` of a table whose `data-row-id` is `id`.
fn row<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html
        .find(&format!("data-row-id=\"{id}\""))
        .unwrap_or_else(|| panic!("a row {id}"));
    let rest = &html[start..];
    &rest[..rest.find("</tr>").unwrap()]
}

/// A session of a merchant's login (created directly: the merchant invitation is the
/// main line's).
async fn merchant_session(app: &TestApp) -> String {
    let email = format!("m-{}@merchant.test", otcpay::ids::random_hex(5));
    otcpay::auth::service::create_user(
        &app.state.db,
        &app.state.settings,
        &email,
        "merchant-password-1",
        Role::Merchant,
        "Shop",
    )
    .await
    .map_err(|e| format!("{e:?}"))
    .expect("merchant user");
    let login = app.login(&email, "merchant-password-1").await;
    assert_eq!(login.status(), 200);
    login.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn new_order(merchant: &CreatedMerchant, id: &str, amount: &str) -> Value {
    let response = merchant
        .live
        .post(
            "/api/v1/orders",
            &json!({"merchant_order_id": id, "amount": amount, "fiat_currency": "CNY"}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let order: Value = response.json().await.unwrap();
    assert_eq!(order["status"], "assigned", "{order}");
    order
}

fn cashier_token(order: &Value) -> String {
    order["cashier_url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned()
}

/// An order paid by the customer (named `payer`) and disputed by its acceptor; the
/// dispute's id.
async fn disputed_order(
    app: &TestApp,
    merchant: &CreatedMerchant,
    acceptor: &Acceptor,
    id: &str,
    amount: &str,
) -> (Value, String) {
    let order = new_order(merchant, id, amount).await;
    let paid = app
        .post(
            &format!("/pay/{}/paid", cashier_token(&order)),
            None,
            &json!({"payer_name": "Li Lei"}),
        )
        .await;
    assert_eq!(paid.status(), 200, "{:?}", paid.text().await);
    let order_id = order["id"].as_str().unwrap();
    let disputed = app
        .post(
            &format!("/api/v1/acceptor/orders/{order_id}/dispute"),
            Some(&acceptor.token),
            &json!({"reason": "The money did not arrive."}),
        )
        .await;
    assert_eq!(disputed.status(), 200, "{:?}", disputed.text().await);
    let dispute = otcpay::disputes::service::open_dispute_of_order(&app.state.db, order_id)
        .await
        .unwrap()
        .expect("an open dispute");
    (order, dispute.id.to_string())
}

/// Credits the merchant's live balance through a real order (paid and released).
async fn fund(app: &TestApp, merchant: &CreatedMerchant, acceptor: &Acceptor, amount: &str) {
    let order = new_order(
        merchant,
        &format!("fund-{}", otcpay::ids::random_hex(4)),
        amount,
    )
    .await;
    let paid = app
        .post(
            &format!("/pay/{}/paid", cashier_token(&order)),
            None,
            &json!({}),
        )
        .await;
    assert_eq!(paid.status(), 200);
    let confirmed = app
        .post(
            &format!(
                "/api/v1/acceptor/orders/{}/confirm",
                order["id"].as_str().unwrap()
            ),
            Some(&acceptor.token),
            &json!({}),
        )
        .await;
    assert_eq!(confirmed.status(), 200);
}

async fn withdraw(merchant: &CreatedMerchant, amount: &str) -> String {
    let response = merchant
        .live
        .post(
            "/api/v1/withdrawals",
            &json!({"merchant_withdrawal_id": format!("w-{}", otcpay::ids::random_hex(4)),
                    "network": "tron", "address": TRON, "amount": amount}),
        )
        .await;
    assert_eq!(response.status(), 201);
    response.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn audit_count(app: &TestApp, action: &str, target: &str) -> usize {
    let filter = otcpay::audit::AuditFilter {
        action: Some(action.to_owned()),
        target_id: Some(target.to_owned()),
        ..Default::default()
    };
    otcpay::audit::service::list_filtered(&app.state.db, &filter, 100)
        .await
        .unwrap()
        .len()
}

#[tokio::test]
async fn every_admin_page_renders_for_an_admin_and_refuses_other_roles() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let merchant = create_merchant(&app, json!({"name": "Page Shop"})).await;
    let acceptor = online_acceptor(&app, AcceptorSpec::default()).await;
    let (_, dispute) = disputed_order(&app, &merchant, &acceptor, "p-1", "10.00").await;
    let merchant_token = merchant_session(&app).await;

    let acceptor_page = format!("/admin/acceptors/{}", acceptor.id);
    let merchant_page = format!("/admin/merchants/{}", merchant.id());
    let dispute_page = format!("/admin/disputes/{dispute}");
    let pages: Vec<(&str, Vec<&str>)> = vec![
        (
            "/admin",
            vec!["<h1>Overview</h1>", "Open disputes", "Ledger check", ">OK<"],
        ),
        (
            "/admin/acceptors",
            vec!["<caption>Acceptors</caption>", ">Freeze</button>"],
        ),
        (
            &acceptor_page,
            vec![
                ">Amount</label>",
                ">Network</label>",
                ">Transaction id</label>",
                ">Record deposit</button>",
                ">Commission rate</label>",
                ">Concurrency limit</label>",
            ],
        ),
        (
            "/admin/merchants",
            vec![
                ">Name</label>",
                ">Email</label>",
                ">Fee rate</label>",
                ">Create merchant</button>",
                "Page Shop",
            ],
        ),
        (
            &merchant_page,
            vec![
                ">Revoke</button>",
                ">Suspend</button>",
                "<caption>API keys</caption>",
            ],
        ),
        (
            "/admin/disputes",
            vec!["<caption>Disputes</caption>", "Page Shop"],
        ),
        (
            &dispute_page,
            vec![
                ">Message</label>",
                ">Send</button>",
                ">Amount</label>",
                ">Note</label>",
                ">Release</button>",
                ">Cancel order</button>",
                ">Confirm</button>",
                "Li Lei",
                "The money did not arrive.",
            ],
        ),
        ("/admin/withdrawals", vec!["<caption>Withdrawals</caption>"]),
        (
            "/admin/audit",
            vec!["<caption>Audit log</caption>", "acceptor.deposit"],
        ),
        (
            "/admin/chain",
            vec![
                "<caption>On-chain transfers</caption>",
                "On-chain deposits are not enabled",
            ],
        ),
        ("/admin/security", vec!["Two-factor authentication is on."]),
    ];
    for (path, names) in &pages {
        let path = *path;
        let (status, html) = page(&app, &admin, path).await;
        assert_eq!(status, 200, "{path} as admin: {html}");
        for name in names {
            assert!(html.contains(name), "{path} shows {name}");
        }
        assert!(
            !html.contains("Two-factor authentication is off"),
            "{path}: no banner once 2FA passed"
        );
        assert!(html.contains("name=\"csrf_token\""), "{path} has forms");
        for (token, role) in [(&acceptor.token, "acceptor"), (&merchant_token, "merchant")] {
            let (status, html) = page(&app, token, path).await;
            assert_eq!(status, 403, "{path} as {role}");
            assert!(html.contains("Not allowed"));
        }
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 303, "{path} logged out");
        assert!(location(&response).starts_with("/login?next="));
    }
    // Unknown objects are the 404 page.
    for path in [
        "/admin/acceptors/acc_01M000000000000000000000000",
        "/admin/merchants/mch_01M000000000000000000000000",
        "/admin/disputes/dsp_01M000000000000000000000000",
    ] {
        assert_eq!(page(&app, &admin, path).await.0, 404, "{path}");
    }
    // The security page serves every role, each under its own path.
    let (status, html) = page(&app, &merchant_token, "/merchant/security").await;
    assert_eq!(status, 200);
    assert!(html.contains(">Set up two-factor authentication</button>"));
    assert!(html.contains("action=\"/merchant/security/setup\""));
    assert_eq!(
        page(&app, &acceptor.token, "/acceptor/security").await.0,
        200
    );
    assert_eq!(page(&app, &admin, "/merchant/security").await.0, 403);
    assert_eq!(
        page(&app, &merchant_token, "/acceptor/security").await.0,
        403
    );

    // In Chinese.
    for (path, text) in [
        ("/admin", "<h1>概览</h1>"),
        ("/admin/acceptors", "<caption>承兑商</caption>"),
        ("/admin/disputes", "<caption>申诉</caption>"),
        ("/admin/withdrawals", "<caption>提现</caption>"),
        ("/admin/audit", "<caption>审计日志</caption>"),
        ("/admin/chain", "<caption>链上转账</caption>"),
    ] {
        let html = app
            .client
            .get(app.url(path))
            .header(COOKIE, session_cookie(&admin))
            .header(ACCEPT_LANGUAGE, "zh-CN")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains(text), "{path} in Chinese");
    }
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn acceptors_are_approved_frozen_edited_and_funded_from_the_console() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let registered = app
        .post(
            "/api/v1/auth/register",
            None,
            &json!({"email": "new-acc@acceptor.test", "password": "acceptor-password-1",
                    "display_name": "Newcomer"}),
        )
        .await;
    assert_eq!(registered.status(), 201);
    let pending = registered.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let active = online_acceptor(&app, AcceptorSpec::default()).await;

    let (_, html) = page(&app, &admin, "/admin/acceptors?status=pending").await;
    let rows = table(&html, "Acceptors");
    assert!(row(rows, &pending).contains(">Approve</button>"));
    assert!(
        !rows.contains(&active.id),
        "the filter keeps the active one out"
    );
    let csrf = csrf_of(&html);

    let approved = submit(
        &app,
        &admin,
        &format!("/admin/acceptors/{pending}/approve"),
        &[("csrf_token", &csrf)],
    )
    .await;
    assert_eq!(approved.status(), 303);
    assert_eq!(location(&approved), "/admin/acceptors");
    let shown = page_after(&app, &admin, &approved).await;
    assert!(shown.contains("Newcomer is approved"), "{shown}");
    assert!(row(&shown, &pending).contains(">Freeze</button>"));

    // Freeze from the acceptor's page, back to it; unfreeze.
    let back = format!("/admin/acceptors/{}", active.id);
    let frozen = submit(
        &app,
        &admin,
        &format!("/admin/acceptors/{}/freeze", active.id),
        &[("csrf_token", &csrf), ("back", &back)],
    )
    .await;
    assert_eq!(location(&frozen), back);
    let (_, html) = page(&app, &admin, &back).await;
    assert!(html.contains(">Unfreeze</button>") && html.contains(">Frozen<"));
    let profile: Value = app
        .get("/api/v1/acceptor/profile", Some(&active.token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(profile["status"], "frozen");
    // Freezing again is a refusal in words, not an error page.
    let again = submit(
        &app,
        &admin,
        &format!("/admin/acceptors/{}/freeze", active.id),
        &[("csrf_token", &csrf)],
    )
    .await;
    assert_eq!(again.status(), 303);
    let unfrozen = submit(
        &app,
        &admin,
        &format!("/admin/acceptors/{}/unfreeze", active.id),
        &[("csrf_token", &csrf)],
    )
    .await;
    assert_eq!(unfrozen.status(), 303);
    let profile: Value = app
        .get("/api/v1/acceptor/profile", Some(&active.token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(profile["status"], "active");

    // Commission rate and concurrency limit.
    let edited = submit(
        &app,
        &admin,
        &format!("/admin/acceptors/{}/edit", active.id),
        &[
            ("csrf_token", &csrf),
            ("commission_rate", "0.006"),
            ("max_concurrent_orders", "7"),
        ],
    )
    .await;
    assert_eq!(edited.status(), 303);
    let profile: Value = app
        .get("/api/v1/acceptor/profile", Some(&active.token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(profile["commission_rate"], "0.006");
    assert_eq!(profile["max_concurrent_orders"], 7);
    let bad = submit(
        &app,
        &admin,
        &format!("/admin/acceptors/{}/edit", active.id),
        &[
            ("csrf_token", &csrf),
            ("commission_rate", "0.006"),
            ("max_concurrent_orders", "many"),
        ],
    )
    .await;
    assert!(
        page_after(&app, &admin, &bad)
            .await
            .contains("Enter the concurrency limit as a whole number.")
    );

    // A deposit: credited once; the same transaction again changes nothing; the same
    // transaction with another amount is refused.
    let before = profile["balance"]["available"].as_str().unwrap().to_owned();
    let deposit = |amount: &'static str| {
        let app = &app;
        let admin = admin.clone();
        let csrf = csrf.clone();
        let path = format!("/admin/acceptors/{}/deposits", active.id);
        async move {
            submit(
                app,
                &admin,
                &path,
                &[
                    ("csrf_token", &csrf),
                    ("amount", amount),
                    ("network", "tron"),
                    ("txid", "0xpage-deposit-1"),
                ],
            )
            .await
        }
    };
    let recorded = deposit("250.50").await;
    assert_eq!(recorded.status(), 303);
    assert_eq!(location(&recorded), back);
    assert!(
        page_after(&app, &admin, &recorded)
            .await
            .contains("Deposit of 250.50 USDT recorded.")
    );
    let available = || async {
        app.get("/api/v1/acceptor/profile", Some(&active.token))
            .await
            .json::<Value>()
            .await
            .unwrap()["balance"]["available"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let after = available().await;
    let micros = |s: &str| otcpay::money::Usdt::parse(s).unwrap().micros();
    assert_eq!(micros(&after) - micros(&before), 250_500_000);
    let replayed = deposit("250.50").await;
    assert!(
        page_after(&app, &admin, &replayed)
            .await
            .contains("already recorded with the same amount")
    );
    let conflicting = deposit("9.00").await;
    assert!(
        page_after(&app, &admin, &conflicting)
            .await
            .contains("already credited")
    );
    assert_eq!(available().await, after);
    assert_eq!(audit_count(&app, "acceptor.deposit", &active.id).await, 2);

    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn merchants_are_created_with_their_secrets_shown_once_and_managed() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (_, html) = page(&app, &admin, "/admin/merchants").await;
    let csrf = csrf_of(&html);

    // A refused field: beside the field, the values kept.
    let bad = submit(
        &app,
        &admin,
        "/admin/merchants",
        &[
            ("csrf_token", &csrf),
            ("name", "Bad Shop"),
            ("email", "bad@shop.test"),
            ("fee_rate", "2"),
        ],
    )
    .await;
    assert_eq!(bad.status(), 400);
    let html = bad.text().await.unwrap();
    assert!(html.contains("id=\"fee_rate-error\"") && html.contains("value=\"Bad Shop\""));

    let created = submit(
        &app,
        &admin,
        "/admin/merchants",
        &[
            ("csrf_token", &csrf),
            ("name", "Tea House"),
            ("email", "tea@shop.test"),
            ("fee_rate", "0.015"),
        ],
    )
    .await;
    assert_eq!(created.status(), 201);
    assert_eq!(created.headers()["cache-control"], "no-store");
    assert!(
        created
            .headers()
            .get_all("set-cookie")
            .iter()
            .all(|c| !c.to_str().unwrap().starts_with("otcpay_flash")),
        "secrets never go into a cookie"
    );
    let html = created.text().await.unwrap();
    let secret_after = |label: &str| {
        let at = html.find(&format!("id=\"{label}\">")).expect(label) + label.len() + 6;
        html[at..at + html[at..].find('<').unwrap()].to_owned()
    };
    let live_id = secret_after("live-key-id");
    let live_secret = secret_after("live-secret");
    let webhook = secret_after("webhook-secret");
    assert!(live_id.starts_with("mk_live_"), "{live_id}");
    assert!(secret_after("test-key-id").starts_with("mk_test_"));
    assert_eq!(live_secret.len(), 64);
    assert!(webhook.starts_with("whsec_"));
    assert!(
        html.contains("An invitation to the merchant dashboard was mailed to"),
        "the admin learns where the invitation went"
    );
    // The keys work.
    let client = otcpay_tests::merchant::MerchantClient::hmac(&app, &live_id, &live_secret);
    assert_eq!(client.get("/api/v1/balance").await.status(), 200);

    // Never again: not on the list, not on the merchant's page.
    let (_, list) = page(&app, &admin, "/admin/merchants").await;
    let id = list
        .split("href=\"/admin/merchants/")
        .nth(1)
        .map(|s| s[..s.find('"').unwrap()].to_owned())
        .expect("a merchant link");
    let (_, detail) = page(&app, &admin, &format!("/admin/merchants/{id}")).await;
    for text in [&live_secret, &webhook, &live_id] {
        assert!(!list.contains(text.as_str()) && !detail.contains(text.as_str()));
    }
    assert!(detail.contains(&live_id[..12]), "the key's prefix is shown");

    // Settings, suspend, reactivate.
    let saved = submit(
        &app,
        &admin,
        &format!("/admin/merchants/{id}/edit"),
        &[
            ("csrf_token", &csrf),
            ("fee_rate", "0.02"),
            ("rate_limit_per_minute", "300"),
            ("auto_approve_withdrawals_below", "50.00"),
        ],
    )
    .await;
    assert_eq!(saved.status(), 303);
    let m = otcpay::merchants::service::find_merchant(
        &app.state.db,
        &otcpay::ids::MerchantId::parse(&id).unwrap(),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(m.fee_rate, "0.02");
    assert_eq!(m.rate_limit_per_minute, 300);
    assert_eq!(m.auto_approve_withdrawals_below, Some(50_000_000));
    let suspended = submit(
        &app,
        &admin,
        &format!("/admin/merchants/{id}/status"),
        &[("csrf_token", &csrf), ("status", "suspended")],
    )
    .await;
    assert!(
        page_after(&app, &admin, &suspended)
            .await
            .contains(">Reactivate</button>")
    );
    assert_ne!(client.get("/api/v1/balance").await.status(), 200);
    let reactivated = submit(
        &app,
        &admin,
        &format!("/admin/merchants/{id}/status"),
        &[("csrf_token", &csrf), ("status", "active")],
    )
    .await;
    assert_eq!(reactivated.status(), 303);

    // Revoke the live key from its row.
    let keys = otcpay::merchants::store::keys_of_merchants(
        &app.state.db,
        std::slice::from_ref(&otcpay::ids::MerchantId::parse(&id).unwrap()),
    )
    .await
    .unwrap();
    let live = keys.iter().find(|k| k.livemode).unwrap();
    let revoked = submit(
        &app,
        &admin,
        &format!("/admin/merchants/{id}/keys/{}/revoke", live.id),
        &[("csrf_token", &csrf)],
    )
    .await;
    assert!(
        page_after(&app, &admin, &revoked)
            .await
            .contains("The key is revoked.")
    );
    assert_eq!(client.get("/api/v1/balance").await.status(), 401);
    // Another merchant's key is not found through this one.
    let other = create_merchant(&app, json!({})).await;
    let response = submit(
        &app,
        &admin,
        &format!("/admin/merchants/{}/keys/{}/revoke", other.id(), live.id),
        &[("csrf_token", &csrf)],
    )
    .await;
    assert_eq!(response.status(), 404);

    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn a_dispute_is_resolved_by_a_partial_release_from_the_console() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let merchant = create_merchant(&app, json!({"name": "Noodle Bar", "fee_rate": "0.01"})).await;
    let acceptor = online_acceptor(&app, AcceptorSpec::default()).await;
    let (order, dispute) = disputed_order(&app, &merchant, &acceptor, "d-1", "100.00").await;
    let order_id = order["id"].as_str().unwrap();

    let (_, html) = page(&app, &admin, "/admin/disputes").await;
    let rows = table(&html, "Disputes");
    assert!(row(rows, &dispute).contains(order["reference"].as_str().unwrap()));
    let (_, html) = page(&app, &admin, &format!("/admin/disputes/{dispute}")).await;
    assert!(html.contains("Li Lei") && html.contains("Noodle Bar"));
    assert!(html.contains(">Acceptor<") && html.contains("Under review"));
    let csrf = csrf_of(&html);

    // A message, shown with its author's role.
    let sent = submit(
        &app,
        &admin,
        &format!("/admin/disputes/{dispute}/messages"),
        &[
            ("csrf_token", &csrf),
            ("body", "Please send the bank receipt."),
        ],
    )
    .await;
    let html = page_after(&app, &admin, &sent).await;
    assert!(html.contains("Your message was added."));
    assert!(
        html.contains("<strong>Platform</strong>")
            && html.contains("Please send the bank receipt.")
    );

    // Without the confirmation: a page that asks, with the values carried.
    let resolve = format!("/admin/disputes/{dispute}/resolve");
    let asked = submit(
        &app,
        &admin,
        &resolve,
        &[
            ("csrf_token", &csrf),
            ("outcome", "release"),
            ("amount", "40.00"),
            ("note", "Partly paid."),
        ],
    )
    .await;
    assert_eq!(asked.status(), 200);
    let html = asked.text().await.unwrap();
    assert!(html.contains("Release 40.00 USDT for order") && html.contains(">Confirm</button>"));
    assert!(html.contains("name=\"confirmed\" value=\"1\""));
    assert_eq!(dispute_row(&app, &dispute).await.status.as_str(), "open");

    // A refused release (more than the order) changes nothing and audits nothing.
    let refused = submit(
        &app,
        &admin,
        &resolve,
        &[
            ("csrf_token", &csrf),
            ("outcome", "release"),
            ("amount", "150.00"),
            ("note", "Too much."),
            ("confirmed", "1"),
        ],
    )
    .await;
    assert_eq!(refused.status(), 303);
    assert!(
        page_after(&app, &admin, &refused)
            .await
            .contains("at most the order amount")
    );
    assert_eq!(audit_count(&app, "dispute.resolve", &dispute).await, 0);

    let confirmed = submit(
        &app,
        &admin,
        &resolve,
        &[
            ("csrf_token", &csrf),
            ("outcome", "release"),
            ("amount", "40.00"),
            ("note", "Partly paid."),
            ("confirmed", "1"),
        ],
    )
    .await;
    assert_eq!(confirmed.status(), 303);
    let html = page_after(&app, &admin, &confirmed).await;
    assert!(html.contains("40.00 USDT released for order"), "{html}");
    assert!(html.contains("Released to the merchant"));
    assert!(
        !html.contains(">Release</button>"),
        "resolved: no more resolution"
    );
    let o = otcpay::orders::service::find(
        &app.state.db,
        &otcpay::ids::OrderId::parse(order_id).unwrap(),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(o.status.as_str(), "completed");
    assert_eq!(o.released_amount, Some(40_000_000));
    assert_eq!(audit_count(&app, "dispute.resolve", &dispute).await, 1);
    // Resolved disputes leave the desk.
    let (_, html) = page(&app, &admin, "/admin/disputes").await;
    assert!(!table(&html, "Disputes").contains(&dispute));

    // A second dispute, cancelled.
    let (_, second) = disputed_order(&app, &merchant, &acceptor, "d-2", "20.00").await;
    let cancelled = submit(
        &app,
        &admin,
        &format!("/admin/disputes/{second}/resolve"),
        &[
            ("csrf_token", &csrf),
            ("outcome", "cancel"),
            ("amount", ""),
            ("note", "Not paid."),
            ("confirmed", "1"),
        ],
    )
    .await;
    assert!(
        page_after(&app, &admin, &cancelled)
            .await
            .contains("cancelled.")
    );

    app.assert_ledger_ok().await;
}

/// The resolution's audit entry is written in the transition's own transaction: when the
/// transaction fails after the audit insert (here the mail outbox row, forced to fail),
/// no audit row remains and the dispute stays open.
#[tokio::test]
async fn a_failed_resolution_leaves_no_audit_entry() {
    use sea_orm::ConnectionTrait;
    let app = TestApp::spawn().await;
    let merchant = create_merchant(&app, json!({})).await;
    let acceptor = online_acceptor(&app, AcceptorSpec::default()).await;
    let (_, dispute) = disputed_order(&app, &merchant, &acceptor, "f-1", "10.00").await;
    let admin = app.admin_session().await;
    // Make the mail outbox refuse inserts: the resolution writes its audit entry, then
    // the acceptor's mail, in one transaction.
    let backend = app.state.db.get_database_backend();
    let trigger = match backend {
        sea_orm::DatabaseBackend::Sqlite => vec![
            "CREATE TRIGGER refuse_mail BEFORE INSERT ON mail_outbox BEGIN SELECT RAISE(ABORT, 'no mail'); END".to_owned(),
        ],
        _ => vec![
            "CREATE OR REPLACE FUNCTION refuse_mail() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'no mail'; END $$ LANGUAGE plpgsql".to_owned(),
            "CREATE TRIGGER refuse_mail BEFORE INSERT ON mail_outbox FOR EACH ROW EXECUTE FUNCTION refuse_mail()".to_owned(),
        ],
    };
    for sql in &trigger {
        app.state.db.execute_unprepared(sql).await.unwrap();
    }
    let (_, html) = page(&app, &admin.token, &format!("/admin/disputes/{dispute}")).await;
    let failed = submit(
        &app,
        &admin.token,
        &format!("/admin/disputes/{dispute}/resolve"),
        &[
            ("csrf_token", &csrf_of(&html)),
            ("outcome", "cancel"),
            ("note", "Cancel it."),
            ("confirmed", "1"),
        ],
    )
    .await;
    assert_eq!(failed.status(), 500);
    assert_eq!(audit_count(&app, "dispute.resolve", &dispute).await, 0);
    let d = dispute_row(&app, &dispute).await;
    assert_eq!(d.status.as_str(), "open");
    let drop = match backend {
        sea_orm::DatabaseBackend::Sqlite => "DROP TRIGGER refuse_mail",
        _ => "DROP TRIGGER refuse_mail ON mail_outbox",
    };
    app.state.db.execute_unprepared(drop).await.unwrap();
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn withdrawals_are_approved_completed_rejected_and_failed_from_the_queue() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let merchant = create_merchant(&app, json!({"name": "Book Shop", "fee_rate": "0"})).await;
    let acceptor = online_acceptor(
        &app,
        AcceptorSpec {
            commission_rate: "0",
            ..Default::default()
        },
    )
    .await;
    fund(&app, &merchant, &acceptor, "500.00").await;
    let first = withdraw(&merchant, "100.00").await;
    let second = withdraw(&merchant, "50.00").await;
    let third = withdraw(&merchant, "20.00").await;

    let (_, html) = page(&app, &admin, "/admin/withdrawals").await;
    let rows = table(&html, "Withdrawals");
    for id in [&first, &second, &third] {
        let r = row(rows, id);
        assert!(r.contains(">Approve</button>") && r.contains(">Reject</button>"));
        assert!(r.contains("Book Shop"));
    }
    let csrf = csrf_of(&html);
    let act = |id: &str, verb: &str| format!("/admin/withdrawals/{id}/{verb}");

    let approved = submit(
        &app,
        &admin,
        &act(&first, "approve"),
        &[("csrf_token", &csrf)],
    )
    .await;
    assert_eq!(approved.status(), 303);
    let html = page_after(&app, &admin, &approved).await;
    assert!(html.contains("Withdrawal of 100.00 USDT approved."));
    let r = row(table(&html, "Withdrawals"), &first);
    assert!(r.contains(">Transaction id</label>") && r.contains(">Mark completed</button>"));
    assert!(r.contains(">Fail</button>"));

    let completed = submit(
        &app,
        &admin,
        &act(&first, "complete"),
        &[("csrf_token", &csrf), ("txid", "0xpayout-1")],
    )
    .await;
    let html = page_after(&app, &admin, &completed).await;
    assert!(html.contains("Withdrawal of 100.00 USDT completed."));
    assert!(
        !table(&html, "Withdrawals").contains(&first),
        "done: off the queue"
    );

    // Reject without a reason: a page asks for it; with it, rejected.
    let asked = submit(
        &app,
        &admin,
        &act(&second, "reject"),
        &[("csrf_token", &csrf)],
    )
    .await;
    assert_eq!(asked.status(), 200);
    let html = asked.text().await.unwrap();
    assert!(html.contains(">Reason</label>") && html.contains(">Reject</button>"));
    let rejected = submit(
        &app,
        &admin,
        &act(&second, "reject"),
        &[
            ("csrf_token", &csrf),
            ("reason", "Address on a block list."),
        ],
    )
    .await;
    assert!(
        page_after(&app, &admin, &rejected)
            .await
            .contains("Withdrawal of 50.00 USDT rejected.")
    );

    // Approve, then fail with a reason.
    submit(
        &app,
        &admin,
        &act(&third, "approve"),
        &[("csrf_token", &csrf)],
    )
    .await;
    let failed = submit(
        &app,
        &admin,
        &act(&third, "fail"),
        &[
            ("csrf_token", &csrf),
            ("reason", "Node rejected the transfer."),
        ],
    )
    .await;
    assert!(
        page_after(&app, &admin, &failed)
            .await
            .contains("Withdrawal of 20.00 USDT marked as failed.")
    );
    // Completing a failed one is a refusal in words.
    let late = submit(
        &app,
        &admin,
        &act(&third, "complete"),
        &[("csrf_token", &csrf), ("txid", "0xlate")],
    )
    .await;
    assert!(
        page_after(&app, &admin, &late)
            .await
            .contains("cannot become")
    );

    let mut statuses = Vec::new();
    for id in [&first, &second, &third] {
        let w = otcpay::withdrawals::service::find(
            &app.state.db,
            &otcpay::ids::WithdrawalId::parse(id).unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
        statuses.push(w.status.as_str());
    }
    assert_eq!(statuses, ["completed", "rejected", "failed"]);
    assert_eq!(audit_count(&app, "withdrawal.complete", &first).await, 1);

    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn money_actions_without_two_factor_lead_to_the_security_page_and_change_nothing() {
    let app = TestApp::spawn().await;
    // A second admin, without two-factor authentication.
    otcpay::auth::service::create_user(
        &app.state.db,
        &app.state.settings,
        "ops@otcpay.test",
        "ops-password-123",
        Role::Admin,
        "Ops",
    )
    .await
    .map_err(|e| format!("{e:?}"))
    .expect("second admin");
    let login = app.login("ops@otcpay.test", "ops-password-123").await;
    assert_eq!(login.status(), 200);
    let plain: String = login.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let merchant = create_merchant(&app, json!({"fee_rate": "0"})).await;
    let acceptor = online_acceptor(
        &app,
        AcceptorSpec {
            commission_rate: "0",
            ..Default::default()
        },
    )
    .await;
    let (_, dispute) = disputed_order(&app, &merchant, &acceptor, "n-1", "10.00").await;
    fund(&app, &merchant, &acceptor, "100.00").await;
    let withdrawal = withdraw(&merchant, "30.00").await;

    for path in [
        "/admin",
        "/admin/acceptors",
        "/admin/merchants",
        "/admin/disputes",
        "/admin/withdrawals",
        "/admin/audit",
    ] {
        let (status, html) = page(&app, &plain, path).await;
        assert_eq!(status, 200);
        assert!(
            html.contains("Two-factor authentication is off for this session.")
                && html.contains("href=\"/admin/security\""),
            "{path} shows the banner"
        );
    }
    let (_, html) = page(&app, &plain, &format!("/admin/acceptors/{}", acceptor.id)).await;
    assert!(!html.contains(">Record deposit</button>"));
    assert!(html.contains("This action moves money."));
    let (_, html) = page(&app, &plain, &format!("/admin/disputes/{dispute}")).await;
    assert!(!html.contains(">Release</button>") && html.contains("This action moves money."));
    let (_, html) = page(&app, &plain, "/admin/withdrawals").await;
    assert!(!row(&html, &withdrawal).contains(">Approve</button>"));
    assert!(row(&html, &withdrawal).contains("Needs two-factor authentication"));
    let csrf = csrf_of(&html);

    let available = || async {
        app.get("/api/v1/acceptor/profile", Some(&acceptor.token))
            .await
            .json::<Value>()
            .await
            .unwrap()["balance"]["available"]
            .clone()
    };
    let before = available().await;
    for (path, fields) in [
        (
            format!("/admin/acceptors/{}/deposits", acceptor.id),
            vec![
                ("amount", "10.00"),
                ("network", "tron"),
                ("txid", "0xno2fa"),
            ],
        ),
        (
            format!("/admin/disputes/{dispute}/resolve"),
            vec![("outcome", "release"), ("note", "x"), ("confirmed", "1")],
        ),
        (format!("/admin/withdrawals/{withdrawal}/approve"), vec![]),
    ] {
        let mut fields = fields.clone();
        fields.push(("csrf_token", &csrf));
        let refused = submit(&app, &plain, &path, &fields).await;
        assert_eq!(refused.status(), 303, "{path}");
        let html = page_after(&app, &plain, &refused).await;
        assert!(
            html.contains("This action moves money: turn on two-factor authentication first."),
            "{path}"
        );
    }
    assert_eq!(available().await, before);
    let d = dispute_row(&app, &dispute).await;
    assert_eq!(d.status.as_str(), "open");
    let w = otcpay::withdrawals::service::find(
        &app.state.db,
        &otcpay::ids::WithdrawalId::parse(&withdrawal).unwrap(),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(w.status.as_str(), "review");
    // Rejecting moves no money: allowed.
    let rejected = submit(
        &app,
        &plain,
        &format!("/admin/withdrawals/{withdrawal}/reject"),
        &[("csrf_token", &csrf), ("reason", "Wrong address.")],
    )
    .await;
    assert!(
        page_after(&app, &plain, &rejected)
            .await
            .contains("Withdrawal of 30.00 USDT rejected.")
    );

    // The banner leads to the security page, which turns it on; then the banner goes
    // and the money forms are there.
    let (_, html) = page(&app, &plain, "/admin/security").await;
    assert!(html.contains("Admins need it before any action that moves money"));
    let setup = submit(
        &app,
        &plain,
        "/admin/security/setup",
        &[("csrf_token", &csrf)],
    )
    .await;
    assert_eq!(setup.status(), 200);
    let html = setup.text().await.unwrap();
    let marker = "data-copy=\"";
    let at = html.find(marker).expect("the secret") + marker.len();
    let secret = html[at..at + html[at..].find('"').unwrap()].to_owned();
    let on = submit(
        &app,
        &plain,
        "/admin/security/enable",
        &[
            ("csrf_token", &csrf),
            ("code", &otcpay_tests::totp::code(&secret, 0)),
        ],
    )
    .await;
    assert_eq!(on.status(), 303);
    assert_eq!(location(&on), "/admin/security");
    let (_, html) = page(&app, &plain, &format!("/admin/acceptors/{}", acceptor.id)).await;
    assert!(!html.contains("Two-factor authentication is off for this session."));
    assert!(html.contains(">Record deposit</button>"));
    let deposited = submit(
        &app,
        &plain,
        &format!("/admin/acceptors/{}/deposits", acceptor.id),
        &[
            ("csrf_token", &csrf),
            ("amount", "10.00"),
            ("network", "tron"),
            ("txid", "0xafter2fa"),
        ],
    )
    .await;
    assert!(
        page_after(&app, &plain, &deposited)
            .await
            .contains("Deposit of 10.00 USDT recorded.")
    );
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn console_forms_need_the_csrf_token() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let merchant = create_merchant(&app, json!({})).await;
    let acceptor = online_acceptor(&app, AcceptorSpec::default()).await;
    let (_, dispute) = disputed_order(&app, &merchant, &acceptor, "c-1", "10.00").await;
    for (path, fields) in [
        (format!("/admin/acceptors/{}/freeze", acceptor.id), vec![]),
        (
            format!("/admin/acceptors/{}/deposits", acceptor.id),
            vec![("amount", "10.00"), ("network", "tron"), ("txid", "0xcsrf")],
        ),
        (
            "/admin/merchants".to_owned(),
            vec![("name", "X"), ("email", "x@x.test"), ("fee_rate", "0.01")],
        ),
        (
            format!("/admin/disputes/{dispute}/resolve"),
            vec![("outcome", "cancel"), ("note", "x"), ("confirmed", "1")],
        ),
        (
            format!("/admin/disputes/{dispute}/messages"),
            vec![("body", "hi")],
        ),
        ("/admin/security/setup".to_owned(), vec![]),
    ] {
        let response = submit(&app, &admin, &path, &fields).await;
        assert_eq!(response.status(), 403, "{path} without a CSRF token");
        let mut wrong = fields.clone();
        wrong.push(("csrf_token", "not-the-token"));
        assert_eq!(
            submit(&app, &admin, &path, &wrong).await.status(),
            403,
            "{path} with a wrong token"
        );
    }
    let profile: Value = app
        .get("/api/v1/acceptor/profile", Some(&acceptor.token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(profile["status"], "active");
    assert_eq!(dispute_row(&app, &dispute).await.status.as_str(), "open");
    assert_eq!(audit_count(&app, "acceptor.deposit", &acceptor.id).await, 1);
    app.assert_ledger_ok().await;
}

/// Reads the stream until an event of `kind` arrives (or the time is up).
async fn next_event<B: AsRef<[u8]>>(
    stream: &mut (impl futures_util::Stream<Item = reqwest::Result<B>> + Unpin),
    kind: &str,
) -> String {
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let chunk = tokio::time::timeout_at(deadline, stream.next())
            .await
            .unwrap_or_else(|_| panic!("no {kind} event; saw {seen}"))
            .expect("stream open")
            .expect("chunk");
        seen.push_str(&String::from_utf8_lossy(chunk.as_ref()));
        if let Some(at) = seen.find(&format!("event: {kind}\n")) {
            return seen[at..].to_owned();
        }
    }
}

#[tokio::test]
async fn the_console_stream_tells_of_new_disputes_messages_and_withdrawals() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let merchant = create_merchant(&app, json!({"fee_rate": "0"})).await;
    let acceptor = online_acceptor(
        &app,
        AcceptorSpec {
            commission_rate: "0",
            ..Default::default()
        },
    )
    .await;
    // Acceptors and the logged-out have no console stream.
    let response = app
        .client
        .get(app.url("/admin/events"))
        .header(COOKIE, session_cookie(&acceptor.token))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let response = app
        .client
        .get(app.url("/admin/events"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);

    let response = app
        .client
        .get(app.url("/admin/events"))
        .header(COOKIE, session_cookie(&admin))
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
    let mut stream = response.bytes_stream();
    // The opening comment: the subscription is in place.
    let opening = stream.next().await.expect("opening").expect("chunk");
    assert!(String::from_utf8_lossy(&opening).contains(": connected"));

    let (_, dispute) = disputed_order(&app, &merchant, &acceptor, "s-1", "10.00").await;
    let event = next_event(&mut stream, "dispute.opened").await;
    assert!(event.contains(&dispute), "{event}");

    let (_, html) = page(&app, &admin, &format!("/admin/disputes/{dispute}")).await;
    submit(
        &app,
        &admin,
        &format!("/admin/disputes/{dispute}/messages"),
        &[
            ("csrf_token", &csrf_of(&html)),
            ("body", "Looking into it."),
        ],
    )
    .await;
    let event = next_event(&mut stream, "dispute.message").await;
    assert!(event.contains(&dispute), "{event}");

    fund(&app, &merchant, &acceptor, "50.00").await;
    let withdrawal = withdraw(&merchant, "20.00").await;
    let event = next_event(&mut stream, "withdrawal.review").await;
    assert!(event.contains(&withdrawal), "{event}");
    app.assert_ledger_ok().await;
}

/// The dispute row behind an id the pages showed.
async fn dispute_row(app: &TestApp, id: &str) -> otcpay::orders::dispute::Model {
    let id = otcpay::ids::DisputeId::parse(id).expect("a dispute id");
    otcpay::disputes::service::find(&app.state.db, &id)
        .await
        .expect("dispute read")
        .expect("the dispute exists")
}
