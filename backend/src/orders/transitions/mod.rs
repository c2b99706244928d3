//! The order transitions, one file each, every one run by `transition::run`: each file
//! says only what is special about its change (which status, which fields, which ledger
//! transfers, which rows of its own, which engine commands after the commit).

mod cancel;
mod chain_payment;
mod confirm;
mod dispute;
mod expire;
mod mark_paid;
mod reject;
mod resolve;

pub use cancel::cancel;
pub use chain_payment::{ChainPayment, settle_on_chain};
pub use confirm::confirm;
pub use dispute::open_dispute;
pub use expire::expire;
pub use mark_paid::mark_paid;
pub use reject::{reject, requeue_unpaid_orders_of};
pub use resolve::{Resolution, resolve_dispute};

use super::side::AcceptorSide;
use super::store::{self, order};
use crate::error::{ApiError, ApiResult};
use crate::ids::OrderId;
use crate::orders::model::OrderStatus;
use crate::state::AppState;

/// The sandbox acceptor's part at its release deadline: the simulated customer pays and
/// the simulated acceptor confirms, through the same transitions as live orders.
pub async fn complete_sandbox_order(
    state: &AppState,
    order_id: &OrderId,
) -> ApiResult<order::Model> {
    let o = store::find(&state.db, order_id)
        .await?
        .ok_or_else(|| ApiError::not_found("order"))?;
    let acceptor = match (AcceptorSide::of(&o).confirms_by_itself(), &o.acceptor_id) {
        (true, Some(acceptor)) => acceptor.clone(),
        _ => {
            return Err(ApiError::invalid_state(
                "Only sandbox orders complete by themselves.",
            ));
        }
    };
    if o.status == OrderStatus::Assigned {
        mark_paid(state, &o.cashier_token, Some("Sandbox Customer".to_owned())).await?;
    }
    confirm(state, &acceptor, order_id).await
}
