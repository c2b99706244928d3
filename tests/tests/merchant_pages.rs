//! The merchant dashboard driven like a browser: `GET` with the session cookie, the
//! CSRF token read from the form, `application/x-www-form-urlencoded` posts, and
//! assertions on what the merchant sees. Orders (search, filters, CSV export, live
//! stream), one order, balance and statement, withdrawals (with the second factor),
//! API keys and webhooks (endpoint, secret rotation with its overlap, test event,
//! redelivery). Every scenario ends with the ledger invariant check.

use std::time::Duration;

use futures_util::StreamExt as _;
use reqwest::Response;
use reqwest::header::{ACCEPT_LANGUAGE, CONTENT_TYPE, COOKIE, LOCATION};
use serde_json::{Value, json};

use otcpay_tests::TestApp;
use otcpay_tests::merchant::{
    CreatedMerchant, MerchantClient, MerchantUser, create_merchant, merchant_login,
};
use otcpay_tests::scenario::{
    Acceptor, AcceptorSpec, ReceivedWebhook, WebhookReceiver, online_acceptor, verify_webhook,
};
use otcpay_tests::totp::code as authenticator_code;

const TRON_ADDRESS: &str = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t";

fn session_cookie(token: &str) -> String {
    format!("otcpay_session={token}")
}

async fn get(app: &TestApp, token: Option<&str>, path: &str) -> Response {
    let mut req = app.client.get(app.url(path));
    if let Some(token) = token {
        req = req.header(COOKIE, session_cookie(token));
    }
    req.send().await.expect("page request")
}

/// `GET` a page as the logged-in user; the status and the HTML.
async fn page(app: &TestApp, token: &str, path: &str) -> (u16, String) {
    let response = get(app, Some(token), path).await;
    let status = response.status().as_u16();
    (status, response.text().await.expect("page body"))
}

fn form_encode(fields: &[(&str, &str)]) -> String {
    fn enc(text: &str) -> String {
        text.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    char::from(b).to_string()
                }
                b' ' => "+".to_owned(),
                _ => format!("%{b:02X}"),
            })
            .collect()
    }
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
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
    value_of(html, "csrf_token").expect("a form with a CSRF token")
}

/// The value of the first field named `name`.
fn value_of(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let at = html.find(&marker)? + marker.len();
    Some(html[at..at + html[at..].find('"')?].to_owned())
}

/// The text of the element with id `id` (up to the next `<`).
fn text_of(html: &str, id: &str) -> Option<String> {
    let marker = format!("id=\"{id}\">");
    let at = html.find(&marker)? + marker.len();
    Some(html[at..at + html[at..].find('<')?].to_owned())
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

/// The rows (`<tr data-row-id=…>`) of a table's HTML.
fn row_count(table: &str) -> usize {
    table.matches("<tr data-row-id=").count()
}

/// A merchant with a fast rate limit, its login, and an online acceptor for its orders.
async fn shop(app: &TestApp) -> (CreatedMerchant, MerchantUser) {
    let merchant = create_merchant(app, json!({"rate_limit_per_minute": 6000})).await;
    let login = merchant_login(app, merchant.id()).await;
    (merchant, login)
}

async fn new_order(client: &MerchantClient, id: &str, amount: &str) -> Value {
    let response = client
        .post(
            "/api/v1/orders",
            &json!({"merchant_order_id": id, "amount": amount, "fiat_currency": "CNY",
                    "payment_method": "bank_transfer"}),
        )
        .await;
    let status = response.status();
    let order: Value = response.json().await.unwrap();
    assert_eq!(status, 201, "{order}");
    order
}

async fn release(app: &TestApp, acceptor: &Acceptor, order: &Value) {
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
    assert_eq!(confirmed.status(), 200, "{:?}", confirmed.text().await);
}

const PAGES: [&str; 6] = [
    "/merchant",
    "/merchant/balance",
    "/merchant/withdrawals",
    "/merchant/keys",
    "/merchant/webhooks",
    "/merchant/orders.csv",
];

#[tokio::test]
async fn every_page_is_the_merchants_own_and_refuses_everyone_else() {
    let app = TestApp::spawn().await;
    let (merchant, login) = shop(&app).await;
    let (other, other_login) = shop(&app).await;
    let acceptor = online_acceptor(&app, AcceptorSpec::default()).await;
    let order = new_order(&merchant.live, "mine-1", "25.00").await;
    let theirs = new_order(&other.live, "theirs-1", "30.00").await;
    let order_page = format!("/merchant/orders/{}", order["id"].as_str().unwrap());

    // The merchant sees every page, with the names of the page contract.
    for path in PAGES.iter().copied().chain([order_page.as_str()]) {
        let (status, html) = page(&app, &login.token, path).await;
        assert_eq!(status, 200, "{path}: {html}");
    }
    let (_, html) = page(&app, &login.token, "/merchant").await;
    assert!(table(&html, "Orders").contains(order["reference"].as_str().unwrap()));
    assert!(!html.contains(theirs["reference"].as_str().unwrap()));
    assert!(html.contains(">Export CSV</a>"));
    let (_, html) = page(&app, &login.token, "/merchant/balance").await;
    assert!(html.contains("aria-labelledby=\"balance-h\"") && html.contains(">Balance</h2>"));
    table(&html, "Statement");
    let (_, html) = page(&app, &login.token, "/merchant/withdrawals").await;
    for name in [
        ">Amount</label>",
        ">Network</label>",
        ">Address</label>",
        ">Request withdrawal</button>",
    ] {
        assert!(html.contains(name), "withdrawals page has {name}");
    }
    assert!(html.contains(">TRC-20</option>") && html.contains("value=\"ethereum\">ERC-20"));
    assert!(!html.contains(">Authentication code</label>"), "2FA is off");
    table(&html, "Withdrawals");
    let (_, html) = page(&app, &login.token, "/merchant/keys").await;
    assert!(html.contains(">Create API key</button>") && html.contains(">Revoke</button>"));
    let (_, html) = page(&app, &login.token, "/merchant/webhooks").await;
    for name in [
        ">Endpoint URL</label>",
        ">Save</button>",
        ">Rotate secret</button>",
        ">Send test event</button>",
    ] {
        assert!(html.contains(name), "webhooks page has {name}");
    }
    table(&html, "Deliveries");
    // zh-CN: the same page in Chinese.
    let zh = app
        .client
        .get(app.url("/merchant/withdrawals"))
        .header(COOKIE, session_cookie(&login.token))
        .header(ACCEPT_LANGUAGE, "zh-CN")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(zh.contains(">申请提现</button>") && zh.contains("<caption>提现记录</caption>"));

    // Another merchant's order is not found; so is an order that does not exist.
    let (status, _) = page(
        &app,
        &login.token,
        &format!("/merchant/orders/{}", theirs["id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = page(&app, &login.token, "/merchant/orders/ord_nothing").await;
    assert_eq!(status, 404);
    // …and the other merchant sees its own, not this one.
    let (status, _) = page(
        &app,
        &other_login.token,
        &format!("/merchant/orders/{}", theirs["id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(status, 200);

    // Other roles get 403, the logged-out go to the login page.
    let admin = app.admin_token().await;
    for path in PAGES
        .iter()
        .copied()
        .chain([order_page.as_str(), "/merchant/events"])
    {
        for token in [acceptor.token.as_str(), admin.as_str()] {
            let response = get(&app, Some(token), path).await;
            assert_eq!(response.status(), 403, "{path}");
        }
        let response = get(&app, None, path).await;
        assert_eq!(response.status(), 303, "{path}");
        assert!(
            location(&response).starts_with("/login?next=/merchant"),
            "{path}"
        );
    }
    // A merchant-role user that is no merchant's: 403.
    let loose = otcpay::auth::service::create_user(
        &app.state.db,
        &app.state.settings,
        "loose@merchant.test",
        "merchant-password-1",
        otcpay::auth::Role::Merchant,
        "Nobody",
    )
    .await
    .unwrap();
    assert_eq!(loose.role.as_str(), "merchant");
    let token: Value = app
        .login("loose@merchant.test", "merchant-password-1")
        .await
        .json()
        .await
        .unwrap();
    let response = get(&app, token["token"].as_str(), "/merchant").await;
    assert_eq!(response.status(), 403);

    // A form without its CSRF token is refused and changes nothing.
    let refused = submit(&app, &login.token, "/merchant/keys", &[("mode", "live")]).await;
    assert_eq!(refused.status(), 403);
    let refused = submit(
        &app,
        &login.token,
        "/merchant/webhooks/rotate",
        &[("csrf_token", "x")],
    )
    .await;
    assert_eq!(refused.status(), 403);
    let (_, html) = page(&app, &login.token, "/merchant/keys").await;
    assert_eq!(row_count(table(&html, "API keys")), 2, "no key was made");

    app.assert_ledger_ok().await;
}

/// Copies of `template` (an order of the merchant) straight into the database, with
/// fresh (time-ordered) ids: many orders without many API calls.
async fn bulk_orders(app: &TestApp, template_id: &str, count: usize) -> Vec<String> {
    use otcpay::orders::order;
    use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel};
    let template = order::Entity::find_by_id(otcpay::ids::OrderId::parse(template_id).unwrap())
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    let mut ids = Vec::with_capacity(count);
    for i in 0..count {
        let mut copy = template.clone();
        copy.id = otcpay::ids::OrderId::generate();
        copy.merchant_order_id = format!("bulk-{i}");
        copy.cashier_token = otcpay::ids::random_hex(16);
        copy.reference = format!("B{i:05}");
        copy.status = otcpay::orders::model::OrderStatus::Expired;
        copy.acceptor_id = None;
        copy.fiat_amount = None;
        copy.next_deadline = None;
        copy.clone()
            .into_active_model()
            .reset_all()
            .insert(&app.state.db)
            .await
            .unwrap();
        ids.push(copy.id.to_string());
    }
    ids
}

/// The CSV export of `query` as the merchant downloads it: headers and body.
async fn export(app: &TestApp, token: &str, query: &str) -> (reqwest::header::HeaderMap, String) {
    let response = get(app, Some(token), &format!("/merchant/orders.csv{query}")).await;
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    (headers, response.text().await.unwrap())
}

#[tokio::test]
async fn orders_are_searched_filtered_paged_and_exported_as_a_stream() {
    let app = TestApp::spawn().await;
    let (merchant, login) = shop(&app).await;
    let acceptor = online_acceptor(&app, AcceptorSpec::default()).await;
    let token = login.token.as_str();

    let done = new_order(&merchant.live, "inv-done", "100.00").await;
    release(&app, &acceptor, &done).await;
    let waiting = new_order(&merchant.live, "-minus", "10.00").await;
    let sandbox = new_order(&merchant.test, "inv-test", "12.00").await;
    let r = |o: &Value| o["reference"].as_str().unwrap().to_owned();
    let id = |o: &Value| o["id"].as_str().unwrap().to_owned();

    // One search field: the order id, the reference or the merchant order id.
    for q in [
        id(&done),
        r(&done),
        r(&done).to_lowercase(),
        "inv-done".to_owned(),
    ] {
        let (status, html) = page(&app, token, &format!("/merchant?q={q}")).await;
        assert_eq!(status, 200);
        let rows = table(&html, "Orders");
        assert_eq!(row_count(rows), 1, "search {q}: {rows}");
        assert!(rows.contains(&r(&done)));
    }
    let (_, html) = page(&app, token, "/merchant?q=nothing-like-it").await;
    assert_eq!(row_count(table(&html, "Orders")), 0);
    assert!(html.contains("No order matches these filters."));

    // Status, mode and dates.
    let (_, html) = page(&app, token, "/merchant?status=completed").await;
    let rows = table(&html, "Orders");
    assert!(
        rows.contains(&r(&done)) && !rows.contains(&r(&waiting)),
        "{rows}"
    );
    assert!(rows.contains("badge-completed\">Released</span>"));
    let (_, html) = page(&app, token, "/merchant?mode=test").await;
    let rows = table(&html, "Orders");
    assert_eq!(row_count(rows), 1);
    assert!(rows.contains(&r(&sandbox)));
    let (_, html) = page(&app, token, "/merchant").await;
    assert!(
        !table(&html, "Orders").contains(&r(&sandbox)),
        "live by default"
    );
    let today = chrono::Utc::now().date_naive();
    let yesterday = today.pred_opt().unwrap();
    let (_, html) = page(&app, token, &format!("/merchant?to={yesterday}")).await;
    assert_eq!(row_count(table(&html, "Orders")), 0);
    let (_, html) = page(&app, token, &format!("/merchant?from={today}&to={today}")).await;
    assert_eq!(row_count(table(&html, "Orders")), 2);
    let (status, html) = page(&app, token, "/merchant?from=yesterday").await;
    assert_eq!(status, 200);
    assert!(html.contains("Enter a date like 2026-03-01."));

    // Paging: newest first, 25 a page, the next page after the last id.
    let bulk = bulk_orders(&app, &id(&done), 1_060).await;
    let (_, html) = page(&app, token, "/merchant").await;
    let rows = table(&html, "Orders");
    assert_eq!(row_count(rows), 25);
    assert!(
        rows.contains(&format!("data-row-id=\"{}\"", bulk[bulk.len() - 1])),
        "newest first"
    );
    let next = html
        .split("class=\"pager\"><a class=\"btn btn-sm\" href=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a next page link")
        .replace("&amp;", "&");
    assert!(next.contains(&format!("starting_after={}", bulk[bulk.len() - 25])));
    let (_, html) = page(&app, token, &next).await;
    assert!(table(&html, "Orders").contains(&format!("data-row-id=\"{}\"", bulk[bulk.len() - 26])));

    // The export: every matching row, streamed, escaped, decimal amounts.
    let (headers, csv) = export(&app, token, "").await;
    assert_eq!(headers[CONTENT_TYPE], "text/csv; charset=utf-8");
    let disposition = headers["content-disposition"].to_str().unwrap();
    assert!(
        disposition.starts_with("attachment; filename=\"orders-live-")
            && disposition.ends_with(".csv\""),
        "{disposition}"
    );
    assert!(
        headers.get("content-length").is_none(),
        "streamed, not buffered"
    );
    assert_eq!(headers["cache-control"], "no-store");
    let lines: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert!(lines[0].starts_with("id,reference,merchant_order_id,mode,status,amount"));
    assert_eq!(
        lines.len(),
        1 + 2 + bulk.len(),
        "header, two orders, the bulk"
    );
    let done_line = lines.iter().find(|l| l.starts_with(&id(&done))).unwrap();
    assert!(
        done_line.contains(",inv-done,live,completed,100.00,1.00,USDT,720.00,CNY,"),
        "{done_line}"
    );
    let minus_line = lines.iter().find(|l| l.starts_with(&id(&waiting))).unwrap();
    assert!(
        minus_line.contains(",'-minus,live,assigned,"),
        "formula neutralised: {minus_line}"
    );
    let mut ids: Vec<&str> = lines[1..]
        .iter()
        .map(|l| l.split(',').next().unwrap())
        .collect();
    let listed = ids.clone();
    ids.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(listed, ids, "newest first");
    ids.dedup();
    assert_eq!(ids.len(), lines.len() - 1, "no row twice across batches");
    assert!(!csv.contains(&id(&sandbox)));
    // The export follows the filter.
    let (_, csv) = export(&app, token, "?status=completed").await;
    assert_eq!(csv.split("\r\n").filter(|l| !l.is_empty()).count(), 2);
    let (headers, csv) = export(&app, token, "?mode=test").await;
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap()
            .contains("orders-test-")
    );
    assert!(csv.contains(&id(&sandbox)) && !csv.contains(&id(&done)));
    let response = get(&app, Some(token), "/merchant/orders.csv?from=soon").await;
    assert_eq!(response.status(), 400);

    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn the_merchant_stream_carries_its_orders_changes_only() {
    let app = TestApp::spawn().await;
    let (merchant, login) = shop(&app).await;
    let (other, _) = shop(&app).await;
    let acceptor = online_acceptor(&app, AcceptorSpec::default()).await;
    let response = get(&app, Some(&login.token), "/merchant/events").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()[CONTENT_TYPE], "text/event-stream");
    let mut stream = response.bytes_stream();
    let mut seen = String::new();
    let mut read_until = async |needle: &str, seen: &mut String| {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while !seen.contains(needle) {
            let chunk = tokio::time::timeout_at(deadline, stream.next())
                .await
                .unwrap_or_else(|_| panic!("no {needle} in {seen}"))
                .expect("stream open")
                .unwrap();
            seen.push_str(&String::from_utf8_lossy(&chunk));
        }
    };
    read_until(": connected", &mut seen).await;
    let theirs = new_order(&other.live, "theirs", "20.00").await;
    let order = new_order(&merchant.live, "mine", "20.00").await;
    let order_id = order["id"].as_str().unwrap().to_owned();
    read_until(&order_id, &mut seen).await;
    assert!(seen.contains("event: order.assigned"));
    release(&app, &acceptor, &order).await;
    read_until("event: order.completed", &mut seen).await;
    assert!(
        !seen.contains(theirs["id"].as_str().unwrap()),
        "another merchant's order"
    );

    app.assert_ledger_ok().await;
}

/// The `webhook.test` deliveries received so far.
fn test_events(receiver: &WebhookReceiver) -> Vec<ReceivedWebhook> {
    receiver
        .received
        .lock()
        .unwrap()
        .iter()
        .filter(|w| w.json()["type"] == "webhook.test")
        .cloned()
        .collect()
}

/// Sends a test event from the page and waits for it at the receiver.
async fn send_test_event(
    app: &TestApp,
    token: &str,
    receiver: &WebhookReceiver,
) -> ReceivedWebhook {
    let before = test_events(receiver).len();
    let (_, html) = page(app, token, "/merchant/webhooks").await;
    let sent = submit(
        app,
        token,
        "/merchant/webhooks/test",
        &[("csrf_token", &csrf_of(&html)), ("mode", "live")],
    )
    .await;
    assert_eq!(sent.status(), 303);
    for _ in 0..300 {
        if let Some(found) = test_events(receiver).get(before) {
            return found.clone();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the test event did not arrive");
}

#[tokio::test]
async fn webhook_endpoint_rotation_overlap_test_event_and_redelivery() {
    let app = TestApp::spawn_with(|s| s.webhook_secret_overlap_seconds = 3).await;
    let (merchant, login) = shop(&app).await;
    let acceptor = online_acceptor(&app, AcceptorSpec::default()).await;
    let token = login.token.as_str();
    let receiver = WebhookReceiver::start().await;

    // The endpoint: a refused URL is shown beside the field, kept, and not saved.
    let (_, html) = page(&app, token, "/merchant/webhooks").await;
    let csrf = csrf_of(&html);
    let refused = submit(
        &app,
        token,
        "/merchant/webhooks/endpoint",
        &[
            ("csrf_token", &csrf),
            ("webhook_url", "ftp://files.example/hook"),
        ],
    )
    .await;
    assert_eq!(refused.status(), 422);
    let html = refused.text().await.unwrap();
    assert!(
        html.contains("class=\"field-error\" id=\"webhook_url-error\""),
        "{html}"
    );
    assert!(html.contains("value=\"ftp://files.example/hook\""));
    let saved = submit(
        &app,
        token,
        "/merchant/webhooks/endpoint",
        &[("csrf_token", &csrf), ("webhook_url", &receiver.url)],
    )
    .await;
    assert_eq!(saved.status(), 303);
    let (_, html) = page(&app, token, "/merchant/webhooks").await;
    assert!(html.contains(&format!("value=\"{}\"", receiver.url)));

    // Before any rotation: one signature, the original secret.
    let first = send_test_event(&app, token, &receiver).await;
    assert!(verify_webhook(&merchant.webhook_secret, &first));
    assert_eq!(
        first
            .header("webhook-signature")
            .unwrap()
            .split(' ')
            .count(),
        1
    );

    // Rotation: the new secret is in the answer only; during the overlap both verify.
    let rotated = submit(
        &app,
        token,
        "/merchant/webhooks/rotate",
        &[("csrf_token", &csrf)],
    )
    .await;
    assert_eq!(rotated.status(), 200);
    assert_eq!(rotated.headers()["cache-control"], "no-store");
    let html = rotated.text().await.unwrap();
    let new_secret = text_of(&html, "new-secret").expect("the new secret shown");
    assert!(new_secret.starts_with("whsec_") && new_secret != merchant.webhook_secret);
    let (_, again) = page(&app, token, "/merchant/webhooks").await;
    assert!(!again.contains(&new_secret), "shown once");
    assert!(again.contains("The previous secret also signs until"));
    let during = send_test_event(&app, token, &receiver).await;
    let signatures = during.header("webhook-signature").unwrap().to_owned();
    assert_eq!(signatures.split(' ').count(), 2, "{signatures}");
    assert!(
        verify_webhook(&merchant.webhook_secret, &during),
        "old secret verifies"
    );
    assert!(verify_webhook(&new_secret, &during), "new secret verifies");
    assert!(
        otcpay::webhooks::signing::verify(
            &new_secret,
            during.header("webhook-id").unwrap(),
            during.header("webhook-timestamp").unwrap(),
            &signatures,
            during.body.as_bytes(),
            chrono::Utc::now().timestamp(),
            300,
        )
        .is_ok()
    );

    // After the window: only the new secret.
    tokio::time::sleep(Duration::from_millis(3_200)).await;
    let after = send_test_event(&app, token, &receiver).await;
    assert_eq!(
        after
            .header("webhook-signature")
            .unwrap()
            .split(' ')
            .count(),
        1
    );
    assert!(verify_webhook(&new_secret, &after));
    assert!(
        !verify_webhook(&merchant.webhook_secret, &after),
        "old secret no longer"
    );

    // The log shows the attempts; an order's webhooks appear on its page too.
    let order = new_order(&merchant.live, "hooked", "15.00").await;
    release(&app, &acceptor, &order).await;
    let order_id = order["id"].as_str().unwrap();
    receiver.wait_for("order.completed", order_id).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_, html) = page(&app, token, &format!("/merchant/orders/{order_id}")).await;
    let attempts = table(&html, "Webhook attempts");
    assert!(
        attempts.contains("order.completed") && attempts.contains(">200<"),
        "{attempts}"
    );
    assert!(html.contains(">History</h2>") && html.contains("badge-completed"));
    let (_, html) = page(&app, token, "/merchant/webhooks").await;
    let deliveries = table(&html, "Deliveries");
    assert!(
        deliveries.matches("webhook.test").count() >= 3,
        "{deliveries}"
    );
    assert!(deliveries.contains("Delivered"));

    // Redeliver: the same event (same webhook-id) arrives once more.
    let event_id = first.header("webhook-id").unwrap().to_owned();
    let count = |id: &str| {
        receiver
            .received
            .lock()
            .unwrap()
            .iter()
            .filter(|w| w.header("webhook-id") == Some(id))
            .count()
    };
    assert_eq!(count(&event_id), 1);
    let redelivered = submit(
        &app,
        token,
        &format!("/merchant/webhooks/events/{event_id}/redeliver"),
        &[("csrf_token", &csrf), ("mode", "live")],
    )
    .await;
    assert_eq!(redelivered.status(), 303);
    for _ in 0..200 {
        if count(&event_id) == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(count(&event_id), 2);
    // Another mode's (or merchant's) event cannot be redelivered from here.
    let missing = submit(
        &app,
        token,
        &format!("/merchant/webhooks/events/{event_id}/redeliver"),
        &[("csrf_token", &csrf), ("mode", "test")],
    )
    .await;
    assert_eq!(missing.status(), 404);

    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn api_keys_are_shown_once_and_a_revoked_key_is_refused() {
    let app = TestApp::spawn().await;
    let (_merchant, login) = shop(&app).await;
    let token = login.token.as_str();
    let (_, html) = page(&app, token, "/merchant/keys").await;
    assert_eq!(row_count(table(&html, "API keys")), 2);
    let csrf = csrf_of(&html);

    let created = submit(
        &app,
        token,
        "/merchant/keys",
        &[("csrf_token", &csrf), ("mode", "test")],
    )
    .await;
    assert_eq!(created.status(), 201);
    assert_eq!(created.headers()["cache-control"], "no-store");
    assert!(created.headers().get(LOCATION).is_none());
    let html = created.text().await.unwrap();
    let key_id = text_of(&html, "new-key-id").expect("the key id");
    let secret = text_of(&html, "new-key-secret").expect("the secret");
    assert!(key_id.starts_with("mk_test_"), "{key_id}");
    let keys = table(&html, "API keys");
    assert_eq!(row_count(keys), 3);
    assert!(!keys.contains(&secret));
    let (_, later) = page(&app, token, "/merchant/keys").await;
    assert!(
        !later.contains(&secret) && !later.contains(&key_id),
        "shown once"
    );

    // The key works, and its row shows when it was last used.
    let client = MerchantClient::hmac(&app, &key_id, &secret);
    let balance = client.get("/api/v1/balance").await;
    assert_eq!(balance.status(), 200);
    let prefix = otcpay::merchants::model::key_id_display_prefix(&key_id);
    let (_, html) = page(&app, token, "/merchant/keys").await;
    let keys = table(&html, "API keys");
    let row_start = keys
        .find(&format!("<code>{prefix}…</code>"))
        .expect("the new key's row");
    let row = &keys[keys[..row_start].rfind("<tr").unwrap()..];
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(
        row.matches("<time").count() == 2 && !row.contains(">Never<"),
        "{row}"
    );
    let row_id = row
        .split("data-row-id=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_owned();

    // Revoke: the row says so and the key is refused.
    let revoked = submit(
        &app,
        token,
        &format!("/merchant/keys/{row_id}/revoke"),
        &[("csrf_token", &csrf)],
    )
    .await;
    assert_eq!(revoked.status(), 303);
    assert_eq!(location(&revoked), "/merchant/keys");
    let (_, html) = page(&app, token, "/merchant/keys").await;
    let keys = table(&html, "API keys");
    assert!(keys.contains("Revoked"));
    assert_eq!(keys.matches(">Revoke</button>").count(), 2);
    let refused = client.get("/api/v1/balance").await;
    assert_eq!(refused.status(), 401);
    // Another merchant's key id is not found.
    let missing = submit(
        &app,
        token,
        "/merchant/keys/key_nothing/revoke",
        &[("csrf_token", &csrf)],
    )
    .await;
    assert_eq!(missing.status(), 404);

    // Audited with the merchant user as the actor.
    let admin = app.admin_token().await;
    let audit: Value = app
        .get("/api/v1/admin/audit-log?limit=100", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    let entries = audit["data"].as_array().cloned().unwrap_or_default();
    assert!(
        entries
            .iter()
            .any(|e| e["action"] == "merchant.api_key.revoke"
                && e["actor_id"] == login.user_id.as_str()
                && e["actor_role"] == "merchant"),
        "{audit}"
    );

    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn withdrawals_from_the_page_with_and_without_the_second_factor() {
    let app = TestApp::spawn().await;
    let (merchant, login) = shop(&app).await;
    let acceptor = online_acceptor(&app, AcceptorSpec::default()).await;
    let token = login.token.as_str();
    let order = new_order(&merchant.live, "fund-1", "100.00").await;
    release(&app, &acceptor, &order).await;

    // The balance page: 99.00 available (100 less the 1 % fee), the credit on the statement.
    let (_, html) = page(&app, token, "/merchant/balance").await;
    assert!(
        html.contains("99.00 <span class=\"amount-code\">USDT</span>"),
        "{html}"
    );
    let statement = table(&html, "Statement");
    assert_eq!(row_count(statement), 1);
    assert!(
        statement.contains("Order paid") && statement.contains(">99.00 <span"),
        "{statement}"
    );

    // A request: the generated id makes the form idempotent.
    let (_, html) = page(&app, token, "/merchant/withdrawals").await;
    let csrf = csrf_of(&html);
    let mwd = value_of(&html, "merchant_withdrawal_id").expect("a generated id");
    let form = |amount: &'static str, address: &'static str, id: String| {
        vec![
            ("csrf_token".to_owned(), csrf.clone()),
            ("amount".to_owned(), amount.to_owned()),
            ("network".to_owned(), "tron".to_owned()),
            ("address".to_owned(), address.to_owned()),
            ("merchant_withdrawal_id".to_owned(), id),
        ]
    };
    let post = async |fields: Vec<(String, String)>| {
        let fields: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        submit(&app, token, "/merchant/withdrawals", &fields).await
    };
    let first = post(form("20.00", TRON_ADDRESS, mwd.clone())).await;
    assert_eq!(first.status(), 303);
    let twice = post(form("20.00", TRON_ADDRESS, mwd.clone())).await;
    assert_eq!(
        twice.status(),
        303,
        "a double submit is the same withdrawal"
    );
    let (_, html) = page(&app, token, "/merchant/withdrawals").await;
    let rows = table(&html, "Withdrawals");
    assert_eq!(row_count(rows), 1);
    assert!(rows.contains("In review") && rows.contains("TRC-20") && rows.contains(TRON_ADDRESS));
    assert_ne!(
        value_of(&html, "merchant_withdrawal_id").unwrap(),
        mwd,
        "a new form, a new id"
    );
    // 99 − (20 + 1 fee) = 78 available.
    assert!(html.contains("Available: 78.00 USDT"), "{html}");

    // Refusals beside the field, values kept, nothing written.
    let poor = post(form("500.00", TRON_ADDRESS, "mwd-poor".to_owned())).await;
    assert_eq!(poor.status(), 422);
    let html = poor.text().await.unwrap();
    assert!(html.contains("Not enough available balance"), "{html}");
    assert!(html.contains("value=\"500.00\""));
    let bad = post(form("20.00", "0x1234", "mwd-bad".to_owned())).await;
    assert_eq!(bad.status(), 422);
    assert!(bad.text().await.unwrap().contains("id=\"address-error\""));
    let no_csrf = submit(
        &app,
        token,
        "/merchant/withdrawals",
        &[
            ("amount", "20"),
            ("network", "tron"),
            ("address", TRON_ADDRESS),
            ("merchant_withdrawal_id", "mwd-x"),
        ],
    )
    .await;
    assert_eq!(no_csrf.status(), 403);

    // With 2FA on, the form asks for the code; a wrong one writes nothing.
    let setup: Value = app
        .post("/api/v1/auth/totp/setup", Some(token), &json!({}))
        .await
        .json()
        .await
        .unwrap();
    let secret = setup["secret"].as_str().unwrap().to_owned();
    let enabled = app
        .post(
            "/api/v1/auth/totp/enable",
            Some(token),
            &json!({"code": authenticator_code(&secret, 0)}),
        )
        .await;
    assert_eq!(enabled.status(), 200);
    let (_, html) = page(&app, token, "/merchant/withdrawals").await;
    assert!(html.contains(">Authentication code</label>"));
    let with_code = |code: String, id: &str| {
        let mut fields = form("10.00", TRON_ADDRESS, id.to_owned());
        fields.push(("totp_code".to_owned(), code));
        fields
    };
    let wrong = post(with_code("000000".to_owned(), "mwd-2fa")).await;
    assert_eq!(wrong.status(), 422);
    assert!(wrong.text().await.unwrap().contains("id=\"totp-error\""));
    let missing = post(form("10.00", TRON_ADDRESS, "mwd-2fa".to_owned())).await;
    assert_eq!(missing.status(), 422);
    let (_, html) = page(&app, token, "/merchant/withdrawals").await;
    assert_eq!(row_count(table(&html, "Withdrawals")), 1, "nothing written");
    let right = post(with_code(authenticator_code(&secret, 1), "mwd-2fa")).await;
    assert_eq!(right.status(), 303);
    let (_, html) = page(&app, token, "/merchant/withdrawals").await;
    assert_eq!(row_count(table(&html, "Withdrawals")), 2);

    // The same service as the API: the signed list sees both.
    let listed: Value = merchant
        .live
        .get("/api/v1/withdrawals")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["data"].as_array().unwrap().len(), 2, "{listed}");

    app.assert_ledger_ok().await;
}
