//! The desk's handlers.

use actix_web::web;

pub fn configure(_cfg: &mut web::ServiceConfig) {}
