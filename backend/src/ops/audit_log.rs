//! `GET /api/v1/admin/audit-log`.

use actix_web::{HttpResponse, web};
use serde::Serialize;

use crate::audit::{self, entry};
use crate::auth::AdminUser;
use crate::db::rfc3339;
use crate::error::ApiResult;
use crate::pagination::{Page, PageQuery};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/admin/audit-log", web::get().to(list));
}

/// One audited action.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = AuditEntry)]
pub struct AuditView {
    id: String,
    #[schema(required = true)]
    actor_id: Option<String>,
    /// `admin`, `acceptor`, `system`, …
    actor_role: String,
    /// e.g. `merchant.create`, `acceptor.approve`, `withdrawal.approve`.
    action: String,
    target_type: String,
    #[schema(required = true)]
    target_id: Option<String>,
    /// Action-specific details (never secrets).
    #[schema(value_type = Object)]
    details: serde_json::Value,
    #[schema(required = true)]
    ip: Option<String>,
    #[schema(format = DateTime)]
    created_at: String,
}

crate::page_schema!(
    /// A page of the audit log.
    AuditEntryList,
    AuditView
);

impl From<entry::Model> for AuditView {
    fn from(m: entry::Model) -> Self {
        Self {
            details: serde_json::from_str(&m.details).unwrap_or(serde_json::Value::Null),
            id: m.id,
            actor_id: m.actor_id,
            actor_role: m.actor_role,
            action: m.action,
            target_type: m.target_type,
            target_id: m.target_id,
            ip: m.ip,
            created_at: rfc3339(m.created_at),
        }
    }
}

async fn list(
    _admin: AdminUser,
    state: web::Data<AppState>,
    query: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let limit = query.limit()?;
    let rows = audit::service::list(&state.db, query.starting_after.as_deref(), limit + 1).await?;
    Ok(HttpResponse::Ok().json(Page::from_rows(rows, limit).map(AuditView::from)))
}
