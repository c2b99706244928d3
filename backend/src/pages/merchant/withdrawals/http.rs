//! `GET /merchant/withdrawals` (the form and the list) and `POST /merchant/withdrawals`:
//! the same parsing and service as `POST /api/v1/withdrawals` (address, minimum, fee,
//! balance, automatic approval, idempotency on `merchant_withdrawal_id`), behind the
//! merchant user's second factor when it is on.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::Value;

use super::model::{WithdrawalForm, WithdrawalRow, WithdrawalsPage, network_options};
use crate::auth::second_factor::{self, Purpose};
use crate::error::{ApiError, ErrorCode};
use crate::ids::UserId;
use crate::ledger::{self, AccountKey};
use crate::merchants::merchant;
use crate::money::format_usdt;
use crate::pages::context::urlencode;
use crate::pages::merchant::{api, back_with, merchant_of};
use crate::pages::{MerchantPage, PageCtx, PageError, render};
use crate::state::AppState;
use crate::withdrawals::WithdrawalFilter;
use crate::withdrawals::model::CreateWithdrawalRequest;

/// Withdrawals per page.
pub const PAGE_SIZE: u64 = 20;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/merchant/withdrawals", web::get().to(show))
        .route("/merchant/withdrawals", web::post().to(request));
}

#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    #[serde(default)]
    mode: String,
    #[serde(default)]
    starting_after: Option<String>,
}

async fn page(
    state: &AppState,
    ctx: &PageCtx,
    m: &merchant::Model,
    user_id: &UserId,
    form: WithdrawalForm,
    starting_after: Option<String>,
) -> Result<WithdrawalsPage, PageError> {
    let db_err = |e: sea_orm::DbErr| PageError::from_api(ctx.tr, ApiError::from(e));
    let livemode = form.livemode();
    let balance = ledger::balance(&state.db, &AccountKey::merchant(m.id.clone(), livemode))
        .await
        .map_err(db_err)?;
    let filter = WithdrawalFilter {
        merchant: Some((m.id.clone(), livemode)),
        livemode: None,
        status: None,
        starting_after: starting_after.filter(|c| !c.is_empty()),
    };
    let mut rows = crate::withdrawals::service::list(&state.db, &filter, PAGE_SIZE + 1)
        .await
        .map_err(db_err)?;
    let has_more = rows.len() as u64 > PAGE_SIZE;
    rows.truncate(PAGE_SIZE as usize);
    let next_href = match (has_more, rows.last()) {
        (true, Some(last)) => Some(format!(
            "/merchant/withdrawals?{}starting_after={}",
            if livemode { "" } else { "mode=test&" },
            urlencode(&last.id)
        )),
        _ => None,
    };
    let totp = crate::auth::service::two_factor_on(&state.db, user_id)
        .await
        .map_err(db_err)?;
    Ok(WithdrawalsPage {
        ctx: ctx.clone(),
        livemode,
        available: format_usdt(balance.available),
        form,
        networks: network_options(),
        totp,
        errors: Vec::new(),
        rows: rows.iter().map(WithdrawalRow::from).collect(),
        next_href,
    })
}

/// A fresh form: a new `merchant_withdrawal_id` for this one request.
fn new_form(mode: &str) -> WithdrawalForm {
    WithdrawalForm {
        merchant_withdrawal_id: crate::ids::new("mwd"),
        mode: if mode == "test" {
            "test".to_owned()
        } else {
            String::new()
        },
        ..WithdrawalForm::default()
    }
}

async fn show(
    p: MerchantPage,
    req: HttpRequest,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, PageError> {
    let (state, m) = merchant_of(&p, &req).await?;
    let query = query.into_inner();
    let page = page(
        &state,
        &p.ctx,
        &m,
        &p.user.user_id,
        new_form(&query.mode),
        query.starting_after,
    )
    .await?;
    render(&p.ctx, &page)
}

/// The field a refusal belongs to, and its message in the page's language.
fn field_error(ctx: &PageCtx, err: &ApiError) -> Option<(&'static str, String)> {
    let own = err.message.to_string();
    match err.code {
        ErrorCode::InsufficientBalance => Some((
            "amount",
            ctx.t("merchant_withdrawals.insufficient").to_owned(),
        )),
        ErrorCode::TotpRequired => Some(("totp_code", ctx.t("desk.code_refused").to_owned())),
        ErrorCode::TooManyAttempts => Some(("totp_code", own)),
        ErrorCode::InvalidAddress => Some(("address", own)),
        ErrorCode::UnsupportedNetwork => Some(("network", own)),
        ErrorCode::InvalidAmount => Some(("amount", own)),
        ErrorCode::InvalidRequest => match err.param.as_deref() {
            Some("address") => Some(("address", own)),
            Some("amount") => Some(("amount", own)),
            Some("network") => Some(("network", own)),
            _ => Some(("amount", own)),
        },
        ErrorCode::DuplicateMerchantWithdrawalId => Some(("amount", own)),
        _ => None,
    }
}

async fn request(
    p: MerchantPage,
    req: HttpRequest,
    form: web::Form<WithdrawalForm>,
) -> Result<HttpResponse, PageError> {
    p.ctx.check_csrf(&form.csrf_token)?;
    let (state, m) = merchant_of(&p, &req).await?;
    let ctx = &p.ctx;
    let form = form.into_inner();
    let text = |v: &str| Some(Value::String(v.trim().to_owned()));
    let parsed = CreateWithdrawalRequest {
        merchant_withdrawal_id: text(&form.merchant_withdrawal_id),
        network: text(&form.network),
        address: text(&form.address),
        amount: text(&form.amount),
    }
    .parse();
    let outcome = match parsed {
        Err(err) => Err(err),
        Ok(params) => match second_factor_check(&state, &p.user.user_id, &form.totp_code).await {
            Err(err) => Err(err),
            Ok(()) => {
                crate::withdrawals::service::create(&state, &m, form.livemode(), params).await
            }
        },
    };
    match outcome {
        Ok(created) => {
            let w = &created.withdrawal;
            let text = ctx.fmt(
                "merchant_withdrawals.requested",
                &[("amount", &format_usdt(w.amount))],
            );
            let back = if w.livemode {
                "/merchant/withdrawals"
            } else {
                "/merchant/withdrawals?mode=test"
            };
            Ok(back_with(ctx, back, "success", &text))
        }
        Err(err) => {
            let Some(error) = field_error(ctx, &err) else {
                return Err(api(ctx)(err));
            };
            let status = if err.code == ErrorCode::TooManyAttempts {
                StatusCode::TOO_MANY_REQUESTS
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            let mut kept = form;
            kept.totp_code.clear();
            let mut page = page(&state, ctx, &m, &p.user.user_id, kept, None).await?;
            page.errors.push(error);
            let mut response = render(ctx, &page)?;
            *response.status_mut() = status;
            Ok(response)
        }
    }
}

/// The merchant user's second factor, when it is on (throttled; a code is accepted
/// once).
async fn second_factor_check(
    state: &AppState,
    user_id: &UserId,
    code: &str,
) -> Result<(), ApiError> {
    let user = crate::auth::service::find_by_id(&state.db, user_id)
        .await?
        .ok_or_else(ApiError::forbidden)?;
    second_factor::require(state, &user, Some(code), Purpose::Withdrawal).await?;
    Ok(())
}
