//! The OpenAPI document (`GET /api/v1/openapi.json`) and its page (`GET /api/docs`).
//!
//! - The document is OpenAPI 3.1, complete (operations with responses, every `$ref`
//!   resolves, both security schemes) and lists every stable error code of
//!   `otcpay::error::ErrorCode` with its status.
//! - Every route the tests call is documented, with the status it answered and a body
//!   that matches its schema: the harness checks every JSON response
//!   (`otcpay_tests::contract`); `real_responses_match_their_documented_schemas` walks
//!   the API once on purpose.
//! - Every documented route is really mounted: a request to it does not fall through to
//!   the default service (`404 not_found` "No such endpoint.").
//! - The page is HTML that loads the document and no remote asset.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use otcpay::error::ErrorCode;
use otcpay_tests::TestApp;
use reqwest::Method;
use serde_json::Value;

const HTTP_METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "patch", "head", "options", "trace",
];

async fn fetch_document(app: &TestApp) -> Value {
    let response = app.get("/api/v1/openapi.json", None).await;
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        content_type.starts_with("application/json"),
        "content type {content_type}"
    );
    let text = response.text().await.unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("the document is not JSON: {e}"))
}

/// `(METHOD, path)` of every operation of a paths object.
fn operations(paths: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in paths.as_object().expect("paths is an object") {
        for (key, op) in item.as_object().expect("a path item is an object") {
            if HTTP_METHODS.contains(&key.as_str()) {
                out.push((key.to_uppercase(), path.clone(), op.clone()));
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// 1. The document itself

fn resolve_pointer<'a>(doc: &'a Value, reference: &str) -> Option<&'a Value> {
    let pointer = reference.strip_prefix('#')?;
    doc.pointer(pointer)
}

fn collect_refs(value: &Value, at: &str, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                if key == "$ref" {
                    if let Value::String(reference) = child {
                        out.push((at.to_owned(), reference.clone()));
                    }
                } else {
                    collect_refs(child, &format!("{at}/{key}"), out);
                }
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                collect_refs(child, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

#[tokio::test]
async fn the_document_is_openapi_3_1_complete_and_lists_every_error_code() {
    let app = TestApp::spawn().await;
    let doc = fetch_document(&app).await;

    let version = doc["openapi"].as_str().unwrap();
    assert!(version.starts_with("3.1."), "openapi {version}");
    assert_eq!(doc["info"]["title"], "OTCPay");
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
    assert!(
        doc["info"]["description"]
            .as_str()
            .is_some_and(|d| d.contains("decimal strings") && d.contains("RFC 3339"))
    );
    assert_eq!(doc["servers"][0]["url"], "/");

    // Every path item has operations, every operation an id, a summary and responses.
    let mut ids = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        let item = item.as_object().unwrap();
        assert!(
            item.keys().any(|k| HTTP_METHODS.contains(&k.as_str())),
            "{path} has no operation"
        );
    }
    let ops = operations(&doc["paths"]);
    assert!(ops.len() >= 60, "only {} operations", ops.len());
    for (method, path, op) in &ops {
        let id = op["operationId"]
            .as_str()
            .unwrap_or_else(|| panic!("{method} {path}: no operationId"));
        assert!(ids.insert(id.to_owned()), "operationId {id} twice");
        assert!(
            op["summary"].as_str().is_some_and(|s| !s.is_empty()),
            "{method} {path}: no summary"
        );
        let responses = op["responses"]
            .as_object()
            .unwrap_or_else(|| panic!("{method} {path}: no responses"));
        assert!(!responses.is_empty(), "{method} {path}: no responses");
        assert!(
            responses
                .keys()
                .any(|s| s.starts_with('2') || s.starts_with('3')),
            "{method} {path}: no success response"
        );
        assert!(responses.contains_key("500"), "{method} {path}: no 500");
    }

    // Every $ref resolves inside the document.
    let mut refs = Vec::new();
    collect_refs(&doc, "", &mut refs);
    assert!(refs.len() > 100, "only {} $refs", refs.len());
    let dangling: Vec<_> = refs
        .iter()
        .filter(|(_, r)| resolve_pointer(&doc, r).is_none())
        .collect();
    assert!(dangling.is_empty(), "dangling $refs: {dangling:#?}");

    // Both security schemes, and each operation uses the right one.
    let schemes = &doc["components"]["securitySchemes"];
    let signed = &schemes["merchantSignature"];
    assert_eq!(signed["type"], "apiKey");
    assert_eq!(signed["in"], "header");
    assert_eq!(signed["name"], "API-Key");
    let text = signed["description"].as_str().unwrap();
    for needle in [
        "Request-Time",
        "Recv-Window",
        "Signature-V1",
        "HMAC",
        "ECDSA",
        "path_and_query",
    ] {
        assert!(
            text.contains(needle),
            "merchantSignature description lacks {needle}"
        );
    }
    assert_eq!(schemes["bearerAuth"]["type"], "http");
    assert_eq!(schemes["bearerAuth"]["scheme"], "bearer");
    let cookie = &schemes["sessionCookie"];
    assert_eq!(cookie["type"], "apiKey");
    assert_eq!(cookie["in"], "cookie");
    assert_eq!(cookie["name"], "otcpay_session");
    assert!(
        cookie["description"]
            .as_str()
            .is_some_and(|d| d.contains("X-CSRF-Token")),
        "sessionCookie states the CSRF rule"
    );
    for (method, path, op) in &ops {
        let uses: Vec<String> = op["security"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|r| r.as_object().unwrap().keys().cloned())
            .collect();
        let expected = if path.starts_with("/api/v1/admin/")
            || path.starts_with("/api/v1/acceptor/")
            || path.starts_with("/api/v1/auth/totp/")
            || path == "/api/v1/auth/logout"
        {
            // The header, or the portal pages' cookie.
            Some(&["bearerAuth", "sessionCookie"][..])
        } else if [
            "/api/v1/orders",
            "/api/v1/balance",
            "/api/v1/deposit-addresses",
            "/api/v1/deposits",
            "/api/v1/ledger/",
            "/api/v1/withdrawals",
            "/api/v1/webhooks/",
        ]
        .iter()
        .any(|p| path.starts_with(p))
        {
            Some(&["merchantSignature"][..])
        } else {
            None
        };
        match expected {
            Some(schemes) => {
                assert_eq!(uses, schemes, "{method} {path}");
                assert!(
                    op["responses"]["401"].is_object(),
                    "{method} {path}: no 401"
                );
            }
            None => assert!(
                uses.is_empty(),
                "{method} {path} should need no credentials"
            ),
        }
    }

    // Every error code of the server, with its status.
    let codes: Vec<String> = ErrorCode::ALL
        .iter()
        .map(|code| code.as_str().to_owned())
        .collect();
    let enum_values: BTreeSet<&str> = doc["components"]["schemas"]["ErrorCode"]["enum"]
        .as_array()
        .expect("ErrorCode enum")
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let table: BTreeMap<&str, u64> = doc["components"]["x-error-codes"]
        .as_array()
        .expect("components.x-error-codes")
        .iter()
        .map(|row| {
            (
                row["code"].as_str().unwrap(),
                row["status"].as_u64().unwrap(),
            )
        })
        .collect();
    for code in &codes {
        assert!(
            enum_values.contains(code.as_str()),
            "ErrorCode enum lacks {code}"
        );
        let status = table
            .get(code.as_str())
            .unwrap_or_else(|| panic!("x-error-codes lacks {code}"));
        assert!((400..600).contains(status), "{code}: status {status}");
    }
    let source: BTreeSet<&str> = codes.iter().map(String::as_str).collect();
    assert_eq!(enum_values, source, "documented codes = the server's codes");
    assert_eq!(table["not_found"], 404);
    assert_eq!(table["banned"], 418);
    assert_eq!(table["insufficient_balance"], 422);
    assert_eq!(table["payload_too_large"], 413);

    // Error responses use the shared schema; their example codes exist with that status.
    for (method, path, op) in &ops {
        for (status, response) in op["responses"].as_object().unwrap() {
            if !(status.starts_with('4') || status.starts_with('5')) {
                continue;
            }
            let content = &response["content"];
            if content.get("application/json").is_none() {
                // A page's error is the error page (HTML), not the JSON error.
                assert!(
                    content.get("text/html; charset=utf-8").is_some(),
                    "{method} {path} {status}: neither JSON nor an error page"
                );
                continue;
            }
            let media = &content["application/json"];
            assert_eq!(
                media["schema"]["$ref"], "#/components/schemas/Error",
                "{method} {path} {status}"
            );
            let examples = media["examples"]
                .as_object()
                .unwrap_or_else(|| panic!("{method} {path} {status}: no examples"));
            for (code, example) in examples {
                assert_eq!(
                    table.get(code.as_str()).map(|s| s.to_string()),
                    Some(status.clone()),
                    "{method} {path}: {code} under {status}"
                );
                assert_eq!(example["value"]["error"]["code"], code.as_str());
            }
        }
    }

    // Where API.md is silent: documented headers.
    let create = &doc["paths"]["/api/v1/orders"]["post"]["responses"];
    assert!(create["200"]["headers"]["Idempotent-Replayed"].is_object());
    assert!(create["201"]["headers"]["X-RateLimit-Remaining"].is_object());
    assert!(create["429"]["headers"]["Retry-After"].is_object());
    assert!(create["418"]["headers"]["Retry-After"].is_object());
    assert!(doc["components"]["headers"]["X-Request-Id"].is_object());
    let sse = &doc["paths"]["/api/v1/acceptor/events"]["get"]["responses"]["200"]["content"];
    assert!(
        sse["text/event-stream"].is_object(),
        "SSE content type: {sse}"
    );
    assert!(doc["webhooks"]["merchantWebhook"]["post"]["requestBody"].is_object());
}

// ---------------------------------------------------------------------------------------
// 2. Every documented route is mounted

fn sample_path(path: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..].find('}').expect("closing brace") + open;
        let name = &rest[open + 1..close];
        out.push_str(match name {
            "token" => "0123456789abcdef0123456789abcdef0123456789abcdef",
            "fiat" => "CNY",
            "key_id" => "mk_live_AAAAAAAAAAAAAAAAAAAAAAAA",
            _ => "dummy_01",
        });
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    out
}

#[tokio::test]
async fn every_documented_route_is_mounted() {
    let app = TestApp::spawn().await;
    let doc = fetch_document(&app).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(15))
        .build()
        .unwrap();
    let mut missing = Vec::new();
    let ops = operations(&doc["paths"]);
    for (method, path, _) in &ops {
        let url = app.url(&sample_path(path));
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = client.request(method.clone(), &url);
        if [Method::POST, Method::PUT, Method::PATCH].contains(&method) {
            request = request
                .header("content-type", "application/json")
                .body("{}");
        }
        // Headers only: SSE streams never end.
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        // The answers to these made-up requests are documented too.
        let response = otcpay_tests::contract::check(&method, &sample_path(path), response).await;
        let status = response.status().as_u16();
        let is_stream = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
        if is_stream {
            assert_eq!(status, 200, "{method} {path}");
            continue;
        }
        if status == 404 || status == 405 {
            let body: Value = response.json().await.unwrap_or(Value::Null);
            let fell_through = body["error"]["code"] == "not_found"
                && body["error"]["message"] == "No such endpoint.";
            if fell_through || body["error"]["code"] == "method_not_allowed" {
                missing.push(format!("{method} {path}: {status} {body}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "documented but answered by the default service (not mounted):\n  {}",
        missing.join("\n  ")
    );
    // And the default service's answer is what this test looks for.
    let response = app.get("/api/v1/no-such-route", None).await;
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["message"], "No such endpoint.");
}

// ---------------------------------------------------------------------------------------
// 3. The page

#[tokio::test]
async fn the_docs_page_is_html_that_loads_the_document_and_nothing_remote() {
    let app = TestApp::spawn().await;
    let response = app.get("/api/docs", None).await;
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    let csp = response
        .headers()
        .get("content-security-policy")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    assert!(csp.contains("default-src 'none'"), "CSP: {csp}");
    let html = response.text().await.unwrap();
    assert!(html.to_ascii_lowercase().starts_with("<!doctype html>"));
    assert!(
        html.contains("/api/v1/openapi.json"),
        "the page loads the document"
    );
    for remote in [
        "http://",
        "https://",
        "src=\"//",
        "href=\"//",
        "url(//",
        "@import",
    ] {
        assert!(
            !html.contains(remote),
            "the page refers to a remote asset ({remote})"
        );
    }
    // No inline script (the page's Content-Security-Policy forbids it): the script and
    // the stylesheet are this server's own static files, and they are served.
    assert!(!html.contains("<script>"), "no inline script");
    assert!(!html.contains("<style>"), "no inline style");
    let mut assets = Vec::new();
    for marker in ["<script src=\"", "<link rel=\"stylesheet\" href=\""] {
        for (at, _) in html.match_indices(marker) {
            let rest = &html[at + marker.len()..];
            assets.push(rest[..rest.find('"').unwrap()].to_owned());
        }
    }
    assert_eq!(assets, ["/static/docs.js", "/static/docs.css"]);
    for asset in assets {
        let response = app.get(&asset, None).await;
        assert_eq!(response.status(), 200, "{asset}");
        assert!(!response.text().await.unwrap().is_empty());
    }
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
}

// ---------------------------------------------------------------------------------------
// 4. Real responses match their documented schemas

/// Asserts the status and that the operation documents a JSON body for it (the harness
/// has already checked the body against it); returns the body.
async fn expect(
    doc: &Value,
    method: &str,
    template: &str,
    status: u16,
    response: reqwest::Response,
) -> Value {
    let actual = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert_eq!(actual, status, "{method} {template}: {body}");
    let schema = &doc["paths"][template][method.to_lowercase()]["responses"][status.to_string()]["content"]
        ["application/json"]["schema"];
    assert!(
        !schema.is_null(),
        "{method} {template} documents no JSON body for {status}"
    );
    body
}

#[test]
fn the_response_check_catches_drift() {
    use otcpay_tests::contract::{template_of, validate};
    use serde_json::json;

    assert_eq!(
        template_of("/api/v1/orders/ord_1?x=1"),
        Some("/api/v1/orders/{id}")
    );
    assert_eq!(
        template_of("/api/v1/orders/"),
        None,
        "an empty segment is another path"
    );
    let time = "/api/v1/public/time";
    assert_eq!(
        validate("GET", time, 200, &json!({"server_time": 1})),
        Ok(())
    );
    assert!(
        validate("GET", time, 200, &json!({"server_time": "1"})).is_err(),
        "wrong type"
    );
    assert!(
        validate("GET", time, 200, &json!({})).is_err(),
        "missing required"
    );
    assert!(
        validate("GET", time, 200, &json!({"server_time": 1, "extra": 1})).is_err(),
        "undocumented key"
    );
    assert!(
        validate("GET", time, 201, &json!({"server_time": 1})).is_err(),
        "undocumented status"
    );
    let error = json!({"error": {"code": "not_found", "message": "No such endpoint.",
                                 "request_id": "req_1"}});
    assert_eq!(validate("GET", "/api/v1/nowhere", 404, &error), Ok(()));
    assert!(
        validate("GET", "/api/v1/nowhere", 200, &json!({})).is_err(),
        "undocumented path"
    );
    let bad_code = json!({"error": {"code": "no_such_code", "message": "x", "request_id": "r"}});
    assert!(
        validate("GET", "/api/v1/nowhere", 404, &bad_code).is_err(),
        "unknown code"
    );
    let not_allowed = json!({"error": {"code": "method_not_allowed", "message": "x",
                                       "request_id": "r"}});
    assert_eq!(validate("DELETE", time, 405, &not_allowed), Ok(()));
    // A composed schema (the admin's withdrawal) stays closed, its parts open.
    let withdrawals = "/api/v1/admin/withdrawals";
    let page = |extra: Value| {
        let mut item = json!({"id": "wd_01JD3Q4ZK8M6W2X9V7T5R3P1NB", "merchant_withdrawal_id": "w-1", "status": "review",
            "amount": "50.00", "fee": "1.00", "currency": "USDT", "network": "tron",
            "address": "T", "txid": null, "reason": null, "reviewed_at": null,
            "completed_at": null, "created_at": "2026-11-21T10:15:00Z",
            "updated_at": "2026-11-21T10:15:00Z", "livemode": true,
            "merchant_id": "mch_01JD3Q4ZK8M6W2X9V7T5R3P1NB", "reviewed_by": null});
        item.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        json!({"data": [item], "has_more": false})
    };
    assert_eq!(validate("GET", withdrawals, 200, &page(json!({}))), Ok(()));
    assert!(validate("GET", withdrawals, 200, &page(json!({"extra": 1}))).is_err());
    assert!(
        validate(
            "GET",
            withdrawals,
            200,
            &page(json!({"created_at": "yesterday"}))
        )
        .is_err(),
        "date-time format"
    );
}

#[tokio::test]
async fn real_responses_match_their_documented_schemas() {
    use otcpay_tests::merchant::MerchantClient;
    use otcpay_tests::scenario::{AcceptorSpec, online_acceptor};
    use serde_json::json;

    const TRON_USDT: &str = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t";
    let app = TestApp::spawn().await;
    let doc = fetch_document(&app).await;
    let d = &doc;

    // Operations and public data.
    expect(d, "GET", "/healthz", 200, app.get("/healthz", None).await).await;
    expect(d, "GET", "/readyz", 200, app.get("/readyz", None).await).await;
    let get = |path: &'static str| app.get(path, None);
    expect(
        d,
        "GET",
        "/api/v1/public/time",
        200,
        get("/api/v1/public/time").await,
    )
    .await;
    expect(
        d,
        "GET",
        "/api/v1/public/currencies",
        200,
        get("/api/v1/public/currencies").await,
    )
    .await;
    let validate = "/api/v1/public/addresses/validate";
    for address in [TRON_USDT, "T-not-an-address"] {
        let response = app
            .post(
                validate,
                None,
                &json!({"network": "tron", "address": address}),
            )
            .await;
        expect(d, "POST", validate, 200, response).await;
    }
    let login = app
        .login(
            otcpay_tests::app::ADMIN_EMAIL,
            otcpay_tests::app::ADMIN_PASSWORD,
        )
        .await;
    expect(d, "POST", "/api/v1/auth/login", 200, login).await;
    // Money actions need the session that passed a second factor.
    let admin = app.admin_token().await;
    let admin = Some(admin.as_str());

    // Admin: a merchant and its keys.
    let created = app
        .post(
            "/api/v1/admin/merchants",
            admin,
            &json!({"name": "Schema Shop", "email": "schema@shop.test", "fee_rate": "0.01",
                    "default_fiat": "CNY", "webhook_url": "http://127.0.0.1:9/hook"}),
        )
        .await;
    let created = expect(d, "POST", "/api/v1/admin/merchants", 201, created).await;
    let merchant_id = created["merchant"]["id"].as_str().unwrap().to_owned();
    let merchant = MerchantClient::hmac(
        &app,
        created["api_key"]["key_id"].as_str().unwrap(),
        created["api_key"]["secret"].as_str().unwrap(),
    );
    let list = app.get("/api/v1/admin/merchants", admin).await;
    expect(d, "GET", "/api/v1/admin/merchants", 200, list).await;
    let one = format!("/api/v1/admin/merchants/{merchant_id}");
    expect(
        d,
        "GET",
        "/api/v1/admin/merchants/{id}",
        200,
        app.get(&one, admin).await,
    )
    .await;
    let patched = app
        .request(
            reqwest::Method::PATCH,
            &one,
            admin,
            Some(&json!({"name": "Schema Shop 2"})),
        )
        .await;
    expect(d, "PATCH", "/api/v1/admin/merchants/{id}", 200, patched).await;
    let key = app
        .post(&format!("{one}/api-keys"), admin, &json!({"mode": "test"}))
        .await;
    expect(d, "POST", "/api/v1/admin/merchants/{id}/api-keys", 201, key).await;

    // An acceptor, through its portal and the admin API.
    let acceptor = online_acceptor(&app, AcceptorSpec::default()).await;
    let me = Some(acceptor.token.as_str());
    let profile = app.get("/api/v1/acceptor/profile", me).await;
    expect(d, "GET", "/api/v1/acceptor/profile", 200, profile).await;
    let quotes = app.get("/api/v1/acceptor/quotes", me).await;
    expect(d, "GET", "/api/v1/acceptor/quotes", 200, quotes).await;
    let methods = app.get("/api/v1/acceptor/payment-methods", me).await;
    expect(d, "GET", "/api/v1/acceptor/payment-methods", 200, methods).await;
    let acceptors = app.get("/api/v1/admin/acceptors", admin).await;
    expect(d, "GET", "/api/v1/admin/acceptors", 200, acceptors).await;
    let acceptor_url = format!("/api/v1/admin/acceptors/{}", acceptor.id);
    let one_acceptor = app.get(&acceptor_url, admin).await;
    expect(d, "GET", "/api/v1/admin/acceptors/{id}", 200, one_acceptor).await;
    let deposit = app
        .post(
            &format!("{acceptor_url}/deposits"),
            admin,
            &json!({"amount": "500.00", "network": "tron", "txid": "schema-deposit-1", "note": "top-up"}),
        )
        .await;
    expect(
        d,
        "POST",
        "/api/v1/admin/acceptors/{id}/deposits",
        201,
        deposit,
    )
    .await;
    let rates = get("/api/v1/public/rates?fiat=CNY").await;
    expect(d, "GET", "/api/v1/public/rates", 200, rates).await;

    // An order paid by the customer and released by the acceptor.
    let order_body = |id: &str| {
        json!({"merchant_order_id": id, "amount": "100.00", "fiat_currency": "CNY",
               "metadata": {"cart": "42"}})
    };
    let order = merchant
        .post("/api/v1/orders", &order_body("schema-1"))
        .await;
    let order = expect(d, "POST", "/api/v1/orders", 201, order).await;
    let order_id = order["id"].as_str().unwrap().to_owned();
    assert_eq!(order["status"], "assigned", "{order}");
    let replay = merchant
        .post("/api/v1/orders", &order_body("schema-1"))
        .await;
    expect(d, "POST", "/api/v1/orders", 200, replay).await;
    let order_url = format!("/api/v1/orders/{order_id}");
    expect(
        d,
        "GET",
        "/api/v1/orders/{id}",
        200,
        merchant.get(&order_url).await,
    )
    .await;
    expect(
        d,
        "GET",
        "/api/v1/orders",
        200,
        merchant.get("/api/v1/orders").await,
    )
    .await;
    let token = order["cashier_url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let status = app.get(&format!("/pay/{token}/status"), None).await;
    expect(d, "GET", "/pay/{token}/status", 200, status).await;
    let paid = app
        .post(
            &format!("/pay/{token}/paid"),
            None,
            &json!({"payer_name": "Li Wei"}),
        )
        .await;
    expect(d, "POST", "/pay/{token}/paid", 200, paid).await;
    let mine = app.get("/api/v1/acceptor/orders", me).await;
    expect(d, "GET", "/api/v1/acceptor/orders", 200, mine).await;
    let acceptor_order = format!("/api/v1/acceptor/orders/{order_id}");
    let one_order = app.get(&acceptor_order, me).await;
    expect(d, "GET", "/api/v1/acceptor/orders/{id}", 200, one_order).await;
    let confirmed = app
        .post(&format!("{acceptor_order}/confirm"), me, &json!({}))
        .await;
    let confirmed = expect(
        d,
        "POST",
        "/api/v1/acceptor/orders/{id}/confirm",
        200,
        confirmed,
    )
    .await;
    assert_eq!(confirmed["status"], "completed");

    // Balance, statement, a withdrawal through its admin review.
    expect(
        d,
        "GET",
        "/api/v1/balance",
        200,
        merchant.get("/api/v1/balance").await,
    )
    .await;
    let entries = merchant.get("/api/v1/ledger/entries").await;
    expect(d, "GET", "/api/v1/ledger/entries", 200, entries).await;
    let withdrawal = merchant
        .post(
            "/api/v1/withdrawals",
            &json!({"merchant_withdrawal_id": "w-schema", "network": "tron",
                    "address": TRON_USDT, "amount": "20.00"}),
        )
        .await;
    let withdrawal = expect(d, "POST", "/api/v1/withdrawals", 201, withdrawal).await;
    let withdrawal_id = withdrawal["id"].as_str().unwrap().to_owned();
    let own = merchant
        .get(&format!("/api/v1/withdrawals/{withdrawal_id}"))
        .await;
    expect(d, "GET", "/api/v1/withdrawals/{id}", 200, own).await;
    let all = merchant.get("/api/v1/withdrawals").await;
    expect(d, "GET", "/api/v1/withdrawals", 200, all).await;
    let review = app.get("/api/v1/admin/withdrawals", admin).await;
    expect(d, "GET", "/api/v1/admin/withdrawals", 200, review).await;
    let admin_url = format!("/api/v1/admin/withdrawals/{withdrawal_id}");
    let reviewed = app.get(&admin_url, admin).await;
    expect(d, "GET", "/api/v1/admin/withdrawals/{id}", 200, reviewed).await;
    let approved = app
        .post(&format!("{admin_url}/approve"), admin, &json!({}))
        .await;
    let template = "/api/v1/admin/withdrawals/{id}/approve";
    expect(d, "POST", template, 200, approved).await;
    let completed = app
        .post(
            &format!("{admin_url}/complete"),
            admin,
            &json!({"txid": "0xschema"}),
        )
        .await;
    let template = "/api/v1/admin/withdrawals/{id}/complete";
    expect(d, "POST", template, 200, completed).await;

    // A disputed order, resolved by an admin.
    let second = merchant
        .post("/api/v1/orders", &order_body("schema-2"))
        .await;
    let second = expect(d, "POST", "/api/v1/orders", 201, second).await;
    let second_id = second["id"].as_str().unwrap().to_owned();
    let second_token = second["cashier_url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let paid = app
        .post(&format!("/pay/{second_token}/paid"), None, &json!({}))
        .await;
    expect(d, "POST", "/pay/{token}/paid", 200, paid).await;
    let dispute = merchant
        .post(
            &format!("/api/v1/orders/{second_id}/disputes"),
            &json!({"reason": "The customer says it paid twice."}),
        )
        .await;
    let dispute = expect(d, "POST", "/api/v1/orders/{id}/disputes", 201, dispute).await;
    let dispute_url = format!("/api/v1/admin/disputes/{}", dispute["id"].as_str().unwrap());
    let disputes = app.get("/api/v1/admin/disputes", admin).await;
    expect(d, "GET", "/api/v1/admin/disputes", 200, disputes).await;
    let detail = app.get(&dispute_url, admin).await;
    expect(d, "GET", "/api/v1/admin/disputes/{id}", 200, detail).await;
    let message = app
        .post(
            &format!("{dispute_url}/messages"),
            admin,
            &json!({"body": "Receipt, please."}),
        )
        .await;
    expect(
        d,
        "POST",
        "/api/v1/admin/disputes/{id}/messages",
        201,
        message,
    )
    .await;
    let resolved = app
        .post(
            &format!("{dispute_url}/resolve"),
            admin,
            &json!({"outcome": "cancel", "note": "No payment arrived."}),
        )
        .await;
    expect(
        d,
        "POST",
        "/api/v1/admin/disputes/{id}/resolve",
        200,
        resolved,
    )
    .await;

    // Webhook attempts (the endpoint refuses connections), ledger check, audit log.
    let deliveries = merchant.get("/api/v1/webhooks/deliveries").await;
    let deliveries = expect(d, "GET", "/api/v1/webhooks/deliveries", 200, deliveries).await;
    if let Some(event) = deliveries["data"][0]["event_id"].as_str() {
        let again = merchant
            .post_empty(&format!("/api/v1/webhooks/events/{event}/redeliver"))
            .await;
        expect(
            d,
            "POST",
            "/api/v1/webhooks/events/{id}/redeliver",
            202,
            again,
        )
        .await;
    }
    let check = app.get("/api/v1/admin/ledger/check", admin).await;
    let check = expect(d, "GET", "/api/v1/admin/ledger/check", 200, check).await;
    assert_eq!(check["ok"], true, "{check}");
    let audit = app.get("/api/v1/admin/audit-log", admin).await;
    expect(d, "GET", "/api/v1/admin/audit-log", 200, audit).await;

    // Errors have the documented shape.
    let missing = merchant.get("/api/v1/orders/ord_missing").await;
    expect(d, "GET", "/api/v1/orders/{id}", 404, missing).await;
    let unsigned = app.get("/api/v1/balance", None).await;
    expect(d, "GET", "/api/v1/balance", 401, unsigned).await;
}
