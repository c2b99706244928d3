//! Merchant routes: the admin API (`/api/v1/admin/merchants…`, role admin, every action
//! audited) and the signed `GET /api/v1/balance`.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::Value;

use super::auth::SignedRequest;
use super::model::{
    BalanceResponse, IssuedKeyView, MerchantBalance, MerchantCreated, MerchantPatch, MerchantView,
    NewApiKey, NewMerchant,
};
use super::service::{self, Actor, IssuedKey};
use crate::auth::AdminUser;
use crate::client_addr::client_ip;
use crate::error::ApiResult;
use crate::ids::MerchantId;
use crate::ledger;
use crate::money::format_usdt;
use crate::pagination::{Page, PageQuery};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/api/v1/admin/merchants")
            .route(web::get().to(list_merchants))
            .route(web::post().to(create_merchant))
            .default_service(web::to(crate::routing::unrouted)),
    )
    .service(
        web::resource("/api/v1/admin/merchants/{id}")
            .route(web::get().to(get_merchant))
            .route(web::patch().to(update_merchant))
            .default_service(web::to(crate::routing::unrouted)),
    )
    .service(
        web::resource("/api/v1/admin/merchants/{id}/api-keys")
            .route(web::post().to(create_api_key))
            .default_service(web::to(crate::routing::unrouted)),
    )
    .service(
        web::resource("/api/v1/admin/merchants/{id}/api-keys/{key_id}")
            .route(web::delete().to(revoke_api_key))
            .default_service(web::to(crate::routing::unrouted)),
    )
    .service(
        web::resource("/api/v1/balance")
            .route(web::get().to(balance))
            .default_service(web::to(crate::routing::unrouted)),
    );
}

fn actor<'a>(admin: &'a AdminUser, ip: &'a str) -> Actor<'a> {
    Actor {
        user_id: &admin.0.user_id,
        ip,
    }
}

impl From<IssuedKey> for IssuedKeyView {
    fn from(key: IssuedKey) -> Self {
        Self {
            key_id: key.key_id,
            secret: key.secret,
            mode: key.mode.as_str(),
            kind: key.kind.as_str(),
        }
    }
}

async fn create_merchant(
    admin: AdminUser,
    state: web::Data<AppState>,
    req: HttpRequest,
    body: crate::http_body::Json<Value>,
) -> ApiResult<HttpResponse> {
    let input = NewMerchant::from_json(body.into_inner())?;
    let ip = client_ip(&req);
    let created = service::create_merchant(&state, actor(&admin, &ip), input).await?;
    let view = MerchantView::new(&created.merchant, &created.keys());
    Ok(HttpResponse::Created().json(MerchantCreated {
        merchant: view,
        api_key: IssuedKeyView::from(created.live_key),
        test_api_key: IssuedKeyView::from(created.test_key),
        webhook_secret: created.webhook_secret,
    }))
}

async fn list_merchants(
    _admin: AdminUser,
    state: web::Data<AppState>,
    query: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let limit = query.limit()?;
    let (merchants, keys) =
        service::list_merchants(&state.db, query.starting_after.as_deref(), limit + 1).await?;
    let page = Page::from_rows(merchants, limit).map(|m| MerchantView::new(&m, &keys));
    Ok(HttpResponse::Ok().json(page))
}

async fn get_merchant(
    _admin: AdminUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let (merchant, keys) = service::get_merchant(&state.db, &MerchantId::named(&path)?).await?;
    Ok(HttpResponse::Ok().json(MerchantView::new(&merchant, &keys)))
}

async fn update_merchant(
    admin: AdminUser,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: crate::http_body::Json<Value>,
) -> ApiResult<HttpResponse> {
    let patch = MerchantPatch::from_json(body.into_inner())?;
    let ip = client_ip(&req);
    let (merchant, keys) = service::update_merchant(
        &state,
        actor(&admin, &ip),
        &MerchantId::named(&path)?,
        patch,
    )
    .await?;
    Ok(HttpResponse::Ok().json(MerchantView::new(&merchant, &keys)))
}

async fn create_api_key(
    admin: AdminUser,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: crate::http_body::Json<Value>,
) -> ApiResult<HttpResponse> {
    let spec = NewApiKey::from_json(body.into_inner())?;
    let ip = client_ip(&req);
    let issued =
        service::create_api_key(&state, actor(&admin, &ip), &MerchantId::named(&path)?, spec)
            .await?;
    Ok(HttpResponse::Created().json(IssuedKeyView::from(issued)))
}

async fn revoke_api_key(
    admin: AdminUser,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (merchant_id, key_id) = path.into_inner();
    let ip = client_ip(&req);
    service::revoke_api_key(
        &state,
        actor(&admin, &ip),
        &MerchantId::named(&merchant_id)?,
        &key_id,
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `GET /api/v1/balance` (signed): the merchant's USDT balance in the key's mode;
/// `pending` is the amount held by withdrawals under review.
async fn balance(state: web::Data<AppState>, signed: SignedRequest) -> ApiResult<HttpResponse> {
    let balance = ledger::balance(&state.db, &signed.account()).await?;
    Ok(HttpResponse::Ok().json(BalanceResponse {
        balances: vec![MerchantBalance {
            currency: "USDT",
            available: format_usdt(balance.available),
            pending: format_usdt(balance.pending_debits),
        }],
    }))
}
