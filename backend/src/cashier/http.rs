//! The customer's cashier, addressed by the order's unguessable token:
//! `GET /pay/{token}` (a plain server-rendered page that works without JavaScript),
//! `GET /pay/{token}/status`, `POST /pay/{token}/paid`, `POST /pay/{token}/dispute`,
//! `GET /pay/{token}/events` (Server-Sent Events of the order).

use actix_web::http::header::{CONTENT_TYPE, LOCATION};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::db::rfc3339;
use crate::disputes::model::DisputeView;
use crate::error::{ApiError, ApiResult};
use crate::live::sse_response;
use crate::money::format_usdt;
use crate::orders::model::OrderStatus;
use crate::orders::service::{self, Scope};
use crate::orders::store::{self, order};
use crate::orders::view::format_fiat;
use crate::state::AppState;

const PAGE: &str = include_str!("../../../web/templates/cashier.html");

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/pay/{token}", web::get().to(page))
        .route("/pay/{token}/status", web::get().to(status))
        .route("/pay/{token}/paid", web::post().to(paid))
        .route("/pay/{token}/dispute", web::post().to(dispute))
        .route("/pay/{token}/events", web::get().to(events));
}

async fn find(state: &AppState, token: &str) -> ApiResult<order::Model> {
    // Tokens are 48 hex characters; anything else is not worth a query.
    if token.len() != 48 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ApiError::not_found("order"));
    }
    store::find_by_cashier_token(&state.db, token)
        .await?
        .ok_or_else(|| ApiError::not_found("order"))
}

#[derive(Serialize)]
struct CashierStatus {
    status: String,
    amount: String,
    fiat_amount: Option<String>,
    fiat_currency: String,
    payment_details: Option<Value>,
    reference: String,
    expires_at: String,
}

impl From<&order::Model> for CashierStatus {
    fn from(o: &order::Model) -> Self {
        Self {
            status: o.status.clone(),
            amount: format_usdt(o.amount),
            fiat_amount: o.fiat_amount.map(|f| format_fiat(&o.fiat_currency, f)),
            fiat_currency: o.fiat_currency.clone(),
            payment_details: o
                .payment_details
                .as_deref()
                .and_then(|d| serde_json::from_str(d).ok()),
            reference: o.reference.clone(),
            expires_at: rfc3339(o.expires_at),
        }
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn render_page(o: &order::Model, token: &str) -> String {
    let view = CashierStatus::from(o);
    let details = view
        .payment_details
        .as_ref()
        .and_then(Value::as_object)
        .map(|map| {
            map.iter()
                .filter(|(k, _)| k.as_str() != "reference")
                .map(|(k, v)| {
                    let value = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
                    format!(
                        "<dt>{}</dt><dd>{}</dd>",
                        escape(&k.replace('_', " ")),
                        escape(&value)
                    )
                })
                .collect::<String>()
        })
        .unwrap_or_default();
    let paid_form = if o.status == OrderStatus::Assigned.as_str() {
        format!(
            "<form method=\"post\" action=\"/pay/{}/paid\"><label>Your name (optional) \
             <input name=\"payer_name\" maxlength=\"100\"></label><br>\
             <button type=\"submit\">I have paid</button></form>",
            escape(token)
        )
    } else {
        String::new()
    };
    PAGE.replace(
        "{{fiat_amount}}",
        &escape(view.fiat_amount.as_deref().unwrap_or("…")),
    )
    .replace("{{fiat_currency}}", &escape(&view.fiat_currency))
    .replace("{{status}}", &escape(&view.status))
    .replace("{{amount}}", &escape(&view.amount))
    .replace("{{reference}}", &escape(&view.reference))
    .replace("{{expires_at}}", &escape(&view.expires_at))
    .replace("{{payment_details}}", &details)
    .replace("{{paid_form}}", &paid_form)
}

async fn page(state: web::Data<AppState>, path: web::Path<String>) -> ApiResult<HttpResponse> {
    let o = find(&state, &path).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(render_page(&o, &path)))
}

async fn status(state: web::Data<AppState>, path: web::Path<String>) -> ApiResult<HttpResponse> {
    let o = find(&state, &path).await?;
    Ok(HttpResponse::Ok().json(CashierStatus::from(&o)))
}

#[derive(Debug, Default, Deserialize)]
struct PaidRequest {
    payer_name: Option<String>,
}

fn is_form(req: &HttpRequest) -> bool {
    req.headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"))
}

/// Accepts JSON (`{"payer_name"?}`) or the page's form; the form gets a redirect back
/// to the page.
async fn paid(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    let form = is_form(&req);
    let request: PaidRequest = if body.is_empty() {
        PaidRequest::default()
    } else if form {
        serde_urlencoded::from_bytes(&body)
            .map_err(|_| ApiError::invalid_request("The form could not be read."))?
    } else {
        crate::http_body::require_json(&req, &body)?;
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::invalid_request(format!("The JSON body is not valid: {e}.")))?
    };
    let payer_name = request
        .payer_name
        .map(|n| n.trim().chars().take(100).collect::<String>())
        .filter(|n| !n.is_empty());
    let o = find(&state, &path).await?;
    let updated = service::mark_paid(&state, &o.cashier_token, payer_name).await?;
    if form {
        return Ok(HttpResponse::SeeOther()
            .insert_header((LOCATION, format!("/pay/{}", updated.cashier_token)))
            .finish());
    }
    Ok(HttpResponse::Ok().json(CashierStatus::from(&updated)))
}

#[derive(Debug, Deserialize)]
struct DisputeRequest {
    reason: Option<String>,
    contact: Option<String>,
}

async fn dispute(
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: crate::http_body::Json<DisputeRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let reason = crate::orders::request::parse_reason(body.reason)?;
    let contact = body
        .contact
        .map(|c| c.trim().chars().take(200).collect::<String>())
        .filter(|c| !c.is_empty());
    let o = find(&state, &path).await?;
    let scope = Scope::Cashier {
        token: &o.cashier_token,
    };
    let (_, opened) = service::open_dispute(&state, &o.id, scope, reason, contact).await?;
    Ok(HttpResponse::Created().json(DisputeView::from(&opened)))
}

async fn events(state: web::Data<AppState>, path: web::Path<String>) -> ApiResult<HttpResponse> {
    let o = find(&state, &path).await?;
    Ok(sse_response(
        state.infra.event_bus.subscribe(),
        format!("order:{}", o.id),
    ))
}
