//! The admin console (`/admin…`): the overview, acceptors, merchants, disputes,
//! withdrawals, on-chain transfers to review and the audit log, plus the console's live stream (`/admin/events`). Its
//! security page is the shared `pages::security`.
//!
//! Every page shows, while the admin's session may not move money (no second factor),
//! a banner that leads to `/admin/security`, and the money forms (deposit, dispute
//! resolution, withdrawal approval, completion and failure) are replaced by that call
//! to action; their handlers refuse with the same rule as the JSON API
//! (`auth::extract::may_move_money`).

pub mod acceptors;
pub mod audit;
pub mod chain;
pub mod disputes;
pub mod merchants;
pub mod overview;
pub mod withdrawals;

use actix_web::{HttpRequest, HttpResponse, web};

use crate::auth::extract::may_move_money;
use crate::auth::session::SessionUser;
use crate::error::{ApiError, ErrorCode};
use crate::pages::context::state_of;
use crate::pages::{AdminPage, PageCtx, PageError};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    overview::http::configure(cfg);
    acceptors::http::configure(cfg);
    merchants::http::configure(cfg);
    disputes::http::configure(cfg);
    withdrawals::http::configure(cfg);
    audit::http::configure(cfg);
    chain::http::configure(cfg);
    cfg.route("/admin/events", web::get().to(events));
}

/// What every console page shows around its content.
#[derive(Debug, Clone, Copy)]
pub struct Chrome {
    /// The session may move money (2FA passed, or the rule is off): no banner.
    pub money_ok: bool,
}

impl Chrome {
    pub fn of(state: &AppState, user: &SessionUser) -> Self {
        Self {
            money_ok: may_move_money(state, user).is_ok(),
        }
    }
}

/// A service's refusal as a page error.
pub fn api(ctx: &PageCtx) -> impl Fn(ApiError) -> PageError + '_ {
    move |err| PageError::from_api(ctx.tr, err)
}

/// A database error as a page error.
pub fn db(ctx: &PageCtx) -> impl Fn(sea_orm::DbErr) -> PageError + '_ {
    move |err| PageError::from_api(ctx.tr, ApiError::from(err))
}

pub use super::back_with;

/// A refusal the admin can act on becomes a flash message on the page they came from;
/// an unknown object, an unexpected failure, another role: an error page.
pub fn refusal(
    ctx: &PageCtx,
    back: Option<&str>,
    fallback: &str,
    err: ApiError,
) -> Result<HttpResponse, PageError> {
    match err.code {
        ErrorCode::NotFound
        | ErrorCode::InternalError
        | ErrorCode::ServiceUnavailable
        | ErrorCode::Forbidden => Err(PageError::from_api(ctx.tr, err)),
        ErrorCode::TotpSetupRequired => Ok(back_with(
            ctx,
            back,
            fallback,
            "error",
            ctx.t("admin.money_refused"),
        )),
        _ => Ok(back_with(ctx, back, fallback, "error", &err.message)),
    }
}

/// The money rule of the JSON API for a page action: refused (a flash that leads to
/// `/admin/security`) unless the session passed the second factor.
pub fn money_gate(
    state: &AppState,
    page: &AdminPage,
    back: Option<&str>,
    fallback: &str,
) -> Option<HttpResponse> {
    may_move_money(state, &page.user).err().map(|_| {
        back_with(
            &page.ctx,
            back,
            fallback,
            "error",
            page.ctx.t("admin.money_refused"),
        )
    })
}

/// `GET /admin/events`: the console's live stream (Server-Sent Events of
/// `live::ADMIN_TOPIC`). The pages re-read themselves on every event.
async fn events(_page: AdminPage, req: HttpRequest) -> Result<HttpResponse, PageError> {
    let state = state_of(&req)?;
    let receiver = state.infra.event_bus.subscribe();
    Ok(crate::live::sse_response(
        receiver,
        crate::live::ADMIN_TOPIC.to_owned(),
    ))
}

/// The form fields every console action carries.
#[derive(Debug, Default, serde::Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    pub csrf_token: String,
    /// Where to come back to (a local path).
    pub back: Option<String>,
}

/// The status word of an order, for admins (UI.md's vocabulary, shared with the desk).
pub fn order_status_key(status: &str) -> &'static str {
    crate::pages::acceptor::desk::model::status_key(status)
}
