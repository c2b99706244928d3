//! Signed merchant routes of webhooks (API.md "Webhooks"):
//! - `GET /api/v1/webhooks/deliveries?event_id=&status=succeeded|failed&limit=&starting_after=`
//!   → the attempt log of the key's merchant and mode, newest first;
//! - `POST /api/v1/webhooks/events/{id}/redeliver` → `202 {"id", "status": "pending"}`:
//!   one more immediate attempt, whatever the event's state. Another merchant's (or the
//!   other mode's) event → `404 not_found`.

use actix_web::middleware::from_fn;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::model::{AttemptFilter, RedeliverView};
use super::service;
use crate::error::{ApiError, ApiResult};
use crate::ids::EventId;
use crate::merchants::auth::{self, SignedRequest};
use crate::pagination::PageQuery;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/api/v1/webhooks/deliveries")
            .wrap(from_fn(auth::rate_limit_headers))
            .route(web::get().to(list_deliveries))
            .default_service(web::to(crate::routing::unrouted)),
    )
    .service(
        web::resource("/api/v1/webhooks/events/{id}/redeliver")
            .wrap(from_fn(auth::rate_limit_headers))
            .route(web::post().to(redeliver))
            .default_service(web::to(crate::routing::unrouted)),
    );
}

#[derive(Debug, Deserialize)]
struct DeliveriesQuery {
    event_id: Option<String>,
    status: Option<String>,
    limit: Option<u64>,
    starting_after: Option<String>,
}

async fn list_deliveries(
    signed: SignedRequest,
    query: web::Query<DeliveriesQuery>,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let query = query.into_inner();
    let filter = match query.status.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(text) => Some(AttemptFilter::parse(text).ok_or_else(|| {
            ApiError::invalid_request("status must be `succeeded` or `failed`.")
                .with_param("status")
        })?),
    };
    let event_id = query.event_id.as_deref().filter(|s| !s.is_empty());
    let page = PageQuery {
        limit: query.limit,
        starting_after: query.starting_after.filter(|s| !s.is_empty()),
    };
    let page = service::list_deliveries(
        &state.db,
        &signed.merchant.id,
        signed.livemode,
        event_id,
        filter,
        &page,
    )
    .await?;
    Ok(HttpResponse::Ok().json(page))
}

async fn redeliver(
    signed: SignedRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let event = service::redeliver(
        &state.db,
        &signed.merchant.id,
        signed.livemode,
        &EventId::named(&path)?,
    )
    .await?;
    state.webhook_wakeup.notify_one();
    Ok(HttpResponse::Accepted().json(RedeliverView::new(&event)))
}
