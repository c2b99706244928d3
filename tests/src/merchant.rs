//! The merchant's side of the API, for tests: create a merchant through the admin API
//! and get clients that sign requests exactly as API.md's Python does.
//!
//! ```text
//! let app = TestApp::spawn().await;
//! let shop = create_merchant(&app, json!({"default_fiat": "CNY"})).await;
//! let response = shop.live.post("/api/v1/orders", &json!({...})).await;   // signed, live
//! let sandbox = shop.test.get("/api/v1/balance").await;                   // signed, test mode
//! ```
//!
//! Signing: `Signature-V1` = lowercase hex HMAC-SHA256(secret, `Request-Time + METHOD +
//! path_and_query + body`), the secret's UTF-8 bytes as the key; for ECDSA keys the hex
//! DER ECDSA-P256-SHA256 signature of the same message. `path` must be the request
//! target exactly as sent (already percent-encoded, with its query string).
//! Each client hands out strictly increasing `Request-Time`s, so two requests in the
//! same millisecond never share a signature (which the server would call a replay).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use otcpay::merchants::auth::p256;
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{DerSignature, SigningKey};
use p256::pkcs8::{EncodePublicKey, LineEnding};
use reqwest::{Client, Method, Response};
use serde_json::{Value, json};

use crate::app::TestApp;

/// How a client signs.
#[derive(Clone, Debug)]
pub enum Signer {
    /// HMAC-SHA256 with [`MerchantClient::secret`].
    Hmac,
    /// ECDSA P-256 with this private key (the server has its public key).
    Ecdsa(SigningKey),
}

/// A signing client for one API key.
#[derive(Clone, Debug)]
pub struct MerchantClient {
    /// `http://127.0.0.1:<port>`, no trailing slash.
    pub app_base: String,
    /// `mk_live_…` or `mk_test_…`.
    pub key_id: String,
    /// The HMAC secret; empty for ECDSA keys.
    pub secret: String,
    pub livemode: bool,
    pub client: Client,
    pub signer: Signer,
    last_request_time: Arc<AtomicI64>,
}

impl MerchantClient {
    pub fn hmac(app: &TestApp, key_id: &str, secret: &str) -> Self {
        Self::new(app, key_id, secret.to_owned(), Signer::Hmac)
    }

    pub fn ecdsa(app: &TestApp, key_id: &str, signing_key: SigningKey) -> Self {
        Self::new(app, key_id, String::new(), Signer::Ecdsa(signing_key))
    }

    fn new(app: &TestApp, key_id: &str, secret: String, signer: Signer) -> Self {
        Self {
            app_base: app.address.clone(),
            key_id: key_id.to_owned(),
            secret,
            livemode: key_id.starts_with("mk_live_"),
            client: app.client.clone(),
            signer,
            last_request_time: Arc::new(AtomicI64::new(0)),
        }
    }

    /// A copy of this client that signs with another HMAC secret (for negative tests).
    pub fn with_secret(&self, secret: &str) -> Self {
        Self {
            secret: secret.to_owned(),
            signer: Signer::Hmac,
            ..self.clone()
        }
    }

    /// Now in Unix ms, but always later than the previous value this client handed out.
    pub fn next_request_time(&self) -> i64 {
        let now = chrono::Utc::now().timestamp_millis();
        let previous = self
            .last_request_time
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |last| {
                Some(now.max(last + 1))
            })
            .unwrap_or(now);
        now.max(previous + 1)
    }

    /// `Signature-V1` for this message.
    pub fn sign(&self, request_time: &str, method: &str, path: &str, body: &[u8]) -> String {
        let mut message = Vec::new();
        message.extend_from_slice(request_time.as_bytes());
        message.extend_from_slice(method.as_bytes());
        message.extend_from_slice(path.as_bytes());
        message.extend_from_slice(body);
        match &self.signer {
            Signer::Hmac => {
                use hmac::{KeyInit, Mac};
                let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(self.secret.as_bytes())
                    .expect("HMAC takes any key length");
                mac.update(&message);
                hex::encode(mac.finalize().into_bytes())
            }
            Signer::Ecdsa(key) => {
                let signature: DerSignature = key.sign(&message);
                hex::encode(signature.as_bytes())
            }
        }
    }

    /// The three authentication headers for a request signed now.
    pub fn signed_headers(
        &self,
        method: &Method,
        path: &str,
        body: &[u8],
    ) -> Vec<(String, String)> {
        let time = self.next_request_time().to_string();
        let signature = self.sign(&time, method.as_str(), path, body);
        vec![
            ("API-Key".to_owned(), self.key_id.clone()),
            ("Request-Time".to_owned(), time),
            ("Signature-V1".to_owned(), signature),
        ]
    }

    /// Sends a signed request. `overrides` adjust the headers after signing:
    /// `(name, Some(value))` sets a header, `(name, None)` removes it. An overridden
    /// `Request-Time` is signed as sent (so an old time gives a valid signature of a stale
    /// request); an overridden `Signature-V1` replaces the computed one. A body is sent
    /// as `application/json`.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<&[u8]>,
        overrides: &[(&str, Option<&str>)],
    ) -> Response {
        let body = body.unwrap_or_default();
        let time = overrides
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("Request-Time"))
            .and_then(|(_, value)| value.map(str::to_owned))
            .unwrap_or_else(|| self.next_request_time().to_string());
        let signature = self.sign(&time, method.as_str(), path, body);
        let mut headers: Vec<(String, String)> = vec![
            ("API-Key".to_owned(), self.key_id.clone()),
            ("Request-Time".to_owned(), time),
            ("Signature-V1".to_owned(), signature),
        ];
        for (name, value) in overrides {
            headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
            if let Some(value) = value {
                headers.push(((*name).to_owned(), (*value).to_owned()));
            }
        }
        let mut request = self
            .client
            .request(method.clone(), format!("{}{path}", self.app_base));
        for (name, value) in headers {
            request = request.header(name, value);
        }
        if !body.is_empty() {
            request = request
                .header("content-type", "application/json")
                .body(body.to_vec());
        }
        let response = request.send().await.expect("request sent");
        crate::contract::check(&method, path, response).await
    }

    pub async fn get(&self, path: &str) -> Response {
        self.request(Method::GET, path, None, &[]).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Response {
        let bytes = serde_json::to_vec(body).expect("json");
        self.request(Method::POST, path, Some(&bytes), &[]).await
    }

    /// A signed POST without a body.
    pub async fn post_empty(&self, path: &str) -> Response {
        self.request(Method::POST, path, None, &[]).await
    }

    pub async fn delete(&self, path: &str) -> Response {
        self.request(Method::DELETE, path, None, &[]).await
    }
}

/// A merchant as created by the admin API, with a client per initial key.
#[derive(Clone, Debug)]
pub struct CreatedMerchant {
    /// The `merchant` object of the creation response.
    pub merchant: Value,
    /// Signs with the live HMAC key (`mk_live_…`).
    pub live: MerchantClient,
    /// Signs with the test HMAC key (`mk_test_…`, sandbox).
    pub test: MerchantClient,
    /// `whsec_…`, for verifying webhook signatures.
    pub webhook_secret: String,
}

impl CreatedMerchant {
    /// The `mch_…` id.
    pub fn id(&self) -> &str {
        self.merchant["id"].as_str().expect("merchant id")
    }
}

/// Creates a merchant through `POST /api/v1/admin/merchants` and asserts `201`.
/// `body` may be `json!({})`: a missing `name`, `email` (unique per call) or `fee_rate`
/// (`"0.01"`) is filled in; any other field is passed through.
pub async fn create_merchant(app: &TestApp, body: Value) -> CreatedMerchant {
    let mut body = match body {
        Value::Object(map) => map,
        other => panic!("create_merchant takes a JSON object, not {other}"),
    };
    body.entry("name").or_insert_with(|| json!("Test Shop"));
    body.entry("email")
        .or_insert_with(|| json!(format!("shop-{}@merchant.test", otcpay::ids::random_hex(6))));
    body.entry("fee_rate").or_insert_with(|| json!("0.01"));
    let token = app.admin_token().await;
    let response = app
        .post(
            "/api/v1/admin/merchants",
            Some(&token),
            &Value::Object(body),
        )
        .await;
    let status = response.status();
    let created: Value = response.json().await.expect("merchant creation json");
    assert_eq!(status, 201, "merchant creation: {created}");
    let key = |name: &str, field: &str| {
        created[name][field]
            .as_str()
            .unwrap_or_else(|| panic!("{name}.{field} in {created}"))
            .to_owned()
    };
    CreatedMerchant {
        live: MerchantClient::hmac(app, &key("api_key", "key_id"), &key("api_key", "secret")),
        test: MerchantClient::hmac(
            app,
            &key("test_api_key", "key_id"),
            &key("test_api_key", "secret"),
        ),
        webhook_secret: created["webhook_secret"]
            .as_str()
            .expect("webhook_secret")
            .to_owned(),
        merchant: created["merchant"].clone(),
    }
}

/// A fresh random P-256 private key.
pub fn random_signing_key() -> SigningKey {
    loop {
        if let Ok(key) = SigningKey::from_slice(&otcpay::ids::random_bytes(32)) {
            return key;
        }
    }
}

/// The SPKI PEM (`-----BEGIN PUBLIC KEY-----`) of a private key's public key.
pub fn public_key_pem(key: &SigningKey) -> String {
    key.verifying_key()
        .to_public_key_pem(LineEnding::LF)
        .expect("PEM encoding")
}

/// Issues another HMAC key for the merchant (admin API) and returns its client.
pub async fn add_hmac_key(app: &TestApp, merchant_id: &str, livemode: bool) -> MerchantClient {
    let created = add_key(app, merchant_id, json!({"mode": mode(livemode)})).await;
    MerchantClient::hmac(
        app,
        created["key_id"].as_str().expect("key_id"),
        created["secret"].as_str().expect("secret"),
    )
}

/// Registers a new ECDSA P-256 key for the merchant (admin API) and returns its client.
pub async fn add_ecdsa_key(app: &TestApp, merchant_id: &str, livemode: bool) -> MerchantClient {
    let signing_key = random_signing_key();
    let created = add_key(
        app,
        merchant_id,
        json!({"mode": mode(livemode), "public_key_pem": public_key_pem(&signing_key)}),
    )
    .await;
    assert_eq!(created["kind"], "ecdsa_p256", "{created}");
    assert!(created.get("secret").is_none(), "{created}");
    MerchantClient::ecdsa(
        app,
        created["key_id"].as_str().expect("key_id"),
        signing_key,
    )
}

fn mode(livemode: bool) -> &'static str {
    if livemode { "live" } else { "test" }
}

async fn add_key(app: &TestApp, merchant_id: &str, body: Value) -> Value {
    let token = app.admin_token().await;
    let response = app
        .post(
            &format!("/api/v1/admin/merchants/{merchant_id}/api-keys"),
            Some(&token),
            &body,
        )
        .await;
    let status = response.status();
    let created: Value = response.json().await.expect("api key json");
    assert_eq!(status, 201, "api key creation: {created}");
    created
}

/// A merchant's dashboard login, as a test drives it.
#[derive(Clone, Debug)]
pub struct MerchantUser {
    pub user_id: String,
    pub email: String,
    pub password: String,
    /// A session token (the `otcpay_session` cookie's value).
    pub token: String,
}

pub const MERCHANT_PASSWORD: &str = "merchant-password-1";

/// Logs a merchant's dashboard login in, as if its invitation had been followed: the
/// login made with the merchant gets [`MERCHANT_PASSWORD`] (the invitation's own path is
/// tested in `pages.rs`).
pub async fn merchant_login(app: &TestApp, merchant_id: &str) -> MerchantUser {
    use otcpay::merchants::merchant;
    use sea_orm::EntityTrait;
    let id = otcpay::ids::MerchantId::parse(merchant_id).expect("a merchant id");
    let found = merchant::Entity::find_by_id(id)
        .one(&app.state.db)
        .await
        .expect("merchant read")
        .expect("merchant exists");
    let user_id = found.user_id.expect("a merchant has its login");
    let hash = otcpay::auth::service::hash_password(&app.state.settings, MERCHANT_PASSWORD)
        .await
        .expect("hash");
    let now = otcpay::db::now_ms();
    otcpay::auth::service::set_password_hash(&app.state.db, &user_id, hash, now)
        .await
        .expect("password set");
    otcpay::auth::service::set_email_verified(&app.state.db, &user_id, true, now)
        .await
        .expect("email verified");
    let email = found.email;
    let user = otcpay::auth::service::find_by_id(&app.state.db, &user_id)
        .await
        .expect("user read")
        .expect("user exists");
    let response = app.login(&email, MERCHANT_PASSWORD).await;
    assert_eq!(response.status(), 200, "merchant login");
    let body: Value = response.json().await.expect("login json");
    MerchantUser {
        user_id: user.id.to_string(),
        email,
        password: MERCHANT_PASSWORD.to_owned(),
        token: body["token"].as_str().expect("token").to_owned(),
    }
}

/// Stores `url` as the merchant's webhook endpoint without the save-time check: an
/// endpoint whose host was public when it was saved and resolves to a private address
/// now (DNS rebinding), which only the dispatcher's own check can stop.
pub async fn store_endpoint_unchecked(app: &TestApp, merchant_id: &str, url: &str) {
    use otcpay::merchants::merchant;
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    merchant::Entity::update_many()
        .col_expr(merchant::Column::WebhookUrl, Expr::value(url.to_owned()))
        .filter(merchant::Column::Id.eq(merchant_id))
        .exec(&app.state.db)
        .await
        .expect("endpoint stored");
    otcpay::merchants::key_cache::KeyCache::of(&app.state)
        .unwrap()
        .invalidate();
}
