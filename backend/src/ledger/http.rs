//! `GET /api/v1/admin/ledger/check`: runs the invariant check and reports it; also sets
//! the `ledger_check_ok` gauge (1 or 0).

use actix_web::{HttpResponse, web};

use super::check::check_and_report;
use crate::auth::AdminUser;
use crate::error::ApiResult;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/admin/ledger/check", web::get().to(check));
}

async fn check(_admin: AdminUser, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let report = check_and_report(&state).await?;
    Ok(HttpResponse::Ok().json(report))
}
