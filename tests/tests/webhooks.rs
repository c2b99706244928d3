//! Webhooks end to end: the real server, its dispatcher, and a real HTTP receiver that
//! this test starts on 127.0.0.1 and that answers scripted statuses.
//!
//! Covered: Standard Webhooks signature (checked with the server's `verify` and an
//! independent HMAC), the exact stored body, retries on the published schedule,
//! `Retry-After`, the end of the schedule (`failed`), the `callback_url` override, the
//! missing endpoint, the SSRF guard, the attempt log and manual redelivery over signed
//! routes, tenant isolation, and the attempts metric.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use hmac::{KeyInit, Mac};
use otcpay::webhooks::{delivery, event};
use otcpay::webhooks::{dispatcher, service, signing};
use otcpay_tests::TestApp;
use otcpay_tests::app::assert_error;
use otcpay_tests::merchant::{CreatedMerchant, create_merchant};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::watch;

// ---------------------------------------------------------------------------------------
// A scripted HTTP receiver
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct Recorded {
    method: String,
    path: String,
    /// Lower-case names.
    headers: HashMap<String, String>,
    body: Vec<u8>,
    at: Instant,
}

impl Recorded {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map(String::as_str)
            .unwrap_or_else(|| panic!("header {name} missing in {:?}", self.headers))
    }
}

#[derive(Debug, Clone)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn status(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: format!("status {status}"),
        }
    }

    fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    fn with_body(mut self, body: &str) -> Self {
        self.body = body.to_owned();
        self
    }
}

/// A tiny HTTP/1.1 server: records every request and answers with the next scripted
/// reply (`200 "ok"` when the script is empty), then closes the connection.
#[derive(Clone)]
struct Receiver {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<Recorded>>>,
    script: Arc<Mutex<VecDeque<Reply>>>,
}

impl Receiver {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind receiver");
        let receiver = Self {
            addr: listener.local_addr().expect("receiver address"),
            requests: Arc::default(),
            script: Arc::default(),
        };
        let shared = receiver.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let shared = shared.clone();
                tokio::spawn(async move {
                    let _ = shared.serve(stream).await;
                });
            }
        });
        receiver
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn push(&self, reply: Reply) {
        self.script.lock().unwrap().push_back(reply);
    }

    fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }

    async fn wait_for_requests(&self, n: usize, within: Duration) -> Vec<Recorded> {
        let deadline = Instant::now() + within;
        loop {
            let seen = self.requests();
            if seen.len() >= n {
                return seen;
            }
            assert!(
                Instant::now() < deadline,
                "expected {n} requests within {within:?}, got {}",
                seen.len()
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    async fn serve(&self, mut stream: tokio::net::TcpStream) -> std::io::Result<()> {
        let mut buffer = Vec::new();
        let mut chunk = [0u8; 4096];
        let head_end = loop {
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buffer.extend_from_slice(&chunk[..n]);
            if let Some(pos) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                break pos;
            }
        };
        let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
        let mut lines = head.split("\r\n");
        let request_line = lines.next().unwrap_or_default().to_owned();
        let mut parts = request_line.split(' ');
        let method = parts.next().unwrap_or_default().to_owned();
        let path = parts.next().unwrap_or_default().to_owned();
        let headers: HashMap<String, String> = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        let length: usize = headers
            .get("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut body = buffer[head_end + 4..].to_vec();
        while body.len() < length {
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
        self.requests.lock().unwrap().push(Recorded {
            method,
            path,
            headers,
            body,
            at: Instant::now(),
        });
        let reply = self
            .script
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or_else(|| Reply::status(200).with_body("ok"));
        let mut response = format!(
            "HTTP/1.1 {} Scripted\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n",
            reply.status,
            reply.body.len()
        );
        for (name, value) in &reply.headers {
            response.push_str(&format!("{name}: {value}\r\n"));
        }
        response.push_str("\r\n");
        response.push_str(&reply.body);
        stream.write_all(response.as_bytes()).await?;
        stream.shutdown().await
    }
}

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// The server starts the dispatcher itself (startup.rs); this extra spawn is a no-op for
/// a state whose dispatcher runs, and keeps these tests independent of that wiring. The
/// returned sender must live as long as the test: dropping it would stop a loop started
/// here.
fn start_dispatcher(app: &TestApp) -> watch::Sender<bool> {
    let (tx, rx) = watch::channel(false);
    dispatcher::spawn(app.state.clone(), rx);
    tx
}

async fn merchant_with_endpoint(app: &TestApp, webhook_url: Option<&str>) -> CreatedMerchant {
    let body = match webhook_url {
        Some(url) => json!({"webhook_url": url}),
        None => json!({}),
    };
    create_merchant(app, body).await
}

async fn enqueue(
    app: &TestApp,
    merchant_id: &str,
    event_type: &str,
    data: Value,
    target_url: Option<&str>,
) -> String {
    let id = service::enqueue(
        &app.state.db,
        &otcpay::ids::MerchantId::parse(merchant_id).unwrap(),
        true,
        event_type,
        data,
        target_url,
    )
    .await
    .expect("enqueue");
    app.state.webhook_wakeup.notify_one();
    id.to_string()
}

async fn load_event(app: &TestApp, id: &str) -> event::Model {
    event::Entity::find_by_id(otcpay::ids::EventId::parse(id).expect("an event id"))
        .one(&app.state.db)
        .await
        .expect("db")
        .expect("event exists")
}

async fn attempts_of(app: &TestApp, id: &str) -> Vec<delivery::Model> {
    delivery::Entity::find()
        .filter(delivery::Column::EventId.eq(id))
        .order_by_asc(delivery::Column::Attempt)
        .order_by_asc(delivery::Column::Id)
        .all(&app.state.db)
        .await
        .expect("db")
}

/// Polls the event until `done` holds (or fails after `within`).
async fn wait_event(
    app: &TestApp,
    id: &str,
    within: Duration,
    done: impl Fn(&event::Model) -> bool,
) -> event::Model {
    let deadline = Instant::now() + within;
    loop {
        let current = load_event(app, id).await;
        if done(&current) {
            return current;
        }
        assert!(
            Instant::now() < deadline,
            "event {id} did not reach the expected state within {within:?}: {current:?}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Makes a pending event due now (fast-forwards the retry schedule) and wakes the
/// dispatcher.
async fn make_due(app: &TestApp, id: &str) {
    event::Entity::update_many()
        .col_expr(
            event::Column::NextAttemptAt,
            Expr::value(Some(otcpay::db::now_ms())),
        )
        .filter(event::Column::Id.eq(id))
        .exec(&app.state.db)
        .await
        .expect("fast-forward");
    app.state.webhook_wakeup.notify_one();
}

/// An independent Standard Webhooks signature: base64(HMAC-SHA256(base64-decoded secret,
/// "{id}.{timestamp}.{body}")).
fn independent_signature(secret: &str, id: &str, timestamp: &str, body: &[u8]) -> String {
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.strip_prefix("whsec_").expect("whsec_ prefix"))
        .expect("secret is base64");
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).expect("any key length");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    )
}

fn assert_signed(request: &Recorded, secret: &str, event_id: &str) {
    assert_eq!(request.header("webhook-id"), event_id);
    let timestamp = request.header("webhook-timestamp");
    let ts: i64 = timestamp.parse().expect("timestamp is Unix seconds");
    let now = chrono::Utc::now().timestamp();
    assert!((now - ts).abs() < 60, "timestamp {ts} is not now ({now})");
    let signature = request.header("webhook-signature");
    signing::verify(
        secret,
        event_id,
        timestamp,
        signature,
        &request.body,
        now,
        signing::DEFAULT_TOLERANCE_SECS,
    )
    .expect("the server's verify accepts the signature");
    assert_eq!(
        signature,
        independent_signature(secret, event_id, timestamp, &request.body)
    );
    // Another secret does not verify.
    assert!(
        signing::verify(
            &signing::generate_secret(),
            event_id,
            timestamp,
            signature,
            &request.body,
            now,
            signing::DEFAULT_TOLERANCE_SECS,
        )
        .is_err()
    );
}

// ---------------------------------------------------------------------------------------
// Delivery
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn an_event_is_delivered_signed_with_the_exact_stored_body() {
    let app = TestApp::spawn().await;
    let _dispatcher = start_dispatcher(&app);
    let receiver = Receiver::start().await;
    let shop = merchant_with_endpoint(&app, Some(&receiver.url("/hooks/otcpay"))).await;

    let event_id = enqueue(
        &app,
        shop.id(),
        "order.completed",
        json!({"id": "ord_x", "amount": "100.00", "note": "naïve ✓"}),
        None,
    )
    .await;
    let requests = receiver.wait_for_requests(1, Duration::from_secs(10)).await;
    let request = &requests[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/hooks/otcpay");
    assert_eq!(request.header("content-type"), "application/json");
    assert_signed(request, &shop.webhook_secret, &event_id);

    let stored = wait_event(&app, &event_id, Duration::from_secs(10), |e| {
        e.status.as_str() == "delivered"
    })
    .await;
    assert_eq!(
        request.body,
        stored.payload.as_bytes(),
        "the stored bytes, exactly"
    );
    let body: Value = serde_json::from_slice(&request.body).expect("JSON body");
    assert_eq!(body["id"], event_id.as_str());
    assert_eq!(body["type"], "order.completed");
    assert_eq!(body["data"]["note"], "naïve ✓");
    assert!(
        body["created_at"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );
    assert_eq!(stored.attempts, 1);
    assert!(stored.delivered_at.is_some());
    assert_eq!(stored.next_attempt_at, None);

    let attempts = attempts_of(&app, &event_id).await;
    assert_eq!(attempts.len(), 1);
    assert!(attempts[0].success);
    assert_eq!(attempts[0].attempt, 1);
    assert_eq!(attempts[0].status_code, Some(200));
    assert_eq!(attempts[0].response_excerpt.as_deref(), Some("ok"));
    assert_eq!(attempts[0].url, receiver.url("/hooks/otcpay"));
    assert_eq!(attempts[0].error, None);

    // Nothing more is sent for a delivered event.
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(receiver.requests().len(), 1);

    let metrics = app.get("/metrics", None).await.text().await.unwrap();
    assert!(
        metrics.contains(r#"webhook_attempts_total{result="success"} 1"#),
        "{metrics}"
    );
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn a_failed_attempt_is_retried_after_about_five_seconds_then_delivered() {
    let app = TestApp::spawn().await;
    let _dispatcher = start_dispatcher(&app);
    let receiver = Receiver::start().await;
    receiver.push(Reply::status(500).with_body("boom"));
    let shop = merchant_with_endpoint(&app, Some(&receiver.url("/cb"))).await;

    let event_id = enqueue(&app, shop.id(), "order.paid", json!({"n": 1}), None).await;
    let first = wait_event(&app, &event_id, Duration::from_secs(10), |e| {
        e.attempts == 1
    })
    .await;
    assert_eq!(first.status.as_str(), "pending");
    let next = first.next_attempt_at.expect("a retry is scheduled");
    let last = first.last_attempt_at.expect("attempted");
    let delay = next - last;
    assert!(
        (4_000..=6_000).contains(&delay),
        "the first retry is 5 s ± 20 %, got {delay} ms"
    );

    let requests = receiver.wait_for_requests(2, Duration::from_secs(12)).await;
    let gap = requests[1].at.duration_since(requests[0].at);
    assert!(
        gap >= Duration::from_millis(3_900),
        "retried too early: {gap:?}"
    );
    assert_eq!(
        requests[0].body, requests[1].body,
        "same bytes every attempt"
    );
    assert_eq!(requests[1].header("webhook-id"), event_id);
    assert_signed(&requests[1], &shop.webhook_secret, &event_id);

    let done = wait_event(&app, &event_id, Duration::from_secs(10), |e| {
        e.status.as_str() == "delivered"
    })
    .await;
    assert_eq!(done.attempts, 2);
    let attempts = attempts_of(&app, &event_id).await;
    assert_eq!(attempts.len(), 2);
    assert_eq!(
        (
            attempts[0].attempt,
            attempts[0].success,
            attempts[0].status_code
        ),
        (1, false, Some(500))
    );
    assert_eq!(attempts[0].response_excerpt.as_deref(), Some("boom"));
    assert_eq!(
        (
            attempts[1].attempt,
            attempts[1].success,
            attempts[1].status_code
        ),
        (2, true, Some(200))
    );
    assert!(attempts.iter().all(|a| a.duration_ms >= 0));

    let metrics = app.get("/metrics", None).await.text().await.unwrap();
    assert!(metrics.contains(r#"webhook_attempts_total{result="failure"} 1"#));
    assert!(metrics.contains(r#"webhook_attempts_total{result="success"} 1"#));
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn retry_after_is_honoured_when_longer_than_the_schedule() {
    let app = TestApp::spawn().await;
    let _dispatcher = start_dispatcher(&app);
    let receiver = Receiver::start().await;
    receiver.push(Reply::status(503).with_header("Retry-After", "3600"));
    let shop = merchant_with_endpoint(&app, Some(&receiver.url("/cb"))).await;

    let event_id = enqueue(&app, shop.id(), "order.paid", json!({}), None).await;
    let after = wait_event(&app, &event_id, Duration::from_secs(10), |e| {
        e.attempts == 1
    })
    .await;
    assert_eq!(after.status.as_str(), "pending");
    let delay = after.next_attempt_at.unwrap() - after.last_attempt_at.unwrap();
    assert!(
        (3_599_000..=3_601_000).contains(&delay),
        "Retry-After: 3600 → next attempt in an hour, got {delay} ms"
    );

    // A Retry-After beyond 10 h is capped at 10 h.
    receiver.push(Reply::status(429).with_header("Retry-After", "604800"));
    make_due(&app, &event_id).await;
    let capped = wait_event(&app, &event_id, Duration::from_secs(10), |e| {
        e.attempts == 2
    })
    .await;
    let delay = capped.next_attempt_at.unwrap() - capped.last_attempt_at.unwrap();
    assert!(
        (35_999_000..=36_001_000).contains(&delay),
        "capped at 10 h, got {delay} ms"
    );

    // A short Retry-After does not shorten the schedule (5 min after the 3rd attempt).
    receiver.push(Reply::status(503).with_header("Retry-After", "1"));
    make_due(&app, &event_id).await;
    let short = wait_event(&app, &event_id, Duration::from_secs(10), |e| {
        e.attempts == 3
    })
    .await;
    let delay = short.next_attempt_at.unwrap() - short.last_attempt_at.unwrap();
    assert!(
        (1_440_000..=2_160_000).contains(&delay),
        "30 min ± 20 % after the third attempt, got {delay} ms"
    );
    assert_eq!(receiver.requests().len(), 3);
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn an_event_fails_after_the_last_scheduled_attempt() {
    let app = TestApp::spawn().await;
    let _dispatcher = start_dispatcher(&app);
    let receiver = Receiver::start().await;
    for _ in 0..10 {
        receiver.push(Reply::status(500));
    }
    let shop = merchant_with_endpoint(&app, Some(&receiver.url("/cb"))).await;

    let event_id = enqueue(&app, shop.id(), "order.expired", json!({}), None).await;
    // Immediately, then 7 scheduled retries (fast-forwarded): 8 attempts in all.
    for attempt in 1..=8 {
        let current = wait_event(&app, &event_id, Duration::from_secs(10), |e| {
            e.attempts == attempt
        })
        .await;
        if attempt < 8 {
            assert_eq!(
                current.status.as_str(),
                "pending",
                "after attempt {attempt}"
            );
            make_due(&app, &event_id).await;
        }
    }
    let failed = wait_event(&app, &event_id, Duration::from_secs(5), |e| {
        e.status.as_str() == "failed"
    })
    .await;
    assert_eq!(failed.attempts, 8);
    assert_eq!(failed.next_attempt_at, None);

    // No ninth attempt, even when asked to look.
    make_due(&app, &event_id).await;
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    assert_eq!(receiver.requests().len(), 8);
    let attempts = attempts_of(&app, &event_id).await;
    assert_eq!(
        attempts.iter().map(|a| a.attempt).collect::<Vec<_>>(),
        (1..=8).collect::<Vec<_>>()
    );
    assert!(
        attempts
            .iter()
            .all(|a| !a.success && a.status_code == Some(500))
    );
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn a_callback_url_overrides_the_merchant_endpoint() {
    let app = TestApp::spawn().await;
    let _dispatcher = start_dispatcher(&app);
    let merchant_endpoint = Receiver::start().await;
    let order_callback = Receiver::start().await;
    let shop = merchant_with_endpoint(&app, Some(&merchant_endpoint.url("/default"))).await;

    let with_callback = enqueue(
        &app,
        shop.id(),
        "order.completed",
        json!({"id": "ord_1"}),
        Some(&order_callback.url("/orders/cb?ref=1")),
    )
    .await;
    let requests = order_callback
        .wait_for_requests(1, Duration::from_secs(10))
        .await;
    assert_eq!(requests[0].path, "/orders/cb?ref=1");
    assert_signed(&requests[0], &shop.webhook_secret, &with_callback);
    wait_event(&app, &with_callback, Duration::from_secs(10), |e| {
        e.status.as_str() == "delivered"
    })
    .await;
    assert!(merchant_endpoint.requests().is_empty());

    // Without one, the merchant endpoint gets it.
    let without = enqueue(&app, shop.id(), "withdrawal.reviewed", json!({}), None).await;
    let requests = merchant_endpoint
        .wait_for_requests(1, Duration::from_secs(10))
        .await;
    assert_eq!(requests[0].path, "/default");
    assert_eq!(requests[0].header("webhook-id"), without);
    assert_eq!(order_callback.requests().len(), 1);
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn an_event_without_any_endpoint_fails_with_no_endpoint() {
    let app = TestApp::spawn().await;
    let _dispatcher = start_dispatcher(&app);
    let shop = merchant_with_endpoint(&app, None).await;
    let event_id = enqueue(&app, shop.id(), "order.assigned", json!({}), None).await;
    let failed = wait_event(&app, &event_id, Duration::from_secs(10), |e| {
        e.status.as_str() == "failed"
    })
    .await;
    assert_eq!(failed.attempts, 1);
    let attempts = attempts_of(&app, &event_id).await;
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0].error.as_deref(), Some("no endpoint"));
    assert!(!attempts[0].success);
    assert_eq!(attempts[0].status_code, None);
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn private_addresses_are_refused_when_not_allowed() {
    let app = TestApp::spawn_with(|s| s.allow_private_webhooks = Some(false)).await;
    assert!(!app.state.settings.allow_private_webhooks());
    let _dispatcher = start_dispatcher(&app);
    let receiver = Receiver::start().await;
    // The loopback endpoint cannot be saved; stored as if it had resolved publicly then.
    let shop = merchant_with_endpoint(&app, None).await;
    otcpay_tests::merchant::store_endpoint_unchecked(&app, shop.id(), &receiver.url("/cb")).await;

    let by_ip = enqueue(&app, shop.id(), "order.paid", json!({}), None).await;
    let by_name = enqueue(
        &app,
        shop.id(),
        "order.paid",
        json!({}),
        Some(&format!("http://localhost:{}/cb", receiver.addr.port())),
    )
    .await;
    let metadata = enqueue(
        &app,
        shop.id(),
        "order.paid",
        json!({}),
        Some("http://169.254.169.254/latest/meta-data/"),
    )
    .await;
    let unsupported = enqueue(
        &app,
        shop.id(),
        "order.paid",
        json!({}),
        Some("ftp://files.example/cb"),
    )
    .await;
    for id in [&by_ip, &by_name, &metadata] {
        let refused = wait_event(&app, id, Duration::from_secs(10), |e| e.attempts == 1).await;
        // A failed attempt like any other: retried on the schedule.
        assert_eq!(refused.status.as_str(), "pending");
        assert!(refused.next_attempt_at.is_some());
        let attempts = attempts_of(&app, id).await;
        assert_eq!(attempts.len(), 1);
        assert_eq!(attempts[0].error.as_deref(), Some("address not allowed"));
        assert_eq!(attempts[0].status_code, None);
        assert!(!attempts[0].success);
    }
    wait_event(&app, &unsupported, Duration::from_secs(10), |e| {
        e.attempts == 1
    })
    .await;
    let attempts = attempts_of(&app, &unsupported).await;
    assert!(
        attempts[0]
            .error
            .as_deref()
            .is_some_and(|e| e.contains("scheme")),
        "{attempts:?}"
    );
    // No request ever reached the private receiver.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(receiver.requests().is_empty());
    app.assert_ledger_ok().await;
}

// ---------------------------------------------------------------------------------------
// Signed routes
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn the_attempt_log_lists_this_merchants_attempts_newest_first() {
    let app = TestApp::spawn().await;
    let _dispatcher = start_dispatcher(&app);
    let receiver = Receiver::start().await;
    let shop = merchant_with_endpoint(&app, Some(&receiver.url("/cb"))).await;
    let other = merchant_with_endpoint(&app, Some(&receiver.url("/other"))).await;

    let ok = enqueue(&app, shop.id(), "order.completed", json!({}), None).await;
    wait_event(&app, &ok, Duration::from_secs(10), |e| {
        e.status.as_str() == "delivered"
    })
    .await;
    receiver.push(Reply::status(502).with_body("bad gateway"));
    let failing = enqueue(&app, shop.id(), "order.cancelled", json!({}), None).await;
    wait_event(&app, &failing, Duration::from_secs(10), |e| e.attempts == 1).await;
    let foreign = enqueue(&app, other.id(), "order.paid", json!({}), None).await;
    wait_event(&app, &foreign, Duration::from_secs(10), |e| {
        e.status.as_str() == "delivered"
    })
    .await;

    let response = shop.live.get("/api/v1/webhooks/deliveries").await;
    assert_eq!(response.status(), 200);
    let page: Value = response.json().await.unwrap();
    assert_eq!(page["has_more"], false);
    let data = page["data"].as_array().unwrap();
    assert_eq!(data.len(), 2, "only this merchant's attempts: {page}");
    let newest = &data[0];
    assert_eq!(newest["event_id"], failing.as_str());
    assert_eq!(newest["event_type"], "order.cancelled");
    assert_eq!(newest["url"], receiver.url("/cb").as_str());
    assert_eq!(newest["attempt"], 1);
    assert_eq!(newest["success"], false);
    assert_eq!(newest["status_code"], 502);
    assert_eq!(newest["error"], Value::Null);
    assert_eq!(newest["response_excerpt"], "bad gateway");
    assert!(newest["duration_ms"].as_i64().is_some_and(|d| d >= 0));
    assert!(
        newest["created_at"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );
    assert!(newest["id"].as_str().is_some());
    let mut keys: Vec<&str> = newest
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "attempt",
            "created_at",
            "duration_ms",
            "error",
            "event_id",
            "event_type",
            "id",
            "response_excerpt",
            "status_code",
            "success",
            "url"
        ]
    );
    assert_eq!(data[1]["event_id"], ok.as_str());
    assert_eq!(data[1]["success"], true);

    // Filters.
    let by_event: Value = shop
        .live
        .get(&format!("/api/v1/webhooks/deliveries?event_id={ok}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(by_event["data"].as_array().unwrap().len(), 1);
    assert_eq!(by_event["data"][0]["event_id"], ok.as_str());
    let succeeded: Value = shop
        .live
        .get("/api/v1/webhooks/deliveries?status=succeeded")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(succeeded["data"].as_array().unwrap().len(), 1);
    assert_eq!(succeeded["data"][0]["success"], true);
    let failed: Value = shop
        .live
        .get("/api/v1/webhooks/deliveries?status=failed")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(failed["data"].as_array().unwrap().len(), 1);
    assert_eq!(failed["data"][0]["event_id"], failing.as_str());
    let foreign_event: Value = shop
        .live
        .get(&format!("/api/v1/webhooks/deliveries?event_id={foreign}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(foreign_event["data"], json!([]));
    let bad = shop
        .live
        .get("/api/v1/webhooks/deliveries?status=delivered")
        .await;
    let body = assert_error(bad, 400, "invalid_request").await;
    assert_eq!(body["error"]["param"], "status");

    // Pagination.
    let first: Value = shop
        .live
        .get("/api/v1/webhooks/deliveries?limit=1")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["has_more"], true);
    assert_eq!(first["data"][0]["event_id"], failing.as_str());
    let cursor = first["data"][0]["id"].as_str().unwrap();
    let second: Value = shop
        .live
        .get(&format!(
            "/api/v1/webhooks/deliveries?limit=1&starting_after={cursor}"
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(second["has_more"], false);
    assert_eq!(second["data"][0]["event_id"], ok.as_str());
    let too_many = shop.live.get("/api/v1/webhooks/deliveries?limit=101").await;
    assert_error(too_many, 400, "invalid_request").await;

    // The sandbox key sees the sandbox log (empty here).
    let sandbox: Value = shop
        .test
        .get("/api/v1/webhooks/deliveries")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(sandbox, json!({"data": [], "has_more": false}));

    // Unsigned.
    let unsigned = app.get("/api/v1/webhooks/deliveries", None).await;
    assert_error(unsigned, 401, "missing_credentials").await;
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn redelivery_queues_one_more_immediate_attempt() {
    let app = TestApp::spawn().await;
    let _dispatcher = start_dispatcher(&app);
    let receiver = Receiver::start().await;
    let shop = merchant_with_endpoint(&app, Some(&receiver.url("/cb"))).await;
    let other = merchant_with_endpoint(&app, None).await;

    // A delivered event is sent again, with the same id and body.
    let event_id = enqueue(&app, shop.id(), "order.completed", json!({"k": 1}), None).await;
    wait_event(&app, &event_id, Duration::from_secs(10), |e| {
        e.status.as_str() == "delivered"
    })
    .await;
    let path = format!("/api/v1/webhooks/events/{event_id}/redeliver");
    let response = shop.live.post_empty(&path).await;
    assert_eq!(response.status(), 202);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, json!({"id": event_id, "status": "pending"}));
    let requests = receiver.wait_for_requests(2, Duration::from_secs(10)).await;
    assert_eq!(requests[0].body, requests[1].body);
    assert_signed(&requests[1], &shop.webhook_secret, &event_id);
    let again = wait_event(&app, &event_id, Duration::from_secs(10), |e| {
        e.status.as_str() == "delivered" && e.attempts == 2
    })
    .await;
    assert!(again.delivered_at.is_some());

    // A failed event gets exactly one more attempt.
    let no_endpoint = enqueue(&app, other.id(), "order.paid", json!({}), None).await;
    wait_event(&app, &no_endpoint, Duration::from_secs(10), |e| {
        e.status.as_str() == "failed"
    })
    .await;
    let response = other
        .live
        .post_empty(&format!("/api/v1/webhooks/events/{no_endpoint}/redeliver"))
        .await;
    assert_eq!(response.status(), 202);
    wait_event(&app, &no_endpoint, Duration::from_secs(10), |e| {
        e.status.as_str() == "failed" && e.attempts == 2
    })
    .await;

    // The attempt log shows the redelivery as attempt 2.
    let log: Value = shop
        .live
        .get(&format!("/api/v1/webhooks/deliveries?event_id={event_id}"))
        .await
        .json()
        .await
        .unwrap();
    let attempts: Vec<i64> = log["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["attempt"].as_i64().unwrap())
        .collect();
    assert_eq!(attempts, vec![2, 1]);

    // Another merchant's event, the other mode's key, and unknown ids are not found.
    let foreign = other.live.post_empty(&path).await;
    assert_error(foreign, 404, "not_found").await;
    let sandbox = shop.test.post_empty(&path).await;
    assert_error(sandbox, 404, "not_found").await;
    let unknown = shop
        .live
        .post_empty("/api/v1/webhooks/events/evt_01J0000000000000000000000/redeliver")
        .await;
    assert_error(unknown, 404, "not_found").await;
    let wrong_method = shop.live.get(&path).await;
    assert_error(wrong_method, 405, "method_not_allowed").await;
    // Nothing was queued by the refused calls.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.requests().len(), 2);
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let app = TestApp::spawn().await;
    let _dispatcher = start_dispatcher(&app);
    let elsewhere = Receiver::start().await;
    let receiver = Receiver::start().await;
    receiver.push(Reply::status(302).with_header("Location", &elsewhere.url("/stolen")));
    let shop = merchant_with_endpoint(&app, Some(&receiver.url("/cb"))).await;
    let event_id = enqueue(&app, shop.id(), "order.paid", json!({}), None).await;
    let after = wait_event(&app, &event_id, Duration::from_secs(10), |e| {
        e.attempts == 1
    })
    .await;
    assert_eq!(
        after.status.as_str(),
        "pending",
        "a 3xx is not an acknowledgement"
    );
    let attempts = attempts_of(&app, &event_id).await;
    assert_eq!(attempts[0].status_code, Some(302));
    assert!(!attempts[0].success);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(elsewhere.requests().is_empty());
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn concurrent_claims_never_hand_out_an_event_twice() {
    use sea_orm::TransactionTrait;

    let app = TestApp::spawn().await;
    let shop = merchant_with_endpoint(&app, None).await;
    // Events due in a day, so that no dispatcher running on real time takes them; the
    // claims below use that future clock.
    let later = otcpay::db::now_ms() + 24 * 3600 * 1000;
    let txn = app.state.db.begin().await.unwrap();
    let mut ids = Vec::new();
    for i in 0..40 {
        ids.push(
            service::enqueue(
                &txn,
                &otcpay::ids::MerchantId::parse(shop.id()).unwrap(),
                true,
                "order.paid",
                json!({"i": i}),
                None,
            )
            .await
            .unwrap(),
        );
    }
    event::Entity::update_many()
        .col_expr(event::Column::NextAttemptAt, Expr::value(Some(later)))
        .filter(event::Column::Id.is_in(ids.clone()))
        .exec(&txn)
        .await
        .unwrap();
    txn.commit().await.unwrap();

    let lease = 60_000;
    let claims = futures_util::future::join_all((0..4).map(|_| {
        let db = app.state.db.clone();
        async move { service::claim_due(&db, later, 15, lease).await.unwrap() }
    }))
    .await;
    let mut claimed: Vec<String> = claims.iter().flatten().map(|e| e.id.to_string()).collect();
    assert!(claims.iter().all(|batch| batch.len() <= 15));
    assert!(
        claims
            .iter()
            .flatten()
            .all(|e| e.next_attempt_at == Some(later + lease))
    );
    let total = claimed.len();
    claimed.sort();
    claimed.dedup();
    assert_eq!(claimed.len(), total, "an event was claimed twice");
    assert_eq!(total, 40, "4 × 15 claims cover the 40 due events");

    // Leased: nothing is due until the lease runs out, then everything is again.
    assert!(
        service::claim_due(&app.state.db, later, 32, lease)
            .await
            .unwrap()
            .is_empty()
    );
    let again = service::claim_due(&app.state.db, later + lease, 100, lease)
        .await
        .unwrap();
    assert_eq!(again.len(), 40);
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn startup_runs_one_dispatcher_and_a_second_spawn_is_a_no_op() {
    let app = TestApp::spawn().await;
    // The server already runs the dispatcher of this state: another spawn for the same
    // state ends at once instead of starting a second loop.
    let (_tx, rx) = watch::channel(false);
    let handle = dispatcher::spawn(app.state.clone(), rx);
    tokio::time::timeout(Duration::from_secs(5), handle)
        .await
        .expect("a second dispatcher for one state returns at once")
        .expect("and does not panic");
    // And the running one delivers.
    let receiver = Receiver::start().await;
    let shop = merchant_with_endpoint(&app, Some(&receiver.url("/cb"))).await;
    let event_id = enqueue(&app, shop.id(), "order.paid", json!({}), None).await;
    wait_event(&app, &event_id, Duration::from_secs(10), |e| {
        e.status.as_str() == "delivered"
    })
    .await;
    assert_eq!(receiver.requests().len(), 1);
    app.assert_ledger_ok().await;
}
