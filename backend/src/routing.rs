//! The answer to a request no route took: `405 method_not_allowed` with an `Allow`
//! header when the path exists for other methods, else `404 not_found`.
//!
//! The known (method, path) pairs come from the OpenAPI document, which lists every
//! mounted route (a test compares the two both ways), so there is no second route table
//! to keep in step. It is the App's default service and every `web::resource`'s.

use std::sync::OnceLock;

use actix_web::http::header::{ALLOW, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};

use crate::error::{ApiError, ApiResult, ErrorCode};

/// A documented path template split into segments (`{…}` matches any one segment) and
/// its methods.
struct KnownPath {
    segments: Vec<String>,
    methods: Vec<String>,
}

fn known_paths() -> &'static [KnownPath] {
    static PATHS: OnceLock<Vec<KnownPath>> = OnceLock::new();
    PATHS.get_or_init(|| {
        let Ok(document) = crate::openapi::document() else {
            return Vec::new();
        };
        document
            .paths
            .paths
            .iter()
            .map(|(template, item)| {
                let methods = serde_json::to_value(item)
                    .ok()
                    .and_then(|v| v.as_object().cloned())
                    .map(|ops| {
                        ops.keys()
                            .filter(|k| {
                                matches!(
                                    k.as_str(),
                                    "get"
                                        | "post"
                                        | "put"
                                        | "patch"
                                        | "delete"
                                        | "head"
                                        | "options"
                                )
                            })
                            .map(|k| k.to_ascii_uppercase())
                            .collect()
                    })
                    .unwrap_or_default();
                KnownPath {
                    segments: template.split('/').map(str::to_owned).collect(),
                    methods,
                }
            })
            .collect()
    })
}

fn template_matches(segments: &[String], path: &str) -> bool {
    let parts: Vec<&str> = path.split('/').collect();
    parts.len() == segments.len()
        && segments
            .iter()
            .zip(&parts)
            .all(|(s, p)| (s.starts_with('{') && !p.is_empty()) || s == p)
}

/// The methods a path is served for, sorted; empty for an unknown path.
pub fn allowed_methods(path: &str) -> Vec<String> {
    let mut methods: Vec<String> = known_paths()
        .iter()
        .filter(|known| template_matches(&known.segments, path))
        .flat_map(|known| known.methods.iter().cloned())
        .collect();
    methods.sort();
    methods.dedup();
    methods
}

pub async fn unrouted(req: HttpRequest) -> ApiResult<HttpResponse> {
    let methods = allowed_methods(req.path());
    if methods.is_empty() {
        return Err(ApiError::new(ErrorCode::NotFound, "No such endpoint."));
    }
    let allow = methods.join(", ");
    let error = ApiError::new(
        ErrorCode::MethodNotAllowed,
        format!(
            "This path does not support {}; it allows {allow}.",
            req.method()
        ),
    );
    Err(match HeaderValue::from_str(&allow) {
        Ok(value) => error.with_header(ALLOW, value),
        Err(_) => error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_paths_list_their_methods() {
        assert_eq!(allowed_methods("/api/v1/orders"), ["GET", "POST"]);
        assert_eq!(allowed_methods("/api/v1/orders/ord_x/cancel"), ["POST"]);
        assert_eq!(
            allowed_methods("/api/v1/acceptor/quotes/CNY"),
            ["DELETE", "PUT"]
        );
        assert!(allowed_methods("/api/v1/nothing").is_empty());
        assert!(allowed_methods("/api/v1/orders//cancel").is_empty());
    }
}
