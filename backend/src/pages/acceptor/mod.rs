//! The acceptor portal: the desk (`/acceptor`, live assigned orders and their actions),
//! one order (`/acceptor/orders/{id}`), quotes and payment methods, history and
//! earnings, on-chain top-ups. Its security page (two-factor authentication) is the shared
//! `pages::security`.

pub mod desk;
pub mod history;
pub mod quotes;
pub mod top_up;

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    desk::http::configure(cfg);
    quotes::http::configure(cfg);
    history::http::configure(cfg);
    top_up::http::configure(cfg);
}
