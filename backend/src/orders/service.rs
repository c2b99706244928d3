//! The orders feature's use cases, as other features and the HTTP handlers call them.
//! This file only names them: creation is `create.rs`, every later change of state is a
//! transition (`transitions/`, run by `transition.rs`), the order's money is
//! `settlement.rs`, and what a change tells the outside is `announce.rs`.

pub use super::announce::{merchant_topic, state_event};
pub use super::create::{Created, create};
pub use super::deadlines::due_transition;
pub use super::settlement::{check_credited_once, escrow_of};
pub use super::transition::Scope;
pub use super::transitions::{
    ChainPayment, Resolution, cancel, complete_sandbox_order, confirm, expire, mark_paid,
    open_dispute, reject, requeue_unpaid_orders_of, resolve_dispute, settle_on_chain,
};

// Reads other features and the pages may use; the queries stay in `store.rs`.
pub use super::store::{
    active_onchain, count_by_status_since, events_of, find, find_by_acceptor,
    find_by_cashier_token, find_many, find_of_merchant, search_by_merchant,
};
