//! `GET /healthz` (the process answers), `GET /readyz` (database and, when configured,
//! Redis answer), `GET /metrics` (Prometheus text).

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::db;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::metrics::Metrics;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz))
        .route("/metrics", web::get().to(metrics));
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

async fn readyz(state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    db::ping(&state.db).await.map_err(|e| {
        tracing::warn!(error = %e, "readiness: database unreachable");
        ApiError::new(
            ErrorCode::ServiceUnavailable,
            "The database is not reachable.",
        )
    })?;
    let redis = if state.infra.uses_redis() {
        state.infra.ready().await.map_err(|e| {
            tracing::warn!(error = %e, "readiness: redis unreachable");
            ApiError::new(ErrorCode::ServiceUnavailable, "Redis is not reachable.")
        })?;
        "ok"
    } else {
        "not_configured"
    };
    Ok(HttpResponse::Ok().json(json!({"status": "ok", "database": "ok", "redis": redis})))
}

async fn metrics(metrics: web::Data<Metrics>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(crate::metrics::CONTENT_TYPE)
        .body(metrics.render())
}
