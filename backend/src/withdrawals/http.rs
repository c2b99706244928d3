//! Money out and the statement.
//!
//! Merchant (signed; the key's mode selects live or sandbox):
//! - `POST /api/v1/withdrawals`, `GET /api/v1/withdrawals` (`?status=`, `limit`,
//!   `starting_after`), `GET /api/v1/withdrawals/{id}`;
//! - `GET /api/v1/ledger/entries` (`limit`, `starting_after`).
//!
//! Admin (Bearer, role admin; every action audited):
//! - `GET /api/v1/admin/withdrawals` (`?status=`, `?livemode=`, `limit`, `starting_after`),
//!   `GET /api/v1/admin/withdrawals/{id}`;
//! - `POST /api/v1/admin/withdrawals/{id}/approve | reject {"reason"} |
//!   complete {"txid"} | fail {"reason"}`.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::Value;

use super::model::{
    AdminWithdrawalView, CreateWithdrawalRequest, WithdrawalStatus, WithdrawalView, parse_txid,
};
use super::service::{self, Action, Reviewer};
use super::store::{self, WithdrawalFilter};
use crate::auth::AdminUser;
use crate::client_addr::client_ip;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::ids::WithdrawalId;
use crate::merchants::auth::SignedRequest;
use crate::pagination::{Page, PageQuery};
use crate::state::AppState;
use crate::values::{optional_string, parse_reason};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/api/v1/withdrawals")
            .route(web::post().to(create))
            .route(web::get().to(list))
            .default_service(web::to(crate::routing::unrouted)),
    )
    .service(
        web::resource("/api/v1/withdrawals/{id}")
            .route(web::get().to(get))
            .default_service(web::to(crate::routing::unrouted)),
    )
    .service(
        web::resource("/api/v1/ledger/entries")
            .route(web::get().to(entries))
            .default_service(web::to(crate::routing::unrouted)),
    )
    .service(
        web::resource("/api/v1/admin/withdrawals")
            .route(web::get().to(admin_list))
            .default_service(web::to(crate::routing::unrouted)),
    )
    .service(
        web::resource("/api/v1/admin/withdrawals/{id}")
            .route(web::get().to(admin_get))
            .default_service(web::to(crate::routing::unrouted)),
    )
    .service(
        web::resource("/api/v1/admin/withdrawals/{id}/{action}")
            .route(web::post().to(admin_action))
            .default_service(web::to(crate::routing::unrouted)),
    );
}

fn parse_status(value: Option<&str>) -> ApiResult<Option<WithdrawalStatus>> {
    value
        .map(|s| {
            WithdrawalStatus::parse(s).ok_or_else(|| {
                ApiError::invalid_request(
                    "status must be one of review, approved, completed, rejected, failed.",
                )
                .with_param("status")
            })
        })
        .transpose()
}

// ---------------------------------------------------------------------------------------
// Merchant

async fn create(state: web::Data<AppState>, signed: SignedRequest) -> ApiResult<HttpResponse> {
    let request: CreateWithdrawalRequest = signed.json()?;
    let params = request.parse()?;
    let created = service::create(&state, &signed.merchant, signed.livemode, params).await?;
    let view = WithdrawalView::from(&created.withdrawal);
    Ok(crate::http_body::created(created.replayed, &view))
}

async fn get(
    state: web::Data<AppState>,
    signed: SignedRequest,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let found = store::find_by_merchant(
        &state.db,
        &signed.merchant.id,
        signed.livemode,
        &WithdrawalId::named(&path)?,
    )
    .await?
    .ok_or_else(|| ApiError::not_found("withdrawal"))?;
    Ok(HttpResponse::Ok().json(WithdrawalView::from(&found)))
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    status: Option<String>,
    livemode: Option<bool>,
    limit: Option<u64>,
    starting_after: Option<String>,
}

impl ListQuery {
    fn page(&self) -> PageQuery {
        PageQuery {
            limit: self.limit,
            starting_after: self.starting_after.clone(),
        }
    }
}

async fn list(
    state: web::Data<AppState>,
    signed: SignedRequest,
    query: web::Query<ListQuery>,
) -> ApiResult<HttpResponse> {
    let limit = query.page().limit()?;
    let filter = WithdrawalFilter {
        merchant: Some((signed.merchant.id.clone(), signed.livemode)),
        livemode: None,
        status: parse_status(query.status.as_deref())?,
        starting_after: query.starting_after.clone(),
    };
    let rows = store::list(&state.db, &filter, limit + 1).await?;
    Ok(HttpResponse::Ok().json(Page::from_rows(rows, limit).map(|w| WithdrawalView::from(&w))))
}

async fn entries(
    state: web::Data<AppState>,
    signed: SignedRequest,
    query: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let limit = query.limit()?;
    let page = service::statement(
        &state.db,
        &signed.account(),
        query.starting_after.as_deref(),
        limit,
    )
    .await?;
    Ok(HttpResponse::Ok().json(page))
}

// ---------------------------------------------------------------------------------------
// Admin

async fn admin_list(
    _admin: AdminUser,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> ApiResult<HttpResponse> {
    let limit = query.page().limit()?;
    let filter = WithdrawalFilter {
        merchant: None,
        livemode: query.livemode,
        status: parse_status(query.status.as_deref())?,
        starting_after: query.starting_after.clone(),
    };
    let rows = store::list(&state.db, &filter, limit + 1).await?;
    Ok(
        HttpResponse::Ok()
            .json(Page::from_rows(rows, limit).map(|w| AdminWithdrawalView::from(&w))),
    )
}

async fn admin_get(
    _admin: AdminUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let found = store::find(&state.db, &WithdrawalId::named(&path)?)
        .await?
        .ok_or_else(|| ApiError::not_found("withdrawal"))?;
    Ok(HttpResponse::Ok().json(AdminWithdrawalView::from(&found)))
}

async fn admin_action(
    admin: AdminUser,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    let (id, verb) = path.into_inner();
    if matches!(verb.as_str(), "approve" | "complete" | "fail") {
        crate::auth::extract::may_move_money(&state, &admin.0)?;
    }
    let mut fields: serde_json::Map<String, Value> = crate::http_body::optional_json(&req, &body)?;
    let reason = |fields: &mut serde_json::Map<String, Value>| {
        parse_reason(optional_string("reason", fields.remove("reason"))?)
    };
    let action = match verb.as_str() {
        "approve" => Action::Approve,
        "reject" => Action::Reject {
            reason: reason(&mut fields)?,
        },
        "fail" => Action::Fail {
            reason: reason(&mut fields)?,
        },
        "complete" => Action::Complete {
            txid: parse_txid(fields.remove("txid"))?,
        },
        _ => return Err(ApiError::new(ErrorCode::NotFound, "No such endpoint.")),
    };
    let ip = client_ip(&req);
    let updated = service::transition(
        &state,
        &WithdrawalId::named(&id)?,
        action,
        Reviewer {
            user_id: &admin.0.user_id,
            ip: Some(&ip),
        },
    )
    .await?;
    Ok(HttpResponse::Ok().json(AdminWithdrawalView::from(&updated)))
}
