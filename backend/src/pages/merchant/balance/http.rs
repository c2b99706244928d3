//! `GET /merchant/balance`: the balances of both modes (the ledger's, as
//! `GET /api/v1/balance` shows them) and a page of one mode's statement (the service of
//! `GET /api/v1/ledger/entries`), and the on-chain top-up section.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::model::{BalancePage, BalanceView, EntryRow};
use crate::chain::entity::OwnerKind;
use crate::error::ApiError;
use crate::ledger::{self, AccountKey};
use crate::money::format_usdt;
use crate::pages::context::urlencode;
use crate::pages::merchant::{api, merchant_of};
use crate::pages::top_up::top_up;
use crate::pages::{MerchantPage, PageError, render};

/// Statement lines per page.
pub const PAGE_SIZE: u64 = 25;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/merchant/balance", web::get().to(show));
}

#[derive(Debug, Default, Deserialize)]
struct BalanceQuery {
    #[serde(default)]
    mode: String,
    #[serde(default)]
    starting_after: Option<String>,
}

async fn show(
    page: MerchantPage,
    req: HttpRequest,
    query: web::Query<BalanceQuery>,
) -> Result<HttpResponse, PageError> {
    let (state, m) = merchant_of(&page, &req).await?;
    let ctx = page.ctx;
    let db_err = |e: sea_orm::DbErr| PageError::from_api(ctx.tr, ApiError::from(e));
    let view = |b: ledger::Balance| BalanceView {
        available: format_usdt(b.available),
        pending: format_usdt(b.pending_debits),
    };
    let live = ledger::balance(&state.db, &AccountKey::merchant(m.id.clone(), true))
        .await
        .map_err(db_err)?;
    let test = ledger::balance(&state.db, &AccountKey::merchant(m.id.clone(), false))
        .await
        .map_err(db_err)?;
    let livemode = query.mode != "test";
    let statement = crate::withdrawals::service::statement(
        &state.db,
        &AccountKey::merchant(m.id.clone(), livemode),
        query.starting_after.as_deref().filter(|c| !c.is_empty()),
        PAGE_SIZE,
    )
    .await
    .map_err(api(&ctx))?;
    let next_href = match (statement.has_more, statement.data.last()) {
        (true, Some(last)) => Some(format!(
            "/merchant/balance?{}starting_after={}",
            if livemode { "" } else { "mode=test&" },
            urlencode(&last.id)
        )),
        _ => None,
    };
    let top_up = top_up(&state, &ctx, OwnerKind::Merchant, m.id.as_str())
        .await
        .map_err(api(&ctx))?;
    let page = BalancePage {
        ctx: ctx.clone(),
        live: view(live),
        test: view(test),
        livemode,
        entries: statement.data.into_iter().map(EntryRow::from).collect(),
        next_href,
        top_up,
    };
    render(&ctx, &page)
}
