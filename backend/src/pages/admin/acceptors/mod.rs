//! `/admin/acceptors` (the list, with approve / freeze / unfreeze per row) and
//! `/admin/acceptors/{id}` (details, balance, stats, orders, commission rate and
//! concurrency limit, and the deposit form), through `acceptors::service`.

pub mod http;
pub mod model;
