//! `/admin`: the overview — today's orders by state, the queues (open disputes,
//! withdrawals in review, the webhook backlog) and the ledger check, each linking to
//! where it is dealt with.

pub mod http;
pub mod model;
