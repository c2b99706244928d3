//! `GET /admin`: reads the counters through each feature's service and runs the ledger check
//! (the same as `GET /api/v1/admin/ledger/check`).

use actix_web::{HttpRequest, HttpResponse, web};

use super::model::{OverviewPage, StateCount};
use crate::db::now_ms;
use crate::pages::admin::{Chrome, db};
use crate::pages::context::state_of;
use crate::pages::{AdminPage, PageError, render, time_pair};
use crate::withdrawals::model::WithdrawalStatus;

/// Violations listed on the page (the JSON check has them all).
const SHOWN_VIOLATIONS: usize = 10;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin", web::get().to(show));
}

async fn show(page: AdminPage, req: HttpRequest) -> Result<HttpResponse, PageError> {
    let AdminPage { ctx, user } = page;
    let state = state_of(&req)?;
    let now = now_ms();
    let today = now - now.rem_euclid(86_400_000);
    let orders_today: Vec<StateCount> =
        crate::orders::service::count_by_status_since(&state.db, true, today)
            .await
            .map_err(db(&ctx))?
            .into_iter()
            .map(|(status, count)| StateCount { status, count })
            .collect();
    let open_disputes = crate::disputes::service::count_open(&state.db)
        .await
        .map_err(db(&ctx))?;
    let withdrawals_in_review =
        crate::withdrawals::service::count_with_status(&state.db, WithdrawalStatus::Review)
            .await
            .map_err(db(&ctx))?;
    let (webhooks_pending, webhooks_failed) = crate::webhooks::service::backlog(&state.db)
        .await
        .map_err(db(&ctx))?;
    let report = crate::ops::audit::check_and_report(&state)
        .await
        .map_err(db(&ctx))?;
    let page = OverviewPage {
        chrome: Chrome::of(&state, &user),
        orders_today_total: orders_today.iter().map(|s| s.count).sum(),
        orders_today,
        open_disputes,
        withdrawals_in_review,
        webhooks_pending,
        webhooks_failed,
        ledger_ok: report.ok,
        ledger_violations: report.violations.len(),
        violations: report
            .violations
            .iter()
            .take(SHOWN_VIOLATIONS)
            .map(|v| (v.kind.clone(), v.detail.clone()))
            .collect(),
        checked_at: time_pair(now),
        ctx: ctx.clone(),
    };
    render(&ctx, &page)
}
