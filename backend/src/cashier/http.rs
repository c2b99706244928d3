//! The customer's cashier as JSON, addressed by the order's unguessable token:
//! `GET /pay/{token}/status`, `POST /pay/{token}/paid`, `POST /pay/{token}/dispute`,
//! `POST /pay/{token}/messages` (the customer's message in the open dispute),
//! `GET /pay/{token}/events` (Server-Sent Events of the order). The page (`GET
//! /pay/{token}`) and its form posts to the same paths are `pages::cashier`'s: the
//! routes here take every body that is not a form ([`FormBody`]).

use actix_web::{HttpRequest, HttpResponse, guard, web};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::service;
use crate::db::rfc3339;
use crate::disputes::model::DisputeView;
use crate::error::ApiResult;
use crate::http_body::FormBody;
use crate::money::format_usdt;
use crate::orders::order;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    let not_form = || guard::Not(FormBody);
    cfg.route("/pay/{token}/status", web::get().to(status))
        .route("/pay/{token}/paid", web::post().guard(not_form()).to(paid))
        .route(
            "/pay/{token}/dispute",
            web::post().guard(not_form()).to(dispute),
        )
        .route(
            "/pay/{token}/messages",
            web::post().guard(not_form()).to(message),
        )
        .route("/pay/{token}/events", web::get().to(events));
}

/// What the customer's page shows.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(example = json!({"status": "assigned", "amount": "100.00", "fiat_amount": "718.00", "fiat_currency": "CNY", "payment_details": {"method": "bank_transfer", "bank_name": "Example Bank", "account_name": "Li Wei", "account_number": "6222 0000 0000 0000", "reference": "R7K2Q9"}, "reference": "R7K2Q9", "expires_at": "2026-11-21T10:30:00Z"}))]
pub struct CashierStatus {
    #[schema(value_type = crate::orders::model::OrderStatus)]
    status: String,
    #[schema(format = "decimal")]
    amount: String,
    #[schema(required = true, format = "decimal")]
    fiat_amount: Option<String>,
    fiat_currency: String,
    #[schema(required = true, value_type = Option<std::collections::BTreeMap<String, String>>)]
    payment_details: Option<Value>,
    /// Put it in the transfer memo.
    reference: String,
    #[schema(format = DateTime)]
    expires_at: String,
}

impl From<&order::Model> for CashierStatus {
    fn from(o: &order::Model) -> Self {
        Self {
            status: o.status.as_str().to_owned(),
            amount: format_usdt(o.amount),
            fiat_amount: crate::orders::view::fiat_amount_of(o),
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

async fn status(state: web::Data<AppState>, path: web::Path<String>) -> ApiResult<HttpResponse> {
    let o = service::find(&state, &path).await?;
    Ok(HttpResponse::Ok().json(CashierStatus::from(&o)))
}

/// JSON, or the page's form (`application/x-www-form-urlencoded`); the body is optional.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"payer_name": "Li Wei"}))]
pub struct PaidRequest {
    /// The name on the customer's account (trimmed to 100 characters).
    payer_name: Option<String>,
}

/// `{"payer_name"?}`; the body may be left out.
async fn paid(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    let request: PaidRequest = crate::http_body::optional_json(&req, &body)?;
    let updated = service::mark_paid(&state, &path, request.payer_name).await?;
    Ok(HttpResponse::Ok().json(CashierStatus::from(&updated)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = CashierDisputeRequest, example = json!({"reason": "I paid 718.00 CNY at 10:20 but the order expired.", "contact": "li.wei@mail.example"}))]
pub struct DisputeRequest {
    /// 1–2000 characters, not blank.
    #[schema(
        required = true,
        value_type = String,
        min_length = 1,
        max_length = 2000,
        pattern = "\\S"
    )]
    reason: Option<String>,
    /// How to reach the customer (trimmed to 200 characters).
    contact: Option<String>,
}

/// `{"reason", "contact"?}` → `201` dispute.
async fn dispute(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    crate::http_body::require_json(&req, &body)?;
    let body: DisputeRequest = crate::http_body::parse_object(&body)?;
    let opened = service::appeal(&state, &path, body.reason, body.contact).await?;
    Ok(HttpResponse::Created().json(DisputeView::from(&opened)))
}

#[derive(Debug, Deserialize)]
struct MessageRequest {
    body: Option<String>,
}

/// `{"body"}` → `201` message.
async fn message(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    crate::http_body::require_json(&req, &body)?;
    let body: MessageRequest = crate::http_body::parse_object(&body)?;
    let saved = service::post_message(&state, &path, body.body).await?;
    Ok(HttpResponse::Created().json(crate::disputes::model::MessageView::from(&saved)))
}

async fn events(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let receiver = state.infra.event_bus.subscribe();
    let o = service::find(&state, &path).await?;
    let changed = crate::live::last_event_id(&req)
        .is_some_and(|seen| o.updated_at >= seen.saturating_sub(crate::live::REPLAY_SLACK_MS));
    let replay = if changed {
        crate::orders::service::state_event(&o, &state.public_url)
            .into_iter()
            .collect()
    } else {
        Vec::new()
    };
    Ok(crate::live::sse_response_resuming(
        receiver,
        format!("order:{}", o.id),
        (),
        crate::live::KEEPALIVE,
        replay,
    ))
}
