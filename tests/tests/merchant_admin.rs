//! The merchant part of the admin API as a client sees it: creation (secrets shown once,
//! never stored in clear), validation, list, get, patch, API keys (HMAC and ECDSA),
//! role checks and the audit trail.

use base64::Engine as _;
use otcpay::merchants::{api_key, merchant};
use otcpay_tests::TestApp;
use otcpay_tests::app::assert_error;
use otcpay_tests::merchant::{
    CreatedMerchant, MerchantClient, add_ecdsa_key, add_hmac_key, create_merchant,
};
use reqwest::Method;
use sea_orm::EntityTrait;
use serde_json::{Value, json};

async fn json_of(response: reqwest::Response, status: u16) -> Value {
    let actual = response.status().as_u16();
    let body: Value = response.json().await.expect("json body");
    assert_eq!(actual, status, "body: {body}");
    body
}

async fn admin_get(app: &TestApp, path: &str) -> Value {
    let token = app.admin_token().await;
    json_of(app.get(path, Some(&token)).await, 200).await
}

async fn admin_patch(app: &TestApp, id: &str, body: Value) -> reqwest::Response {
    let token = app.admin_token().await;
    app.request(
        Method::PATCH,
        &format!("/api/v1/admin/merchants/{id}"),
        Some(&token),
        Some(&body),
    )
    .await
}

async fn admin_delete(app: &TestApp, path: &str) -> reqwest::Response {
    let token = app.admin_token().await;
    app.request(Method::DELETE, path, Some(&token), None).await
}

#[tokio::test]
async fn creating_a_merchant_returns_its_keys_and_secrets_once() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let response = app
        .post(
            "/api/v1/admin/merchants",
            Some(&token),
            &json!({
                "name": "Acme Games", "email": "Billing@Acme.example", "fee_rate": "0.015",
                "default_fiat": "CNY", "webhook_url": "https://acme.example/otcpay",
                "rate_limit_per_minute": 250, "auto_approve_withdrawals_below": "50.5"
            }),
        )
        .await;
    assert!(response.headers().contains_key("x-request-id"));
    let created = json_of(response, 201).await;

    let m = &created["merchant"];
    let id = m["id"].as_str().unwrap();
    assert!(id.starts_with("mch_"), "{id}");
    assert_eq!(m["name"], "Acme Games");
    assert_eq!(m["email"], "billing@acme.example");
    assert_eq!(m["status"], "active");
    assert_eq!(m["fee_rate"], "0.015");
    assert_eq!(m["default_fiat"], "CNY");
    assert_eq!(m["webhook_url"], "https://acme.example/otcpay");
    assert_eq!(m["rate_limit_per_minute"], 250);
    assert_eq!(m["auto_approve_withdrawals_below"], "50.50");
    assert!(m["created_at"].as_str().unwrap().ends_with('Z'));
    assert!(m["updated_at"].as_str().unwrap().ends_with('Z'));

    let live_id = created["api_key"]["key_id"].as_str().unwrap();
    let live_secret = created["api_key"]["secret"].as_str().unwrap();
    let test_id = created["test_api_key"]["key_id"].as_str().unwrap();
    let test_secret = created["test_api_key"]["secret"].as_str().unwrap();
    let whsec = created["webhook_secret"].as_str().unwrap();
    for (key_id, prefix) in [(live_id, "mk_live_"), (test_id, "mk_test_")] {
        let random = key_id.strip_prefix(prefix).expect(prefix);
        assert_eq!(random.len(), 24, "{key_id}");
        assert!(random.bytes().all(|b| b.is_ascii_alphanumeric()));
    }
    for secret in [live_secret, test_secret] {
        assert_eq!(secret.len(), 64);
        assert!(
            secret
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        );
    }
    assert_ne!(live_secret, test_secret);
    let raw = base64::engine::general_purpose::STANDARD
        .decode(whsec.strip_prefix("whsec_").expect("whsec_ prefix"))
        .unwrap();
    assert_eq!(raw.len(), 32, "Standard Webhooks: 32 random bytes");

    let keys = m["api_keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2);
    let modes: Vec<&str> = keys.iter().map(|k| k["mode"].as_str().unwrap()).collect();
    assert_eq!(modes, ["live", "test"]);
    for (key, full) in keys.iter().zip([live_id, test_id]) {
        assert_eq!(key["kind"], "hmac");
        assert!(key["revoked_at"].is_null());
        let prefix = key["key_id_prefix"].as_str().unwrap();
        assert!(
            full.starts_with(prefix) && prefix.len() < full.len() / 2,
            "{prefix}"
        );
        assert!(key.get("secret").is_none() && key.get("key_id").is_none());
    }

    // Secrets are shown once: reading the merchant back never returns them.
    let secrets = [live_id, live_secret, test_id, test_secret, whsec];
    for path in [
        format!("/api/v1/admin/merchants/{id}"),
        "/api/v1/admin/merchants".to_owned(),
    ] {
        let text = app.get(&path, Some(&token)).await.text().await.unwrap();
        for secret in secrets {
            assert!(!text.contains(secret), "{path} leaks {secret}");
        }
    }
    let fetched = admin_get(&app, &format!("/api/v1/admin/merchants/{id}")).await;
    assert_eq!(&fetched, m, "GET returns the same merchant object");

    // …and nothing of them is stored in clear.
    let rows = format!(
        "{:?} {:?}",
        merchant::Entity::find().all(&app.db.db).await.unwrap(),
        api_key::Entity::find().all(&app.db.db).await.unwrap()
    );
    assert!(rows.contains(id));
    for secret in secrets {
        assert!(
            !rows.contains(secret),
            "the database holds {secret} in clear"
        );
    }

    // The keys work.
    let live = MerchantClient::hmac(&app, live_id, live_secret);
    assert_eq!(live.get("/api/v1/balance").await.status(), 200);
    let test = MerchantClient::hmac(&app, test_id, test_secret);
    assert_eq!(test.get("/api/v1/balance").await.status(), 200);
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn optional_fields_default_and_minimal_merchants_work() {
    let app = TestApp::spawn().await;
    let shop = create_merchant(&app, json!({"fee_rate": "0"})).await;
    let m = &shop.merchant;
    assert_eq!(m["fee_rate"], "0.00");
    assert_eq!(m["rate_limit_per_minute"], 100);
    assert!(m["default_fiat"].is_null());
    assert!(m["webhook_url"].is_null());
    assert!(m["auto_approve_withdrawals_below"].is_null());
    assert_eq!(shop.live.get("/api/v1/balance").await.status(), 200);
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn invalid_input_is_refused_with_the_right_code_and_param() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let base = || json!({"name": "Shop", "email": "shop@example.com", "fee_rate": "0.01"});
    let with = |field: &str, value: Value| {
        let mut body = base();
        body[field] = value;
        body
    };
    let without = |field: &str| {
        let mut body = base();
        body.as_object_mut().unwrap().remove(field);
        body
    };
    let cases = [
        (without("name"), "invalid_request", "name"),
        (with("name", json!("")), "invalid_request", "name"),
        (with("name", json!("   ")), "invalid_request", "name"),
        (
            with("name", json!("x".repeat(101))),
            "invalid_request",
            "name",
        ),
        (with("name", json!(42)), "invalid_request", "name"),
        (without("email"), "invalid_request", "email"),
        (
            with("email", json!("not-an-email")),
            "invalid_request",
            "email",
        ),
        (with("email", json!("a@b")), "invalid_request", "email"),
        (without("fee_rate"), "invalid_request", "fee_rate"),
        (with("fee_rate", json!("1")), "invalid_amount", "fee_rate"),
        (with("fee_rate", json!("1.5")), "invalid_amount", "fee_rate"),
        (
            with("fee_rate", json!("-0.01")),
            "invalid_amount",
            "fee_rate",
        ),
        (
            with("fee_rate", json!("1e-2")),
            "invalid_amount",
            "fee_rate",
        ),
        (
            with("fee_rate", json!("0.000000001")),
            "invalid_amount",
            "fee_rate",
        ),
        (with("fee_rate", json!(0.01)), "invalid_amount", "fee_rate"),
        (with("fee_rate", json!("abc")), "invalid_amount", "fee_rate"),
        (
            with("default_fiat", json!("XXX")),
            "unsupported_currency",
            "default_fiat",
        ),
        (
            with("default_fiat", json!("cny")),
            "unsupported_currency",
            "default_fiat",
        ),
        (
            with("webhook_url", json!("ftp://shop.example/x")),
            "invalid_request",
            "webhook_url",
        ),
        (
            with("webhook_url", json!("not a url")),
            "invalid_request",
            "webhook_url",
        ),
        (
            with("webhook_url", json!("/relative/path")),
            "invalid_request",
            "webhook_url",
        ),
        (
            with(
                "webhook_url",
                json!(format!("https://shop.example/{}", "a".repeat(2048))),
            ),
            "invalid_request",
            "webhook_url",
        ),
        (
            with("rate_limit_per_minute", json!(0)),
            "invalid_request",
            "rate_limit_per_minute",
        ),
        (
            with("rate_limit_per_minute", json!(100_001)),
            "invalid_request",
            "rate_limit_per_minute",
        ),
        (
            with("rate_limit_per_minute", json!("100")),
            "invalid_request",
            "rate_limit_per_minute",
        ),
        (
            with("rate_limit_per_minute", json!(1.5)),
            "invalid_request",
            "rate_limit_per_minute",
        ),
        (
            with("auto_approve_withdrawals_below", json!("0")),
            "invalid_amount",
            "auto_approve_withdrawals_below",
        ),
        (
            with("auto_approve_withdrawals_below", json!("1.0000001")),
            "invalid_amount",
            "auto_approve_withdrawals_below",
        ),
        (
            with("auto_approve_withdrawals_below", json!(50)),
            "invalid_amount",
            "auto_approve_withdrawals_below",
        ),
        (with("fee", json!("0.01")), "invalid_request", "fee"),
    ];
    for (body, code, param) in cases {
        let response = app
            .post("/api/v1/admin/merchants", Some(&token), &body)
            .await;
        let error = assert_error(response, 400, code).await;
        assert_eq!(error["error"]["param"], param, "body {body}: {error}");
    }
    // Not an object at all.
    let response = app
        .post("/api/v1/admin/merchants", Some(&token), &json!(["x"]))
        .await;
    assert_error(response, 400, "invalid_request").await;

    // Nothing was created.
    let list = admin_get(&app, "/api/v1/admin/merchants").await;
    assert_eq!(list["data"], json!([]));
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn merchants_are_listed_newest_first_with_pagination() {
    let app = TestApp::spawn().await;
    let mut ids = Vec::new();
    for i in 0..3 {
        let shop = create_merchant(&app, json!({"name": format!("Shop {i}")})).await;
        ids.push(shop.id().to_owned());
    }
    let page = admin_get(&app, "/api/v1/admin/merchants?limit=2").await;
    assert_eq!(page["has_more"], true);
    let data = page["data"].as_array().unwrap();
    assert_eq!(data.len(), 2);
    assert_eq!(data[0]["id"], ids[2].as_str());
    assert_eq!(data[1]["id"], ids[1].as_str());
    assert_eq!(data[0]["api_keys"].as_array().unwrap().len(), 2);
    assert_eq!(data[0]["name"], "Shop 2");

    let next = admin_get(
        &app,
        &format!("/api/v1/admin/merchants?limit=2&starting_after={}", ids[1]),
    )
    .await;
    assert_eq!(next["has_more"], false);
    assert_eq!(next["data"].as_array().unwrap().len(), 1);
    assert_eq!(next["data"][0]["id"], ids[0].as_str());
    assert_eq!(next["data"][0]["api_keys"].as_array().unwrap().len(), 2);

    let all = admin_get(&app, "/api/v1/admin/merchants").await;
    assert_eq!(all["data"].as_array().unwrap().len(), 3);
    assert_eq!(all["has_more"], false);

    let token = app.admin_token().await;
    for bad in ["limit=0", "limit=101", "limit=x"] {
        let response = app
            .get(&format!("/api/v1/admin/merchants?{bad}"), Some(&token))
            .await;
        assert_error(response, 400, "invalid_request").await;
    }
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn unknown_merchants_are_not_found() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let shop = create_merchant(&app, json!({})).await;
    let ghost = "mch_01JZZZZZZZZZZZZZZZZZZZZZZZ";
    for id in [ghost, "nope", "acc_01JZZZZZZZZZZZZZZZZZZZZZZZ"] {
        let path = format!("/api/v1/admin/merchants/{id}");
        assert_error(app.get(&path, Some(&token)).await, 404, "not_found").await;
        assert_error(
            admin_patch(&app, id, json!({"name": "X"})).await,
            404,
            "not_found",
        )
        .await;
        assert_error(
            app.post(
                &format!("{path}/api-keys"),
                Some(&token),
                &json!({"mode": "live"}),
            )
            .await,
            404,
            "not_found",
        )
        .await;
        assert_error(
            admin_delete(&app, &format!("{path}/api-keys/{}", shop.live.key_id)).await,
            404,
            "not_found",
        )
        .await;
    }
    // The merchant's own key is untouched by the attempts above.
    assert_eq!(shop.live.get("/api/v1/balance").await.status(), 200);
    // A method the route does not have answers in the contract's shape.
    let response = app
        .request(
            Method::PUT,
            &format!("/api/v1/admin/merchants/{}", shop.id()),
            Some(&token),
            Some(&json!({})),
        )
        .await;
    assert_error(response, 405, "method_not_allowed").await;
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn patch_updates_the_given_fields_and_null_clears() {
    let app = TestApp::spawn().await;
    let shop = create_merchant(
        &app,
        json!({"default_fiat": "CNY", "webhook_url": "https://shop.example/hook",
               "auto_approve_withdrawals_below": "10"}),
    )
    .await;
    let id = shop.id();
    let before = &shop.merchant;

    let patched = json_of(
        admin_patch(
            &app,
            id,
            json!({"name": "Renamed", "fee_rate": "0.025", "default_fiat": "JPY",
                   "webhook_url": null, "rate_limit_per_minute": 7,
                   "auto_approve_withdrawals_below": "99.123456"}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(patched["id"], id);
    assert_eq!(patched["name"], "Renamed");
    assert_eq!(patched["fee_rate"], "0.025");
    assert_eq!(patched["default_fiat"], "JPY");
    assert!(patched["webhook_url"].is_null());
    assert_eq!(patched["rate_limit_per_minute"], 7);
    assert_eq!(patched["auto_approve_withdrawals_below"], "99.123456");
    assert_eq!(patched["email"], before["email"], "untouched");
    assert_eq!(patched["status"], "active");
    assert_eq!(patched["created_at"], before["created_at"]);
    assert!(patched["updated_at"].as_str() >= before["updated_at"].as_str());
    assert_eq!(patched["api_keys"], before["api_keys"]);

    // An empty patch changes nothing; null clears the nullable fields.
    let same = json_of(admin_patch(&app, id, json!({})).await, 200).await;
    assert_eq!(same["name"], "Renamed");
    let cleared = json_of(
        admin_patch(
            &app,
            id,
            json!({"default_fiat": null, "auto_approve_withdrawals_below": null,
                   "webhook_url": "http://127.0.0.1:9/hook"}),
        )
        .await,
        200,
    )
    .await;
    assert!(cleared["default_fiat"].is_null());
    assert!(cleared["auto_approve_withdrawals_below"].is_null());
    assert_eq!(cleared["webhook_url"], "http://127.0.0.1:9/hook");
    assert_eq!(
        admin_get(&app, &format!("/api/v1/admin/merchants/{id}")).await,
        cleared
    );

    for (body, status, code, param) in [
        (
            json!({"status": "closed"}),
            400,
            "invalid_request",
            "status",
        ),
        (json!({"status": null}), 400, "invalid_request", "status"),
        (json!({"name": null}), 400, "invalid_request", "name"),
        (json!({"fee_rate": "2"}), 400, "invalid_amount", "fee_rate"),
        (
            json!({"default_fiat": "ABC"}),
            400,
            "unsupported_currency",
            "default_fiat",
        ),
        (
            json!({"webhook_url": "mailto:x@y.z"}),
            400,
            "invalid_request",
            "webhook_url",
        ),
        (
            json!({"rate_limit_per_minute": 0}),
            400,
            "invalid_request",
            "rate_limit_per_minute",
        ),
        (
            json!({"email": "new@shop.example"}),
            400,
            "invalid_request",
            "email",
        ),
        (json!({"id": "mch_x"}), 400, "invalid_request", "id"),
    ] {
        let error = assert_error(admin_patch(&app, id, body.clone()).await, status, code).await;
        assert_eq!(error["error"]["param"], param, "{body}");
    }
    assert_eq!(
        admin_get(&app, &format!("/api/v1/admin/merchants/{id}")).await,
        cleared,
        "failed patches change nothing"
    );

    // Suspension shuts every key out; reactivation lets them in again.
    let suspended = json_of(
        admin_patch(&app, id, json!({"status": "suspended"})).await,
        200,
    )
    .await;
    assert_eq!(suspended["status"], "suspended");
    for client in [&shop.live, &shop.test] {
        assert_error(client.get("/api/v1/balance").await, 401, "invalid_api_key").await;
    }
    json_of(
        admin_patch(&app, id, json!({"status": "active"})).await,
        200,
    )
    .await;
    assert_eq!(shop.live.get("/api/v1/balance").await.status(), 200);
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn api_keys_are_issued_and_revoked() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let shop = create_merchant(&app, json!({})).await;
    let other = create_merchant(&app, json!({})).await;
    let id = shop.id();

    let extra = add_hmac_key(&app, id, true).await;
    assert!(extra.key_id.starts_with("mk_live_"));
    assert_eq!(extra.get("/api/v1/balance").await.status(), 200);
    let sandbox = add_hmac_key(&app, id, false).await;
    assert!(sandbox.key_id.starts_with("mk_test_"));
    assert_eq!(sandbox.get("/api/v1/balance").await.status(), 200);

    let view = admin_get(&app, &format!("/api/v1/admin/merchants/{id}")).await;
    let keys = view["api_keys"].as_array().unwrap();
    assert_eq!(keys.len(), 4);
    assert!(
        keys[2]["last_used_at"].as_str().is_some(),
        "use is recorded"
    );

    // Revocation: 204, the key stops working at once, the others keep working.
    let revoke_path = format!("/api/v1/admin/merchants/{id}/api-keys/{}", extra.key_id);
    let response = admin_delete(&app, &revoke_path).await;
    assert_eq!(response.status(), 204);
    assert_error(extra.get("/api/v1/balance").await, 401, "invalid_api_key").await;
    assert_eq!(shop.live.get("/api/v1/balance").await.status(), 200);
    let view = admin_get(&app, &format!("/api/v1/admin/merchants/{id}")).await;
    let revoked: Vec<&Value> = view["api_keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| !k["revoked_at"].is_null())
        .collect();
    assert_eq!(revoked.len(), 1);
    assert!(
        extra
            .key_id
            .starts_with(revoked[0]["key_id_prefix"].as_str().unwrap())
    );
    // Revoking again is harmless.
    assert_eq!(admin_delete(&app, &revoke_path).await.status(), 204);

    // Unknown keys, and keys of another merchant, are not found.
    for key_id in [
        "mk_live_AAAAAAAAAAAAAAAAAAAAAAAA".to_owned(),
        "garbage".to_owned(),
        other.live.key_id.clone(),
    ] {
        let response = admin_delete(
            &app,
            &format!("/api/v1/admin/merchants/{id}/api-keys/{key_id}"),
        )
        .await;
        assert_error(response, 404, "not_found").await;
    }
    assert_eq!(other.live.get("/api/v1/balance").await.status(), 200);

    // Validation of the key request.
    let keys_path = format!("/api/v1/admin/merchants/{id}/api-keys");
    for (body, param) in [
        (json!({}), "mode"),
        (json!({"mode": "prod"}), "mode"),
        (json!({"mode": "live", "secret": "mine"}), "secret"),
        (
            json!({"mode": "live", "public_key_pem": "not a pem"}),
            "public_key_pem",
        ),
        (
            json!({"mode": "live", "public_key_pem": 5}),
            "public_key_pem",
        ),
    ] {
        let response = app.post(&keys_path, Some(&token), &body).await;
        let error = assert_error(response, 400, "invalid_request").await;
        assert_eq!(error["error"]["param"], param, "{body}");
    }
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn ecdsa_keys_are_registered_from_a_public_key_pem() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let shop = create_merchant(&app, json!({})).await;
    let id = shop.id();

    let ecdsa = add_ecdsa_key(&app, id, true).await;
    assert!(ecdsa.key_id.starts_with("mk_live_"));
    assert_eq!(ecdsa.get("/api/v1/balance").await.status(), 200);

    let view = admin_get(&app, &format!("/api/v1/admin/merchants/{id}")).await;
    let last = view["api_keys"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["kind"], "ecdsa_p256");
    assert_eq!(last["mode"], "live");

    // A private key, a public key on another curve (secp256k1), nothing: all refused.
    // Throwaway keys generated for this test.
    let private_pem = "-----BEGIN PRIVATE KEY-----\n\
        MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgPDCy4L9VqOM9uvqn\n\
        8kHRfx30i5QKF4k1tMVy7fuDI1qhRANCAARX9CN2Lhp9Vzp3hWBZhikLA+v2t3Gt\n\
        nA/9i/IdX+FTmCnf67IQBN0yqDHPWFjTNqlw7hDnoTwdLqXYWcWwzSPX\n\
        -----END PRIVATE KEY-----\n";
    let secp256k1_pem = "-----BEGIN PUBLIC KEY-----\n\
        MFYwEAYHKoZIzj0CAQYFK4EEAAoDQgAEbGUYZ1lO1tsySN9iXWPFWs121FqxS08A\n\
        McHHn54jLtZdwqnGw0Jn1kcUw099h2/zK5WRDdigLrEMEnkOCmTI5A==\n\
        -----END PUBLIC KEY-----\n";
    for pem in [
        private_pem,
        secp256k1_pem,
        "",
        "-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----",
    ] {
        let response = app
            .post(
                &format!("/api/v1/admin/merchants/{id}/api-keys"),
                Some(&token),
                &json!({"mode": "live", "public_key_pem": pem}),
            )
            .await;
        let error = assert_error(response, 400, "invalid_request").await;
        assert_eq!(error["error"]["param"], "public_key_pem");
    }
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn merchant_admin_routes_need_an_admin_session() {
    let app = TestApp::spawn().await;
    let shop: CreatedMerchant = create_merchant(&app, json!({})).await;
    let id = shop.id();
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
    let login: Value = app
        .login(&acceptor.email, "acceptor-password")
        .await
        .json()
        .await
        .unwrap();
    let acceptor_token = login["token"].as_str().unwrap().to_owned();

    let routes = [
        (Method::GET, "/api/v1/admin/merchants".to_owned(), None),
        (
            Method::POST,
            "/api/v1/admin/merchants".to_owned(),
            Some(json!({"name": "X", "email": "x@y.zz", "fee_rate": "0.01"})),
        ),
        (Method::GET, format!("/api/v1/admin/merchants/{id}"), None),
        (
            Method::PATCH,
            format!("/api/v1/admin/merchants/{id}"),
            Some(json!({"status": "suspended"})),
        ),
        (
            Method::POST,
            format!("/api/v1/admin/merchants/{id}/api-keys"),
            Some(json!({"mode": "live"})),
        ),
        (
            Method::DELETE,
            format!("/api/v1/admin/merchants/{id}/api-keys/{}", shop.live.key_id),
            None,
        ),
    ];
    for (method, path, body) in &routes {
        let anonymous = app.request(method.clone(), path, None, body.as_ref()).await;
        assert_error(anonymous, 401, "missing_credentials").await;
        let forbidden = app
            .request(method.clone(), path, Some(&acceptor_token), body.as_ref())
            .await;
        assert_error(forbidden, 403, "forbidden").await;
    }
    // None of it had an effect.
    let view = admin_get(&app, &format!("/api/v1/admin/merchants/{id}")).await;
    assert_eq!(view["status"], "active");
    assert_eq!(view["api_keys"].as_array().unwrap().len(), 2);
    assert_eq!(shop.live.get("/api/v1/balance").await.status(), 200);
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn every_merchant_admin_action_is_audited_without_secrets() {
    let app = TestApp::spawn().await;
    let shop = create_merchant(&app, json!({"webhook_url": "https://shop.example/h"})).await;
    let id = shop.id();
    json_of(
        admin_patch(&app, id, json!({"fee_rate": "0.02"})).await,
        200,
    )
    .await;
    let extra = add_hmac_key(&app, id, false).await;
    let response = admin_delete(
        &app,
        &format!("/api/v1/admin/merchants/{id}/api-keys/{}", extra.key_id),
    )
    .await;
    assert_eq!(response.status(), 204);

    let token = app.admin_token().await;
    let text = app
        .get("/api/v1/admin/audit-log?limit=100", Some(&token))
        .await
        .text()
        .await
        .unwrap();
    for secret in [
        &shop.live.key_id,
        &shop.live.secret,
        &shop.test.secret,
        &shop.webhook_secret,
        &extra.key_id,
        &extra.secret,
    ] {
        assert!(
            !text.contains(secret.as_str()),
            "the audit log leaks {secret}"
        );
    }
    let log: Value = serde_json::from_str(&text).unwrap();
    let entries: Vec<&Value> = log["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["target_id"] == id)
        .collect();
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "merchant.api_key.revoke",
            "merchant.api_key.create",
            "merchant.update",
            "merchant.create"
        ],
        "newest first"
    );
    for entry in &entries {
        assert_eq!(entry["actor_role"], "admin");
        assert!(entry["actor_id"].as_str().unwrap().starts_with("usr_"));
        assert_eq!(entry["target_type"], "merchant");
        assert!(entry["ip"].as_str().is_some());
    }
    assert_eq!(entries[2]["details"]["fields"], json!(["fee_rate"]));
    assert_eq!(entries[1]["details"]["mode"], "test");
    app.assert_ledger_ok().await;
}

/// An endpoint the dispatcher would refuse (a private address) is refused when an admin
/// saves it, on creation and on update, with nothing written.
#[tokio::test]
async fn a_private_webhook_endpoint_is_refused_when_saved() {
    let app = TestApp::spawn_with(|s| s.allow_private_webhooks = Some(false)).await;
    let admin = app.admin_token().await;
    let refused = app
        .post(
            "/api/v1/admin/merchants",
            Some(&admin),
            &json!({"name": "Inside", "email": "inside@shop.example", "fee_rate": "0.01",
                    "webhook_url": "http://127.0.0.1:9/hook"}),
        )
        .await;
    let error = assert_error(refused, 400, "invalid_request").await;
    assert_eq!(error["error"]["param"], "webhook_url");
    let listed: Value = app
        .get("/api/v1/admin/merchants", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        listed["data"].as_array().unwrap().len(),
        0,
        "nothing written"
    );

    let shop = create_merchant(&app, json!({})).await;
    let id = shop.merchant["id"].as_str().unwrap();
    let patched = app
        .request(
            Method::PATCH,
            &format!("/api/v1/admin/merchants/{id}"),
            Some(&admin),
            Some(&json!({"webhook_url": "http://10.1.2.3/hook"})),
        )
        .await;
    let error = assert_error(patched, 400, "invalid_request").await;
    assert_eq!(error["error"]["param"], "webhook_url");
    let after: Value = app
        .get(&format!("/api/v1/admin/merchants/{id}"), Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(after["webhook_url"], Value::Null);
    app.assert_ledger_ok().await;
}
