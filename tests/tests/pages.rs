//! The pages as a browser sees them, over plain HTTP: the login in one or two steps, the
//! session cookie, CSRF on every form, logout that revokes, the language switch, the
//! wrong role (403 page), another acceptor's order (404 page) and the desk's actions.

use reqwest::header::{ACCEPT_LANGUAGE, COOKIE, LOCATION, SET_COOKIE};
use reqwest::{Client, Response};
use serde_json::{Value, json};

use otcpay_tests::TestApp;
use otcpay_tests::app::assert_error;
use otcpay_tests::merchant::create_merchant;
use otcpay_tests::scenario::{Acceptor, AcceptorSpec, online_acceptor};
use otcpay_tests::sse::read_until;
use otcpay_tests::totp;

/// A browser: a cookie jar of its own, no redirects followed.
struct Browser {
    client: Client,
    base: String,
    cookies: Vec<(String, String)>,
}

impl Browser {
    fn new(app: &TestApp) -> Self {
        Self {
            client: Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: app.address.clone(),
            cookies: Vec::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep_cookies(&mut self, response: &Response) {
        for value in response.headers().get_all(SET_COOKIE) {
            let text = value.to_str().unwrap();
            let pair = text.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            self.cookies.retain(|(k, _)| k != name);
            let removed = text.contains("Max-Age=0") || value.is_empty();
            if !removed {
                self.cookies.push((name.to_owned(), value.to_owned()));
            }
        }
    }

    async fn get(&mut self, path: &str) -> Response {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .header(COOKIE, self.cookie_header())
            .send()
            .await
            .unwrap();
        self.keep_cookies(&response);
        response
    }

    async fn get_lang(&mut self, path: &str, lang: &str) -> Response {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .header(COOKIE, self.cookie_header())
            .header(ACCEPT_LANGUAGE, lang)
            .send()
            .await
            .unwrap();
        self.keep_cookies(&response);
        response
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Response {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .header(COOKIE, self.cookie_header())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(form).unwrap())
            .send()
            .await
            .unwrap();
        self.keep_cookies(&response);
        response
    }

    fn session(&self) -> Option<&str> {
        self.cookies
            .iter()
            .find(|(k, _)| k == "otcpay_session")
            .map(|(_, v)| v.as_str())
    }
}

/// The value of the first `name="csrf_token"` hidden field of a page.
fn csrf_of(html: &str) -> String {
    let at = html
        .find("name=\"csrf_token\" value=\"")
        .expect("a CSRF field");
    let rest = &html[at + "name=\"csrf_token\" value=\"".len()..];
    rest[..rest.find('"').unwrap()].to_owned()
}

async fn logged_in(app: &TestApp, acceptor: &Acceptor) -> Browser {
    let mut browser = Browser::new(app);
    let page = browser.get("/login").await.text().await.unwrap();
    let csrf = csrf_of(&page);
    let response = browser
        .post(
            "/login",
            &[
                ("email", &acceptor.email),
                ("password", "acceptor-password-1"),
                ("csrf_token", &csrf),
            ],
        )
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()[LOCATION], "/acceptor");
    let cookie = response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("otcpay_session="))
        .expect("a session cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    browser
}

#[tokio::test]
async fn login_sets_a_strict_cookie_and_logout_revokes_it() {
    let app = TestApp::spawn().await;
    let acceptor = online_acceptor(&app, AcceptorSpec::default()).await;
    let mut browser = Browser::new(&app);

    // Logged out, a page sends to the login page and back.
    let desk = browser.get("/acceptor").await;
    assert_eq!(desk.status(), 303);
    assert_eq!(desk.headers()[LOCATION], "/login?next=/acceptor");

    // A login form without its CSRF token is refused; a wrong password says so.
    let page = browser.get("/login").await.text().await.unwrap();
    let csrf = csrf_of(&page);
    let forged = browser
        .post(
            "/login",
            &[
                ("email", &acceptor.email),
                ("password", "acceptor-password-1"),
            ],
        )
        .await;
    assert_eq!(forged.status(), 403);
    let wrong = browser
        .post(
            "/login",
            &[
                ("email", &acceptor.email),
                ("password", "wrong-password-9"),
                ("csrf_token", &csrf),
            ],
        )
        .await;
    assert_eq!(wrong.status(), 200);
    assert!(
        wrong
            .text()
            .await
            .unwrap()
            .contains("The email or password is not correct.")
    );

    let mut browser = logged_in(&app, &acceptor).await;
    let desk = browser.get("/acceptor").await;
    assert_eq!(desk.status(), 200);
    let html = desk.text().await.unwrap();
    assert!(html.contains("<h1>Desk</h1>"));
    assert!(html.contains("<caption>Assigned orders</caption>"));
    let session = browser.session().unwrap().to_owned();

    // Log out: a POST with the token; the old cookie no longer opens anything.
    let csrf = csrf_of(&html);
    let refused = browser.post("/logout", &[]).await;
    assert_eq!(refused.status(), 403, "no CSRF token, no logout");
    let out = browser.post("/logout", &[("csrf_token", &csrf)]).await;
    assert_eq!(out.status(), 303);
    assert!(browser.session().is_none());
    let replay = app
        .client
        .get(app.url("/acceptor"))
        .header(COOKIE, format!("otcpay_session={session}"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        replay.status(),
        303,
        "the revoked session sends to the login page"
    );
    assert_eq!(
        app.get("/api/v1/acceptor/profile", Some(&session))
            .await
            .status(),
        401
    );
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn a_login_with_two_factor_asks_for_the_code_in_a_second_step() {
    let app = TestApp::spawn().await;
    let acceptor = online_acceptor(&app, AcceptorSpec::default()).await;
    let setup: Value = app
        .post("/api/v1/auth/totp/setup", Some(&acceptor.token), &json!({}))
        .await
        .json()
        .await
        .unwrap();
    let secret = setup["secret"].as_str().unwrap().to_owned();
    let on = app
        .post(
            "/api/v1/auth/totp/enable",
            Some(&acceptor.token),
            &json!({"code": totp::code(&secret, 0)}),
        )
        .await;
    assert_eq!(on.status(), 200);

    let mut browser = Browser::new(&app);
    let csrf = csrf_of(&browser.get("/login").await.text().await.unwrap());
    let step = browser
        .post(
            "/login",
            &[
                ("email", &acceptor.email),
                ("password", "acceptor-password-1"),
                ("csrf_token", &csrf),
            ],
        )
        .await;
    assert_eq!(step.status(), 200);
    let html = step.text().await.unwrap();
    assert!(html.contains(">Authentication code</label>"), "{html}");
    assert!(html.contains(">Verify</button>"));
    assert!(browser.session().is_none(), "no session before the code");
    let pending = {
        let at =
            html.find("name=\"pending\" value=\"").unwrap() + "name=\"pending\" value=\"".len();
        html[at..at + html[at..].find('"').unwrap()].to_owned()
    };
    // A wrong code keeps the second step; the right one (a fresh step) logs in.
    let wrong = browser
        .post(
            "/login/verify",
            &[
                ("pending", &pending),
                ("code", &totp::code(&secret, 9)),
                ("csrf_token", &csrf),
            ],
        )
        .await;
    assert_eq!(wrong.status(), 200);
    assert!(wrong.text().await.unwrap().contains("Authentication code"));
    totp::next_step().await;
    let done = browser
        .post(
            "/login/verify",
            &[
                ("pending", &pending),
                ("code", &totp::code(&secret, 0)),
                ("csrf_token", &csrf),
            ],
        )
        .await;
    assert_eq!(done.status(), 303);
    assert!(browser.session().is_some());
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn roles_tenants_and_forms_are_guarded_on_pages() {
    let app = TestApp::spawn().await;
    let owner = online_acceptor(&app, AcceptorSpec::default()).await;
    let shop = create_merchant(&app, json!({})).await;
    let order: Value = shop
        .live
        .post(
            "/api/v1/orders",
            &json!({"merchant_order_id": "pages-1", "amount": "10.00", "fiat_currency": "CNY"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let order_id = order["id"].as_str().unwrap().to_owned();
    let other = online_acceptor(&app, AcceptorSpec::default()).await;

    // Another acceptor's order is a 404 page; its own is there.
    let mut stranger = logged_in(&app, &other).await;
    let page = stranger.get(&format!("/acceptor/orders/{order_id}")).await;
    assert_eq!(page.status(), 404);
    assert!(page.text().await.unwrap().contains("Page not found"));
    let mut browser = logged_in(&app, &owner).await;
    let page = browser.get(&format!("/acceptor/orders/{order_id}")).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    let csrf = csrf_of(&html);

    // The stranger's forms on it are refused too, and nothing changed.
    let stranger_csrf = csrf_of(&stranger.get("/acceptor").await.text().await.unwrap());
    let refused = stranger
        .post(
            &format!("/acceptor/orders/{order_id}/reject"),
            &[("csrf_token", &stranger_csrf)],
        )
        .await;
    assert_eq!(refused.status(), 404);

    // A form without the token is a 403; with it, the action goes through the service.
    let forged = browser
        .post(&format!("/acceptor/orders/{order_id}/confirm"), &[])
        .await;
    assert_eq!(forged.status(), 403);
    let released = browser
        .post(
            &format!("/acceptor/orders/{order_id}/confirm"),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(released.status(), 303);
    let flashed = browser.get("/acceptor").await.text().await.unwrap();
    assert!(flashed.contains("released"), "the flash says so");
    let after: Value = shop
        .live
        .get(&format!("/api/v1/orders/{order_id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(after["status"], "completed");

    // Another role: a 403 page.
    let admin_token = app.admin_token().await;
    let as_admin = app
        .client
        .get(app.url("/acceptor"))
        .header(COOKIE, format!("otcpay_session={admin_token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(as_admin.status(), 403);
    let html = as_admin.text().await.unwrap();
    assert!(html.contains("Not allowed"));
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn pages_speak_chinese_by_accept_language_or_the_switch_and_carry_security_headers() {
    let app = TestApp::spawn().await;
    let acceptor = online_acceptor(&app, AcceptorSpec::default()).await;
    let mut browser = logged_in(&app, &acceptor).await;

    let zh = browser.get_lang("/acceptor", "zh-CN,zh;q=0.9").await;
    let csp = zh.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"));
    assert_eq!(zh.headers()["x-content-type-options"], "nosniff");
    let html = zh.text().await.unwrap();
    assert!(html.contains("<html lang=\"zh-CN\">"));
    assert!(html.contains("<h1>工作台</h1>"));
    assert!(html.contains("已分配订单"));
    assert!(!html.contains("<script>"), "no inline script");

    // The switch sticks, whatever the browser asks for.
    let switched = browser.get("/lang/zh-CN?next=/acceptor/orders").await;
    assert_eq!(switched.status(), 303);
    assert_eq!(switched.headers()[LOCATION], "/acceptor/orders");
    let html = browser
        .get_lang("/acceptor", "en")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("<h1>工作台</h1>"));
    // Only local paths are followed.
    let away = browser.get("/lang/en?next=//evil.example/").await;
    assert_eq!(away.headers()[LOCATION], "/");
    let html = browser.get("/acceptor").await.text().await.unwrap();
    assert!(html.contains("<h1>Desk</h1>"));
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn the_cashier_offers_an_appeal_after_expiry_and_it_opens_a_dispute() {
    use sea_orm::{ActiveModelTrait, ActiveValue::Set, IntoActiveModel};
    let app = TestApp::spawn().await;
    online_acceptor(&app, AcceptorSpec::default()).await;
    let shop = create_merchant(&app, json!({})).await;
    let order: Value = shop
        .live
        .post(
            "/api/v1/orders",
            &json!({"merchant_order_id": "appeal-1", "amount": "10.00", "fiat_currency": "CNY"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let order_id = order["id"].as_str().unwrap().to_owned();
    let cashier = order["cashier_url"].as_str().unwrap();
    let path = cashier[cashier.find("/pay/").unwrap()..].to_owned();

    // While assigned there is no appeal form.
    let mut customer = Browser::new(&app);
    let html = customer.get(&path).await.text().await.unwrap();
    assert!(html.contains(">I have paid</button>"));
    assert!(!html.contains(">Open dispute</button>"));

    // The payment window passes without a payment: expired, the appeal is offered.
    let row = otcpay::orders::service::find(
        &app.state.db,
        &otcpay::ids::OrderId::parse(&order_id).unwrap(),
    )
    .await
    .unwrap()
    .unwrap();
    let past = otcpay::db::now_ms() - 1000;
    let mut active = row.into_active_model();
    active.expires_at = Set(past);
    active.next_deadline = Set(Some(past));
    active.update(&app.state.db).await.unwrap();
    otcpay::orders::scheduler::run_once(&app.state)
        .await
        .unwrap();
    let html = customer.get(&path).await.text().await.unwrap();
    assert!(html.contains("Expired"), "the status in words");
    assert!(html.contains(">Reason</label>") && html.contains(">Contact</label>"));
    assert!(html.contains(">Open dispute</button>"));
    assert!(!html.contains(">I have paid</button>"));

    // The customer appeals with the page's form.
    let csrf = csrf_of(&html);
    let appealed = customer
        .post(
            &format!("{path}/dispute"),
            &[
                (
                    "reason",
                    "I paid at 10:02 from ICBC, reference in the memo.",
                ),
                ("contact", "payer@example.test"),
                ("csrf_token", &csrf),
            ],
        )
        .await;
    assert_eq!(appealed.status(), 303);
    let html = customer.get(&path).await.text().await.unwrap();
    assert!(html.contains("Under review"), "disputed, in words");
    let after: Value = shop
        .live
        .get(&format!("/api/v1/orders/{order_id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(after["status"], "disputed");
    app.assert_ledger_ok().await;
}

/// A merchant created by an admin gets an invitation mail; its link sets the first
/// password (once), and the contact email then logs in to the dashboard.
#[tokio::test]
async fn a_merchant_invitation_sets_the_first_password_once() {
    let smtp = otcpay_tests::smtp::SmtpListener::start().await;
    let url = smtp.url();
    let app = TestApp::spawn_with(|s| {
        s.smtp_url = Some(otcpay::config::Secret::new(url));
        s.public_url = Some("https://pay.example.test".to_owned());
    })
    .await;
    let shop = create_merchant(
        &app,
        json!({"name": "Invited Shop", "email": "Owner@Invited.test"}),
    )
    .await;
    let email = "owner@invited.test";
    assert_eq!(shop.merchant["email"], email);
    // Not before the invitation is followed: nobody knows the password.
    assert_eq!(app.login(email, "anything-at-all-1").await.status(), 401);
    let mail = smtp.wait_for(email).await;
    assert!(mail.data.contains("Invited Shop"), "{}", mail.data);
    let link = mail.link("/set-password").expect("a set-password link");
    assert!(
        link.starts_with("https://pay.example.test/set-password?token="),
        "{link}"
    );
    let token = link.split("token=").nth(1).unwrap().to_owned();

    let mut browser = Browser::new(&app);
    let html = browser
        .get(&format!("/set-password?token={token}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains(">New password</label>") && html.contains(">Set password</button>"));
    assert!(html.contains("action=\"/set-password\""));
    let csrf = csrf_of(&html);
    let form = [
        ("token", token.as_str()),
        ("new_password", "invited-password-1"),
        ("csrf_token", &csrf),
    ];
    let set = browser.post("/set-password", &form).await;
    assert_eq!(set.status(), 303);
    assert_eq!(set.headers()[LOCATION], "/login");
    let login = app.login(email, "invited-password-1").await;
    assert_eq!(login.status(), 200);
    let body: Value = login.json().await.unwrap();
    assert_eq!(body["user"]["role"], "merchant");
    // The link works once.
    let again = browser.post("/set-password", &form).await;
    assert_eq!(again.status(), 400);

    // One email, one account: another merchant or an acceptor's email is refused.
    let admin = app.admin_token().await;
    let acceptor = online_acceptor(&app, AcceptorSpec::default()).await;
    for taken in [email.to_owned(), acceptor.email.to_uppercase()] {
        let refused = app
            .post(
                "/api/v1/admin/merchants",
                Some(&admin),
                &json!({"name": "Copy", "email": taken, "fee_rate": "0.01"}),
            )
            .await;
        let error = assert_error(refused, 409, "email_taken").await;
        assert_eq!(error["error"]["param"], "email");
    }
    assert_eq!(
        smtp.count_to(email),
        1,
        "one invitation, no mail for refusals"
    );
    app.assert_ledger_ok().await;
}

/// An acceptor who ticks "Mail me each new order" on the desk gets a mail for each
/// order assigned to it, with the order's amounts and a link to it; one who did not
/// gets none. Reassigned orders (after a reject) mail their new acceptor too.
#[tokio::test]
async fn new_order_mail_is_sent_only_to_acceptors_who_asked_for_it() {
    let smtp = otcpay_tests::smtp::SmtpListener::start().await;
    let url = smtp.url();
    let app = TestApp::spawn_with(|s| {
        s.smtp_url = Some(otcpay::config::Secret::new(url));
        s.public_url = Some("https://pay.example.test".to_owned());
    })
    .await;
    // The better quote gets the first order.
    let wants_mail = online_acceptor(
        &app,
        AcceptorSpec {
            rate: "7.10",
            ..AcceptorSpec::default()
        },
    )
    .await;
    let quiet = online_acceptor(
        &app,
        AcceptorSpec {
            rate: "7.30",
            ..AcceptorSpec::default()
        },
    )
    .await;
    let mut desk = logged_in(&app, &wants_mail).await;
    let html = desk.get("/acceptor").await.text().await.unwrap();
    assert!(html.contains("Mail me each new order"));
    let ticked = desk
        .post(
            "/acceptor/new-order-mail",
            &[("new_order_mail", "on"), ("csrf_token", &csrf_of(&html))],
        )
        .await;
    assert_eq!(ticked.status(), 303);
    let html = desk.get("/acceptor").await.text().await.unwrap();
    assert!(html.contains("name=\"new_order_mail\" value=\"on\" checked"));

    let shop = create_merchant(&app, json!({})).await;
    let order: Value = shop
        .live
        .post(
            "/api/v1/orders",
            &json!({"merchant_order_id": "mail-1", "amount": "10.00", "fiat_currency": "CNY"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let order_id = order["id"].as_str().unwrap().to_owned();
    let holds = |acceptor: &Acceptor| {
        let (app, path, token) = (
            &app,
            format!("/api/v1/acceptor/orders/{order_id}"),
            acceptor.token.clone(),
        );
        async move { app.get(&path, Some(&token)).await.status() == 200 }
    };
    assert!(holds(&wants_mail).await, "the better quote got the order");
    let reference = order["reference"].as_str().unwrap();
    let mail = smtp.wait_for(&wants_mail.email).await;
    assert!(mail.data.contains(reference), "{}", mail.data);
    assert!(mail.data.contains("71.00 CNY"), "{}", mail.data);
    let link = format!("https://pay.example.test/acceptor/orders/{order_id}");
    assert!(
        mail.data.replace("=\r\n", "").contains(&link),
        "a link to the order: {}",
        mail.data
    );

    // The other acceptor (mail off, the default) gets the order after a reject: no mail.
    let rejected = app
        .post(
            &format!(
                "/api/v1/acceptor/orders/{}/reject",
                order["id"].as_str().unwrap()
            ),
            Some(&wants_mail.token),
            &json!({"reason": "busy"}),
        )
        .await;
    assert_eq!(rejected.status(), 200);
    assert!(holds(&quiet).await, "reassigned to the other acceptor");
    // Untick: the next order assigned to it sends nothing.
    let html = desk.get("/acceptor").await.text().await.unwrap();
    let unticked = desk
        .post(
            "/acceptor/new-order-mail",
            &[("csrf_token", &csrf_of(&html))],
        )
        .await;
    assert_eq!(unticked.status(), 303);
    let second: Value = shop
        .live
        .post(
            "/api/v1/orders",
            &json!({"merchant_order_id": "mail-2", "amount": "12.00", "fiat_currency": "CNY"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let second_path = format!("/api/v1/acceptor/orders/{}", second["id"].as_str().unwrap());
    assert_eq!(
        app.get(&second_path, Some(&wants_mail.token))
            .await
            .status(),
        200
    );
    // The outbox is written with the order: it holds exactly the one mail.
    use otcpay::mail::outbox::{Column, Entity};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let new_order_mails = Entity::find()
        .filter(Column::Kind.eq("new_order"))
        .all(&app.state.db)
        .await
        .unwrap();
    let recipients: Vec<_> = new_order_mails
        .iter()
        .map(|m| m.to_address.as_str())
        .collect();
    assert_eq!(
        recipients,
        [wants_mail.email.as_str()],
        "{new_order_mails:?}"
    );
    assert_eq!(smtp.count_to(&quiet.email), 0);
    app.assert_ledger_ok().await;
}

/// The dispute thread from every side: the customer writes on the cashier page (the
/// acceptor gets a mail and the cashier's stream the message), the acceptor answers on
/// its order page (no mail to itself), the admin reads each message with its author.
#[tokio::test]
async fn customer_and_acceptor_write_in_the_dispute_thread() {
    let smtp = otcpay_tests::smtp::SmtpListener::start().await;
    let url = smtp.url();
    let app = TestApp::spawn_with(|s| {
        s.smtp_url = Some(otcpay::config::Secret::new(url));
        s.public_url = Some("https://pay.example.test".to_owned());
    })
    .await;
    let acceptor = online_acceptor(&app, AcceptorSpec::default()).await;
    let shop = create_merchant(&app, json!({})).await;
    let order: Value = shop
        .live
        .post(
            "/api/v1/orders",
            &json!({"merchant_order_id": "thread-1", "amount": "10.00", "fiat_currency": "CNY"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let order_id = order["id"].as_str().unwrap().to_owned();
    let cashier = order["cashier_url"].as_str().unwrap();
    let path = cashier[cashier.find("/pay/").unwrap()..].to_owned();

    // Before a dispute there is no thread, and the message route says so.
    let mut customer = Browser::new(&app);
    let html = customer.get(&path).await.text().await.unwrap();
    assert!(!html.contains(">Send</button>"));
    let early = app
        .post(&format!("{path}/messages"), None, &json!({"body": "hello"}))
        .await;
    assert_error(early, 409, "invalid_state").await;

    // Paid, then disputed by the customer, on the page.
    let csrf = csrf_of(&html);
    let paid = customer
        .post(
            &format!("{path}/paid"),
            &[("payer_name", "Li Wei"), ("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(paid.status(), 303);
    let html = customer.get(&path).await.text().await.unwrap();
    let csrf = csrf_of(&html);
    let disputed = customer
        .post(
            &format!("{path}/dispute"),
            &[
                ("reason", "The payee says it got nothing"),
                ("csrf_token", &csrf),
            ],
        )
        .await;
    assert_eq!(disputed.status(), 303);
    let html = customer.get(&path).await.text().await.unwrap();
    assert!(html.contains(">Message</label>") && html.contains(">Send</button>"));

    // The customer's stream is open when the message is written.
    let stream = reqwest::Client::new()
        .get(app.url(&format!("{path}/events")))
        .send()
        .await
        .unwrap();
    let sent = customer
        .post(
            &format!("{path}/messages"),
            &[
                ("body", "Bank ref TX-778812, 71.00 CNY at 10:02"),
                ("csrf_token", &csrf_of(&html)),
            ],
        )
        .await;
    assert_eq!(sent.status(), 303);
    let live = read_until(stream, "TX-778812").await;
    assert!(live.contains("event: dispute.message"), "{live}");
    let html = customer.get(&path).await.text().await.unwrap();
    assert!(html.contains("Bank ref TX-778812"));
    assert!(html.contains("Your message was sent."));
    // A blank message is refused beside the form; nothing is written.
    let blank = customer
        .post(
            &format!("{path}/messages"),
            &[("body", "   "), ("csrf_token", &csrf_of(&html))],
        )
        .await;
    assert_eq!(blank.status(), 400);

    // The acceptor is told by mail (the open mail and this one) and reads it on its page.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while smtp.count_to(&acceptor.email) < 2 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let told =
        smtp.caught.lock().unwrap().iter().any(|m| {
            m.to.contains(&acceptor.email) && m.data.contains("New message on the dispute")
        });
    assert!(told, "a message mail to the acceptor");
    let mut desk = logged_in(&app, &acceptor).await;
    let page = desk
        .get(&format!("/acceptor/orders/{order_id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Bank ref TX-778812") && page.contains("Customer"));
    let answered = desk
        .post(
            &format!("/acceptor/orders/{order_id}/messages"),
            &[
                ("body", "Nothing arrived on account 6222"),
                ("csrf_token", &csrf_of(&page)),
            ],
        )
        .await;
    assert_eq!(answered.status(), 303);
    let html = customer.get(&path).await.text().await.unwrap();
    assert!(html.contains("Nothing arrived on account 6222") && html.contains("The payee"));

    // The admin reads the thread with each author; the JSON route writes as the customer.
    let json_message = app
        .post(
            &format!("{path}/messages"),
            None,
            &json!({"body": "Receipt uploaded to my bank app"}),
        )
        .await;
    assert_eq!(json_message.status(), 201);
    let admin = app.admin_token().await;
    let disputes: Value = app
        .get("/api/v1/admin/disputes?status=open", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    let dispute_id = disputes["data"][0]["id"].as_str().unwrap();
    let detail: Value = app
        .get(
            &format!("/api/v1/admin/disputes/{dispute_id}"),
            Some(&admin),
        )
        .await
        .json()
        .await
        .unwrap();
    let authors: Vec<_> = detail["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["author_role"].as_str().unwrap())
        .collect();
    assert_eq!(authors, ["customer", "acceptor", "customer"]);
    // The acceptor's own message mailed nobody: the open, and two customer messages.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    use otcpay::mail::outbox::{Column, Entity};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let message_mails = Entity::find()
        .filter(Column::Kind.eq("dispute_message"))
        .all(&app.state.db)
        .await
        .unwrap();
    assert_eq!(message_mails.len(), 2);
    app.assert_ledger_ok().await;
}
