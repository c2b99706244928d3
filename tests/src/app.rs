//! The server started in-process on a random port, as a client sees it.

use reqwest::{Client, Method, Response};
use serde_json::Value;

use otcpay::config::{Secret, Settings};
use otcpay::startup::Application;

use crate::db::{TestDb, redis_url};

pub const ADMIN_EMAIL: &str = "admin@otcpay.test";
pub const ADMIN_PASSWORD: &str = "admin-password-1";
/// A fixed master key for tests (never used outside them).
pub const TEST_MASTER_KEY: &str =
    "6f74637061792074657374206d6173746572206b657920303030303030303030";

pub struct TestApp {
    pub address: String,
    pub port: u16,
    pub client: Client,
    pub db: TestDb,
    pub state: actix_web::web::Data<otcpay::state::AppState>,
    /// The bootstrap admin's session once [`TestApp::admin_token`] made it: 2FA on, the
    /// code passed (admin actions that move money need both), and its TOTP secret.
    admin: tokio::sync::OnceCell<AdminSession>,
}

#[derive(Clone, Debug)]
pub struct AdminSession {
    pub token: String,
    pub totp_secret: String,
}

/// Settings for a test server: random port, the run's database, Redis when the run
/// uses it (with a key prefix of its own), cheap argon2.
pub fn test_settings(db: &TestDb) -> Settings {
    Settings {
        listen: "127.0.0.1:0".to_owned(),
        data_dir: db.data_dir.clone(),
        database_url: Some(Secret::new(db.url.clone())),
        redis_url: redis_url().map(Secret::new),
        redis_prefix: format!("otcpay-test-{}:", otcpay::ids::random_hex(6)),
        master_key: Some(Secret::new(TEST_MASTER_KEY)),
        admin_email: Some(ADMIN_EMAIL.to_owned()),
        admin_password: Some(Secret::new(ADMIN_PASSWORD)),
        allow_private_webhooks: Some(true),
        http_workers: 2,
        shutdown_timeout_seconds: 1,
        argon2_memory_kib: 4096,
        argon2_iterations: 1,
        ..Settings::default()
    }
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// Starts a server with settings adjusted by `configure`.
    pub async fn spawn_with(configure: impl FnOnce(&mut Settings)) -> Self {
        otcpay::telemetry::install_crypto_provider();
        if std::env::var("TEST_LOG").is_ok() {
            otcpay::telemetry::init(otcpay::config::LogFormat::Text);
        }
        let db = TestDb::new().await;
        let mut settings = test_settings(&db);
        configure(&mut settings);
        let app = Application::build(settings)
            .await
            .unwrap_or_else(|e| panic!("the server failed to start: {e:#}"));
        let port = app.port();
        let state = app.state();
        tokio::spawn(app.run_until_stopped());
        Self::adopt(port, db, state)
    }

    /// The client side of a server started elsewhere (the load generator starts its
    /// own, with extra settings).
    pub fn adopt(
        port: u16,
        db: TestDb,
        state: actix_web::web::Data<otcpay::state::AppState>,
    ) -> Self {
        Self {
            address: format!("http://127.0.0.1:{port}"),
            port,
            client: Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("http client"),
            db,
            state,
            admin: tokio::sync::OnceCell::new(),
        }
    }

    /// Starts another server ("node") on the same database, e.g. to test cross-node
    /// fan-out of live events through Redis. Returns its base URL and state.
    pub async fn spawn_node(
        &self,
        configure: impl FnOnce(&mut Settings),
    ) -> (String, actix_web::web::Data<otcpay::state::AppState>) {
        let mut settings = test_settings(&self.db);
        settings.redis_prefix = self.state.settings.redis_prefix.clone();
        settings.redis_url = self.state.settings.redis_url.clone();
        configure(&mut settings);
        let app = Application::build(settings)
            .await
            .unwrap_or_else(|e| panic!("the second node failed to start: {e:#}"));
        let base = format!("http://127.0.0.1:{}", app.port());
        let state = app.state();
        tokio::spawn(app.run_until_stopped());
        (base, state)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Response {
        let mut req = self.client.request(method.clone(), self.url(path));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(body);
        }
        let response = req.send().await.expect("request sent");
        crate::contract::check(&method, path, response).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        self.request(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Response {
        self.request(Method::POST, path, token, Some(body)).await
    }

    /// Logs in and returns the whole response.
    pub async fn login(&self, email: &str, password: &str) -> Response {
        self.post(
            "/api/v1/auth/login",
            None,
            &serde_json::json!({"email": email, "password": password}),
        )
        .await
    }

    /// A session token of the bootstrap admin, as production requires it for admin
    /// actions that move money: the first call logs in, sets up TOTP and turns it on
    /// (which counts the session as having passed the code); later calls reuse it.
    pub async fn admin_token(&self) -> String {
        self.admin_session().await.token
    }

    /// The bootstrap admin's session and TOTP secret (see [`TestApp::admin_token`]).
    pub async fn admin_session(&self) -> AdminSession {
        self.admin
            .get_or_init(|| async {
                let response = self.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
                assert_eq!(response.status(), 200, "admin login");
                let body: Value = response.json().await.expect("login json");
                let token = body["token"].as_str().expect("token").to_owned();
                let setup = self
                    .post(
                        "/api/v1/auth/totp/setup",
                        Some(&token),
                        &serde_json::json!({}),
                    )
                    .await;
                assert_eq!(setup.status(), 200, "admin TOTP set-up");
                let setup: Value = setup.json().await.expect("set-up json");
                let secret = setup["secret"].as_str().expect("secret").to_owned();
                let enabled = self
                    .post(
                        "/api/v1/auth/totp/enable",
                        Some(&token),
                        &serde_json::json!({"code": crate::totp::code(&secret, 0)}),
                    )
                    .await;
                assert_eq!(enabled.status(), 200, "admin TOTP enabled");
                AdminSession {
                    token,
                    totp_secret: secret,
                }
            })
            .await
            .clone()
    }

    /// What the engine holds for an acceptor (liquidity, reserved, open orders).
    pub async fn engine_balance(&self, acceptor_id: &str) -> otcpay::engine::AcceptorBalance {
        self.state
            .engine
            .balance(acceptor_id)
            .await
            .expect("engine running")
            .expect("acceptor known to the engine")
    }

    /// Runs the ledger invariant check through the admin API and asserts it is clean.
    /// Every scenario test ends with it.
    pub async fn assert_ledger_ok(&self) {
        let token = self.admin_token().await;
        let response = self.get("/api/v1/admin/ledger/check", Some(&token)).await;
        assert_eq!(response.status(), 200);
        let report: Value = response.json().await.expect("ledger check json");
        assert_eq!(
            report["ok"],
            Value::Bool(true),
            "ledger violations: {report}"
        );
    }
}

/// Asserts the contract's error shape and code, and returns the body.
pub async fn assert_error(response: Response, status: u16, code: &str) -> Value {
    assert_eq!(
        response.status().as_u16(),
        status,
        "status for expected {code}"
    );
    assert!(
        response.headers().contains_key("x-request-id"),
        "every response carries X-Request-Id"
    );
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .expect("ascii")
        .to_owned();
    let body: Value = response.json().await.expect("error body is JSON");
    assert_eq!(body["error"]["code"], code, "body: {body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
    );
    assert_eq!(body["error"]["request_id"], request_id.as_str());
    body
}
