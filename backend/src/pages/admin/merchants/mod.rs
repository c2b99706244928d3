//! `/admin/merchants` (list and create; the new keys and webhook secret are shown once,
//! on the answer to the creation itself) and `/admin/merchants/{id}` (fee rate, rate
//! limit, automatic approval threshold, suspend / reactivate, keys with revoke),
//! through `merchants::service`.

pub mod http;
pub mod model;
