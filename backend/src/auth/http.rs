//! `POST /api/v1/auth/login`, `/logout`, e-mail verification, password reset and the
//! two-factor routes
//! (`/api/v1/auth/totp/*`).

use actix_web::{HttpRequest, HttpResponse, web};

use super::extract::AuthUser;
use super::model::{
    Accepted, EmailVerified, LoginRequest, LoginResponse, PasswordResetConfirm, PasswordResetDone,
    PasswordResetRequest, TokenRequest, TotpDisableRequest, TotpEnableRequest, TotpEnabled,
    TotpSetupResponse, UserView,
};
use super::tokens::Purpose as TokenPurpose;
use super::{service, session};
use crate::client_addr::client_ip;
use crate::db::rfc3339;
use crate::error::ApiResult;
use crate::http_body::Json;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/auth/login", web::post().to(login))
        .route("/api/v1/auth/logout", web::post().to(logout))
        .route("/api/v1/auth/totp/setup", web::post().to(totp_setup))
        .route("/api/v1/auth/totp/enable", web::post().to(totp_enable))
        .route("/api/v1/auth/totp/disable", web::post().to(totp_disable))
        .route("/api/v1/auth/verify-email", web::post().to(verify_email))
        .route(
            "/api/v1/auth/password-reset",
            web::post().to(password_reset),
        )
        .route(
            "/api/v1/auth/password-reset/confirm",
            web::post().to(password_reset_confirm),
        );
}

async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Json<LoginRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let session = service::login(
        &state,
        &body.email,
        &body.password,
        body.totp_code.as_deref(),
        &client_ip(&req),
    )
    .await?;
    Ok(HttpResponse::Ok().json(LoginResponse {
        token: session.token,
        expires_at: rfc3339(session.expires_at_ms),
        user: UserView {
            id: session.user.id,
            email: session.user.email,
            role: session.role.as_str(),
        },
    }))
}

/// Revokes the session that made the request: its token stops working at once.
async fn logout(state: web::Data<AppState>, user: AuthUser) -> ApiResult<HttpResponse> {
    session::end(&state, &user.session_id).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn totp_setup(state: web::Data<AppState>, user: AuthUser) -> ApiResult<HttpResponse> {
    let setup = service::setup_totp(&state, &user.user_id).await?;
    Ok(HttpResponse::Ok().json(TotpSetupResponse {
        secret: setup.secret,
        otpauth_url: setup.otpauth_url,
    }))
}

async fn totp_enable(
    state: web::Data<AppState>,
    user: AuthUser,
    body: Json<TotpEnableRequest>,
) -> ApiResult<HttpResponse> {
    service::enable_totp(&state, &user.user_id, &user.session_id, &body.code).await?;
    Ok(HttpResponse::Ok().json(TotpEnabled { totp_enabled: true }))
}

async fn totp_disable(
    state: web::Data<AppState>,
    user: AuthUser,
    body: Json<TotpDisableRequest>,
) -> ApiResult<HttpResponse> {
    service::disable_totp(&state, &user.user_id, &body.code).await?;
    Ok(HttpResponse::Ok().json(TotpEnabled {
        totp_enabled: false,
    }))
}

async fn verify_email(
    state: web::Data<AppState>,
    body: Json<TokenRequest>,
) -> ApiResult<HttpResponse> {
    service::verify_email(&state, &body.token).await?;
    Ok(HttpResponse::Ok().json(EmailVerified {
        email_verified: true,
    }))
}

/// Always `202`: whether the address is registered is not told.
async fn password_reset(
    state: web::Data<AppState>,
    body: Json<PasswordResetRequest>,
) -> ApiResult<HttpResponse> {
    service::request_password_reset(&state, &body.email).await?;
    Ok(HttpResponse::Accepted().json(Accepted { accepted: true }))
}

async fn password_reset_confirm(
    state: web::Data<AppState>,
    body: Json<PasswordResetConfirm>,
) -> ApiResult<HttpResponse> {
    service::reset_password(
        &state,
        &body.token,
        &body.new_password,
        TokenPurpose::ResetPassword,
    )
    .await?;
    Ok(HttpResponse::Ok().json(PasswordResetDone {
        password_reset: true,
    }))
}
