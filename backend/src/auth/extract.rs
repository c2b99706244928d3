//! Extractors that authenticate portal calls and check the role.
//!
//! A session comes as `Authorization: Bearer <JWT>` (JSON API) or the `otcpay_session`
//! cookie (pages). No credentials → `401 missing_credentials`; a bad or expired token →
//! `401 invalid_token`; a valid token of another role → `403 forbidden`.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};

use super::model::Role;
use super::service::decode_token;
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "otcpay_session";

/// Any logged-in portal user.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub user_id: String,
    pub email: String,
    pub role: Role,
}

fn bearer_or_cookie(req: &HttpRequest) -> Option<String> {
    if let Some(value) = req.headers().get(actix_web::http::header::AUTHORIZATION) {
        let text = value.to_str().ok()?;
        let token = text
            .strip_prefix("Bearer ")
            .or_else(|| text.strip_prefix("bearer "))?;
        return Some(token.trim().to_owned());
    }
    req.cookie(SESSION_COOKIE).map(|c| c.value().to_owned())
}

fn authenticate(req: &HttpRequest) -> Result<AuthUser, ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::internal("application state missing"))?;
    let token = bearer_or_cookie(req).ok_or_else(|| {
        ApiError::new(
            ErrorCode::MissingCredentials,
            "Send a session token as `Authorization: Bearer <token>`.",
        )
    })?;
    let claims = decode_token(&state.keys, &token).ok_or_else(|| {
        ApiError::new(
            ErrorCode::InvalidToken,
            "The session token is invalid or has expired; log in again.",
        )
    })?;
    Ok(AuthUser {
        user_id: claims.sub,
        email: claims.email,
        role: claims.role,
    })
}

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(authenticate(req))
    }
}

macro_rules! role_extractor {
    ($(#[$doc:meta])* $name:ident, $role:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $name(pub AuthUser);

        impl FromRequest for $name {
            type Error = ApiError;
            type Future = Ready<Result<Self, ApiError>>;

            fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
                ready(authenticate(req).and_then(|user| {
                    if user.role == $role {
                        Ok($name(user))
                    } else {
                        Err(ApiError::forbidden())
                    }
                }))
            }
        }
    };
}

role_extractor!(
    /// A logged-in admin: required by every `/api/v1/admin/*` route.
    AdminUser,
    Role::Admin
);
role_extractor!(
    /// A logged-in acceptor: required by every `/api/v1/acceptor/*` route.
    AcceptorUser,
    Role::Acceptor
);
