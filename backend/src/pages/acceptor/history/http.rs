//! `GET /acceptor/history`: reads the filter, asks the acceptor service for a page of
//! orders and the earnings per day, renders.

use actix_web::{HttpRequest, HttpResponse, web};

use super::model::{EarningRow, HistoryPage, HistoryQuery, OrderRow};
use crate::acceptors::history::{self, HistoryFilter};
use crate::acceptors::model::OrderListQuery;
use crate::acceptors::service;
use crate::db::now_ms;
use crate::money::format_usdt;
use crate::pages::context::{state_of, urlencode};
use crate::pages::filters::{date_of, day_range};
use crate::pages::{AcceptorPage, PageError, render};

/// Orders per page.
pub const PAGE_SIZE: u64 = 20;
/// Days of earnings shown.
pub const EARNING_DAYS: i64 = 30;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/acceptor/history", web::get().to(show));
}

async fn show(
    AcceptorPage { ctx, user }: AcceptorPage,
    req: HttpRequest,
    query: web::Query<HistoryQuery>,
) -> Result<HttpResponse, PageError> {
    let query = query.into_inner();
    let state = state_of(&req)?;
    let api = |err| PageError::from_api(ctx.tr, err);
    let a = service::acceptor_of_user(&state.db, &user.user_id)
        .await
        .map_err(api)?;

    let mut errors = Vec::new();
    let status = OrderListQuery {
        status: Some(query.status.clone()).filter(|s| !s.is_empty()),
        ..Default::default()
    }
    .status()
    .unwrap_or_else(|_| {
        errors.push(("status", ctx.t("history.error_status").to_owned()));
        None
    });
    let (from_ms, until_ms) = day_range(
        &query.from,
        &query.to,
        ctx.t("history.error_date"),
        &mut errors,
    );
    let filter = HistoryFilter {
        status,
        from_ms,
        until_ms,
    };

    let page = history::history_page(
        &state.db,
        &a,
        &filter,
        query.starting_after.as_deref().filter(|c| !c.is_empty()),
        PAGE_SIZE,
    )
    .await
    .map_err(api)?;
    let next_href = match (page.has_more, page.data.last()) {
        (true, Some(last)) => {
            let filter_query = query.filter_query();
            let sep = if filter_query.is_empty() { "" } else { "&" };
            Some(format!(
                "/acceptor/history?{filter_query}{sep}starting_after={}",
                urlencode(&last.id)
            ))
        }
        _ => None,
    };

    let earnings = history::earnings_per_day(&state.db, &a, EARNING_DAYS, now_ms())
        .await
        .map_err(api)?;
    let total: i64 = earnings.iter().map(|d| d.commission).sum();

    let page = HistoryPage {
        ctx: ctx.clone(),
        orders: page.data.iter().map(OrderRow::from).collect(),
        next_href,
        errors,
        earnings: earnings
            .iter()
            .map(|d| EarningRow {
                date: date_of(d.day_start_ms),
                commission: format_usdt(d.commission),
            })
            .collect(),
        earnings_total: format_usdt(total),
        earnings_days: EARNING_DAYS,
        query,
    };
    render(&ctx, &page)
}
