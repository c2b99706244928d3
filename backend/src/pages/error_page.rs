//! The page of a [`PageError`]: the redirect to `/login`, or the 403, 404, 400 and 500
//! pages in the site's layout (the 500 one shows the request id to quote).

use actix_web::http::StatusCode;
use actix_web::http::header::LOCATION;
use actix_web::{HttpResponse, ResponseError};
use askama::Template;

use super::context::{PageCtx, urlencode};
use super::error::PageError;
use crate::telemetry::current_request_id;

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    ctx: PageCtx,
    status: u16,
    title: &'a str,
    message: String,
    request_id: Option<String>,
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Login { .. } => StatusCode::SEE_OTHER,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::BadRequest(..) => StatusCode::BAD_REQUEST,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let (tr, key, message) = match self {
            Self::Login { next } => {
                return HttpResponse::SeeOther()
                    .insert_header((LOCATION, format!("/login?next={}", urlencode(next))))
                    .finish();
            }
            Self::Forbidden(tr) => (
                *tr,
                "error.forbidden",
                tr.t("error.forbidden_text").to_owned(),
            ),
            Self::NotFound(tr) => (
                *tr,
                "error.not_found",
                tr.t("error.not_found_text").to_owned(),
            ),
            Self::BadRequest(tr, text) => (*tr, "error.bad_request", text.clone()),
            Self::Internal(tr) => (
                *tr,
                "error.internal",
                tr.t("error.internal_text").to_owned(),
            ),
        };
        let status = self.status_code();
        let page = ErrorPage {
            ctx: PageCtx::bare(tr),
            status: status.as_u16(),
            title: tr.t(key),
            message,
            request_id: current_request_id(),
        };
        match page.render() {
            Ok(body) => HttpResponse::build(status)
                .content_type("text/html; charset=utf-8")
                .insert_header(("Cache-Control", "no-store"))
                .body(body),
            Err(err) => {
                tracing::error!(error = %err, "error page did not render");
                HttpResponse::build(status).finish()
            }
        }
    }
}
