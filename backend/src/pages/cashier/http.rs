//! The cashier page (`GET /pay/{token}`) and its forms, posted to the paths of the
//! cashier's JSON routes (`cashier::http`); the form guard ([`FormBody`]) sends each
//! post to its own handler.

use actix_web::{HttpRequest, HttpResponse, web};

use super::model::{CashierPage, DisputeForm, MessageForm, PaidForm};
use crate::error::{ApiError, ErrorCode};
use crate::http_body::FormBody;
use crate::orders::order;
use crate::pages::context::{flash_cookie, page_ctx, state_of};
use crate::pages::{PageCtx, PageError, render};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/pay/{token}", web::get().to(page))
        .route("/pay/{token}/paid", web::post().guard(FormBody).to(paid))
        .route(
            "/pay/{token}/dispute",
            web::post().guard(FormBody).to(dispute),
        )
        .route(
            "/pay/{token}/messages",
            web::post().guard(FormBody).to(message),
        );
}

/// The order of a cashier token; a malformed or unknown token is the 404 page.
async fn find(ctx: &PageCtx, req: &HttpRequest, token: &str) -> Result<order::Model, PageError> {
    let state = state_of(req)?;
    crate::cashier::service::find(&state, token)
        .await
        .map_err(|err| PageError::from_api(ctx.tr, err))
}

/// `GET /pay/{token}`.
async fn page(req: HttpRequest, token: web::Path<String>) -> Result<HttpResponse, PageError> {
    let ctx = page_ctx(&req).await?;
    let o = find(&ctx, &req, &token).await?;
    let page = CashierPage::new(ctx.clone(), &o, None)
        .with_onchain(&o, required_confirmations(&req, &o))
        .with_thread(&thread(&ctx, &req, &o).await?);
    render(&ctx, &page)
}

/// The confirmations an on-chain order's network asks for.
fn required_confirmations(req: &HttpRequest, o: &order::Model) -> Option<u32> {
    let state = state_of(req).ok()?;
    let chains = crate::chain::Chains::of(&state).ok()?;
    Some(chains.get(o.network.as_deref()?)?.confirmations)
}

async fn thread(
    ctx: &PageCtx,
    req: &HttpRequest,
    o: &order::Model,
) -> Result<Vec<crate::disputes::message::Model>, PageError> {
    let state = state_of(req)?;
    crate::cashier::service::thread(&state, o)
        .await
        .map_err(|err| PageError::from_api(ctx.tr, err))
}

/// Back to the page with a flash, or the page again with the refusal beside the form.
async fn after(
    ctx: PageCtx,
    req: &HttpRequest,
    token: &str,
    outcome: Result<(), ApiError>,
    done_key: &str,
) -> Result<HttpResponse, PageError> {
    match outcome {
        Ok(()) => Ok(HttpResponse::SeeOther()
            .insert_header((actix_web::http::header::LOCATION, format!("/pay/{token}")))
            .cookie(flash_cookie("success", ctx.t(done_key), ctx.secure))
            .finish()),
        Err(err)
            if matches!(
                err.code,
                ErrorCode::InvalidRequest | ErrorCode::InvalidState
            ) =>
        {
            let o = find(&ctx, req, token).await?;
            let page = CashierPage::new(ctx.clone(), &o, Some(err.message.into_owned()))
                .with_onchain(&o, required_confirmations(req, &o))
                .with_thread(&thread(&ctx, req, &o).await?);
            let mut response = render(&ctx, &page)?;
            *response.status_mut() = actix_web::http::StatusCode::BAD_REQUEST;
            Ok(response)
        }
        Err(err) => Err(PageError::from_api(ctx.tr, err)),
    }
}

/// The "I have paid" form.
async fn paid(
    req: HttpRequest,
    token: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let ctx = page_ctx(&req).await?;
    let form: PaidForm = serde_urlencoded::from_bytes(&body)
        .map_err(|_| PageError::BadRequest(ctx.tr, ctx.t("error.bad_form").to_owned()))?;
    ctx.check_csrf(&form.csrf_token)?;
    let state = state_of(&req)?;
    let outcome = crate::cashier::service::mark_paid(&state, &token, form.payer_name)
        .await
        .map(drop);
    after(ctx, &req, &token, outcome, "cashier.flash_paid").await
}

/// The appeal form (while paid, or after expiry within the appeal window).
async fn dispute(
    req: HttpRequest,
    token: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let ctx = page_ctx(&req).await?;
    let form: DisputeForm = serde_urlencoded::from_bytes(&body)
        .map_err(|_| PageError::BadRequest(ctx.tr, ctx.t("error.bad_form").to_owned()))?;
    ctx.check_csrf(&form.csrf_token)?;
    let state = state_of(&req)?;
    let outcome = crate::cashier::service::appeal(&state, &token, form.reason, form.contact)
        .await
        .map(drop);
    after(ctx, &req, &token, outcome, "cashier.flash_disputed").await
}

/// The message form of the dispute thread.
async fn message(
    req: HttpRequest,
    token: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let ctx = page_ctx(&req).await?;
    let form: MessageForm = serde_urlencoded::from_bytes(&body)
        .map_err(|_| PageError::BadRequest(ctx.tr, ctx.t("error.bad_form").to_owned()))?;
    ctx.check_csrf(&form.csrf_token)?;
    let state = state_of(&req)?;
    let outcome = crate::cashier::service::post_message(&state, &token, form.body)
        .await
        .map(drop);
    after(ctx, &req, &token, outcome, "cashier.flash_message").await
}
