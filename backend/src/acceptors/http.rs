//! HTTP routes of acceptors: the admin API (`/api/v1/admin/acceptors…`) and the
//! acceptor's own API (`/api/v1/acceptor/…`). Handlers parse, authorise, call the
//! service and render.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use super::deposits::{self, DepositOutcome};
use super::model::{
    AcceptorListQuery, ConfirmRequest, CreateAcceptorRequest, DepositRequest, DepositView,
    DisputeRequest, ListView, OnlineRequest, OrderListQuery, PaymentMethodRequest,
    PaymentMethodView, QuoteRequest, QuoteView, RejectRequest, StatusAction, UpdateAcceptorRequest,
};
use super::service::{self, AdminContext};
use super::store::acceptor;
use crate::auth::AdminUser;
use crate::auth::extract::{AcceptorUser, MoneyAdmin};
use crate::client_addr::client_ip;
use crate::error::ApiResult;
use crate::http_body::optional_json;
use crate::ids::{AcceptorId, OrderId};
use crate::orders::view::OrderView;
use crate::pagination::PageQuery;
use crate::state::AppState;
use crate::values::parse_fiat_code_any_case;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/auth/register", web::post().to(register))
        .route("/api/v1/admin/acceptors", web::post().to(create))
        .route("/api/v1/admin/acceptors", web::get().to(list))
        .route("/api/v1/admin/acceptors/{id}", web::get().to(get))
        .route("/api/v1/admin/acceptors/{id}", web::patch().to(update))
        .route(
            "/api/v1/admin/acceptors/{id}/approve",
            web::post().to(approve),
        )
        .route(
            "/api/v1/admin/acceptors/{id}/freeze",
            web::post().to(freeze),
        )
        .route(
            "/api/v1/admin/acceptors/{id}/unfreeze",
            web::post().to(unfreeze),
        )
        .route(
            "/api/v1/admin/acceptors/{id}/deposits",
            web::post().to(deposit),
        )
        .route("/api/v1/acceptor/profile", web::get().to(profile))
        .route("/api/v1/acceptor/online", web::put().to(online))
        .route("/api/v1/acceptor/quotes", web::get().to(quotes))
        .route("/api/v1/acceptor/quotes/{fiat}", web::put().to(put_quote))
        .route(
            "/api/v1/acceptor/quotes/{fiat}",
            web::delete().to(delete_quote),
        )
        .route(
            "/api/v1/acceptor/payment-methods",
            web::get().to(payment_methods),
        )
        .route(
            "/api/v1/acceptor/payment-methods",
            web::post().to(add_payment_method),
        )
        .route(
            "/api/v1/acceptor/payment-methods/{id}",
            web::delete().to(delete_payment_method),
        )
        .route("/api/v1/acceptor/orders", web::get().to(orders))
        .route("/api/v1/acceptor/orders/{id}", web::get().to(order))
        .route(
            "/api/v1/acceptor/orders/{id}/confirm",
            web::post().to(confirm),
        )
        .route(
            "/api/v1/acceptor/orders/{id}/reject",
            web::post().to(reject),
        )
        .route(
            "/api/v1/acceptor/orders/{id}/dispute",
            web::post().to(dispute),
        )
        .route("/api/v1/acceptor/events", web::get().to(events));
}

fn admin_context<'a>(admin: &'a AdminUser, ip: &'a str) -> AdminContext<'a> {
    AdminContext {
        admin_id: &admin.0.user_id,
        ip: Some(ip),
    }
}

fn page_query(limit: Option<u64>, starting_after: Option<String>) -> PageQuery {
    PageQuery {
        limit,
        starting_after,
    }
}

async fn render_acceptor(
    state: &AppState,
    a: &acceptor::Model,
    status: StatusCode,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::build(status).json(service::view(&state.db, a).await?))
}

// ---------------------------------------------------------------------------------------
// Admin

async fn create(
    admin: AdminUser,
    state: web::Data<AppState>,
    req: HttpRequest,
    body: crate::http_body::Json<CreateAcceptorRequest>,
) -> ApiResult<HttpResponse> {
    let new = body.into_inner().validate()?;
    let ip = client_ip(&req);
    let created = service::create(&state, admin_context(&admin, &ip), new).await?;
    render_acceptor(&state, &created, StatusCode::CREATED).await
}

async fn list(
    _admin: AdminUser,
    state: web::Data<AppState>,
    query: web::Query<AcceptorListQuery>,
) -> ApiResult<HttpResponse> {
    let query = query.into_inner();
    let status = query.status()?;
    let limit = page_query(query.limit, None).limit()?;
    let page = service::list(&state.db, status, query.starting_after.as_deref(), limit).await?;
    Ok(HttpResponse::Ok().json(page))
}

async fn get(
    _admin: AdminUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let found = service::get(&state.db, &AcceptorId::named(&path)?).await?;
    render_acceptor(&state, &found, StatusCode::OK).await
}

async fn update(
    admin: AdminUser,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: crate::http_body::Json<UpdateAcceptorRequest>,
) -> ApiResult<HttpResponse> {
    let patch = body.into_inner().validate()?;
    let ip = client_ip(&req);
    let updated = service::update(
        &state,
        admin_context(&admin, &ip),
        &AcceptorId::named(&path)?,
        patch,
    )
    .await?;
    render_acceptor(&state, &updated, StatusCode::OK).await
}

async fn change_status(
    admin: AdminUser,
    state: web::Data<AppState>,
    req: HttpRequest,
    acceptor_id: &str,
    action: StatusAction,
) -> ApiResult<HttpResponse> {
    let ip = client_ip(&req);
    let updated = service::change_status(
        &state,
        admin_context(&admin, &ip),
        &AcceptorId::named(acceptor_id)?,
        action,
    )
    .await?;
    render_acceptor(&state, &updated, StatusCode::OK).await
}

async fn approve(
    admin: AdminUser,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    change_status(admin, state, req, &path, StatusAction::Approve).await
}

async fn freeze(
    admin: AdminUser,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    change_status(admin, state, req, &path, StatusAction::Freeze).await
}

async fn unfreeze(
    admin: AdminUser,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    change_status(admin, state, req, &path, StatusAction::Unfreeze).await
}

async fn deposit(
    admin: MoneyAdmin,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: crate::http_body::Json<DepositRequest>,
) -> ApiResult<HttpResponse> {
    let new = body.into_inner().validate()?;
    let ip = client_ip(&req);
    let admin = AdminUser::from(admin);
    let outcome = deposits::deposit(
        &state,
        admin_context(&admin, &ip),
        &AcceptorId::named(&path)?,
        new,
    )
    .await?;
    let view = DepositView::from(outcome.deposit());
    let replayed = matches!(outcome, DepositOutcome::Replayed(_));
    Ok(crate::http_body::created(replayed, &view))
}

/// `POST /api/v1/auth/register`: a pending acceptor and its verification mail (in the
/// language of the request). Under `/auth/` in the API, but an acceptor's use case.
async fn register(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: crate::http_body::Json<super::model::RegisterRequest>,
) -> ApiResult<HttpResponse> {
    let new = body.into_inner().validate()?;
    let created = service::register(&state, new, crate::i18n::Lang::of(&req)).await?;
    let view = service::view(&state.db, &created).await?;
    Ok(HttpResponse::Created().json(view))
}

// ---------------------------------------------------------------------------------------
// The acceptor's own API

async fn me(state: &AppState, user: &AcceptorUser) -> ApiResult<acceptor::Model> {
    service::acceptor_of_user(&state.db, &user.0.user_id).await
}

async fn profile(user: AcceptorUser, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let a = me(&state, &user).await?;
    render_acceptor(&state, &a, StatusCode::OK).await
}

async fn online(
    user: AcceptorUser,
    state: web::Data<AppState>,
    body: crate::http_body::Json<OnlineRequest>,
) -> ApiResult<HttpResponse> {
    let a = me(&state, &user).await?;
    let updated = service::set_online(&state, &a, body.online).await?;
    render_acceptor(&state, &updated, StatusCode::OK).await
}

async fn quotes(user: AcceptorUser, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let a = me(&state, &user).await?;
    let rows = super::store::quotes_of(&state.db, &a.id).await?;
    Ok(HttpResponse::Ok().json(ListView::all(rows.iter().map(QuoteView::from).collect())))
}

async fn put_quote(
    user: AcceptorUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: crate::http_body::Json<QuoteRequest>,
) -> ApiResult<HttpResponse> {
    let a = me(&state, &user).await?;
    let fiat = parse_fiat_code_any_case("fiat", &path)?;
    let new = body.into_inner().validate(fiat)?;
    let saved = service::put_quote(&state, &a, new).await?;
    Ok(HttpResponse::Ok().json(QuoteView::from(&saved)))
}

async fn delete_quote(
    user: AcceptorUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let a = me(&state, &user).await?;
    let fiat = parse_fiat_code_any_case("fiat", &path)?;
    service::delete_quote(&state, &a, fiat).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn payment_methods(
    user: AcceptorUser,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let a = me(&state, &user).await?;
    let rows = super::store::payment_methods_of(&state.db, &a.id).await?;
    Ok(HttpResponse::Ok().json(ListView::all(
        rows.iter().map(PaymentMethodView::from).collect(),
    )))
}

async fn add_payment_method(
    user: AcceptorUser,
    state: web::Data<AppState>,
    body: crate::http_body::Json<PaymentMethodRequest>,
) -> ApiResult<HttpResponse> {
    let a = me(&state, &user).await?;
    let new = body.into_inner().validate()?;
    let created = service::add_payment_method(&state, &a, new).await?;
    Ok(HttpResponse::Created().json(PaymentMethodView::from(&created)))
}

async fn delete_payment_method(
    user: AcceptorUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let a = me(&state, &user).await?;
    service::delete_payment_method(&state, &a, &path).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn orders(
    user: AcceptorUser,
    state: web::Data<AppState>,
    query: web::Query<OrderListQuery>,
) -> ApiResult<HttpResponse> {
    let a = me(&state, &user).await?;
    let query = query.into_inner();
    let status = query.status()?;
    let limit = page_query(query.limit, None).limit()?;
    let page = service::orders_page(
        &state.db,
        &a,
        status,
        query.starting_after.as_deref(),
        limit,
    )
    .await?;
    Ok(HttpResponse::Ok().json(page.map(|o| OrderView::new(&o, &state.public_url, false))))
}

async fn order(
    user: AcceptorUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let a = me(&state, &user).await?;
    let o = service::order_of(&state.db, &a, &OrderId::named(&path)?).await?;
    Ok(HttpResponse::Ok().json(OrderView::new(&o, &state.public_url, false)))
}

async fn confirm(
    user: AcceptorUser,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    let a = me(&state, &user).await?;
    let request: ConfirmRequest = optional_json(&req, &body)?;
    let o = service::confirm_order(
        &state,
        &a,
        &OrderId::named(&path)?,
        request.totp_code.as_deref(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(OrderView::new(&o, &state.public_url, false)))
}

async fn reject(
    user: AcceptorUser,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    let a = me(&state, &user).await?;
    let reason = optional_json::<RejectRequest>(&req, &body)?.validate()?;
    let o = service::reject_order(&state, &a, &OrderId::named(&path)?, reason).await?;
    Ok(HttpResponse::Ok().json(OrderView::new(&o, &state.public_url, false)))
}

async fn dispute(
    user: AcceptorUser,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    let a = me(&state, &user).await?;
    let reason = optional_json::<DisputeRequest>(&req, &body)?.validate()?;
    let o = service::dispute_order(&state, &a, &OrderId::named(&path)?, reason).await?;
    Ok(HttpResponse::Ok().json(OrderView::new(&o, &state.public_url, false)))
}

async fn events(
    user: AcceptorUser,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let a = me(&state, &user).await?;
    // Subscribed before the replay is read, so nothing falls between the two.
    let receiver = state.infra.event_bus.subscribe();
    let replay = match crate::live::last_event_id(&req) {
        Some(seen) => {
            let since = seen.saturating_sub(crate::live::REPLAY_SLACK_MS);
            super::history::changed_since(&state.db, &a.id, since)
                .await?
                .iter()
                .filter_map(|o| crate::orders::service::state_event(o, &state.public_url))
                .collect()
        }
        None => Vec::new(),
    };
    let presence = super::presence::track(state.clone(), a.id.to_string());
    Ok(crate::live::sse_response_resuming(
        receiver,
        format!("acceptor:{}", a.id),
        presence,
        super::presence::beat_every(state.settings.presence_grace_seconds),
        replay,
    ))
}
