//! The static files of `web/static`, embedded in the binary: `GET /static/{name}`.
//! Pages load their stylesheets and scripts from here, so that their
//! Content-Security-Policy can forbid inline script.

use actix_web::{HttpResponse, web};

use crate::error::{ApiError, ApiResult};

/// (name, content type, contents).
const FILES: &[(&str, &str, &str)] = &[
    (
        "app.css",
        "text/css; charset=utf-8",
        include_str!("../../web/static/app.css"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("../../web/static/app.js"),
    ),
    (
        "docs.css",
        "text/css; charset=utf-8",
        include_str!("../../web/static/docs.css"),
    ),
    (
        "docs.js",
        "text/javascript; charset=utf-8",
        include_str!("../../web/static/docs.js"),
    ),
    (
        "desk.js",
        "text/javascript; charset=utf-8",
        include_str!("../../web/static/desk.js"),
    ),
    (
        "dashboard.js",
        "text/javascript; charset=utf-8",
        include_str!("../../web/static/dashboard.js"),
    ),
    (
        "console.js",
        "text/javascript; charset=utf-8",
        include_str!("../../web/static/console.js"),
    ),
    (
        "cashier.js",
        "text/javascript; charset=utf-8",
        include_str!("../../web/static/cashier.js"),
    ),
];

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/static/{name}", web::get().to(asset));
}

async fn asset(name: web::Path<String>) -> ApiResult<HttpResponse> {
    let (_, content_type, body) = FILES
        .iter()
        .find(|(file, _, _)| *file == name.as_str())
        .ok_or_else(|| ApiError::not_found("file"))?;
    Ok(HttpResponse::Ok()
        .content_type(*content_type)
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(*body))
}
