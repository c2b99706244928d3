//! The matching engine's view of acceptors, updated after each commit. Each update
//! re-reads the committed row, so the last command the engine gets reflects the
//! database's latest state whatever the order of concurrent changes.

use matching_engine::Command;

use super::entity::acceptor;
use super::store;
use crate::ids::AcceptorId;
use crate::money::{FiatCurrency, Rate};
use crate::orders;
use crate::state::AppState;

/// Registers a new acceptor with the engine (offline, with its status and limit).
pub fn register_commands(acceptor: &acceptor::Model) -> Vec<Command> {
    vec![
        Command::RegisterAcceptor {
            acceptor: acceptor.id.to_string(),
        },
        Command::SetStatus {
            acceptor: acceptor.id.to_string(),
            status: acceptor.status.in_engine(),
        },
        Command::SetMaxConcurrentOrders {
            acceptor: acceptor.id.to_string(),
            max: u32::try_from(acceptor.max_concurrent_orders).unwrap_or(0),
        },
    ]
}

async fn reread(state: &AppState, acceptor_id: &AcceptorId) -> Option<acceptor::Model> {
    match store::find_acceptor(&state.db, acceptor_id).await {
        Ok(found) => found,
        Err(err) => {
            tracing::warn!(acceptor = %acceptor_id, error = %err, "engine update skipped: acceptor not readable");
            None
        }
    }
}

pub(super) async fn sync_status(state: &AppState, acceptor_id: &AcceptorId) {
    if let Some(a) = reread(state, acceptor_id).await {
        state
            .notify_engine(Command::SetStatus {
                acceptor: a.id.to_string(),
                status: a.status.in_engine(),
            })
            .await;
    }
}

pub(super) async fn sync_presence(state: &AppState, acceptor_id: &AcceptorId) {
    if let Some(a) = reread(state, acceptor_id).await {
        state
            .notify_engine(Command::SetPresence {
                acceptor: a.id.to_string(),
                online: a.online,
            })
            .await;
    }
}

pub(super) async fn sync_max_concurrent_orders(state: &AppState, acceptor_id: &AcceptorId) {
    if let Some(a) = reread(state, acceptor_id).await {
        state
            .notify_engine(Command::SetMaxConcurrentOrders {
                acceptor: a.id.to_string(),
                max: u32::try_from(a.max_concurrent_orders).unwrap_or(0),
            })
            .await;
    }
}

pub(super) async fn sync_quote(state: &AppState, acceptor_id: &AcceptorId, fiat: FiatCurrency) {
    let command = match store::find_quote(&state.db, acceptor_id, fiat.code).await {
        Ok(Some(q)) => match Rate::parse(&q.rate) {
            Ok(rate) => Command::SetQuote {
                acceptor: acceptor_id.to_string(),
                fiat: q.fiat,
                quote: matching_engine::Quote {
                    rate: rate.decimal(),
                    min_amount: q.min_amount,
                    max_amount: q.max_amount,
                },
            },
            Err(err) => {
                tracing::warn!(acceptor = %acceptor_id, fiat = %fiat.code, error = %err, "stored rate unparseable");
                return;
            }
        },
        Ok(None) => Command::RemoveQuote {
            acceptor: acceptor_id.to_string(),
            fiat: fiat.code.to_owned(),
        },
        Err(err) => {
            tracing::warn!(acceptor = %acceptor_id, error = %err, "engine update skipped: quote not readable");
            return;
        }
    };
    state.notify_engine(command).await;
}

pub(super) async fn sync_payment_methods(state: &AppState, acceptor_id: &AcceptorId, fiat: &str) {
    match store::methods_for_fiat(&state.db, acceptor_id, fiat).await {
        Ok(methods) => {
            state
                .notify_engine(Command::SetPaymentMethods {
                    acceptor: acceptor_id.to_string(),
                    fiat: fiat.to_owned(),
                    methods,
                })
                .await;
        }
        Err(err) => {
            tracing::warn!(acceptor = %acceptor_id, error = %err, "engine update skipped: payment methods not readable");
        }
    }
}

/// Hands assigned-but-unpaid orders to other acceptors. The status change that calls
/// it is committed already, so a failure is logged, not returned.
pub(super) async fn requeue_unpaid(state: &AppState, acceptor_id: &AcceptorId) {
    match orders::service::requeue_unpaid_orders_of(state, acceptor_id).await {
        Ok(0) => {}
        Ok(moved) => tracing::info!(acceptor = %acceptor_id, moved, "requeued unpaid orders"),
        Err(err) => {
            tracing::warn!(acceptor = %acceptor_id, error = %err, "unpaid orders not requeued")
        }
    }
}
