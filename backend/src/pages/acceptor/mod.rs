//! The acceptor portal: the desk (`/acceptor`, live assigned orders and their actions),
//! one order (`/acceptor/orders/{id}`), quotes and payment methods, history and
//! earnings, and security (two-factor authentication).

pub mod desk;
pub mod history;
pub mod quotes;
pub mod security;

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    desk::http::configure(cfg);
    quotes::http::configure(cfg);
    history::http::configure(cfg);
    security::http::configure(cfg);
}
