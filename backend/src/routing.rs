//! The answer to a request no route took: `405 method_not_allowed` with an `Allow`
//! header when the path exists for other methods, else `404 not_found`.
//!
//! The known (method, path) pairs come from the OpenAPI document, which lists every
//! mounted route (a test compares the two both ways), so there is no second route table
//! to keep in step; the App holds them as [`KnownRoutes`]. It is the App's default
//! service and every `web::resource`'s.

use actix_web::http::header::{ALLOW, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};

use crate::error::{ApiError, ApiResult, ErrorCode};

/// The documented routes: each path template split into segments (`{…}` matches any
/// one segment) with its methods. Built at start from the OpenAPI document
/// (`openapi::routes`) and given to the App as data, so this module depends on no
/// feature.
#[derive(Debug, Default)]
pub struct KnownRoutes {
    paths: Vec<KnownPath>,
}

#[derive(Debug)]
struct KnownPath {
    segments: Vec<String>,
    methods: Vec<String>,
}

impl KnownRoutes {
    /// `(template, methods)` pairs, e.g. `("/api/v1/orders/{id}", ["GET"])`.
    pub fn new(routes: impl IntoIterator<Item = (String, Vec<String>)>) -> Self {
        let paths = routes
            .into_iter()
            .map(|(template, methods)| KnownPath {
                segments: template.split('/').map(str::to_owned).collect(),
                methods: methods.iter().map(|m| m.to_ascii_uppercase()).collect(),
            })
            .collect();
        Self { paths }
    }

    /// The methods a path is served for, sorted; empty for an unknown path.
    pub fn allowed_methods(&self, path: &str) -> Vec<String> {
        let mut methods: Vec<String> = self
            .paths
            .iter()
            .filter(|known| template_matches(&known.segments, path))
            .flat_map(|known| known.methods.iter().cloned())
            .collect();
        methods.sort();
        methods.dedup();
        methods
    }
}

fn template_matches(segments: &[String], path: &str) -> bool {
    let parts: Vec<&str> = path.split('/').collect();
    parts.len() == segments.len()
        && segments
            .iter()
            .zip(&parts)
            .all(|(s, p)| (s.starts_with('{') && !p.is_empty()) || s == p)
}

pub async fn unrouted(req: HttpRequest) -> ApiResult<HttpResponse> {
    let methods = req
        .app_data::<web::Data<KnownRoutes>>()
        .map(|known| known.allowed_methods(req.path()))
        .unwrap_or_default();
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
        let known = KnownRoutes::new([
            (
                "/api/v1/orders".to_owned(),
                vec!["post".to_owned(), "get".to_owned()],
            ),
            (
                "/api/v1/orders/{id}/cancel".to_owned(),
                vec!["post".to_owned()],
            ),
            (
                "/api/v1/acceptor/quotes/{fiat}".to_owned(),
                vec!["put".to_owned(), "delete".to_owned()],
            ),
        ]);
        assert_eq!(known.allowed_methods("/api/v1/orders"), ["GET", "POST"]);
        assert_eq!(
            known.allowed_methods("/api/v1/orders/ord_x/cancel"),
            ["POST"]
        );
        assert_eq!(
            known.allowed_methods("/api/v1/acceptor/quotes/CNY"),
            ["DELETE", "PUT"]
        );
        assert!(known.allowed_methods("/api/v1/nothing").is_empty());
        assert!(known.allowed_methods("/api/v1/orders//cancel").is_empty());
    }
}
