//! Accounts and mail, as a new acceptor meets them: registration with a verification
//! mail, password reset by mail, the outbox surviving an SMTP outage, and presence
//! following the desk. Mail goes to a real SMTP listener started by each test.

use std::time::Duration;

use sea_orm::EntityTrait;
use serde_json::{Value, json};

use otcpay_tests::TestApp;
use otcpay_tests::app::assert_error;
use otcpay_tests::merchant::create_merchant;
use otcpay_tests::scenario::{AcceptorSpec, online_acceptor};
use otcpay_tests::smtp::SmtpListener;

fn token_of(link: &str) -> String {
    link.split("token=").nth(1).unwrap().to_owned()
}

async fn login(app: &TestApp, email: &str, password: &str) -> reqwest::Response {
    app.login(email, password).await
}

#[tokio::test]
async fn registration_is_verified_by_mail_and_a_password_is_reset_by_mail() {
    let smtp = SmtpListener::start().await;
    let url = smtp.url();
    let app = TestApp::spawn_with(|s| {
        s.smtp_url = Some(otcpay::config::Secret::new(url));
        s.public_url = Some("https://pay.example.test".to_owned());
    })
    .await;
    let email = "new-acceptor@otc.test";
    let password = "first-password-1";

    let registered = app
        .post(
            "/api/v1/auth/register",
            None,
            &json!({"email": email, "password": password, "display_name": "New OTC"}),
        )
        .await;
    assert_eq!(registered.status(), 201);
    let acceptor: Value = registered.json().await.unwrap();
    assert_eq!(acceptor["status"], "pending");
    // The same email again is a conflict; a weak password is refused.
    assert_error(
        app.post(
            "/api/v1/auth/register",
            None,
            &json!({"email": email, "password": password, "display_name": "Again"}),
        )
        .await,
        409,
        "email_taken",
    )
    .await;
    assert_error(
        app.post(
            "/api/v1/auth/register",
            None,
            &json!({"email": "x@otc.test", "password": "short", "display_name": "X"}),
        )
        .await,
        400,
        "invalid_request",
    )
    .await;

    // Not before the email is confirmed.
    assert_error(login(&app, email, password).await, 403, "forbidden").await;
    let mail = smtp.wait_for(email).await;
    assert!(
        mail.data.contains("Content-Type: multipart/alternative"),
        "{}",
        mail.data
    );
    assert!(mail.data.contains("text/plain") && mail.data.contains("text/html"));
    let link = mail.link("/verify-email").expect("a verification link");
    assert!(
        link.starts_with("https://pay.example.test/verify-email?token="),
        "{link}"
    );
    let token = token_of(&link);
    let verified = app
        .post("/api/v1/auth/verify-email", None, &json!({"token": token}))
        .await;
    assert_eq!(verified.status(), 200);
    // Single use.
    assert_error(
        app.post("/api/v1/auth/verify-email", None, &json!({"token": token}))
            .await,
        400,
        "invalid_request",
    )
    .await;
    let session = login(&app, email, password).await;
    assert_eq!(session.status(), 200);
    let old_token = session.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();

    // Reset: the same answer for a known and an unknown address; mail only for the known.
    for address in [email, "nobody@otc.test"] {
        let asked = app
            .post(
                "/api/v1/auth/password-reset",
                None,
                &json!({"email": address}),
            )
            .await;
        assert_eq!(asked.status(), 202);
    }
    let reset_mail = loop {
        let found = smtp
            .caught
            .lock()
            .unwrap()
            .iter()
            .find(|m| m.link("/reset-password").is_some())
            .cloned();
        if let Some(found) = found {
            break found;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(reset_mail.to, [email]);
    let reset_token = token_of(&reset_mail.link("/reset-password").unwrap());
    let weak = app
        .post(
            "/api/v1/auth/password-reset/confirm",
            None,
            &json!({"token": reset_token, "new_password": "short"}),
        )
        .await;
    assert_error(weak, 400, "invalid_request").await;
    let done = app
        .post(
            "/api/v1/auth/password-reset/confirm",
            None,
            &json!({"token": reset_token, "new_password": "second-password-2"}),
        )
        .await;
    assert_eq!(done.status(), 200);
    // The old password and the old session are gone; the new password works.
    assert_error(
        login(&app, email, password).await,
        401,
        "invalid_credentials",
    )
    .await;
    assert_error(
        app.get("/api/v1/acceptor/profile", Some(&old_token)).await,
        401,
        "invalid_token",
    )
    .await;
    assert_eq!(login(&app, email, "second-password-2").await.status(), 200);
    assert_eq!(smtp.count_to("nobody@otc.test"), 0);
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn an_smtp_outage_delays_mail_but_never_loses_or_doubles_it() {
    // A port with nothing listening yet.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let app = TestApp::spawn_with(|s| {
        s.smtp_url = Some(otcpay::config::Secret::new(format!(
            "smtp://127.0.0.1:{port}"
        )));
        s.mail_retry_seconds = 1;
        s.scheduler_interval_ms = 100;
    })
    .await;
    let email = "outage@otc.test";
    let registered = app
        .post(
            "/api/v1/auth/register",
            None,
            &json!({"email": email, "password": "outage-password-1", "display_name": "Outage"}),
        )
        .await;
    // The request does not wait for the mail server.
    assert_eq!(registered.status(), 201);
    // The mail is kept and retried while the server is down.
    let mut attempts = 0;
    for _ in 0..100 {
        let row = otcpay::mail::outbox::Entity::find()
            .all(&app.state.db)
            .await
            .unwrap();
        attempts = row.iter().map(|m| m.attempts).max().unwrap_or(0);
        if attempts >= 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(attempts >= 1, "a failed attempt was recorded");
    let smtp = SmtpListener::start_on(port).await;
    smtp.wait_for(email).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(smtp.count_to(email), 1, "delivered exactly once");
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn presence_follows_the_desk_and_unpaid_orders_move_on() {
    let app = TestApp::spawn_with(|s| {
        s.presence_grace_seconds = 1;
        s.scheduler_interval_ms = 100;
    })
    .await;
    let first = online_acceptor(
        &app,
        AcceptorSpec {
            rate: "7.10",
            ..AcceptorSpec::default()
        },
    )
    .await;
    // The desk is open: its event stream keeps the acceptor present.
    let stream = app
        .client
        .get(app.url("/api/v1/acceptor/events"))
        .bearer_auth(&first.token)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    let shop = create_merchant(&app, json!({})).await;
    let order: Value = shop
        .live
        .post(
            "/api/v1/orders",
            &json!({"merchant_order_id": "presence-1", "amount": "10.00", "fiat_currency": "CNY"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let order_id = order["id"].as_str().unwrap().to_owned();
    let mine = app
        .get(
            &format!("/api/v1/acceptor/orders/{order_id}"),
            Some(&first.token),
        )
        .await;
    assert_eq!(mine.status(), 200, "the best rate took the order");
    // Still present after the grace period while the stream is open.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let profile: Value = app
        .get("/api/v1/acceptor/profile", Some(&first.token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(profile["online"], true);

    // A second acceptor is online (by API, without a desk: never swept).
    let second = online_acceptor(
        &app,
        AcceptorSpec {
            rate: "7.20",
            ..AcceptorSpec::default()
        },
    )
    .await;
    // The laptop closes.
    drop(stream);
    let mut offline = false;
    for _ in 0..100 {
        let profile: Value = app
            .get("/api/v1/acceptor/profile", Some(&first.token))
            .await
            .json()
            .await
            .unwrap();
        if profile["online"] == false {
            offline = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(offline, "the acceptor went offline after the grace period");
    // Its unpaid order went to the other acceptor.
    let mut moved = false;
    for _ in 0..50 {
        if app
            .get(
                &format!("/api/v1/acceptor/orders/{order_id}"),
                Some(&second.token),
            )
            .await
            .status()
            == 200
        {
            moved = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(moved, "the unpaid order moved to the acceptor still online");
    let profile: Value = app
        .get("/api/v1/acceptor/profile", Some(&second.token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        profile["online"], true,
        "an acceptor without a desk stays online"
    );
    app.assert_ledger_ok().await;
}
