//! `GET /healthz` (the process answers), `GET /readyz` (database and, when configured,
//! Redis answer), `GET /metrics` (Prometheus text).

use actix_web::{HttpResponse, web};
use serde::Serialize;

use crate::db;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::metrics::Metrics;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz))
        .route("/metrics", web::get().to(metrics));
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(example = json!({"status": "ok"}))]
pub struct Health {
    #[schema(value_type = String, example = "ok")]
    pub status: &'static str,
}

/// The process answers and its dependencies too.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(example = json!({"status": "ok", "database": "ok", "redis": "not_configured"}))]
pub struct Readiness {
    #[schema(value_type = String, example = "ok")]
    pub status: &'static str,
    #[schema(value_type = String, example = "ok")]
    pub database: &'static str,
    /// `ok`, or `not_configured` when the server runs without Redis.
    #[schema(value_type = String, example = "not_configured")]
    pub redis: &'static str,
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
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
    Ok(HttpResponse::Ok().json(Readiness {
        status: "ok",
        database: "ok",
        redis,
    }))
}

async fn metrics(metrics: web::Data<Metrics>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(crate::metrics::CONTENT_TYPE)
        .body(metrics.render())
}
