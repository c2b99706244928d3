//! The security page's handlers, one set for every role (`/acceptor/security`,
//! `/admin/security`, `/merchant/security`): set up (the answer shows the secret once,
//! no redirect), turn on and turn off with a code, through `auth::service`. A refused
//! code is a message on the page, not an error page. The role is the path's first
//! segment: another role's page is the 403 page, the logged-out go to `/login`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use actix_web::FromRequest;
use actix_web::dev::Payload;
use futures_util::future::LocalBoxFuture;

use super::model::{CodeForm, SecurityPage, SetupShown, TwoFactor};
use crate::auth::Role;
use crate::auth::service;
use crate::auth::session::SessionUser;
use crate::error::{ApiError, ErrorCode};
use crate::orders::view::qr_data_uri;
use crate::pages::context::{flash_cookie, page_ctx, state_of};
use crate::pages::{PageCtx, PageError, render};
use crate::state::AppState;

/// The roles with a security page, each under `/{role}/security`.
const ROLES: [Role; 3] = [Role::Acceptor, Role::Admin, Role::Merchant];

pub fn configure(cfg: &mut web::ServiceConfig) {
    for role in ROLES {
        let base = format!("/{}/security", role.as_str());
        cfg.route(&base, web::get().to(show))
            .route(&format!("{base}/setup"), web::post().to(setup))
            .route(&format!("{base}/enable"), web::post().to(enable))
            .route(&format!("{base}/disable"), web::post().to(disable));
    }
}

/// A visitor of a security page whose role is the one its path names.
pub struct SecurityVisitor {
    pub ctx: PageCtx,
    pub user: SessionUser,
    /// `/{role}/security`.
    pub base: String,
}

impl FromRequest for SecurityVisitor {
    type Error = PageError;
    type Future = LocalBoxFuture<'static, Result<Self, PageError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let ctx = page_ctx(&req).await?;
            let segment = req.path().trim_start_matches('/').split('/').next();
            let role = ROLES
                .into_iter()
                .find(|r| Some(r.as_str()) == segment)
                .ok_or(PageError::NotFound(ctx.tr))?;
            match ctx.user.clone() {
                None => Err(PageError::Login {
                    next: ctx.path.clone(),
                }),
                Some(user) if user.role == role => Ok(Self {
                    ctx,
                    user,
                    base: format!("/{}/security", role.as_str()),
                }),
                Some(_) => Err(PageError::Forbidden(ctx.tr)),
            }
        })
    }
}

async fn two_factor_of(
    state: &AppState,
    ctx: &PageCtx,
    user: &SessionUser,
    base: &str,
) -> Result<TwoFactor, PageError> {
    let row = crate::auth::service::find_by_id(&state.db, &user.user_id)
        .await
        .map_err(|err| PageError::from_api(ctx.tr, ApiError::from(err)))?
        .ok_or(PageError::Login {
            next: base.to_owned(),
        })?;
    Ok(match (row.totp_enabled, row.totp_secret_enc.is_some()) {
        (true, _) => TwoFactor::On,
        (false, true) => TwoFactor::SetUp,
        (false, false) => TwoFactor::Off,
    })
}

fn page(ctx: &PageCtx, user: &SessionUser, base: &str, two_factor: TwoFactor) -> SecurityPage {
    SecurityPage {
        ctx: ctx.clone(),
        base: base.to_owned(),
        role: user.role,
        two_factor,
        setup: None,
        code_error: None,
        notice: None,
    }
}

async fn show(visitor: SecurityVisitor, req: HttpRequest) -> Result<HttpResponse, PageError> {
    let SecurityVisitor { ctx, user, base } = visitor;
    let state = state_of(&req)?;
    let two_factor = two_factor_of(&state, &ctx, &user, &base).await?;
    render(&ctx, &page(&ctx, &user, &base, two_factor))
}

/// A refusal of the auth service as the page shows it, with the state as it now is.
async fn refused(
    state: &AppState,
    visitor: &SecurityVisitor,
    err: ApiError,
) -> Result<HttpResponse, PageError> {
    let SecurityVisitor { ctx, user, base } = visitor;
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
    let two_factor = two_factor_of(state, ctx, user, base).await?;
    let mut shown = page(ctx, user, base, two_factor);
    shown.code_error = code_error;
    shown.notice = notice;
    let mut response = render(ctx, &shown)?;
    *response.status_mut() = status;
    Ok(response)
}

/// A new secret, shown on this answer only (a reload can set up again: a secret not
/// yet turned on is replaced).
async fn setup(
    visitor: SecurityVisitor,
    req: HttpRequest,
    form: web::Form<crate::pages::account::model::CsrfForm>,
) -> Result<HttpResponse, PageError> {
    let SecurityVisitor { ctx, user, base } = &visitor;
    ctx.check_csrf(&form.csrf_token)?;
    let state = state_of(&req)?;
    match service::setup_totp(&state, &user.user_id).await {
        Ok(made) => {
            let mut shown = page(ctx, user, base, TwoFactor::SetUp);
            shown.setup = Some(SetupShown {
                qr: qr_data_uri(&made.otpauth_url),
                secret: made.secret,
            });
            render(ctx, &shown)
        }
        Err(err) => refused(&state, &visitor, err).await,
    }
}

fn done(ctx: &PageCtx, base: &str, text: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((actix_web::http::header::LOCATION, base.to_owned()))
        .cookie(flash_cookie("success", text, ctx.secure))
        .finish()
}

async fn enable(
    visitor: SecurityVisitor,
    req: HttpRequest,
    form: web::Form<CodeForm>,
) -> Result<HttpResponse, PageError> {
    let SecurityVisitor { ctx, user, base } = &visitor;
    ctx.check_csrf(&form.csrf_token)?;
    let state = state_of(&req)?;
    match service::enable_totp(&state, &user.user_id, &user.session_id, form.code.trim()).await {
        Ok(()) => Ok(done(ctx, base, ctx.t("security.enabled"))),
        Err(err) => refused(&state, &visitor, err).await,
    }
}

async fn disable(
    visitor: SecurityVisitor,
    req: HttpRequest,
    form: web::Form<CodeForm>,
) -> Result<HttpResponse, PageError> {
    let SecurityVisitor { ctx, user, base } = &visitor;
    ctx.check_csrf(&form.csrf_token)?;
    let state = state_of(&req)?;
    match service::disable_totp(&state, &user.user_id, form.code.trim()).await {
        Ok(()) => Ok(done(ctx, base, ctx.t("security.disabled"))),
        Err(err) => refused(&state, &visitor, err).await,
    }
}
