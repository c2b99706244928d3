//! `POST /api/v1/auth/login`.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::service;
use crate::db::rfc3339;
use crate::error::ApiResult;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/auth/login", web::post().to(login));
}

#[derive(Deserialize)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
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
    let session = service::login(&state, &body.email, &body.password, &client_ip(&req)).await?;
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
