//! Building blocks of lifecycle scenarios, all through the public API: acceptors with
//! liquidity, quotes and payment methods; a webhook receiver; balance lookups.

use std::sync::{Arc, Mutex};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::{Value, json};

use crate::app::TestApp;

/// An acceptor as a test drives it: its id and a session token.
#[derive(Clone, Debug)]
pub struct Acceptor {
    pub id: String,
    pub email: String,
    pub token: String,
}

pub struct AcceptorSpec<'a> {
    pub name: &'a str,
    pub deposit: &'a str,
    pub fiat: &'a str,
    pub rate: &'a str,
    pub min: &'a str,
    pub max: &'a str,
    pub method: &'a str,
    pub commission_rate: &'a str,
}

impl Default for AcceptorSpec<'_> {
    fn default() -> Self {
        Self {
            name: "Acceptor",
            deposit: "10000.00",
            fiat: "CNY",
            rate: "7.20",
            min: "1.00",
            max: "5000.00",
            method: "bank_transfer",
            commission_rate: "0.004",
        }
    }
}

/// Creates an active acceptor (admin API), funds it, logs it in, publishes a quote and a
/// payment method, and puts it online.
pub async fn online_acceptor(app: &TestApp, spec: AcceptorSpec<'_>) -> Acceptor {
    let admin = app.admin_token().await;
    let email = format!("acc-{}@acceptor.test", otcpay::ids::random_hex(5));
    let password = "acceptor-password-1";
    let created = app
        .post(
            "/api/v1/admin/acceptors",
            Some(&admin),
            &json!({"email": email, "password": password, "display_name": spec.name,
                    "commission_rate": spec.commission_rate, "max_concurrent_orders": 50}),
        )
        .await;
    assert_eq!(created.status(), 201);
    let id = created.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let deposit = app
        .post(
            &format!("/api/v1/admin/acceptors/{id}/deposits"),
            Some(&admin),
            &json!({"amount": spec.deposit, "network": "tron",
                    "txid": format!("tx-{}", otcpay::ids::random_hex(8))}),
        )
        .await;
    assert_eq!(deposit.status(), 201, "{:?}", deposit.text().await);
    let login = app.login(&email, password).await;
    assert_eq!(login.status(), 200);
    let token = login.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let quote = app
        .request(
            reqwest::Method::PUT,
            &format!("/api/v1/acceptor/quotes/{}", spec.fiat),
            Some(&token),
            Some(&json!({"rate": spec.rate, "min_amount": spec.min, "max_amount": spec.max})),
        )
        .await;
    assert!(quote.status().is_success(), "{:?}", quote.text().await);
    let method = app
        .post(
            "/api/v1/acceptor/payment-methods",
            Some(&token),
            &json!({"fiat": spec.fiat, "method": spec.method,
                    "details": {"bank_name": "Test Bank", "account_name": spec.name,
                                "account_number": "6222 0000 1111"}}),
        )
        .await;
    assert_eq!(method.status(), 201, "{:?}", method.text().await);
    set_online(app, &token, true).await;
    Acceptor { id, email, token }
}

pub async fn set_online(app: &TestApp, token: &str, online: bool) {
    let response = app
        .request(
            reqwest::Method::PUT,
            "/api/v1/acceptor/online",
            Some(token),
            Some(&json!({"online": online})),
        )
        .await;
    assert_eq!(response.status(), 200);
}

/// The live ledger balance of an account, in micro-USDT (posted, available).
pub async fn ledger_balance(
    app: &TestApp,
    key: otcpay::ledger::AccountKey,
) -> otcpay::ledger::Balance {
    otcpay::ledger::balance(&app.state.db, &key).await.unwrap()
}

/// One request received by the [`WebhookReceiver`].
#[derive(Debug, Clone)]
pub struct ReceivedWebhook {
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl ReceivedWebhook {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

/// A real HTTP server on 127.0.0.1 that records every POST and answers 200.
pub struct WebhookReceiver {
    pub url: String,
    pub received: Arc<Mutex<Vec<ReceivedWebhook>>>,
}

impl WebhookReceiver {
    pub async fn start() -> Self {
        let received: Arc<Mutex<Vec<ReceivedWebhook>>> = Arc::default();
        let sink = received.clone();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = HttpServer::new(move || {
            let sink = sink.clone();
            App::new().default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
                let sink = sink.clone();
                async move {
                    let headers = req
                        .headers()
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_owned()))
                        .collect();
                    sink.lock().unwrap().push(ReceivedWebhook {
                        headers,
                        body: String::from_utf8_lossy(&body).into_owned(),
                    });
                    HttpResponse::Ok().finish()
                }
            }))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .unwrap()
        .run();
        tokio::spawn(server);
        Self {
            url: format!("http://127.0.0.1:{port}/hooks"),
            received,
        }
    }

    /// Waits (up to 15 s) until a webhook of `event_type` about `object_id` arrives.
    pub async fn wait_for(&self, event_type: &str, object_id: &str) -> ReceivedWebhook {
        for _ in 0..300 {
            let found = self
                .received
                .lock()
                .unwrap()
                .iter()
                .find(|w| {
                    let body = w.json();
                    body["type"] == event_type && body["data"]["id"] == object_id
                })
                .cloned();
            if let Some(found) = found {
                return found;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!(
            "no {event_type} webhook for {object_id}; received: {:?}",
            self.received
                .lock()
                .unwrap()
                .iter()
                .map(|w| w.body.clone())
                .collect::<Vec<_>>()
        );
    }
}

/// Verifies a Standard Webhooks signature independently of the server's code.
pub fn verify_webhook(secret: &str, webhook: &ReceivedWebhook) -> bool {
    use base64::Engine as _;
    use hmac::{KeyInit, Mac};
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.trim_start_matches("whsec_"))
        .unwrap();
    let (Some(id), Some(ts), Some(sig)) = (
        webhook.header("webhook-id"),
        webhook.header("webhook-timestamp"),
        webhook.header("webhook-signature"),
    ) else {
        return false;
    };
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{ts}.{}", webhook.body).as_bytes());
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    sig.split(' ').any(|s| s == format!("v1,{expected}"))
}
