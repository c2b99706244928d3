//! `GET /api/v1/deposit-addresses` (signed merchants), `GET
//! /api/v1/acceptor/deposit-addresses` (acceptors), and the admins' review list
//! `GET /api/v1/admin/chain-transfers`.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::acceptors::service::{acceptor_of_user, require_active};
use crate::auth::AdminUser;
use crate::auth::extract::AcceptorUser;
use crate::chain::entity::{OwnerKind, TransferStatus};
use crate::chain::service::{self, ChainDepositView, DepositAddressList};
use crate::chain::store;
use crate::error::{ApiError, ApiResult};
use crate::merchants::auth::SignedRequest;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/api/v1/deposit-addresses",
        web::get().to(merchant_addresses),
    )
    .route(
        "/api/v1/acceptor/deposit-addresses",
        web::get().to(acceptor_addresses),
    )
    .route("/api/v1/deposits", web::get().to(merchant_deposits))
    .route(
        "/api/v1/acceptor/deposits",
        web::get().to(acceptor_deposits),
    )
    .route("/api/v1/admin/chain-transfers", web::get().to(review_list));
}

/// The merchant's balance top-up addresses. On-chain top-ups credit the live balance,
/// whichever key asks.
async fn merchant_addresses(
    state: web::Data<AppState>,
    signed: SignedRequest,
) -> ApiResult<HttpResponse> {
    let data = service::deposit_addresses(&state, OwnerKind::Merchant, signed.merchant.id.as_str())
        .await?;
    Ok(HttpResponse::Ok().json(DepositAddressList { data }))
}

/// The acceptor's liquidity top-up addresses (active acceptors only).
async fn acceptor_addresses(
    state: web::Data<AppState>,
    user: AcceptorUser,
) -> ApiResult<HttpResponse> {
    let acceptor = acceptor_of_user(&state.db, &user.0.user_id).await?;
    require_active(&acceptor)?;
    let data =
        service::deposit_addresses(&state, OwnerKind::Acceptor, acceptor.id.as_str()).await?;
    Ok(HttpResponse::Ok().json(DepositAddressList { data }))
}

/// `{"data": [...]}`: the latest on-chain deposits, newest first.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ChainDepositList {
    pub data: Vec<ChainDepositView>,
}

/// How many deposits the lists show.
const RECENT: u64 = 50;

/// The merchant's latest on-chain top-ups: pending (`confirmations` of
/// `required_confirmations`), confirmed, or under review.
async fn merchant_deposits(
    state: web::Data<AppState>,
    signed: SignedRequest,
) -> ApiResult<HttpResponse> {
    let data = service::recent_deposits(
        &state,
        OwnerKind::Merchant,
        signed.merchant.id.as_str(),
        RECENT,
    )
    .await?;
    Ok(HttpResponse::Ok().json(ChainDepositList { data }))
}

/// The acceptor's latest on-chain liquidity top-ups.
async fn acceptor_deposits(
    state: web::Data<AppState>,
    user: AcceptorUser,
) -> ApiResult<HttpResponse> {
    let acceptor = acceptor_of_user(&state.db, &user.0.user_id).await?;
    let data =
        service::recent_deposits(&state, OwnerKind::Acceptor, acceptor.id.as_str(), RECENT).await?;
    Ok(HttpResponse::Ok().json(ChainDepositList { data }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReviewQuery {
    /// `vanished` (credited, then its block left the chain), `review` (not credited:
    /// needs a decision) or `pending`; default both `vanished` and `review`.
    pub status: Option<String>,
}

/// `{"data": [...]}`: transfers for an admin to look at.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ChainTransferList {
    pub data: Vec<ChainTransferReview>,
}

/// A transfer with who it was for and why it is listed.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ChainTransferReview {
    #[serde(flatten)]
    pub deposit: ChainDepositView,
    /// `acceptor` or `merchant`.
    pub owner_kind: String,
    pub owner_id: String,
    pub review_reason: Option<String>,
}

async fn review_list(
    state: web::Data<AppState>,
    _admin: AdminUser,
    query: web::Query<ReviewQuery>,
) -> ApiResult<HttpResponse> {
    let statuses = match query.status.as_deref() {
        None => vec![TransferStatus::Vanished, TransferStatus::Review],
        Some(text) => vec![TransferStatus::parse(text).ok_or_else(|| {
            ApiError::invalid_request(
                "status must be one of pending, dropped, confirmed, vanished, review.",
            )
            .with_param("status")
        })?],
    };
    let rows = store::transfers_in(&state.db, &statuses, 200).await?;
    let data = rows
        .iter()
        .map(|t| ChainTransferReview {
            deposit: ChainDepositView::of(t, ""),
            owner_kind: t.owner_kind.as_str().to_owned(),
            owner_id: t.owner_id.clone(),
            review_reason: t.review_reason.clone(),
        })
        .collect();
    Ok(HttpResponse::Ok().json(ChainTransferList { data }))
}
