//! JSON request bodies, and the answer to a create that may be a replay
//! ([`created`]). Two rules hold for every route that reads one:
//! - `Content-Type: application/json` (or a `+json` type), else `415
//!   unsupported_media_type`;
//! - the body is a JSON object, else `400 invalid_request` — serde would otherwise read
//!   an array field by field (`[null, null]` as a patch).
//!
//! Handlers take [`Json`] (which reads through `web::Json`, so its configured size limit
//! and error rendering apply); routes that read raw bytes (signed requests, optional
//! bodies) call [`parse_object`] or [`optional_json`].

use actix_web::dev::Payload;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use crate::error::{ApiError, ApiResult};

/// Request bodies above this are refused with `413` (API.md "Conventions").
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Whether the request declares a JSON body.
/// A route guard: the request carries an HTML form (`application/x-www-form-urlencoded`).
/// Paths that answer both a page's form and JSON (the cashier's) mount one route per
/// kind with it, so each layer owns its own handler.
pub struct FormBody;

impl actix_web::guard::Guard for FormBody {
    fn check(&self, ctx: &actix_web::guard::GuardContext<'_>) -> bool {
        ctx.head()
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"))
    }
}

pub fn declares_json(req: &HttpRequest) -> bool {
    req.headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|essence| essence.trim().to_ascii_lowercase())
        .is_some_and(|essence| essence == "application/json" || essence.ends_with("+json"))
}

/// A body that is not empty (whitespace counts as empty) must be declared JSON.
pub fn require_json(req: &HttpRequest, body: &[u8]) -> ApiResult<()> {
    if body.iter().all(u8::is_ascii_whitespace) || declares_json(req) {
        Ok(())
    } else {
        Err(ApiError::unsupported_media_type())
    }
}

fn not_an_object() -> ApiError {
    ApiError::invalid_request("The body must be a JSON object.")
}

fn malformed(err: serde_json::Error) -> ApiError {
    ApiError::invalid_request(format!("The JSON body is not valid: {err}."))
}

/// Parses a body that must be one JSON object. The first non-blank byte decides that
/// (a JSON text starting with `{` is an object), so the hot path parses once.
pub fn parse_object<T: DeserializeOwned>(body: &[u8]) -> ApiResult<T> {
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        // Not an object — or not JSON at all, which the parser says better.
        return match serde_json::from_slice::<serde::de::IgnoredAny>(body) {
            Ok(_) => Err(not_an_object()),
            Err(err) => Err(malformed(err)),
        };
    }
    // PostgreSQL text cannot hold NUL; refuse it here rather than fail a query.
    if body.windows(6).any(|w| w == b"\\u0000") {
        return Err(ApiError::invalid_request(
            "The body contains a NUL character (\\u0000), which no field accepts.",
        ));
    }
    serde_json::from_slice(body).map_err(malformed)
}

/// A JSON body that may be left out entirely, or sent as `null` (then `T::default()`,
/// e.g. `{}`).
pub fn optional_json<T: DeserializeOwned + Default>(
    req: &HttpRequest,
    body: &[u8],
) -> ApiResult<T> {
    if body.trim_ascii().is_empty() || body.trim_ascii() == b"null" {
        return Ok(T::default());
    }
    require_json(req, body)?;
    parse_object(body)
}

/// A handler argument: the request body, a JSON object read into `T`.
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T> Json<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for Json<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, actix_web::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let raw = web::Json::<Box<RawValue>>::from_request(req, payload);
        Box::pin(async move {
            let raw = raw.await?.into_inner();
            Ok(Json(parse_object(raw.get().as_bytes())?))
        })
    }
}

/// The answer to a create keyed by the client's own id (`merchant_order_id`,
/// `merchant_withdrawal_id`, a deposit's txid): `201` with the object, or — for a
/// replay of an earlier identical request — `200` with the same object and
/// `Idempotent-Replayed: true`.
pub fn created(replayed: bool, body: &impl serde::Serialize) -> actix_web::HttpResponse {
    if replayed {
        actix_web::HttpResponse::Ok()
            .insert_header(("Idempotent-Replayed", "true"))
            .json(body)
    } else {
        actix_web::HttpResponse::Created().json(body)
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use crate::error::ErrorCode;

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

    #[derive(Debug, serde::Deserialize)]
    struct Pair {
        #[allow(dead_code)]
        a: Option<u8>,
        #[allow(dead_code)]
        b: Option<u8>,
    }

    #[test]
    fn only_objects_are_bodies() {
        assert!(parse_object::<Pair>(br#" {"a": 1}"#).is_ok());
        for body in [&b"[null, null]"[..], b"[1, 2]", b"null", b"3", b"\"x\""] {
            let err = parse_object::<Pair>(body).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidRequest);
            assert_eq!(err.message, "The body must be a JSON object.");
        }
        let err = parse_object::<Pair>(br#"{"a": 1, "b": "\u0000"}"#).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidRequest);
        let err = parse_object::<Pair>(b"{nope").unwrap_err();
        assert!(err.message.starts_with("The JSON body is not valid"));
    }
}
