//! The server-rendered pages: one folder per audience (`account/` for everyone,
//! `cashier/` for the paying customer, `acceptor/` for the desk), each with the inner
//! shape of the features — `http.rs` (parse, authorise, call the feature's service,
//! render) and `model.rs` (the askama templates' data). Pages hold no business rule:
//! every change goes through the same service as the JSON API.
//!
//! Templates are in `web/templates` (askama, auto-escaped), styles and scripts in
//! `web/static` (served by `assets`), texts in `web/i18n` (`i18n`).

pub mod acceptor;
pub mod account;
pub mod cashier;
pub mod context;
pub mod error;

use actix_web::http::header::LOCATION;
use actix_web::{HttpResponse, web};
use askama::Template;

pub use context::{AcceptorPage, AdminPage, MerchantPage, Page, PageCtx};
pub use error::PageError;

pub fn configure(cfg: &mut web::ServiceConfig) {
    account::http::configure(cfg);
    acceptor::configure(cfg);
}

/// A rendered page with the cookies its context asks for; `no-store`, since pages show
/// private data.
pub fn render(ctx: &PageCtx, page: &impl Template) -> Result<HttpResponse, PageError> {
    let body = page.render().map_err(|err| {
        tracing::error!(error = %err, "page did not render");
        PageError::Internal(ctx.tr)
    })?;
    let mut response = HttpResponse::Ok();
    response
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"));
    for cookie in ctx.cookies() {
        response.cookie(cookie);
    }
    Ok(response.body(body))
}

/// `303 See Other` to `location` (post/redirect/get).
pub fn redirect(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((LOCATION, location.to_owned()))
        .finish()
}

/// A local path to go back to after a login or a language switch: only paths of this
/// site (`/…`, not `//host`), else the fallback.
pub fn local_path(next: Option<&str>, fallback: &str) -> String {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => {
            path.to_owned()
        }
        _ => fallback.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(
            local_path(Some("/acceptor/quotes"), "/"),
            "/acceptor/quotes"
        );
        assert_eq!(local_path(Some("//evil.example/x"), "/"), "/");
        assert_eq!(local_path(Some("https://evil.example"), "/"), "/");
        assert_eq!(local_path(Some("/\\evil.example"), "/"), "/");
        assert_eq!(local_path(None, "/login"), "/login");
    }
}
