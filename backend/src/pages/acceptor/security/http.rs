//! The security page's handlers: set up (the answer shows the secret once, no
//! redirect), turn on and turn off with a code, through `auth::service`. A refused code
//! is a message on the page, not an error page.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use super::model::{CodeForm, SecurityPage, SetupShown, TwoFactor};
use crate::auth::service;
use crate::auth::session::SessionUser;
use crate::error::{ApiError, ErrorCode};
use crate::orders::view::qr_data_uri;
use crate::pages::context::{flash_cookie, state_of};
use crate::pages::{AcceptorPage, PageCtx, PageError, render};
use crate::state::AppState;

const PAGE: &str = "/acceptor/security";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(PAGE, web::get().to(show))
        .route("/acceptor/security/setup", web::post().to(setup))
        .route("/acceptor/security/enable", web::post().to(enable))
        .route("/acceptor/security/disable", web::post().to(disable));
}

async fn two_factor_of(
    state: &AppState,
    ctx: &PageCtx,
    user: &SessionUser,
) -> Result<TwoFactor, PageError> {
    let row = crate::auth::store::find_by_id(&state.db, &user.user_id)
        .await
        .map_err(|err| PageError::from_api(ctx.tr, ApiError::from(err)))?
        .ok_or(PageError::Login {
            next: PAGE.to_owned(),
        })?;
    Ok(match (row.totp_enabled, row.totp_secret_enc.is_some()) {
        (true, _) => TwoFactor::On,
        (false, true) => TwoFactor::SetUp,
        (false, false) => TwoFactor::Off,
    })
}

fn page(ctx: &PageCtx, two_factor: TwoFactor) -> SecurityPage {
    SecurityPage {
        ctx: ctx.clone(),
        two_factor,
        setup: None,
        code_error: None,
        notice: None,
    }
}

async fn show(
    AcceptorPage { ctx, user }: AcceptorPage,
    req: HttpRequest,
) -> Result<HttpResponse, PageError> {
    let state = state_of(&req)?;
    let two_factor = two_factor_of(&state, &ctx, &user).await?;
    render(&ctx, &page(&ctx, two_factor))
}

/// A refusal of the auth service as the page shows it, with the state as it now is.
async fn refused(
    state: &AppState,
    ctx: &PageCtx,
    user: &SessionUser,
    err: ApiError,
) -> Result<HttpResponse, PageError> {
    let (status, code_error, notice) = match err.code {
        ErrorCode::InvalidRequest => (
            StatusCode::BAD_REQUEST,
            Some(ctx.t("security.code_invalid").to_owned()),
            None,
        ),
        ErrorCode::TooManyAttempts => (
            StatusCode::TOO_MANY_REQUESTS,
            Some(ctx.t("security.too_many").to_owned()),
            None,
        ),
        ErrorCode::InvalidState => (
            StatusCode::CONFLICT,
            None,
            Some(ctx.t("security.state_changed").to_owned()),
        ),
        _ => return Err(PageError::from_api(ctx.tr, err)),
    };
    let mut shown = page(ctx, two_factor_of(state, ctx, user).await?);
    shown.code_error = code_error;
    shown.notice = notice;
    let mut response = render(ctx, &shown)?;
    *response.status_mut() = status;
    Ok(response)
}

/// A new secret, shown on this answer only (a reload can set up again: a secret not
/// yet turned on is replaced).
async fn setup(
    AcceptorPage { ctx, user }: AcceptorPage,
    req: HttpRequest,
    form: web::Form<crate::pages::account::model::CsrfForm>,
) -> Result<HttpResponse, PageError> {
    ctx.check_csrf(&form.csrf_token)?;
    let state = state_of(&req)?;
    match service::setup_totp(&state, &user.user_id).await {
        Ok(made) => {
            let mut shown = page(&ctx, TwoFactor::SetUp);
            shown.setup = Some(SetupShown {
                qr: qr_data_uri(&made.otpauth_url),
                secret: made.secret,
            });
            render(&ctx, &shown)
        }
        Err(err) => refused(&state, &ctx, &user, err).await,
    }
}

fn done(ctx: &PageCtx, text: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((actix_web::http::header::LOCATION, PAGE))
        .cookie(flash_cookie("success", text, ctx.secure))
        .finish()
}

async fn enable(
    AcceptorPage { ctx, user }: AcceptorPage,
    req: HttpRequest,
    form: web::Form<CodeForm>,
) -> Result<HttpResponse, PageError> {
    ctx.check_csrf(&form.csrf_token)?;
    let state = state_of(&req)?;
    match service::enable_totp(&state, &user.user_id, &user.session_id, form.code.trim()).await {
        Ok(()) => Ok(done(&ctx, ctx.t("security.enabled"))),
        Err(err) => refused(&state, &ctx, &user, err).await,
    }
}

async fn disable(
    AcceptorPage { ctx, user }: AcceptorPage,
    req: HttpRequest,
    form: web::Form<CodeForm>,
) -> Result<HttpResponse, PageError> {
    ctx.check_csrf(&form.csrf_token)?;
    let state = state_of(&req)?;
    match service::disable_totp(&state, &user.user_id, form.code.trim()).await {
        Ok(()) => Ok(done(&ctx, ctx.t("security.disabled"))),
        Err(err) => refused(&state, &ctx, &user, err).await,
    }
}
