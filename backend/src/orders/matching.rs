//! The engine's decisions made durable: an assignment of a waiting order (decided when
//! some other command freed liquidity or an acceptor came online) is written in a
//! transaction of its own and announced; one the database refuses is undone in the
//! engine. Registered at start as the server's engine decision handler
//! (`AppState::engine_decisions`), so the engine never calls into the orders feature.

use futures_util::future::BoxFuture;
use matching_engine::{Command, Event};
use sea_orm::{DatabaseTransaction, TransactionTrait};

use super::announce::{announce, event_view};
use super::side::AcceptorSide;
use super::store::order;
use super::transition::{Scope, lock_order, save};
use super::writer::EngineAssignment;
use super::writer::assignment::{assigned_fields, assignment_rows, mail_new_orders};
use crate::acceptor_directory;
use crate::db::now_ms;
use crate::error::ApiResult;
use crate::ids::{AcceptorId, OrderId};
use crate::ledger::{self, AccountKey};
use crate::money::Rate;
use crate::state::AppState;
use crate::webhooks;

/// The engine decision handler (see `state::EngineDecisions`).
pub fn persist_decisions(state: &AppState, events: Vec<Event>) -> BoxFuture<'_, ()> {
    Box::pin(handle_engine_events(state, events))
}

/// Persists what the engine decided: assignments of waiting orders. Called by whoever
/// sent the command, after its own commit.
pub async fn handle_engine_events(state: &AppState, events: Vec<Event>) {
    for event in events {
        if let Event::Assigned {
            order,
            acceptor,
            rate,
            fiat_amount,
        } = event
        {
            // The engine holds our ids as text; one that does not read back is a bug.
            let (Some(order), Some(acceptor)) =
                (OrderId::parse(&order), AcceptorId::parse(&acceptor))
            else {
                tracing::error!(%order, %acceptor, "the engine assigned an id that is not ours");
                continue;
            };
            let assignment = EngineAssignment {
                acceptor,
                rate: Rate::from_decimal(rate),
                fiat_amount,
            };
            if let Err(err) = persist_assignment(state, &order, &assignment).await {
                tracing::warn!(order = %order, error = %err, "assignment not persisted; undoing it in the engine");
                undo_assignment(state, &order).await;
            }
        }
    }
}

async fn undo_assignment(state: &AppState, order_id: &OrderId) {
    let command = Command::OrderReleased {
        order: order_id.to_string(),
    };
    if let Err(err) = state.engine.apply(command).await {
        tracing::warn!(order = %order_id, error = %err, "engine undo refused");
    }
}

async fn persist_assignment(
    state: &AppState,
    order_id: &OrderId,
    assignment: &EngineAssignment,
) -> ApiResult<()> {
    let txn = state.db.begin().await?;
    let o = lock_order(&txn, order_id, Scope::System).await?;
    let updated = apply_assignment(&txn, state, o, assignment, now_ms()).await?;
    txn.commit().await?;
    announce(state, &updated, "order.assigned").await;
    Ok(())
}

/// Fills a waiting order's assignment fields and writes them with the `order.assigned`
/// history row, webhook and mail, then the reservation (last, see `Reservation`).
async fn apply_assignment(
    txn: &DatabaseTransaction,
    state: &AppState,
    o: order::Model,
    assignment: &EngineAssignment,
    now: i64,
) -> ApiResult<order::Model> {
    let side = AcceptorSide::of(&o);
    let acceptor_ids = vec![assignment.acceptor.clone()];
    let methods = if side.has_payment_methods() {
        acceptor_directory::payment_methods_of_acceptors(txn, &acceptor_ids).await?
    } else {
        Vec::new()
    };
    let (active, reservation) = assigned_fields(o, assignment, &methods, now)?;
    let assigned = save(txn, active).await?;
    let (history, webhook) = assignment_rows(&assigned, event_view(&assigned, &state.public_url)?);
    sea_orm::ActiveModelTrait::insert(history, txn).await?;
    webhooks::service::enqueue_all(txn, vec![webhook]).await?;
    if side.mails_new_orders() {
        mail_new_orders(
            txn,
            &state.public_url,
            &acceptor_ids,
            std::iter::once(&assigned),
        )
        .await?;
    }
    reservation.apply(txn, now).await?;
    Ok(assigned)
}

/// Sets the engine's idea of an acceptor's liquidity back to the ledger's, after the
/// ledger refused a reservation the engine believed possible.
pub async fn resync_acceptor_liquidity(state: &AppState, acceptor_id: &str) {
    let account = AccountKey::acceptor(acceptor_id.to_owned(), true);
    match ledger::balance(&state.db, &account).await {
        Ok(balance) => {
            let command = Command::SetLiquidity {
                acceptor: acceptor_id.to_owned(),
                liquidity: balance.posted,
            };
            state.notify_engine(command).await;
        }
        Err(err) => {
            tracing::warn!(acceptor = %acceptor_id, error = %err, "liquidity resync failed")
        }
    }
}
