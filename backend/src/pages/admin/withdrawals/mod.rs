//! `/admin/withdrawals`: the review queue and the approved withdrawals waiting to be
//! paid out, live; approve, reject (with a reason), mark completed (with the
//! transaction id) or fail (with a reason), through `withdrawals::service` like the
//! JSON admin routes.

pub mod http;
pub mod model;
