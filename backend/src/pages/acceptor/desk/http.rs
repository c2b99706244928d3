//! `/acceptor` (the desk), `/acceptor/orders/{id}`, the Online switch and the three
//! order actions. Each action calls the same service as the JSON API and comes back with
//! a flash message (post/redirect/get).

use actix_web::{HttpRequest, HttpResponse, web};

use super::model::{ActionForm, DeskPage, NewOrderMailForm, OnlineForm, OrderPage, OrderRow};
use crate::acceptors::model::{DisputeRequest, RejectRequest};
use crate::acceptors::service;
use crate::error::{ApiError, ErrorCode};
use crate::ids::{OrderId, UserId};
use crate::pages::context::state_of;
use crate::pages::{AcceptorPage, PageCtx, PageError, render, time_pair};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/acceptor", web::get().to(desk))
        .route("/acceptor/online", web::post().to(online))
        .route("/acceptor/new-order-mail", web::post().to(new_order_mail))
        .route("/acceptor/orders/{id}", web::get().to(order))
        .route("/acceptor/orders/{id}/confirm", web::post().to(confirm))
        .route("/acceptor/orders/{id}/reject", web::post().to(reject))
        .route("/acceptor/orders/{id}/dispute", web::post().to(dispute))
        .route("/acceptor/orders/{id}/messages", web::post().to(message));
}

/// How long a finished order stays on the desk, so the acceptor sees how it ended.
const FINISHED_ROWS_MS: i64 = 15 * 60 * 1000;

fn api(ctx: &PageCtx) -> impl Fn(ApiError) -> PageError + '_ {
    move |err| PageError::from_api(ctx.tr, err)
}

async fn two_factor_on(state: &AppState, user_id: &UserId) -> Result<bool, ApiError> {
    Ok(crate::auth::service::two_factor_on(&state.db, user_id).await?)
}

async fn desk(page: AcceptorPage, req: HttpRequest) -> Result<HttpResponse, PageError> {
    let AcceptorPage { ctx, user } = page;
    let state = state_of(&req)?;
    let acceptor = service::acceptor_of_user(&state.db, &user.user_id)
        .await
        .map_err(api(&ctx))?;
    let view = service::view(&state.db, &acceptor)
        .await
        .map_err(api(&ctx))?;
    let since = crate::db::now_ms() - FINISHED_ROWS_MS;
    let rows = crate::acceptors::history::desk_orders_of(&state.db, &acceptor.id, since)
        .await
        .map_err(|e| PageError::from_api(ctx.tr, e.into()))?;
    let totp = two_factor_on(&state, &user.user_id)
        .await
        .map_err(api(&ctx))?;
    let page = DeskPage {
        ctx: ctx.clone(),
        acceptor: view,
        new_order_mail: acceptor.notify_new_orders,
        rows: rows.iter().map(OrderRow::new).collect(),
        totp,
    };
    render(&ctx, &page)
}

/// Back to `back` (the desk unless the form names a local page) with a flash message.
fn back_with(ctx: &PageCtx, back: Option<&str>, kind: &str, text: &str) -> HttpResponse {
    crate::pages::back_with(ctx, back, "/acceptor", kind, text)
}

/// The end of an order action: a flash naming the order (`done_key` has a `{reference}`),
/// or the refusal.
fn finish(
    ctx: &PageCtx,
    back: Option<&str>,
    outcome: Result<crate::orders::order::Model, ApiError>,
    done_key: &str,
) -> Result<HttpResponse, PageError> {
    match outcome {
        Ok(o) => {
            let text = ctx.fmt(done_key, &[("reference", &o.reference)]);
            Ok(back_with(ctx, back, "success", &text))
        }
        Err(err) => refusal(ctx, back, err),
    }
}

/// A refusal a user can act on becomes a flash message; anything else an error page.
fn refusal(ctx: &PageCtx, back: Option<&str>, err: ApiError) -> Result<HttpResponse, PageError> {
    match err.code {
        ErrorCode::NotFound | ErrorCode::InternalError | ErrorCode::ServiceUnavailable => {
            Err(PageError::from_api(ctx.tr, err))
        }
        ErrorCode::TotpRequired => Ok(back_with(ctx, back, "error", ctx.t("desk.code_refused"))),
        _ => Ok(back_with(ctx, back, "error", &err.message)),
    }
}

async fn online(
    page: AcceptorPage,
    req: HttpRequest,
    form: web::Form<OnlineForm>,
) -> Result<HttpResponse, PageError> {
    let AcceptorPage { ctx, user } = page;
    ctx.check_csrf(&form.csrf_token)?;
    let state = state_of(&req)?;
    let acceptor = service::acceptor_of_user(&state.db, &user.user_id)
        .await
        .map_err(api(&ctx))?;
    let online = form.online.is_some();
    match service::set_online(&state, &acceptor, online).await {
        Ok(_) => {
            let key = if online {
                "desk.now_online"
            } else {
                "desk.now_offline"
            };
            Ok(back_with(&ctx, None, "success", ctx.t(key)))
        }
        Err(err) => refusal(&ctx, None, err),
    }
}

async fn new_order_mail(
    page: AcceptorPage,
    req: HttpRequest,
    form: web::Form<NewOrderMailForm>,
) -> Result<HttpResponse, PageError> {
    let AcceptorPage { ctx, user } = page;
    ctx.check_csrf(&form.csrf_token)?;
    let state = state_of(&req)?;
    let acceptor = service::acceptor_of_user(&state.db, &user.user_id)
        .await
        .map_err(api(&ctx))?;
    let on = form.new_order_mail.is_some();
    service::set_new_order_mail(&state, &acceptor, on)
        .await
        .map_err(api(&ctx))?;
    let key = if on {
        "desk.new_order_mail_on"
    } else {
        "desk.new_order_mail_off"
    };
    Ok(back_with(&ctx, None, "success", ctx.t(key)))
}

async fn order(
    page: AcceptorPage,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let AcceptorPage { ctx, user } = page;
    let state = state_of(&req)?;
    let acceptor = service::acceptor_of_user(&state.db, &user.user_id)
        .await
        .map_err(api(&ctx))?;
    let o = service::order_of(&state.db, &acceptor, &ctx.named(OrderId::named(&path))?)
        .await
        .map_err(api(&ctx))?;
    let events = crate::orders::service::events_of(&state.db, &o.id)
        .await
        .map_err(|e| PageError::from_api(ctx.tr, e.into()))?
        .into_iter()
        .map(|e| (e.to_status, time_pair(e.created_at), e.note))
        .collect();
    let dispute_messages = match crate::disputes::service::open_dispute_of_order(&state.db, &o.id)
        .await
        .map_err(|e| PageError::from_api(ctx.tr, e.into()))?
    {
        Some(d) => crate::disputes::service::messages_of(&state.db, &d.id)
            .await
            .map_err(|e| PageError::from_api(ctx.tr, e.into()))?
            .into_iter()
            .map(|m| (m.author_role, time_pair(m.created_at), m.body))
            .collect(),
        None => Vec::new(),
    };
    let totp = two_factor_on(&state, &user.user_id)
        .await
        .map_err(api(&ctx))?;
    let page = OrderPage {
        ctx: ctx.clone(),
        row: OrderRow::new(&o),
        totp,
        events,
        dispute_messages,
    };
    render(&ctx, &page)
}

/// What an action form needs: the acceptor, checked CSRF, the way back.
async fn acting(
    page: &AcceptorPage,
    req: &HttpRequest,
    form: &ActionForm,
) -> Result<(web::Data<AppState>, crate::acceptors::acceptor::Model), PageError> {
    page.ctx.check_csrf(&form.csrf_token)?;
    let state = state_of(req)?;
    let acceptor = service::acceptor_of_user(&state.db, &page.user.user_id)
        .await
        .map_err(api(&page.ctx))?;
    Ok((state, acceptor))
}

async fn confirm(
    page: AcceptorPage,
    req: HttpRequest,
    path: web::Path<String>,
    form: web::Form<ActionForm>,
) -> Result<HttpResponse, PageError> {
    let (state, acceptor) = acting(&page, &req, &form).await?;
    let ctx = &page.ctx;
    let code = form.totp_code.as_deref().filter(|c| !c.trim().is_empty());
    let outcome =
        service::confirm_order(&state, &acceptor, &ctx.named(OrderId::named(&path))?, code).await;
    finish(ctx, form.back.as_deref(), outcome, "desk.released")
}

async fn reject(
    page: AcceptorPage,
    req: HttpRequest,
    path: web::Path<String>,
    form: web::Form<ActionForm>,
) -> Result<HttpResponse, PageError> {
    let (state, acceptor) = acting(&page, &req, &form).await?;
    let ctx = &page.ctx;
    let reason = RejectRequest {
        reason: form.reason.clone().filter(|r| !r.trim().is_empty()),
    };
    let outcome = match reason.validate() {
        Ok(reason) => {
            service::reject_order(
                &state,
                &acceptor,
                &ctx.named(OrderId::named(&path))?,
                reason,
            )
            .await
        }
        Err(err) => Err(err),
    };
    finish(ctx, form.back.as_deref(), outcome, "desk.rejected")
}

async fn dispute(
    page: AcceptorPage,
    req: HttpRequest,
    path: web::Path<String>,
    form: web::Form<ActionForm>,
) -> Result<HttpResponse, PageError> {
    let (state, acceptor) = acting(&page, &req, &form).await?;
    let ctx = &page.ctx;
    let request = DisputeRequest {
        reason: form.reason.clone().unwrap_or_default(),
    };
    let outcome = match request.validate() {
        Ok(reason) => {
            service::dispute_order(
                &state,
                &acceptor,
                &ctx.named(OrderId::named(&path))?,
                reason,
            )
            .await
        }
        Err(err) => Err(err),
    };
    finish(ctx, form.back.as_deref(), outcome, "desk.disputed")
}

/// A message to the dispute thread of one of the acceptor's orders (evidence such as a
/// bank transaction reference).
async fn message(
    page: AcceptorPage,
    req: HttpRequest,
    path: web::Path<String>,
    form: web::Form<ActionForm>,
) -> Result<HttpResponse, PageError> {
    let (state, acceptor) = acting(&page, &req, &form).await?;
    let ctx = &page.ctx;
    let back = format!("/acceptor/orders/{path}");
    let o = service::order_of(&state.db, &acceptor, &ctx.named(OrderId::named(&path))?)
        .await
        .map_err(api(ctx))?;
    let outcome = match crate::disputes::service::open_of_order(&state, &o.id).await {
        Ok(d) => crate::disputes::service::post_message(
            &state,
            &d,
            crate::disputes::service::Author::Acceptor {
                acceptor_id: &acceptor.id,
            },
            form.body.clone(),
        )
        .await
        .map(drop),
        Err(err) => Err(err),
    };
    match outcome {
        Ok(()) => Ok(back_with(
            ctx,
            Some(&back),
            "success",
            ctx.t("order.message_sent"),
        )),
        Err(err) => refusal(ctx, Some(&back), err),
    }
}
