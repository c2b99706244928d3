//! The server skeleton as a client sees it: health, readiness, metrics, error shape,
//! request ids, body limit, login and its throttling, role checks, the ledger check.

use otcpay_tests::app::{ADMIN_EMAIL, ADMIN_PASSWORD, assert_error};
use otcpay_tests::{Backend, TestApp};
use serde_json::{Value, json};

#[tokio::test]
async fn health_and_readiness_answer() {
    let app = TestApp::spawn().await;
    let health = app.get("/healthz", None).await;
    assert_eq!(health.status(), 200);
    let ready = app.get("/readyz", None).await;
    assert_eq!(ready.status(), 200);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["database"], "ok");
    let expected_redis = if otcpay_tests::db::redis_url().is_some() {
        "ok"
    } else {
        "not_configured"
    };
    assert_eq!(body["redis"], expected_redis);
    if app.db.backend == Backend::Postgres {
        assert!(app.db.url.starts_with("postgres://"));
    }
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn metrics_are_prometheus_text_with_request_counts() {
    let app = TestApp::spawn().await;
    app.get("/healthz", None).await;
    app.get("/healthz", None).await;
    let response = app.get("/metrics", None).await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = response.text().await.unwrap();
    assert!(
        text.contains("# TYPE http_requests_total counter"),
        "{text}"
    );
    assert!(
        text.contains(r#"http_requests_total{method="GET",route="/healthz",status="200"} 2"#),
        "{text}"
    );
    assert!(text.contains("# TYPE http_request_duration_seconds histogram"));
    assert!(text.contains(
        r#"http_request_duration_seconds_bucket{method="GET",route="/healthz",le="+Inf"} 2"#
    ));
}

#[tokio::test]
async fn every_response_has_a_request_id_and_errors_have_the_contract_shape() {
    let app = TestApp::spawn().await;
    let ok = app.get("/healthz", None).await;
    let id = ok.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert!(id.starts_with("req_"), "{id}");

    let supplied = app
        .client
        .get(app.url("/healthz"))
        .header("X-Request-Id", "client-trace-42")
        .send()
        .await
        .unwrap();
    assert_eq!(supplied.headers()["x-request-id"], "client-trace-42");

    let missing = app.get("/api/v1/no/such/thing", None).await;
    assert_error(missing, 404, "not_found").await;
}

#[tokio::test]
async fn bodies_over_64_kib_are_refused_with_413() {
    let app = TestApp::spawn().await;
    let big = json!({"email": "x".repeat(70 * 1024), "password": "whatever-long"});
    let response = app.post("/api/v1/auth/login", None, &big).await;
    assert_error(response, 413, "payload_too_large").await;
}

#[tokio::test]
async fn malformed_json_is_invalid_request() {
    let app = TestApp::spawn().await;
    let response = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_error(response, 400, "invalid_request").await;
}

#[tokio::test]
async fn the_configured_admin_logs_in_and_gets_a_role_token() {
    let app = TestApp::spawn().await;
    let response = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["token"].as_str().unwrap().split('.').count() == 3,
        "a JWT"
    );
    assert_eq!(body["user"]["email"], ADMIN_EMAIL);
    assert_eq!(body["user"]["role"], "admin");
    assert!(body["user"]["id"].as_str().unwrap().starts_with("usr_"));
    assert!(body["expires_at"].as_str().unwrap().ends_with('Z'));

    // Emails are case-insensitive.
    let upper = app.login(&ADMIN_EMAIL.to_uppercase(), ADMIN_PASSWORD).await;
    assert_eq!(upper.status(), 200);
}

#[tokio::test]
async fn wrong_password_and_unknown_email_get_the_same_answer() {
    let app = TestApp::spawn().await;
    let wrong = assert_error(
        app.login(ADMIN_EMAIL, "not-the-password").await,
        401,
        "invalid_credentials",
    )
    .await;
    let unknown = assert_error(
        app.login("nobody@otcpay.test", "not-the-password").await,
        401,
        "invalid_credentials",
    )
    .await;
    assert_eq!(wrong["error"]["message"], unknown["error"]["message"]);
}

#[tokio::test]
async fn repeated_failures_are_throttled_per_email_then_per_ip() {
    let app = TestApp::spawn_with(|s| {
        s.login_max_failures = 3;
        s.login_window_seconds = 600;
    })
    .await;
    for _ in 0..3 {
        assert_error(
            app.login(ADMIN_EMAIL, "wrong-password-x").await,
            401,
            "invalid_credentials",
        )
        .await;
    }
    let throttled = app.login(ADMIN_EMAIL, "wrong-password-x").await;
    assert!(throttled.headers().contains_key("retry-after"));
    assert_error(throttled, 429, "too_many_attempts").await;
    // Even the right password is refused while the email is throttled.
    assert_error(
        app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await,
        429,
        "too_many_attempts",
    )
    .await;

    // Per IP: 4 × 3 failures over many emails lock out the address.
    for i in 0..9 {
        app.login(&format!("user{i}@otcpay.test"), "wrong-password-x")
            .await;
    }
    assert_error(
        app.login("fresh@otcpay.test", "wrong-password-x").await,
        429,
        "too_many_attempts",
    )
    .await;
}

#[tokio::test]
async fn admin_routes_need_an_admin_session() {
    let app = TestApp::spawn().await;
    assert_error(
        app.get("/api/v1/admin/ledger/check", None).await,
        401,
        "missing_credentials",
    )
    .await;
    assert_error(
        app.get("/api/v1/admin/ledger/check", Some("not.a.jwt"))
            .await,
        401,
        "invalid_token",
    )
    .await;

    // A token of another role is forbidden.
    let acceptor = otcpay::auth::service::create_user(
        &app.state.db,
        &app.state.settings,
        "acceptor@otcpay.test",
        "acceptor-password",
        otcpay::auth::Role::Acceptor,
        "Acceptor",
    )
    .await
    .unwrap();
    let login = app.login(&acceptor.email, "acceptor-password").await;
    let token = login.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_error(
        app.get("/api/v1/admin/ledger/check", Some(&token)).await,
        403,
        "forbidden",
    )
    .await;
    assert_error(
        app.get("/api/v1/admin/audit-log", Some(&token)).await,
        403,
        "forbidden",
    )
    .await;
}

#[tokio::test]
async fn the_ledger_check_is_ok_on_a_fresh_install() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let report: Value = app
        .get("/api/v1/admin/ledger/check", Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(report["ok"], true);
    assert_eq!(report["violations"], json!([]));
    assert!(report["accounts"].is_u64() && report["transfers"].is_u64());
}

#[tokio::test]
async fn audit_log_lists_newest_first_with_pagination() {
    let app = TestApp::spawn().await;
    for i in 0..3 {
        otcpay::audit::record(
            &app.state.db,
            otcpay::audit::AuditEntry {
                actor_id: None,
                actor_role: "system",
                action: "test.event",
                target_type: "thing",
                target_id: Some(&format!("thing_{i}")),
                details: json!({"n": i}),
                ip: None,
            },
        )
        .await
        .unwrap();
    }
    let token = app.admin_token().await;
    let page: Value = app
        .get("/api/v1/admin/audit-log?limit=2", Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["has_more"], true);
    assert_eq!(page["data"][0]["target_id"], "thing_2");
    assert_eq!(page["data"][1]["target_id"], "thing_1");
    let cursor = page["data"][1]["id"].as_str().unwrap();
    let next: Value = app
        .get(
            &format!("/api/v1/admin/audit-log?limit=2&starting_after={cursor}"),
            Some(&token),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(next["data"][0]["target_id"], "thing_0");
    assert_eq!(next["has_more"], false);
    assert_error(
        app.get("/api/v1/admin/audit-log?limit=0", Some(&token))
            .await,
        400,
        "invalid_request",
    )
    .await;
}
