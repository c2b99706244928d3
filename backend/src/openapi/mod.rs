//! The OpenAPI 3.1 document of the HTTP API and its human-readable page.
//!
//! - `GET /api/v1/openapi.json`: the document, generated from the code with utoipa and
//!   built once per process;
//! - `GET /api/docs`: a self-contained HTML page (`web/static/docs.html`, embedded in the
//!   binary, no external assets) that fetches the document and renders it.
//!
//! The document is assembled in [`document`]: the operations are the doc-only functions
//! of [`paths`] (one per mounted route), their bodies the real request and view types of
//! the features, which derive `ToSchema` under the document's component names
//! (`#[schema(as = ...)]`); list pages are declared with `page_schema!`. Then the
//! cross-cutting parts are added: the security schemes, the signed-request headers, the
//! common response headers, and the error responses of every operation from [`errors`]. The black-box tests check
//! every JSON response they receive against this document (`otcpay_tests::contract`).

pub mod errors;
pub mod paths;
mod webhook_body;

use std::sync::OnceLock;

use actix_web::{HttpResponse, web};
use serde_json::{Map, Value, json};
use utoipa::OpenApi;
use utoipa::openapi::extensions::Extensions;
use utoipa::openapi::header::Header;
use utoipa::openapi::path::{Operation, ParameterIn, PathItem};
use utoipa::openapi::schema::Schema;
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::{Components, Ref, RefOr, Required, Response, Server};

use crate::error::{ApiError, ApiResult, ErrorCode};
use errors::{AuthKind, OpErrors};

/// The page of `GET /api/docs`.
pub const DOCS_PAGE: &str = include_str!("../../../web/static/docs.html");

/// The description of the document (`info.description`).
const DESCRIPTION: &str = include_str!("description.md");

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/openapi.json", web::get().to(openapi_json))
        .route("/api/docs", web::get().to(docs_page));
}

async fn openapi_json() -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .insert_header(("Cache-Control", "no-cache"))
        .body(document_json()?))
}

async fn docs_page() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(DOCS_PAGE)
}

/// The document as JSON text, built on first use.
pub fn document_json() -> ApiResult<&'static str> {
    static JSON: OnceLock<String> = OnceLock::new();
    if let Some(json) = JSON.get() {
        return Ok(json);
    }
    let built = serde_json::to_string(&document()?).map_err(ApiError::internal)?;
    Ok(JSON.get_or_init(|| built))
}

#[derive(OpenApi)]
#[openapi(
    paths(
        paths::public::healthz,
        paths::public::readyz,
        paths::public::metrics,
        paths::public::openapi_json,
        paths::public::docs_page,
        paths::public::static_asset,
        paths::public::time,
        paths::public::currencies,
        paths::public::rates,
        paths::public::validate_address,
        paths::public::login,
        paths::public::totp_setup,
        paths::public::totp_enable,
        paths::public::register,
        paths::public::verify_email,
        paths::public::request_password_reset,
        paths::public::confirm_password_reset,
        paths::public::totp_disable,
        paths::public::logout,
        paths::merchant::create_order,
        paths::merchant::list_orders,
        paths::merchant::get_order,
        paths::merchant::cancel_order,
        paths::merchant::open_order_dispute,
        paths::merchant::balance,
        paths::chain::deposit_addresses,
        paths::chain::deposits,
        paths::merchant::ledger_entries,
        paths::merchant::create_withdrawal,
        paths::merchant::list_withdrawals,
        paths::merchant::get_withdrawal,
        paths::merchant::webhook_deliveries,
        paths::merchant::redeliver_webhook,
        paths::acceptor::profile,
        paths::acceptor::online,
        paths::acceptor::quotes,
        paths::acceptor::put_quote,
        paths::acceptor::delete_quote,
        paths::acceptor::payment_methods,
        paths::acceptor::add_payment_method,
        paths::acceptor::delete_payment_method,
        paths::acceptor::orders,
        paths::acceptor::order,
        paths::chain::acceptor_deposit_addresses,
        paths::chain::acceptor_deposits,
        paths::acceptor::confirm,
        paths::acceptor::reject,
        paths::acceptor::dispute,
        paths::acceptor::events,
        paths::admin::create_merchant,
        paths::admin::list_merchants,
        paths::admin::get_merchant,
        paths::admin::update_merchant,
        paths::admin::create_api_key,
        paths::admin::revoke_api_key,
        paths::admin::create_acceptor,
        paths::admin::list_acceptors,
        paths::admin::get_acceptor,
        paths::admin::update_acceptor,
        paths::admin::approve_acceptor,
        paths::admin::freeze_acceptor,
        paths::admin::unfreeze_acceptor,
        paths::admin::create_deposit,
        paths::chain::chain_transfers,
        paths::admin::list_disputes,
        paths::admin::get_dispute,
        paths::admin::add_dispute_message,
        paths::admin::resolve_dispute,
        paths::admin::admin_list_withdrawals,
        paths::admin::admin_get_withdrawal,
        paths::admin::approve_withdrawal,
        paths::admin::reject_withdrawal,
        paths::admin::complete_withdrawal,
        paths::admin::fail_withdrawal,
        paths::admin::check_ledger,
        paths::admin::audit_log,
        paths::cashier::page,
        paths::cashier::status,
        paths::cashier::paid,
        paths::cashier::dispute,
        paths::cashier::message,
        paths::cashier::events,
    ),
    components(schemas(
        crate::error::ErrorBody,
        crate::webhooks::model::WebhookEvent,
        // Only used by query parameters, which do not collect their schemas.
        crate::webhooks::model::AttemptFilter,
        crate::acceptors::model::AcceptorStatus,
        crate::withdrawals::model::WithdrawalStatus,
        crate::orders::model::OrderStatus,
        crate::orders::dispute::DisputeStatus,
        webhook_body::WebhookData,
        webhook_body::WebhookEventType,
    ))
)]
struct ApiDoc;

/// The outgoing webhook, which goes to the document's `webhooks`, not its `paths`.
#[derive(OpenApi)]
#[openapi(paths(paths::merchant::merchant_webhook))]
struct WebhookDoc;

/// Tags in display order, with their descriptions.
const TAGS: &[(&str, &str)] = &[
    (
        "Orders",
        "Signed merchant routes: create and follow payments.",
    ),
    (
        "Balance",
        "Signed merchant routes: the balance and its statement.",
    ),
    ("Withdrawals", "Signed merchant routes: USDT payouts."),
    (
        "Webhooks",
        "Signed merchant routes about webhook deliveries, and the webhook itself (see `webhooks`).",
    ),
    ("Public", "No authentication."),
    (
        "Portal authentication",
        "Sessions of the admin, acceptor and merchant portals.",
    ),
    (
        "Acceptor portal",
        "Bearer, role `acceptor`. Trading calls need the acceptor to be `active`.",
    ),
    ("Admin: merchants", "Bearer, role `admin`. Audited."),
    ("Admin: acceptors", "Bearer, role `admin`. Audited."),
    ("Admin: disputes", "Bearer, role `admin`. Audited."),
    ("Admin: withdrawals", "Bearer, role `admin`. Audited."),
    ("Admin: ledger and audit", "Bearer, role `admin`."),
    (
        "Cashier",
        "The customer's payment page. No credentials: the unguessable token in the path is the capability.",
    ),
    ("Operations", "Health, readiness and metrics."),
    ("Documentation", "This document and its page."),
];

const SIGNED_DESCRIPTION: &str = "Signed merchant requests. Send four headers:\n\n\
| header | value |\n|---|---|\n\
| `API-Key` | the key id, `mk_live_…` or `mk_test_…` (test keys are sandbox) |\n\
| `Request-Time` | the client's time in Unix milliseconds |\n\
| `Recv-Window` | optional: how many ms the request stays valid, default 30000, max 60000 |\n\
| `Signature-V1` | the signature of the request |\n\n\
The string to sign is `Request-Time + METHOD + path_and_query + body`, concatenated without \
separators: `METHOD` upper case, `path_and_query` exactly the request target sent (e.g. \
`/api/v1/orders?status=completed`), `body` the raw bytes sent (empty for GET).\n\n\
- **HMAC keys**: `Signature-V1` = lowercase hex of HMAC-SHA256 keyed with the secret's UTF-8 \
bytes.\n\
- **ECDSA keys** (registered with a P-256 public key): `Signature-V1` = hex of the DER \
ECDSA-P256-SHA256 signature of the same string.\n\n\
```python\nmsg = f\"{ts}{method}{path}{body}\"\n\
sig = hmac.new(secret.encode(), msg.encode(), hashlib.sha256).hexdigest()\n```\n\n\
The server refuses, in this order: a missing header (`401 missing_credentials`); an unknown or \
revoked key or a suspended merchant (`401 invalid_api_key`); `Request-Time` more than 1 s in the \
future, older than `Recv-Window` or unparseable (`401 request_expired`); a bad signature \
(`401 invalid_signature`); a signature already used (`401 replayed_request`). Then the key's \
rate limit applies (`429 rate_limited`, `418 banned`, with `Retry-After`).";

const BEARER_DESCRIPTION: &str = "Portal sessions: the JWT from `POST /api/v1/auth/login`, sent \
as `Authorization: Bearer <token>`. Routes check the token's role: `/api/v1/admin/*` needs \
`admin`, `/api/v1/acceptor/*` needs `acceptor`; another role → `403 forbidden`. The same \
session may instead come in the `otcpay_session` cookie (scheme `sessionCookie`); the \
header wins when both are sent.";

const COOKIE_DESCRIPTION: &str = "The portal pages' session: the same JWT as `bearerAuth`, in the \
`otcpay_session` cookie, accepted by every route that accepts `bearerAuth`. A request \
authenticated by the cookie that changes state (`POST`, `PUT`, `PATCH`, `DELETE`) must also \
carry the `X-CSRF-Token` header with the session's CSRF token (a logged-in page carries it \
in `<meta name=\"csrf-token\">`), else `403 forbidden`; `GET` requests need no such header. A request with `Authorization: Bearer` is not subject \
to the CSRF rule.";

/// Builds the whole document. The cross-cutting parts are written as JSON and read into
/// utoipa's model, so that the document keeps utoipa's order (schema properties in
/// declaration order, paths in the order above).
pub fn document() -> ApiResult<utoipa::openapi::OpenApi> {
    let mut api = ApiDoc::openapi();
    api.info = from_json(json!({
        "title": "OTCPay",
        "version": env!("CARGO_PKG_VERSION"),
        "description": DESCRIPTION,
        "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
    }))?;
    api.servers = Some(vec![Server::new("/")]);
    api.tags = Some(from_json(
        TAGS.iter()
            .map(|(name, description)| json!({"name": name, "description": description}))
            .collect(),
    )?);
    let mut webhooks = WebhookDoc::openapi().paths;
    // utoipa writes the webhook's key like a path; OpenAPI names webhooks.
    webhooks.paths = webhooks
        .paths
        .into_iter()
        .map(|(key, item)| (key.trim_start_matches('/').to_owned(), item))
        .collect();
    api.webhooks = Some(webhooks);
    let components = api.components.get_or_insert_with(Components::new);
    add_components(components)?;
    webhook_body::name_shapes(components)?;

    let tables: Vec<OpErrors> = paths::ERROR_TABLES
        .iter()
        .flat_map(|table| table.iter().copied())
        .collect();
    for item in api.paths.paths.values_mut() {
        for (writes, operation) in operations_mut(item) {
            complete_operation(operation, writes, &tables)?;
        }
    }
    Ok(api)
}

/// Every documented `(path template, methods)` pair, for `routing::KnownRoutes`.
pub fn routes() -> ApiResult<Vec<(String, Vec<String>)>> {
    Ok(document()?
        .paths
        .paths
        .into_iter()
        .map(|(template, item)| {
            let methods = [
                ("GET", &item.get),
                ("PUT", &item.put),
                ("POST", &item.post),
                ("DELETE", &item.delete),
                ("OPTIONS", &item.options),
                ("HEAD", &item.head),
                ("PATCH", &item.patch),
            ]
            .into_iter()
            .filter(|(_, operation)| operation.is_some())
            .map(|(method, _)| method.to_owned())
            .collect();
            (template, methods)
        })
        .collect())
}

fn from_json<T: serde::de::DeserializeOwned>(value: Value) -> ApiResult<T> {
    serde_json::from_value(value).map_err(ApiError::internal)
}

/// The operations of a path item, each with whether its method changes state.
fn operations_mut(item: &mut PathItem) -> impl Iterator<Item = (bool, &mut Operation)> {
    [
        (false, &mut item.get),
        (true, &mut item.put),
        (true, &mut item.post),
        (true, &mut item.delete),
        (false, &mut item.options),
        (false, &mut item.head),
        (true, &mut item.patch),
        (false, &mut item.trace),
    ]
    .into_iter()
    .filter_map(|(writes, op)| op.as_mut().map(|op| (writes, op)))
}

/// Operations whose body may be left out entirely.
const OPTIONAL_BODIES: &[&str] = &["confirmOrder", "rejectOrder", "cashierMarkPaid"];

fn reference(path: &str) -> RefOr<Header> {
    RefOr::Ref(Ref::new(path))
}

fn add_components(components: &mut Components) -> ApiResult<()> {
    components.security_schemes = from_json(json!({
        "merchantSignature": {
            "type": "apiKey",
            "in": "header",
            "name": "API-Key",
            "description": SIGNED_DESCRIPTION,
        },
        "bearerAuth": {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": BEARER_DESCRIPTION,
        },
        "sessionCookie": {
            "type": "apiKey",
            "in": "cookie",
            "name": "otcpay_session",
            "description": COOKIE_DESCRIPTION,
        },
    }))?;
    components.responses = from_json(json!({
        "MethodNotAllowed": {
            "description": "Method Not Allowed: the path exists, but not with this HTTP method. \
                Answered for every path of this document requested with a method the path \
                does not list; `Allow` names the methods it does list. Code: \
                `method_not_allowed`.",
            "headers": {
                "Allow": {"$ref": "#/components/headers/Allow"},
                "X-Request-Id": {"$ref": "#/components/headers/X-Request-Id"},
            },
            "content": {
                "application/json": {
                    "schema": {"$ref": "#/components/schemas/Error"},
                    "example": errors::example_body(ErrorCode::MethodNotAllowed, None),
                }
            },
        },
    }))?;
    components.parameters = from_json(json!({
        "RequestTime": {
            "name": "Request-Time",
            "in": "header",
            "required": true,
            "description": "The client's time in Unix milliseconds; at most 1 s ahead of the server and not older than `Recv-Window`.",
            "schema": {"type": "string", "pattern": "^[0-9]{1,16}$"},
            "example": "1763719200000",
        },
        "RecvWindow": {
            "name": "Recv-Window",
            "in": "header",
            "required": false,
            "description": "How many ms after `Request-Time` the request stays valid: 1–60000, default 30000.",
            "schema": {"type": "integer", "minimum": 1, "maximum": 60000, "default": 30000},
        },
        "SignatureV1": {
            "name": "Signature-V1",
            "in": "header",
            "required": true,
            "description": "Hex HMAC-SHA256 (or DER ECDSA-P256-SHA256) of `Request-Time + METHOD + path_and_query + body`; see `merchantSignature`.",
            "schema": {"type": "string", "pattern": "^[0-9a-f]+$"},
        },
    }))?;
    components.headers = from_json(json!({
        "X-Request-Id": {
            "description": "The request's id (the caller's own `X-Request-Id` when it is 1–64 of `A-Za-z0-9_-`, else a new `req_…`); quote it when reporting a problem.",
            "schema": {"type": "string"},
        },
        "Allow": {
            "description": "The methods the path supports, comma-separated (e.g. `GET, POST`).",
            "schema": {"type": "string"},
        },
        "Retry-After": {
            "description": "Seconds to wait before retrying (at least 1).",
            "schema": {"type": "integer", "minimum": 1},
        },
        "X-RateLimit-Limit": {
            "description": "The key's requests per minute.",
            "schema": {"type": "integer"},
        },
        "X-RateLimit-Remaining": {
            "description": "Requests left in the current allowance.",
            "schema": {"type": "integer"},
        },
        "X-RateLimit-Reset": {
            "description": "Seconds until the allowance is full again.",
            "schema": {"type": "integer"},
        },
    }))?;
    // What the derive cannot say.
    if let Some(RefOr::T(Schema::Object(method))) =
        components.schemas.get_mut("PaymentMethodRequest")
        && let Some(RefOr::T(Schema::Object(details))) = method.properties.get_mut("details")
    {
        // A non-empty object with non-blank keys.
        details.min_properties = Some(1);
        details.property_names = Some(Box::new(from_json(
            json!({"type": "string", "minLength": 1, "pattern": "\\S"}),
        )?));
    }
    components
        .extensions
        .get_or_insert_with(Extensions::default)
        .insert("x-error-codes".into(), errors::error_code_table());
    Ok(())
}

fn auth_of(operation: &Operation) -> AuthKind {
    let security = serde_json::to_value(&operation.security).unwrap_or(Value::Null);
    let schemes: Vec<&str> = security
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .flat_map(|requirement| requirement.keys().map(String::as_str))
        .collect();
    if schemes.contains(&"merchantSignature") {
        AuthKind::Signed
    } else if schemes.contains(&"bearerAuth") {
        AuthKind::Bearer
    } else {
        AuthKind::None
    }
}

/// Adds the signed-request headers, the error responses and the response headers.
fn complete_operation(
    operation: &mut Operation,
    writes: bool,
    tables: &[OpErrors],
) -> ApiResult<()> {
    let auth = auth_of(operation);
    let has_body = operation.request_body.is_some();
    let id = operation.operation_id.clone().unwrap_or_default();

    if auth == AuthKind::Bearer {
        // The pages' cookie is an alternative to the header.
        operation
            .security
            .get_or_insert_with(Vec::new)
            .push(SecurityRequirement::new(
                "sessionCookie",
                Vec::<String>::new(),
            ));
    }
    for parameter in operation.parameters.iter_mut().flatten() {
        if let RefOr::T(parameter) = parameter
            && parameter.parameter_in == ParameterIn::Path
            && let Some(RefOr::T(Schema::Object(schema))) = &mut parameter.schema
        {
            // An empty segment is another path.
            schema.min_length = Some(1);
        }
    }

    if auth == AuthKind::Signed {
        operation.parameters.get_or_insert_with(Vec::new).extend(
            ["RequestTime", "RecvWindow", "SignatureV1"]
                .map(|name| RefOr::Ref(Ref::new(format!("#/components/parameters/{name}")))),
        );
    }
    if OPTIONAL_BODIES.contains(&id.as_str())
        && let Some(RefOr::T(body)) = &mut operation.request_body
    {
        body.required = Some(Required::False);
    }

    let mut codes = errors::common_errors(auth, has_body, writes);
    if let Some((_, own)) = tables.iter().find(|(op, _)| *op == id) {
        codes.extend(own.iter().copied());
    }

    let responses = &mut operation.responses.responses;
    for (status, response) in responses.iter_mut() {
        if let RefOr::T(response) = response {
            add_headers(
                response,
                auth == AuthKind::Signed && status.starts_with('2'),
                false,
            );
        }
    }
    for (status, response) in error_responses(&codes)? {
        responses.entry(status).or_insert(RefOr::T(response));
    }
    if let Some((_, statuses, only_html)) = HTML_ERRORS.iter().find(|(op, _, _)| *op == id) {
        for status in *statuses {
            html_error(responses, *status, *only_html)?;
        }
    }
    Ok(())
}

/// Operations a browser uses: their errors (or those of a form post) are HTML pages.
/// (operation, statuses, whether the HTML page replaces the JSON error entirely).
const HTML_ERRORS: &[(&str, &[u16], bool)] = &[
    ("cashierPage", &[404, 500], true),
    ("cashierMarkPaid", &[400, 403, 404, 409, 500], false),
    ("cashierDispute", &[400, 403, 404, 409, 500], false),
    ("cashierMessage", &[400, 403, 404, 409, 500], false),
];

/// Adds the error page (`text/html`) to the response of `status`: a page request, or a
/// form post (which also gets `403` without the page's CSRF token).
fn html_error(
    responses: &mut std::collections::BTreeMap<String, RefOr<Response>>,
    status: u16,
    only_html: bool,
) -> ApiResult<()> {
    let page = json!({
        "schema": {"type": "string"},
        "example": "<!doctype html>…",
    });
    let entry = responses.entry(status.to_string()).or_insert(RefOr::T(from_json(json!({
        "description": format!(
            "{}. A form post from the page without the page's CSRF token, answered with the error page.",
            reason_phrase(status)
        ),
    }))?));
    if let RefOr::T(response) = entry {
        let mut value = serde_json::to_value(&*response).map_err(ApiError::internal)?;
        let content = value
            .as_object_mut()
            .ok_or_else(|| ApiError::internal("a response is an object"))?
            .entry("content")
            .or_insert_with(|| json!({}));
        if only_html {
            *content = json!({});
        }
        content["text/html; charset=utf-8"] = page;
        *response = from_json(value)?;
        add_headers(response, false, false);
    }
    Ok(())
}

fn add_headers(response: &mut Response, rate_limit: bool, retry_after: bool) {
    let mut names = vec!["X-Request-Id"];
    if rate_limit {
        names.extend([
            "X-RateLimit-Limit",
            "X-RateLimit-Remaining",
            "X-RateLimit-Reset",
        ]);
    }
    if retry_after {
        names.push("Retry-After");
    }
    for name in names {
        response.headers.insert(
            name.to_owned(),
            reference(&format!("#/components/headers/{name}")),
        );
    }
}

/// One response per error status: the codes and when they happen in the description,
/// one example per code.
fn error_responses(codes: &[(ErrorCode, &str)]) -> ApiResult<Vec<(String, Response)>> {
    let mut by_status: std::collections::BTreeMap<u16, Vec<(ErrorCode, String)>> =
        std::collections::BTreeMap::new();
    for (code, note) in codes {
        let entries = by_status.entry(code.status().as_u16()).or_default();
        match entries.iter_mut().find(|(c, _)| c == code) {
            Some((_, notes)) => {
                notes.push_str("; ");
                notes.push_str(note);
            }
            None => entries.push((*code, (*note).to_owned())),
        }
    }
    by_status
        .into_iter()
        .map(|(status, entries)| {
            let mut description = String::from(reason_phrase(status));
            description.push_str(". Codes:\n");
            let mut examples = Map::new();
            for (code, note) in &entries {
                description.push_str(&format!("- `{}`: {note}\n", code.as_str()));
                examples.insert(
                    code.as_str().into(),
                    json!({
                        "summary": format!("{}: {note}", code.as_str()),
                        "value": errors::example_body(*code, errors::param_of(note)),
                    }),
                );
            }
            let mut response: Response = from_json(json!({
                "description": description,
                "content": {
                    "application/json": {
                        "schema": {"$ref": "#/components/schemas/Error"},
                        "examples": examples,
                    }
                },
            }))?;
            add_headers(&mut response, false, matches!(status, 418 | 429));
            Ok((status.to_string(), response))
        })
        .collect()
}

fn reason_phrase(status: u16) -> &'static str {
    if status == 418 {
        return "Banned";
    }
    actix_web::http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error")
}

#[cfg(test)]
mod tests;
