//! Merchant order routes (signed): create, get, list, cancel. (Opening a dispute is
//! `disputes::http`'s.)

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::model::OrderStatus;
use super::onchain;
use super::request::{CreateOrderRequest, ParsedOrder};
use super::service;
use super::store;
use super::view::OrderView;
use crate::db::parse_rfc3339;
use crate::error::{ApiError, ApiResult};
use crate::ids::OrderId;
use crate::merchants::auth::SignedRequest;
use crate::pagination::{Page, PageQuery};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/orders", web::post().to(create))
        .route("/api/v1/orders", web::get().to(list))
        .route("/api/v1/orders/{id}", web::get().to(get))
        .route("/api/v1/orders/{id}/cancel", web::post().to(cancel));
}

async fn create(state: web::Data<AppState>, signed: SignedRequest) -> ApiResult<HttpResponse> {
    let request: CreateOrderRequest = signed.json()?;
    let created = match request.parse_rail(signed.merchant.default_fiat.as_deref())? {
        ParsedOrder::Otc(params) => {
            service::create(&state, &signed.merchant, signed.livemode, params).await?
        }
        ParsedOrder::Onchain(params) => {
            onchain::create(&state, &signed.merchant, signed.livemode, params).await?
        }
    };
    let view = OrderView::new(&created.order, &state.public_url, true);
    Ok(crate::http_body::created(created.replayed, &view))
}

async fn get(
    state: web::Data<AppState>,
    signed: SignedRequest,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let order = store::find_by_merchant(
        &state.db,
        &signed.merchant.id,
        signed.livemode,
        &OrderId::named(&path)?,
    )
    .await?
    .ok_or_else(|| ApiError::not_found("order"))?;
    Ok(HttpResponse::Ok().json(OrderView::new(&order, &state.public_url, true)))
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    merchant_order_id: Option<String>,
    status: Option<String>,
    created_gte: Option<String>,
    created_lt: Option<String>,
    limit: Option<u64>,
    starting_after: Option<String>,
}

fn time_param(value: Option<&str>, param: &'static str) -> ApiResult<Option<i64>> {
    value
        .map(|v| {
            parse_rfc3339(v).ok_or_else(|| {
                ApiError::invalid_request(format!("{param} must be an RFC 3339 timestamp."))
                    .with_param(param)
            })
        })
        .transpose()
}

async fn list(
    state: web::Data<AppState>,
    signed: SignedRequest,
    query: web::Query<ListQuery>,
) -> ApiResult<HttpResponse> {
    let page = PageQuery {
        limit: query.limit,
        starting_after: query.starting_after.clone(),
    };
    let limit = page.limit()?;
    let status = query
        .status
        .as_deref()
        .map(|s| {
            OrderStatus::parse(s).ok_or_else(|| {
                ApiError::invalid_request("status is not an order status.").with_param("status")
            })
        })
        .transpose()?;
    let filter = store::OrderFilter {
        merchant_order_id: query.merchant_order_id.clone(),
        status,
        created_gte: time_param(query.created_gte.as_deref(), "created_gte")?,
        created_lt: time_param(query.created_lt.as_deref(), "created_lt")?,
        starting_after: page.starting_after.clone(),
    };
    let rows = store::list_by_merchant(
        &state.db,
        &signed.merchant.id,
        signed.livemode,
        &filter,
        limit + 1,
    )
    .await?;
    let page = Page::from_rows(rows, limit).map(|o| OrderView::new(&o, &state.public_url, true));
    Ok(HttpResponse::Ok().json(page))
}

async fn cancel(
    state: web::Data<AppState>,
    signed: SignedRequest,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let order = service::cancel(
        &state,
        &signed.merchant.id,
        signed.livemode,
        &OrderId::named(&path)?,
    )
    .await?;
    Ok(HttpResponse::Ok().json(OrderView::new(&order, &state.public_url, true)))
}
