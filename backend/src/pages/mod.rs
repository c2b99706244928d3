//! The server-rendered pages: one folder per audience (`account/` for everyone,
//! `cashier/` for the paying customer, `acceptor/` for the desk, `admin/` for the
//! console, `merchant/` for the dashboard, `security/` the two-factor page of every
//! role), each with the inner
//! shape of the features — `http.rs` (parse, authorise, call the feature's service,
//! render) and `model.rs` (the askama templates' data). Pages hold no business rule:
//! every change goes through the same service as the JSON API.
//!
//! Templates are in `web/templates` (askama, auto-escaped), styles and scripts in
//! `web/static` (served by `assets`), texts in `web/i18n` (`i18n`).

pub mod acceptor;
pub mod account;
pub mod admin;
pub mod cashier;
pub mod context;
pub mod error;
mod error_page;
pub mod filters;
pub mod merchant;
pub mod security;
pub mod top_up;

use actix_web::http::header::LOCATION;
use actix_web::{HttpResponse, web};
use askama::Template;

pub use context::{AcceptorPage, AdminPage, MerchantPage, Page, PageCtx};
pub use error::PageError;

pub fn configure(cfg: &mut web::ServiceConfig) {
    account::http::configure(cfg);
    acceptor::configure(cfg);
    admin::configure(cfg);
    cashier::http::configure(cfg);
    merchant::configure(cfg);
    security::http::configure(cfg);
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

/// A time as pages show it without JavaScript: `2026-12-07 10:15 UTC` (with
/// JavaScript, `<time>` elements count down or show local time).
pub fn human_time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

/// [`human_time`] of an RFC 3339 text.
pub fn human_time_of(rfc3339: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| human_time(t.timestamp_millis()))
        .unwrap_or_else(|_| rfc3339.to_owned())
}

/// A long hash cut for narrow columns: its first `head` and last `tail` characters
/// around an ellipsis (`0x1234…cdef`); shown whole when that would not be shorter.
pub fn shortened(text: &str, head: usize, tail: usize) -> String {
    let len = text.len();
    match (
        text.get(..head),
        len.checked_sub(tail).and_then(|t| text.get(t..)),
    ) {
        (Some(start), Some(end)) if len > head + tail + 4 => format!("{start}…{end}"),
        _ => text.to_owned(),
    }
}

/// `(RFC 3339, human text)` of a time, for `<time datetime="…">text</time>`.
pub fn time_pair(ms: i64) -> (String, String) {
    (crate::db::rfc3339(ms), human_time(ms))
}

/// `303 See Other` to `location` (post/redirect/get).
pub fn redirect(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((LOCATION, location.to_owned()))
        .finish()
}

/// `303` to `back` (a local path, else `fallback`) with a flash message: the end of
/// every form post (post/redirect/get).
pub fn back_with(
    ctx: &PageCtx,
    back: Option<&str>,
    fallback: &str,
    kind: &str,
    text: &str,
) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((LOCATION, local_path(back, fallback)))
        .cookie(context::flash_cookie(kind, text, ctx.secure))
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

    #[test]
    fn long_hashes_are_shortened_and_short_ones_kept_whole() {
        let txid = "0x95d66b34f7d65fd612f2b19f5e45e6fa1ef6f0351401c31c158ebffbc6daf186";
        assert_eq!(shortened(txid, 6, 4), "0x95d6…f186");
        assert_eq!(shortened(txid, 10, 6), "0x95d66b34…daf186");
        // Not shorter with the ellipsis: shown whole.
        assert_eq!(shortened("0x1234567890ab", 6, 4), "0x1234567890ab");
        assert_eq!(shortened("tx-1", 6, 4), "tx-1");
    }
}
