//! Extractors that authenticate portal calls and check the role.
//!
//! A session comes as `Authorization: Bearer <JWT>` (JSON API) or the `otcpay_session`
//! cookie (pages). No credentials → `401 missing_credentials`; a bad, expired or
//! logged-out token → `401 invalid_token`; a valid token of another role → `403
//! forbidden`. A state-changing request (any method but GET, HEAD, OPTIONS) that is
//! authenticated by the cookie alone must carry the session's CSRF token in the
//! `X-CSRF-Token` header, else `403 forbidden`: SameSite=Strict keeps other sites'
//! requests from carrying the cookie, and the token keeps same-site pages honest too.

use actix_web::dev::Payload;
use actix_web::http::Method;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;

use super::model::Role;
use super::session::{self, CSRF_HEADER, SESSION_COOKIE, SessionUser};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::state::AppState;

/// Any logged-in portal user.
pub type AuthUser = SessionUser;

enum Presented {
    Bearer(String),
    Cookie(String),
}

fn presented_token(req: &HttpRequest) -> Option<Presented> {
    if let Some(value) = req.headers().get(actix_web::http::header::AUTHORIZATION) {
        let text = value.to_str().ok()?;
        let token = text
            .strip_prefix("Bearer ")
            .or_else(|| text.strip_prefix("bearer "))?;
        return Some(Presented::Bearer(token.trim().to_owned()));
    }
    req.cookie(SESSION_COOKIE)
        .map(|c| Presented::Cookie(c.value().to_owned()))
}

fn changes_state(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The session of a JSON API request (Bearer, or cookie + CSRF header).
pub async fn authenticate(req: &HttpRequest) -> ApiResult<SessionUser> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::internal("application state missing"))?;
    let presented = presented_token(req).ok_or_else(|| {
        ApiError::new(
            ErrorCode::MissingCredentials,
            "Send a session token as `Authorization: Bearer <token>`.",
        )
    })?;
    let (token, by_cookie) = match presented {
        Presented::Bearer(token) => (token, false),
        Presented::Cookie(token) => (token, true),
    };
    let user = session::resume(state, &token).await?;
    if by_cookie && changes_state(req.method()) {
        let presented = req
            .headers()
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !session::csrf_matches(&state.keys, &user.session_id, presented) {
            return Err(ApiError::new(
                ErrorCode::Forbidden,
                "A request authenticated by the session cookie needs the session's `X-CSRF-Token` header.",
            ));
        }
    }
    Ok(user)
}

impl FromRequest for SessionUser {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { authenticate(&req).await })
    }
}

async fn with_role(req: &HttpRequest, role: Role) -> ApiResult<SessionUser> {
    let user = authenticate(req).await?;
    if user.role == role {
        Ok(user)
    } else {
        Err(ApiError::forbidden())
    }
}

macro_rules! role_extractor {
    ($(#[$doc:meta])* $name:ident, $role:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $name(pub SessionUser);

        impl FromRequest for $name {
            type Error = ApiError;
            type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

            fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
                let req = req.clone();
                Box::pin(async move { with_role(&req, $role).await.map($name) })
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

/// An admin allowed to move money (deposits, dispute resolutions, withdrawal approval,
/// completion and failure): the session passed a TOTP code, unless the operator turned
/// the rule off (`OTCPAY_ADMIN_REQUIRE_2FA=false`). Otherwise `403 totp_setup_required`.
#[derive(Debug, Clone)]
pub struct MoneyAdmin(pub SessionUser);

impl FromRequest for MoneyAdmin {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let admin = with_role(&req, Role::Admin).await?;
            let state = req
                .app_data::<web::Data<AppState>>()
                .ok_or_else(|| ApiError::internal("application state missing"))?;
            may_move_money(state, &admin)?;
            Ok(MoneyAdmin(admin))
        })
    }
}

/// The rule of [`MoneyAdmin`], for handlers where only some actions move money.
pub fn may_move_money(state: &AppState, admin: &SessionUser) -> ApiResult<()> {
    if state.settings.admin_require_2fa && !admin.second_factor {
        return Err(ApiError::new(
            ErrorCode::TotpSetupRequired,
            "This action moves money: turn on two-factor authentication \
             (`POST /api/v1/auth/totp/setup`, then `/enable`) and use a session \
             that passed the code.",
        ));
    }
    Ok(())
}

impl From<MoneyAdmin> for AdminUser {
    fn from(admin: MoneyAdmin) -> Self {
        AdminUser(admin.0)
    }
}
