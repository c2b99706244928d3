//! JSON request bodies: every route that reads one asks for `Content-Type:
//! application/json` (or a `+json` type) and answers `415 unsupported_media_type`
//! otherwise. Routes that take `web::Json` get it from the extractor's configuration
//! (`error::json_error_handler`); routes that read raw bytes (signed requests, optional
//! bodies) call [`require_json`].

use actix_web::HttpRequest;
use actix_web::http::header::CONTENT_TYPE;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, ApiResult, ErrorCode};

/// Whether the request declares a JSON body.
pub fn declares_json(req: &HttpRequest) -> bool {
    req.headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|essence| essence.trim().to_ascii_lowercase())
        .is_some_and(|essence| essence == "application/json" || essence.ends_with("+json"))
}

pub fn unsupported_media_type() -> ApiError {
    ApiError::new(
        ErrorCode::UnsupportedMediaType,
        "Send the body as application/json (Content-Type: application/json).",
    )
}

/// A body that is not empty (whitespace counts as empty) must be declared JSON.
pub fn require_json(req: &HttpRequest, body: &[u8]) -> ApiResult<()> {
    if body.iter().all(u8::is_ascii_whitespace) || declares_json(req) {
        Ok(())
    } else {
        Err(unsupported_media_type())
    }
}

/// A JSON body that may be left out entirely (then `T::default()`, e.g. `{}`).
pub fn optional_json<T: DeserializeOwned + Default>(
    req: &HttpRequest,
    body: &[u8],
) -> ApiResult<T> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    require_json(req, body)?;
    serde_json::from_slice(body)
        .map_err(|e| ApiError::invalid_request(format!("The JSON body is not valid: {e}.")))
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    #[test]
    fn json_types_pass_and_others_are_refused_when_there_is_a_body() {
        let with = |ct: &str| {
            TestRequest::default()
                .insert_header((CONTENT_TYPE, ct))
                .to_http_request()
        };
        assert!(declares_json(&with("application/json")));
        assert!(declares_json(&with("Application/JSON; charset=utf-8")));
        assert!(declares_json(&with("application/merge-patch+json")));
        assert!(!declares_json(&with("text/plain")));
        assert!(!declares_json(&with("application/x-www-form-urlencoded")));
        let none = TestRequest::default().to_http_request();
        assert!(require_json(&none, b"").is_ok());
        assert!(require_json(&none, b"  \n").is_ok());
        assert_eq!(
            require_json(&none, b"{}").unwrap_err().code,
            ErrorCode::UnsupportedMediaType
        );
        assert!(require_json(&with("text/plain"), b"{}").is_err());
    }
}
