//! `/admin/disputes` (the open disputes, live) and `/admin/disputes/{id}` (the order,
//! both parties, the payer, the order's history, the message thread, and the
//! resolution: release — all or part — or cancel, each confirmed first: a dialog with
//! JavaScript, a confirmation page without), through `disputes::service`.

pub mod http;
pub mod model;
