//! Logging, request ids and per-request spans.
//!
//! Every request gets an id (the caller's `X-Request-Id` when it is sane, else a new
//! `req_…`), returned in `X-Request-Id`, carried by the request's tracing span so that
//! every log line of the request has it, and readable by the error renderer through a
//! task-local.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use tracing::Instrument;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::config::LogFormat;
use crate::ids;
use crate::metrics::Metrics;

pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request being served on this task, if any.
pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// Installs the global subscriber: human-readable by default, JSON lines with
/// `OTCPAY_LOG_FORMAT=json`; the filter comes from `RUST_LOG` (default `info`). Logs go
/// to stderr so that CLI commands can print results on stdout.
/// Calling it twice is harmless (the second call is ignored), which tests rely on.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn,actix_server=warn"));
    let registry = tracing_subscriber::registry().with(filter);
    let _ = match format {
        LogFormat::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(std::io::stderr)
                    .json()
                    .flatten_event(true)
                    .with_current_span(true)
                    .with_span_list(false),
            )
            .try_init(),
        LogFormat::Text => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(std::io::stderr)
                    .with_target(false),
            )
            .try_init(),
    };
}

/// TLS for outgoing HTTPS (webhooks) and PostgreSQL uses rustls with the `ring` provider;
/// it has to be installed once per process before the first TLS client is built.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

fn incoming_request_id(req: &ServiceRequest) -> Option<String> {
    let value = req.headers().get(&REQUEST_ID_HEADER)?.to_str().ok()?;
    let sane = !value.is_empty()
        && value.len() <= 64
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    sane.then(|| value.to_owned())
}

/// Paths whose segment after the prefix is a secret (the cashier token is the paying
/// customer's capability); logs name the route instead. Secrets in query strings never
/// reach the log: only the path is logged.
const SECRET_PATH_PREFIXES: &[&str] = &["/pay/"];

/// The request path as it may be logged: a secret segment becomes `{token}`.
pub fn loggable_path(path: &str) -> String {
    for prefix in SECRET_PATH_PREFIXES {
        if let Some(rest) = path.strip_prefix(prefix) {
            let tail = rest.find('/').map_or("", |at| &rest[at..]);
            return format!("{prefix}{{token}}{tail}");
        }
    }
    path.to_owned()
}

/// Middleware: request id, span, access log line and request metrics.
pub async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let request_id = incoming_request_id(&req).unwrap_or_else(ids::request_id);
    let method = req.method().clone();
    let path = loggable_path(req.path());
    let metrics = req.app_data::<actix_web::web::Data<Metrics>>().cloned();
    let span = tracing::info_span!("request", request_id = %request_id, %method, %path);
    let started = Instant::now();

    let result = REQUEST_ID
        .scope(request_id.clone(), next.call(req).instrument(span.clone()))
        .await;

    let elapsed = started.elapsed();
    match result {
        Ok(mut response) => {
            let status = response.status();
            if let Ok(value) = HeaderValue::from_str(&request_id) {
                response.headers_mut().insert(REQUEST_ID_HEADER, value);
            }
            let route = response
                .request()
                .match_pattern()
                .unwrap_or_else(|| "unmatched".to_owned());
            if let Some(metrics) = metrics {
                metrics.observe_request(method.as_str(), &route, status.as_u16(), elapsed);
            }
            span.in_scope(|| {
                tracing::info!(
                    status = status.as_u16(),
                    latency_ms = elapsed.as_secs_f64() * 1000.0,
                    "served"
                );
            });
            Ok(response)
        }
        Err(err) => {
            span.in_scope(|| tracing::warn!(error = %err, "request failed"));
            Err(err)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_path_segments_are_not_logged() {
        let token = "ab".repeat(24);
        assert_eq!(loggable_path(&format!("/pay/{token}")), "/pay/{token}");
        assert_eq!(
            loggable_path(&format!("/pay/{token}/paid")),
            "/pay/{token}/paid"
        );
        assert_eq!(loggable_path("/pay/"), "/pay/{token}");
        assert_eq!(loggable_path("/api/v1/orders"), "/api/v1/orders");
    }
}
