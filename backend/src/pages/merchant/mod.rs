//! The merchant dashboard (`/merchant…`): orders (search, filters, CSV export, live
//! status), one order with its history and webhook attempts, balance and statement,
//! withdrawals, API keys and the webhook endpoint. The session's user maps to its
//! merchant with `merchants::service::merchant_of_user`; every page reads and changes
//! through the same services as the signed API and the admin routes.

pub mod balance;
pub mod keys;
pub mod orders;
pub mod webhooks;
pub mod withdrawals;

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use crate::error::ApiError;
use crate::merchants::merchant;
use crate::pages::context::state_of;
use crate::pages::{MerchantPage, PageCtx, PageError};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    orders::http::configure(cfg);
    balance::http::configure(cfg);
    withdrawals::http::configure(cfg);
    keys::http::configure(cfg);
    webhooks::http::configure(cfg);
}

/// A service's refusal seen from a page.
pub fn api(ctx: &PageCtx) -> impl Fn(ApiError) -> PageError + '_ {
    move |err| PageError::from_api(ctx.tr, err)
}

/// The state and the merchant of the session's user (`403` page when the user is no
/// merchant's).
pub async fn merchant_of(
    page: &MerchantPage,
    req: &HttpRequest,
) -> Result<(web::Data<AppState>, merchant::Model), PageError> {
    let state = state_of(req)?;
    let m = crate::merchants::service::merchant_of_user(&state.db, &page.user.user_id)
        .await
        .map_err(api(&page.ctx))?;
    Ok((state, m))
}

/// `303` to the dashboard's `location` with a flash message (post/redirect/get).
pub fn back_with(ctx: &PageCtx, location: &str, kind: &str, text: &str) -> HttpResponse {
    crate::pages::back_with(ctx, Some(location), "/merchant", kind, text)
}

/// `?mode=live|test` of the pages that show one mode at a time (live by default).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ModeQuery {
    #[serde(default)]
    pub mode: String,
}

impl ModeQuery {
    pub fn livemode(&self) -> bool {
        self.mode != "test"
    }
}

/// A hidden-field form: the CSRF token only.
#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub csrf_token: String,
    #[serde(default)]
    pub mode: String,
}

impl CsrfForm {
    pub fn livemode(&self) -> bool {
        self.mode != "test"
    }
}

/// The catalogue key of a mode's name.
pub fn mode_key(livemode: bool) -> &'static str {
    if livemode {
        "merchant.mode_live"
    } else {
        "merchant.mode_test"
    }
}
