//! `POST /api/v1/auth/login`, `/logout` and the two-factor routes
//! (`/api/v1/auth/totp/*`).

use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::extract::AuthUser;
use super::{service, session};
use crate::client_addr::client_ip;
use crate::db::rfc3339;
use crate::error::ApiResult;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/auth/login", web::post().to(login))
        .route("/api/v1/auth/logout", web::post().to(logout))
        .route("/api/v1/auth/totp/setup", web::post().to(totp_setup))
        .route("/api/v1/auth/totp/enable", web::post().to(totp_enable))
        .route("/api/v1/auth/totp/disable", web::post().to(totp_disable));
}

#[derive(Deserialize)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
    /// Required when the user enabled two-factor authentication.
    #[serde(default)]
    pub totp_code: Option<String>,
}

#[derive(Serialize)]
pub struct LoginResponse {
    pub token: String,
    pub expires_at: String,
    pub user: UserView,
}

#[derive(Serialize)]
pub struct UserView {
    pub id: String,
    pub email: String,
    pub role: &'static str,
}

async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: crate::http_body::Json<LoginRequest>,
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

#[derive(Serialize)]
pub struct TotpSetupResponse {
    pub secret: String,
    pub otpauth_url: String,
}

async fn totp_setup(state: web::Data<AppState>, user: AuthUser) -> ApiResult<HttpResponse> {
    let setup = service::setup_totp(&state, &user.user_id).await?;
    Ok(HttpResponse::Ok().json(TotpSetupResponse {
        secret: setup.secret,
        otpauth_url: setup.otpauth_url,
    }))
}

#[derive(Deserialize)]
pub struct TotpCodeRequest {
    pub code: String,
}

async fn totp_enable(
    state: web::Data<AppState>,
    user: AuthUser,
    body: crate::http_body::Json<TotpCodeRequest>,
) -> ApiResult<HttpResponse> {
    service::enable_totp(&state, &user.user_id, &user.session_id, &body.code).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"totp_enabled": true})))
}

async fn totp_disable(
    state: web::Data<AppState>,
    user: AuthUser,
    body: crate::http_body::Json<TotpCodeRequest>,
) -> ApiResult<HttpResponse> {
    service::disable_totp(&state, &user.user_id, &body.code).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"totp_enabled": false})))
}
