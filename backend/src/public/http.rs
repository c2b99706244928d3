//! The unauthenticated routes (API.md "Public"):
//! - `GET /api/v1/public/time` → `{"server_time": <Unix ms>}`
//! - `GET /api/v1/public/currencies` → USDT with its networks, and the fiats
//! - `GET /api/v1/public/rates?fiat=CNY` → aggregated depth of active, online acceptors;
//!   a missing or unknown fiat → `400 unsupported_currency` (param `fiat`)
//! - `POST /api/v1/public/addresses/validate` `{"network", "address"}` → `200` with
//!   `valid` true and the normalized address, or false and a `reason`; a missing or
//!   unknown network → `400 unsupported_network` (param `network`); a missing or
//!   non-string address → `400 invalid_request` (param `address`).

use actix_web::{HttpResponse, web};

use super::model::{
    self, RatesQuery, RatesView, TimeView, ValidateAddressRequest, ValidateAddressView,
};
use super::service;
use crate::addresses;
use crate::db::now_ms;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::state::AppState;
use crate::values::{parse_fiat_code, parse_network, required_string};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/public/time", web::get().to(time))
        .route("/api/v1/public/currencies", web::get().to(currencies))
        .route("/api/v1/public/rates", web::get().to(rates))
        .route(
            "/api/v1/public/addresses/validate",
            web::post().to(validate_address),
        );
}

async fn time() -> HttpResponse {
    HttpResponse::Ok().json(TimeView {
        server_time: now_ms(),
    })
}

async fn currencies(state: web::Data<AppState>) -> HttpResponse {
    let onchain: Vec<&str> = crate::chain::Chains::of(&state)
        .map(|c| c.networks().iter().map(|n| n.network.id).collect())
        .unwrap_or_default();
    HttpResponse::Ok().json(model::currencies(&onchain))
}

async fn rates(
    state: web::Data<AppState>,
    query: web::Query<RatesQuery>,
) -> ApiResult<HttpResponse> {
    let fiat = match query.fiat.as_deref() {
        Some(code) => parse_fiat_code("fiat", code)?,
        None => {
            return Err(ApiError::new(
                ErrorCode::UnsupportedCurrency,
                "The fiat query parameter is required, e.g. ?fiat=CNY.",
            )
            .with_param("fiat"));
        }
    };
    let depth = service::depth(&state.db, fiat).await?;
    Ok(HttpResponse::Ok().json(RatesView::new(fiat.code, &depth)))
}

async fn validate_address(
    body: crate::http_body::Json<ValidateAddressRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let network = parse_network("network", body.network.as_ref())?;
    let address = required_string("address", body.address)?;
    let result = addresses::validate(network, &address);
    Ok(HttpResponse::Ok().json(ValidateAddressView::from_result(network, result)))
}
