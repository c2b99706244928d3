//! `GET /api/v1/admin/ledger/check`: runs the invariant check and reports it; also sets
//! the `ledger_check_ok` gauge (1 or 0).

use actix_web::{HttpResponse, web};

use super::service;
use crate::auth::AdminUser;
use crate::error::ApiResult;
use crate::state::AppState;

pub const CHECK_GAUGE: &str = "ledger_check_ok";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/admin/ledger/check", web::get().to(check));
}

async fn check(_admin: AdminUser, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let report = service::audit(&state.db).await?;
    state.metrics.describe(
        CHECK_GAUGE,
        "1 when the last ledger invariant check found no violation, else 0.",
    );
    state
        .metrics
        .set_gauge(CHECK_GAUGE, &[], if report.ok { 1.0 } else { 0.0 });
    if !report.ok {
        tracing::error!(violations = report.violations.len(), "ledger check failed");
    }
    Ok(HttpResponse::Ok().json(report))
}
