//! Dispute routes: the merchant's `POST /api/v1/orders/{id}/disputes` (signed), and the
//! admin's list, detail (order, parties, messages, history), messages, resolution.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::model::{
    DisputeAcceptor, DisputeDetail, DisputeMerchant, DisputeParties, DisputeResolution,
    DisputeView, MessageRequest, MessageView, OrderEventView, ResolveRequest,
};
use super::store;
use crate::auth::AdminUser;
use crate::auth::extract::MoneyAdmin;
use crate::error::{ApiError, ApiResult};
use crate::ids::{DisputeId, OrderId};
use crate::merchants::auth::SignedRequest;
use crate::orders::service::Scope;
use crate::orders::view::OrderView;
use crate::pagination::{Page, PageQuery};
use crate::state::AppState;
use crate::values::parse_reason;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/api/v1/orders/{id}/disputes",
        web::post().to(open_by_merchant),
    )
    .route("/api/v1/admin/disputes", web::get().to(list))
    .route("/api/v1/admin/disputes/{id}", web::get().to(detail))
    .route(
        "/api/v1/admin/disputes/{id}/messages",
        web::post().to(add_message),
    )
    .route(
        "/api/v1/admin/disputes/{id}/resolve",
        web::post().to(resolve),
    );
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    status: Option<String>,
    limit: Option<u64>,
    starting_after: Option<String>,
}

async fn list(
    _admin: AdminUser,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> ApiResult<HttpResponse> {
    let page = PageQuery {
        limit: query.limit,
        starting_after: query.starting_after.clone(),
    };
    let limit = page.limit()?;
    if let Some(status) = query.status.as_deref()
        && !matches!(status, "open" | "resolved")
    {
        return Err(
            ApiError::invalid_request("status must be open or resolved.").with_param("status"),
        );
    }
    let rows = store::list(
        &state.db,
        query.status.as_deref(),
        page.starting_after.as_deref(),
        limit + 1,
    )
    .await?;
    Ok(HttpResponse::Ok().json(Page::from_rows(rows, limit).map(|d| DisputeView::from(&d))))
}

async fn detail(
    _admin: AdminUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let super::service::DisputeCase {
        dispute,
        order,
        merchant,
        acceptor,
        messages,
        events,
    } = super::service::case_of(&state, &DisputeId::named(&path)?).await?;
    Ok(HttpResponse::Ok().json(DisputeDetail {
        dispute: DisputeView::from(&dispute),
        order: OrderView::new(&order, &state.public_url, false),
        parties: DisputeParties {
            merchant: DisputeMerchant {
                id: merchant.id,
                name: merchant.name,
                email: merchant.email,
            },
            acceptor: acceptor.map(|a| DisputeAcceptor {
                id: a.id,
                display_name: a.display_name,
            }),
            payer_name: order.payer_name,
        },
        messages: messages.iter().map(MessageView::from).collect(),
        events: events.iter().map(OrderEventView::from).collect(),
    }))
}

async fn add_message(
    admin: AdminUser,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: crate::http_body::Json<MessageRequest>,
) -> ApiResult<HttpResponse> {
    let dispute = store::find(&state.db, &DisputeId::named(&path)?)
        .await?
        .ok_or_else(|| ApiError::not_found("dispute"))?;
    let ip = crate::client_addr::client_ip(&req);
    let saved = super::service::post_message(
        &state,
        &dispute,
        super::service::Author::Admin {
            user_id: &admin.0.user_id,
            ip: Some(&ip),
        },
        body.into_inner().body,
    )
    .await?;
    Ok(HttpResponse::Created().json(MessageView::from(&saved)))
}

async fn resolve(
    admin: MoneyAdmin,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: crate::http_body::Json<ResolveRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let input = super::service::ResolveInput {
        outcome: body.outcome,
        amount: body.amount,
        note: body.note,
    };
    let (order, resolved) =
        super::service::resolve(&state, &DisputeId::named(&path)?, input, &admin.0.user_id).await?;
    Ok(HttpResponse::Ok().json(DisputeResolution {
        dispute: DisputeView::from(&resolved),
        order: OrderView::new(&order, &state.public_url, false),
    }))
}

#[derive(Debug, Deserialize)]
struct MerchantDisputeRequest {
    reason: Option<String>,
}

/// `POST /api/v1/orders/{id}/disputes` (signed): the merchant disputes its order.
async fn open_by_merchant(
    state: web::Data<AppState>,
    signed: SignedRequest,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let body: MerchantDisputeRequest = signed.json()?;
    let reason = parse_reason(body.reason)?;
    let scope = Scope::Merchant {
        merchant_id: &signed.merchant.id,
        livemode: signed.livemode,
    };
    let (_, dispute) =
        crate::orders::service::open_dispute(&state, &OrderId::named(&path)?, scope, reason, None)
            .await?;
    Ok(HttpResponse::Created().json(DisputeView::from(&dispute)))
}
