//! The pages as a browser sees them, over plain HTTP: the login in one or two steps, the
//! session cookie, CSRF on every form, logout that revokes, the language switch, the
//! wrong role (403 page), another acceptor's order (404 page) and the desk's actions.

use reqwest::header::{ACCEPT_LANGUAGE, COOKIE, LOCATION, SET_COOKIE};
use reqwest::{Client, Response};
use serde_json::{Value, json};

use otcpay_tests::TestApp;
use otcpay_tests::merchant::create_merchant;
use otcpay_tests::scenario::{Acceptor, AcceptorSpec, online_acceptor};
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
    let row = otcpay::orders::store::find(&app.state.db, &order_id)
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

#[tokio::test]
async fn an_invitation_link_sets_the_first_password_once() {
    let app = TestApp::spawn().await;
    let acceptor = online_acceptor(&app, AcceptorSpec::default()).await;
    let user = otcpay::auth::store::find_by_email(&app.state.db, &acceptor.email)
        .await
        .unwrap()
        .unwrap();
    let token = otcpay::auth::tokens::issue(
        &app.state.db,
        &app.state.keys,
        &user.id,
        otcpay::auth::tokens::Purpose::SetPassword,
    )
    .await
    .unwrap();
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
    assert_eq!(
        app.login(&acceptor.email, "invited-password-1")
            .await
            .status(),
        200
    );
    // The link works once.
    let again = browser.post("/set-password", &form).await;
    assert_eq!(again.status(), 400);
    app.assert_ledger_ok().await;
}
