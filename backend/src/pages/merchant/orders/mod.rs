//! `/merchant` (orders: search, filters, paging, live updates), `/merchant/orders.csv`
//! (the streamed export), `/merchant/events` (the live stream) and
//! `/merchant/orders/{id}`.

pub mod csv;
pub mod http;
pub mod model;
