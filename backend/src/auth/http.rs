//! `POST /api/v1/auth/login` and the two-factor set-up (`/api/v1/auth/totp/*`).

use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::extract::AuthUser;
use super::service;
use crate::db::rfc3339;
use crate::error::ApiResult;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/auth/login", web::post().to(login))
        .route("/api/v1/auth/totp/setup", web::post().to(totp_setup))
        .route("/api/v1/auth/totp/enable", web::post().to(totp_enable));
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

/// The client address as the TCP peer sees it. Forwarded headers are not trusted: a
/// deployment behind a proxy must terminate it on a trusted host.
pub fn client_ip(req: &HttpRequest) -> String {
    req.peer_addr()
        .map(|addr| addr.ip().to_string())
        .unwrap_or_else(|| "unknown".to_owned())
}

async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<LoginRequest>,
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
pub struct TotpEnableRequest {
    pub code: String,
}

async fn totp_enable(
    state: web::Data<AppState>,
    user: AuthUser,
    body: web::Json<TotpEnableRequest>,
) -> ApiResult<HttpResponse> {
    service::enable_totp(&state, &user.user_id, &body.code).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"totp_enabled": true})))
}
