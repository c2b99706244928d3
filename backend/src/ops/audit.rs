//! The money audit: the ledger's own invariants ([`crate::ledger::check`]) plus the
//! features' (orders credited exactly once, withdrawals holding and paying what their
//! status says), served by `GET /api/v1/admin/ledger/check`, the console's overview and
//! `otcpay check-ledger`. It lives here, above the features, so the ledger knows none.

use actix_web::{HttpResponse, web};
use sea_orm::{DatabaseConnection, DbErr};

use crate::auth::AdminUser;
use crate::error::ApiResult;
use crate::ledger::{self, LedgerReport};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/admin/ledger/check", web::get().to(check));
}

async fn check(_admin: AdminUser, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let report = check_and_report(&state).await?;
    Ok(HttpResponse::Ok().json(report))
}

/// The full audit served by `GET /api/v1/admin/ledger/check` and `otcpay check-ledger`:
/// the ledger's own invariants ([`check`]) plus feature-level ones.
pub async fn audit(db: &DatabaseConnection) -> Result<LedgerReport, DbErr> {
    let mut report = ledger::check(db).await?;
    // Feature-level invariants: every completed order is credited exactly once.
    report.add_violations(crate::orders::service::check_credited_once(db).await?);
    // Every withdrawal holds, pays out or returns exactly what its status says.
    report.add_violations(crate::withdrawals::service::check_withdrawals(db).await?);
    Ok(report)
}

/// [`audit`] as the admin's check runs it (the JSON route and the console's overview):
/// the report, with the `ledger_check_ok` gauge set (1 or 0) and a violation logged.
pub async fn check_and_report(state: &crate::state::AppState) -> Result<LedgerReport, DbErr> {
    let report = audit(&state.db).await?;
    state.metrics.ledger_checked(report.ok);
    if !report.ok {
        tracing::error!(violations = report.violations.len(), "ledger check failed");
    }
    Ok(report)
}
