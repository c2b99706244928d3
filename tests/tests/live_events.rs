//! Live events: the acceptor's Server-Sent Events stream and the cashier's, including
//! fan-out across nodes through Redis (an event produced on one node reaches a stream
//! served by another).

use std::time::Duration;

use otcpay::config::Secret;
use otcpay_tests::TestApp;
use otcpay_tests::merchant::create_merchant;
use otcpay_tests::scenario::{AcceptorSpec, online_acceptor};
use otcpay_tests::sse::read_until;
use serde_json::json;

fn redis_url() -> String {
    otcpay_tests::db::redis_url().unwrap_or_else(|| "redis://127.0.0.1:6379".to_owned())
}

/// Reads an SSE response until `needle` appears (or panics after 10 s).

#[tokio::test]
async fn an_acceptor_stream_on_another_node_sees_the_assignment() {
    let prefix = format!("otcpay-live-{}:", otcpay::ids::random_hex(6));
    let node_a = TestApp::spawn_with(|s| {
        s.redis_url = Some(Secret::new(redis_url()));
        s.redis_prefix = prefix.clone();
    })
    .await;
    let (node_b, _) = node_a.spawn_node(|_| {}).await;
    let merchant = create_merchant(&node_a, json!({})).await;
    let acceptor = online_acceptor(&node_a, AcceptorSpec::default()).await;

    let stream = node_a
        .client
        .get(format!("{node_b}/api/v1/acceptor/events"))
        .bearer_auth(&acceptor.token)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    assert!(
        stream.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    // Give the subscription a moment to be in place before the event is produced.
    tokio::time::sleep(Duration::from_millis(200)).await;

    let created = merchant
        .live
        .post(
            "/api/v1/orders",
            &json!({"merchant_order_id": "live-1", "amount": "10.00", "fiat_currency": "CNY"}),
        )
        .await;
    assert_eq!(created.status(), 201);
    let id = created.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let seen = read_until(stream, &id).await;
    assert!(seen.contains("event: order.assigned"), "{seen}");
    node_a.assert_ledger_ok().await;
}

#[tokio::test]
async fn the_cashier_stream_reports_payment_and_completion() {
    let app = TestApp::spawn().await;
    let merchant = create_merchant(&app, json!({})).await;
    let acceptor = online_acceptor(&app, AcceptorSpec::default()).await;
    let created: serde_json::Value = merchant
        .live
        .post(
            "/api/v1/orders",
            &json!({"merchant_order_id": "live-2", "amount": "10.00", "fiat_currency": "CNY"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let token = created["cashier_url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let stream = app.get(&format!("/pay/{token}/events"), None).await;
    assert_eq!(stream.status(), 200);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let paid = app
        .post(&format!("/pay/{token}/paid"), None, &json!({}))
        .await;
    assert_eq!(paid.status(), 200);
    let confirmed = app
        .post(
            &format!(
                "/api/v1/acceptor/orders/{}/confirm",
                created["id"].as_str().unwrap()
            ),
            Some(&acceptor.token),
            &json!({}),
        )
        .await;
    assert_eq!(confirmed.status(), 200);
    let seen = read_until(stream, "event: order.completed").await;
    assert!(seen.contains("event: order.paid"), "{seen}");
    assert_error_free(&seen);
    app.assert_ledger_ok().await;
}

fn assert_error_free(stream_text: &str) {
    assert!(!stream_text.contains("event: lagged"), "{stream_text}");
}

/// The `id:` of the last event a client saw, from the stream's text.
fn last_id(stream_text: &str) -> String {
    stream_text
        .lines()
        .rev()
        .find_map(|line| line.strip_prefix("id: "))
        .expect("events carry an id")
        .to_owned()
}

/// An acceptor's client that loses its connection and comes back with `Last-Event-ID`
/// is first told the current state of what changed meanwhile; without it, nothing is
/// replayed (a fresh client reads the state itself).
#[tokio::test]
async fn a_reconnect_with_last_event_id_replays_what_changed_meanwhile() {
    let app = TestApp::spawn().await;
    let merchant = create_merchant(&app, json!({})).await;
    let acceptor = online_acceptor(&app, AcceptorSpec::default()).await;
    let first = app
        .get("/api/v1/acceptor/events", Some(&acceptor.token))
        .await;
    assert_eq!(first.status(), 200);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let created: serde_json::Value = merchant
        .live
        .post(
            "/api/v1/orders",
            &json!({"merchant_order_id": "resume-1", "amount": "10.00", "fiat_currency": "CNY"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let order_id = created["id"].as_str().unwrap().to_owned();
    let seen = read_until(first, "event: order.assigned").await;
    let last = last_id(&seen);
    // The connection is gone (dropped above); the customer pays meanwhile.
    tokio::time::sleep(Duration::from_millis(50)).await;
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

    let resumed = reqwest::Client::new()
        .get(app.url("/api/v1/acceptor/events"))
        .bearer_auth(&acceptor.token)
        .header("Last-Event-ID", &last)
        .send()
        .await
        .unwrap();
    assert_eq!(resumed.status(), 200);
    let replay = read_until(resumed, "event: order.paid").await;
    assert!(replay.contains(&order_id), "{replay}");
    assert!(
        replay.contains("\"status\":\"paid\""),
        "the current state: {replay}"
    );

    // The cashier's stream resumes the same way.
    let cashier = reqwest::Client::new()
        .get(app.url(&format!("/pay/{token}/events")))
        .header("Last-Event-ID", &last)
        .send()
        .await
        .unwrap();
    let replay = read_until(cashier, "event: order.paid").await;
    assert!(replay.contains(&order_id), "{replay}");

    // A first connection gets no replay: only the opening comment.
    let fresh = app
        .get("/api/v1/acceptor/events", Some(&acceptor.token))
        .await;
    let mut body = fresh.bytes_stream();
    use futures_util::StreamExt;
    let opening = tokio::time::timeout(Duration::from_secs(5), body.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(&opening[..], b": connected\n\n");
    app.assert_ledger_ok().await;
}
