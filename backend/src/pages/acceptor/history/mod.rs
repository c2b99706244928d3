//! `/acceptor/history`: the acceptor's past orders, filtered by status and date, with
//! cursor paging, and the commission earned per day.

pub mod http;
pub mod model;
