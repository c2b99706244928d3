//! `GET /api/v1/admin/audit-log`.

use actix_web::{HttpResponse, web};
use serde::Serialize;

use super::store;
use crate::auth::AdminUser;
use crate::db::rfc3339;
use crate::error::ApiResult;
use crate::pagination::{Page, PageQuery};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/admin/audit-log", web::get().to(list));
}

#[derive(Serialize)]
struct AuditView {
    id: String,
    actor_id: Option<String>,
    actor_role: String,
    action: String,
    target_type: String,
    target_id: Option<String>,
    details: serde_json::Value,
    ip: Option<String>,
    created_at: String,
}

impl From<store::Model> for AuditView {
    fn from(m: store::Model) -> Self {
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
    let rows = store::list(&state.db, query.starting_after.as_deref(), limit + 1).await?;
    Ok(HttpResponse::Ok().json(Page::from_rows(rows, limit).map(AuditView::from)))
}
