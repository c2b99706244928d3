//! The acceptor's pages driven like a browser: `GET` with the session cookie, the CSRF
//! token read from the form, `application/x-www-form-urlencoded` posts, and assertions
//! on what the user sees. Quotes and payment methods, order history with filters and
//! earnings, and two-factor authentication from the security page. Every test ends
//! with the ledger invariant check.

use reqwest::Response;
use reqwest::header::{ACCEPT_LANGUAGE, CONTENT_TYPE, COOKIE, LOCATION};
use serde_json::{Value, json};

use otcpay_tests::TestApp;
use otcpay_tests::app::assert_error;
use otcpay_tests::merchant::{CreatedMerchant, create_merchant};
use otcpay_tests::scenario::{Acceptor, AcceptorSpec, online_acceptor};
use otcpay_tests::totp::{code as authenticator_code, next_step};

fn session_cookie(token: &str) -> String {
    format!("otcpay_session={token}")
}

/// `GET` a page as the logged-in user; the status and the HTML.
async fn page(app: &TestApp, token: &str, path: &str) -> (u16, String) {
    let response = app
        .client
        .get(app.url(path))
        .header(COOKIE, session_cookie(token))
        .send()
        .await
        .expect("page request");
    let status = response.status().as_u16();
    (status, response.text().await.expect("page body"))
}

async fn page_zh(app: &TestApp, token: &str, path: &str) -> String {
    let response = app
        .client
        .get(app.url(path))
        .header(COOKIE, session_cookie(token))
        .header(ACCEPT_LANGUAGE, "zh-CN,zh;q=0.9")
        .send()
        .await
        .expect("page request");
    assert_eq!(response.status(), 200);
    response.text().await.expect("page body")
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
    let marker = "name=\"csrf_token\" value=\"";
    let at = html.find(marker).expect("a form with a CSRF token") + marker.len();
    html[at..at + html[at..].find('"').unwrap()].to_owned()
}

/// The value of the attribute `attr` after the first occurrence of `after`.
fn attribute_after(html: &str, after: &str, attr: &str) -> Option<String> {
    let start = html.find(after)?;
    let rest = &html[start..];
    let marker = format!("{attr}=\"");
    let at = rest.find(&marker)? + marker.len();
    Some(rest[at..at + rest[at..].find('"')?].to_owned())
}

fn location(response: &Response) -> &str {
    response.headers()[LOCATION].to_str().unwrap()
}

/// The rows of a table, by its caption: the HTML between the caption and `</table>`.
fn table<'a>(html: &'a str, caption: &str) -> &'a str {
    let start = html
        .find(&format!("<caption>{caption}</caption>"))
        .unwrap_or_else(|| panic!("a table captioned {caption:?}"));
    let rest = &html[start..];
    &rest[..rest.find("</table>").unwrap()]
}

#[tokio::test]
async fn quotes_page_saves_quotes_and_methods_and_shows_refusals_beside_the_field() {
    let app = TestApp::spawn().await;
    let acceptor = online_acceptor(&app, AcceptorSpec::default()).await;
    let token = acceptor.token.as_str();

    let (status, html) = page(&app, token, "/acceptor/quotes").await;
    assert_eq!(status, 200);
    let quotes = table(&html, "Your quotes");
    assert!(quotes.contains("CNY") && quotes.contains("7.2"), "{quotes}");
    assert!(table(&html, "Your payment methods").contains("Bank transfer"));
    for label in [
        ">Currency</label>",
        ">Rate</label>",
        ">Min amount</label>",
        ">Max amount</label>",
        ">Method</label>",
        ">Bank name</label>",
        ">Account name</label>",
        ">Account number</label>",
        ">Save quote</button>",
        ">Add payment method</button>",
    ] {
        assert!(html.contains(label), "the page has {label}");
    }
    assert!(!html.contains("type=\"number\""));
    let csrf = csrf_of(&html);

    // A new quote is listed after the redirect, with a flash message.
    let saved = submit(
        &app,
        token,
        "/acceptor/quotes",
        &[
            ("csrf_token", &csrf),
            ("fiat", "USD"),
            ("rate", "1.02"),
            ("min_amount", "5"),
            ("max_amount", "800.50"),
        ],
    )
    .await;
    assert_eq!(saved.status(), 303);
    assert_eq!(location(&saved), "/acceptor/quotes");
    let flash = saved
        .headers()
        .get_all("set-cookie")
        .iter()
        .find_map(|c| c.to_str().ok().filter(|c| c.starts_with("otcpay_flash=")))
        .expect("a flash cookie")
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let shown = app
        .client
        .get(app.url("/acceptor/quotes"))
        .header(COOKIE, format!("{}; {flash}", session_cookie(token)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(shown.contains("Your USD quote is saved."), "{shown}");
    let quotes = table(&shown, "Your quotes");
    assert!(
        quotes.contains("data-row-id=\"USD\"")
            && quotes.contains("1.02")
            && quotes.contains("800.50")
    );
    let api: Value = app
        .get("/api/v1/acceptor/quotes", Some(token))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        api["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|q| q["fiat"] == "USD" && q["rate"] == "1.02"),
        "{api}"
    );

    // A bad rate: the message beside the field and in the summary, the values kept.
    let bad = submit(
        &app,
        token,
        "/acceptor/quotes",
        &[
            ("csrf_token", &csrf),
            ("fiat", "EUR"),
            ("rate", "abc"),
            ("min_amount", "5"),
            ("max_amount", "50"),
        ],
    )
    .await;
    assert_eq!(bad.status(), 400);
    let html = bad.text().await.unwrap();
    assert!(html.contains("error-summary"));
    assert!(html.contains("id=\"rate-error\">Enter the rate as a positive number, like 7.18."));
    assert!(html.contains("href=\"#rate\""));
    assert!(html.contains("value=\"abc\""));
    assert!(html.contains("<option value=\"EUR\" selected>"));
    let bad = submit(
        &app,
        token,
        "/acceptor/quotes",
        &[
            ("csrf_token", &csrf),
            ("fiat", "EUR"),
            ("rate", "0.92"),
            ("min_amount", "60"),
            ("max_amount", "50"),
        ],
    )
    .await;
    assert_eq!(bad.status(), 400);
    assert!(
        bad.text()
            .await
            .unwrap()
            .contains("id=\"min_amount-error\"")
    );

    // A payment method: added, shown in words, refused without details.
    let added = submit(
        &app,
        token,
        "/acceptor/quotes/methods",
        &[
            ("csrf_token", &csrf),
            ("fiat", "CNY"),
            ("method", "alipay"),
            ("bank_name", ""),
            ("account_name", "Ann Li"),
            ("account_number", "ann@pay.example"),
        ],
    )
    .await;
    assert_eq!(added.status(), 303);
    let (_, html) = page(&app, token, "/acceptor/quotes").await;
    let methods = table(&html, "Your payment methods");
    assert!(methods.contains("Alipay") && methods.contains("ann@pay.example"));
    let blank = submit(
        &app,
        token,
        "/acceptor/quotes/methods",
        &[("csrf_token", &csrf), ("fiat", "CNY"), ("method", "alipay")],
    )
    .await;
    assert_eq!(blank.status(), 400);
    assert!(
        blank
            .text()
            .await
            .unwrap()
            .contains("Enter where customers pay")
    );

    // Deleting a quote and a method.
    let deleted = submit(
        &app,
        token,
        "/acceptor/quotes/USD/delete",
        &[("csrf_token", &csrf)],
    )
    .await;
    assert_eq!(deleted.status(), 303);
    let methods: Value = app
        .get("/api/v1/acceptor/payment-methods", Some(token))
        .await
        .json()
        .await
        .unwrap();
    let alipay = methods["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["method"] == "alipay")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let deleted = submit(
        &app,
        token,
        &format!("/acceptor/quotes/methods/{alipay}/delete"),
        &[("csrf_token", &csrf)],
    )
    .await;
    assert_eq!(deleted.status(), 303);
    let (_, html) = page(&app, token, "/acceptor/quotes").await;
    assert!(!table(&html, "Your quotes").contains("data-row-id=\"USD\""));
    assert!(!table(&html, "Your payment methods").contains("Alipay"));

    // Another acceptor's method is not found from this one.
    let other = online_acceptor(&app, AcceptorSpec::default()).await;
    let theirs: Value = app
        .get("/api/v1/acceptor/payment-methods", Some(&other.token))
        .await
        .json()
        .await
        .unwrap();
    let theirs = theirs["data"][0]["id"].as_str().unwrap().to_owned();
    let response = submit(
        &app,
        token,
        &format!("/acceptor/quotes/methods/{theirs}/delete"),
        &[("csrf_token", &csrf)],
    )
    .await;
    assert_eq!(response.status(), 404);

    // In Chinese.
    let zh = page_zh(&app, token, "/acceptor/quotes").await;
    assert!(zh.contains("<caption>我的报价</caption>") && zh.contains("保存报价"));

    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn forms_need_the_csrf_token_and_the_pages_the_acceptor_role() {
    let app = TestApp::spawn().await;
    let acceptor = online_acceptor(&app, AcceptorSpec::default()).await;
    let token = acceptor.token.as_str();

    for (path, fields) in [
        (
            "/acceptor/quotes",
            vec![
                ("fiat", "USD"),
                ("rate", "1"),
                ("min_amount", "1"),
                ("max_amount", "2"),
            ],
        ),
        ("/acceptor/quotes/CNY/delete", vec![]),
        ("/acceptor/quotes/methods", vec![("fiat", "CNY")]),
        ("/acceptor/security/setup", vec![]),
        ("/acceptor/security/enable", vec![("code", "123456")]),
    ] {
        let response = submit(&app, token, path, &fields).await;
        assert_eq!(response.status(), 403, "{path} without a CSRF token");
        let mut wrong = fields.clone();
        wrong.push(("csrf_token", "not-the-token"));
        let response = submit(&app, token, path, &wrong).await;
        assert_eq!(response.status(), 403, "{path} with a wrong CSRF token");
    }
    // Nothing changed.
    let (_, html) = page(&app, token, "/acceptor/quotes").await;
    assert!(table(&html, "Your quotes").contains("CNY"));
    assert!(!table(&html, "Your quotes").contains("data-row-id=\"USD\""));

    // Another role gets the 403 page; the logged-out go to the login.
    let admin = app.admin_token().await;
    for path in [
        "/acceptor/quotes",
        "/acceptor/history",
        "/acceptor/security",
    ] {
        let (status, html) = page(&app, &admin, path).await;
        assert_eq!(status, 403, "{path} as admin");
        assert!(html.contains("Not allowed"));
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 303);
        assert!(location(&response).starts_with("/login?next="));
    }

    // A frozen acceptor still sees the page, and the refusal in words.
    let frozen = app
        .post(
            &format!("/api/v1/admin/acceptors/{}/freeze", acceptor.id),
            Some(&admin),
            &json!({}),
        )
        .await;
    assert_eq!(frozen.status(), 200);
    let (status, html) = page(&app, token, "/acceptor/quotes").await;
    assert_eq!(status, 200);
    assert!(html.contains("Your account is frozen"));
    let refused = submit(
        &app,
        token,
        "/acceptor/quotes",
        &[
            ("csrf_token", &csrf_of(&html)),
            ("fiat", "USD"),
            ("rate", "1.01"),
            ("min_amount", "1"),
            ("max_amount", "2"),
        ],
    )
    .await;
    assert_eq!(refused.status(), 403);
    let html = refused.text().await.unwrap();
    assert!(html.contains("Your account is frozen") && html.contains("value=\"1.01\""));
    let quotes: Value = app
        .get("/api/v1/acceptor/quotes", Some(token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(quotes["data"].as_array().unwrap().len(), 1);

    app.assert_ledger_ok().await;
}

async fn new_order(merchant: &CreatedMerchant, id: &str, amount: &str) -> Value {
    let response = merchant
        .live
        .post(
            "/api/v1/orders",
            &json!({"merchant_order_id": id, "amount": amount, "fiat_currency": "CNY",
                    "payment_method": "bank_transfer"}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let order: Value = response.json().await.unwrap();
    assert_eq!(order["status"], "assigned", "{order}");
    order
}

fn today() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive()
}

#[tokio::test]
async fn history_filters_by_status_and_date_pages_and_shows_the_days_commission() {
    let app = TestApp::spawn().await;
    let merchant = create_merchant(&app, json!({"fee_rate": "0.01"})).await;
    let acceptor: Acceptor = online_acceptor(&app, AcceptorSpec::default()).await;
    let token = acceptor.token.as_str();

    let released = new_order(&merchant, "inv-1", "100.00").await;
    let confirmed = app
        .post(
            &format!(
                "/api/v1/acceptor/orders/{}/confirm",
                released["id"].as_str().unwrap()
            ),
            Some(token),
            &json!({}),
        )
        .await;
    assert_eq!(confirmed.status(), 200);
    let waiting = new_order(&merchant, "inv-2", "10.00").await;
    let released_ref = released["reference"].as_str().unwrap();
    let waiting_ref = waiting["reference"].as_str().unwrap();

    let (status, html) = page(&app, token, "/acceptor/history").await;
    assert_eq!(status, 200);
    let orders = table(&html, "Order history");
    assert!(orders.contains(released_ref) && orders.contains(waiting_ref));
    assert!(orders.contains("<span class=\"badge badge-completed\">Released</span>"));
    assert!(orders.contains("<span class=\"badge badge-assigned\">Waiting for payment</span>"));
    assert!(orders.contains(&format!(
        "href=\"/acceptor/orders/{}\"",
        released["id"].as_str().unwrap()
    )));
    assert!(orders.contains("720.00 <span class=\"amount-code\">CNY</span>"));
    assert!(orders.contains("<time datetime=\""));
    assert!(!html.contains("Load more"));
    // 0.4 % of 100 USDT, credited today.
    let earnings = table(&html, "Earnings per day");
    assert!(earnings.contains(&today().format("%Y-%m-%d").to_string()));
    assert!(
        earnings.contains("0.40 <span class=\"amount-code\">USDT</span>"),
        "{earnings}"
    );

    // By status.
    let (_, html) = page(&app, token, "/acceptor/history?status=completed").await;
    let orders = table(&html, "Order history");
    assert!(orders.contains(released_ref) && !orders.contains(waiting_ref));
    assert!(html.contains("<option value=\"completed\" selected>"));
    let (_, html) = page(&app, token, "/acceptor/history?status=assigned").await;
    let orders = table(&html, "Order history");
    assert!(!orders.contains(released_ref) && orders.contains(waiting_ref));
    let (status, html) = page(&app, token, "/acceptor/history?status=bogus").await;
    assert_eq!(status, 200);
    assert!(html.contains("Choose a status from the list."));

    // By date (UTC days, both ends included).
    let day = |d: chrono::NaiveDate| d.format("%Y-%m-%d").to_string();
    let tomorrow = day(today().succ_opt().unwrap());
    let yesterday = day(today().pred_opt().unwrap());
    let (_, html) = page(&app, token, &format!("/acceptor/history?from={tomorrow}")).await;
    assert!(table(&html, "Order history").contains("No order matches these filters."));
    let (_, html) = page(&app, token, &format!("/acceptor/history?to={yesterday}")).await;
    assert!(!table(&html, "Order history").contains(released_ref));
    let (_, html) = page(
        &app,
        token,
        &format!("/acceptor/history?from={0}&to={0}", day(today())),
    )
    .await;
    let orders = table(&html, "Order history");
    assert!(orders.contains(released_ref) && orders.contains(waiting_ref));
    let (_, html) = page(&app, token, "/acceptor/history?from=03/01/2026").await;
    assert!(html.contains("Enter a date like 2026-03-01."));

    // Cursor paging: 20 a page, the filter kept in the link.
    for n in 3..=22 {
        new_order(&merchant, &format!("inv-{n}"), "1.00").await;
    }
    let (_, html) = page(&app, token, "/acceptor/history?status=assigned").await;
    assert_eq!(
        table(&html, "Order history")
            .matches("data-row-id=")
            .count(),
        20
    );
    let more = attribute_after(&html, "class=\"pager\"", "href")
        .expect("a Load more link")
        .replace("&#38;", "&")
        .replace("&amp;", "&");
    assert!(
        more.starts_with("/acceptor/history?status=assigned&starting_after=ord_"),
        "{more}"
    );
    let (_, html) = page(&app, token, &more).await;
    let orders = table(&html, "Order history");
    assert_eq!(orders.matches("data-row-id=").count(), 1);
    assert!(
        orders.contains(waiting_ref),
        "the oldest assigned order comes last"
    );
    assert!(!html.contains("Load more"));

    // Another acceptor sees none of it.
    let other = online_acceptor(&app, AcceptorSpec::default()).await;
    let (_, html) = page(&app, &other.token, "/acceptor/history").await;
    assert!(table(&html, "Order history").contains("No orders"));
    assert!(table(&html, "Earnings per day").contains("No commission yet"));
    let earned = otcpay::acceptors::history::earnings_per_day(
        &app.state.db,
        &otcpay::acceptors::service::get(
            &app.state.db,
            &otcpay::ids::AcceptorId::parse(&other.id).unwrap(),
        )
        .await
        .unwrap(),
        30,
        otcpay::db::now_ms(),
    )
    .await
    .unwrap();
    assert!(earned.is_empty());

    // In Chinese.
    let zh = page_zh(&app, token, "/acceptor/history").await;
    assert!(zh.contains("<caption>历史订单</caption>") && zh.contains(">已放行</option>"));
    assert!(zh.contains(">等待付款</span>"));

    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn two_factor_is_turned_on_and_off_from_the_security_page() {
    let app = TestApp::spawn().await;
    let acceptor = online_acceptor(&app, AcceptorSpec::default()).await;
    let token = acceptor.token.as_str();
    let login = |totp: Option<String>| {
        let mut body = json!({"email": acceptor.email, "password": "acceptor-password-1"});
        if let Some(code) = totp {
            body["totp_code"] = json!(code);
        }
        let app = &app;
        async move { app.post("/api/v1/auth/login", None, &body).await }
    };

    let (status, html) = page(&app, token, "/acceptor/security").await;
    assert_eq!(status, 200);
    assert!(html.contains(">Set up two-factor authentication</button>"));
    let csrf = csrf_of(&html);

    // Set-up: the QR image and the secret, shown on the answer itself.
    let setup = submit(
        &app,
        token,
        "/acceptor/security/setup",
        &[("csrf_token", &csrf)],
    )
    .await;
    assert_eq!(setup.status(), 200);
    let html = setup.text().await.unwrap();
    assert!(html.contains("<img src=\"data:image/png;base64,"));
    assert!(html.contains(">Turn on</button>"));
    assert!(html.contains(">Authentication code</label>"));
    let secret = attribute_after(&html, "class=\"secret\"", "data-copy").expect("the secret");
    assert_eq!(secret.len(), 32);

    // A wrong code is a message on the page.
    let wrong = submit(
        &app,
        token,
        "/acceptor/security/enable",
        &[
            ("csrf_token", &csrf),
            ("code", &authenticator_code(&secret, -10)),
        ],
    )
    .await;
    assert_eq!(wrong.status(), 400);
    let html = wrong.text().await.unwrap();
    assert!(html.contains("That code is not valid or was already used."));
    assert!(
        html.contains(">Turn on</button>"),
        "the code can be entered again"
    );
    assert!(!html.contains(&secret), "the secret is shown once");

    // The right code turns it on.
    let code = authenticator_code(&secret, 0);
    let on = submit(
        &app,
        token,
        "/acceptor/security/enable",
        &[("csrf_token", &csrf), ("code", &code)],
    )
    .await;
    assert_eq!(on.status(), 303);
    assert_eq!(location(&on), "/acceptor/security");
    let (_, html) = page(&app, token, "/acceptor/security").await;
    assert!(html.contains("Two-factor authentication is on."));
    assert!(html.contains(">Turn off two-factor authentication</button>"));
    assert_error(login(None).await, 401, "totp_required").await;

    // A used code does not turn it off.
    let reused = submit(
        &app,
        token,
        "/acceptor/security/disable",
        &[("csrf_token", &csrf), ("code", &code)],
    )
    .await;
    assert_eq!(reused.status(), 400);
    assert!(
        reused
            .text()
            .await
            .unwrap()
            .contains("That code is not valid or was already used.")
    );

    // The next code logs in; the one after turns it off.
    next_step().await;
    assert_eq!(
        login(Some(authenticator_code(&secret, 0))).await.status(),
        200
    );
    let off = submit(
        &app,
        token,
        "/acceptor/security/disable",
        &[
            ("csrf_token", &csrf),
            ("code", &authenticator_code(&secret, 1)),
        ],
    )
    .await;
    assert_eq!(off.status(), 303);
    let (_, html) = page(&app, token, "/acceptor/security").await;
    assert!(html.contains(">Set up two-factor authentication</button>"));
    assert_eq!(login(None).await.status(), 200);

    // A set-up left unfinished offers the code field and a new start after a reload.
    let setup = submit(
        &app,
        token,
        "/acceptor/security/setup",
        &[("csrf_token", &csrf)],
    )
    .await;
    assert_eq!(setup.status(), 200);
    let (_, html) = page(&app, token, "/acceptor/security").await;
    assert!(html.contains(">Turn on</button>"));
    assert!(html.contains(">Set up two-factor authentication</button>"));
    assert!(!html.contains("data:image/png"));

    // In Chinese.
    let zh = page_zh(&app, token, "/acceptor/security").await;
    assert!(zh.contains("双重验证") && zh.contains(">验证码</label>"));

    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn the_top_up_page_says_when_no_chain_is_followed() {
    let app = TestApp::spawn().await;
    let acceptor = online_acceptor(&app, AcceptorSpec::default()).await;
    let (status, html) = page(&app, &acceptor.token, "/acceptor/top-up").await;
    assert_eq!(status, 200);
    assert!(html.contains("On-chain top-ups are not enabled"), "{html}");
    assert!(html.contains("href=\"/acceptor/top-up\" aria-current=\"page\""));
    let response = app
        .get("/api/v1/acceptor/deposit-addresses", Some(&acceptor.token))
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.unwrap(), json!({"data": []}));
    app.assert_ledger_ok().await;
}
