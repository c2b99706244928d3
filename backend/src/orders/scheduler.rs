//! The deadline scheduler: payment windows, match timeouts and release windows are
//! stored deadlines (`orders.next_deadline`), so a restart loses nothing.
//!
//! Each round claims due orders with a lease: on PostgreSQL
//! `UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED)` pushes their `next_deadline`
//! forward, so several nodes never take the same order; the transition itself re-checks
//! the real deadline under a row lock and writes the proper `next_deadline` back. An
//! order whose transition failed is retried when its lease runs out.

use std::time::Duration;

use sea_orm::{ConnectionTrait, DbBackend, Statement, TransactionTrait};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::model::OrderStatus;
use super::service::{self, Scope};
use super::store;
use crate::db::now_ms;
use crate::ids::OrderId;
use crate::state::AppState;

/// How long a claimed order is reserved for the node that claimed it.
const LEASE_MS: i64 = 30_000;
const BATCH: i64 = 200;

pub fn spawn(
    state: actix_web::web::Data<AppState>,
    mut shutdown: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let interval = Duration::from_millis(state.settings.scheduler_interval_ms.max(10));
        loop {
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                _ = shutdown.changed() => break,
            }
            if *shutdown.borrow() {
                break;
            }
            if let Err(err) = run_once(&state).await {
                tracing::warn!(error = %err, "scheduler round failed");
            }
        }
    })
}

/// Claims due orders and applies their transitions. Returns how many were handled.
pub async fn run_once(state: &AppState) -> Result<usize, sea_orm::DbErr> {
    let now = now_ms();
    let ids = claim_due(state, now).await?;
    let mut handled = 0;
    for id in ids {
        let Some(order) = store::find(&state.db, &id).await? else {
            continue;
        };
        let outcome = match service::due_transition(&order, now) {
            Some(OrderStatus::Expired) => service::expire(state, &id).await.map(|o| o.is_some()),
            Some(OrderStatus::Completed) => service::complete_sandbox_order(state, &id)
                .await
                .map(|_| true),
            Some(OrderStatus::Disputed) => service::open_dispute(
                state,
                &id,
                Scope::System,
                "The acceptor did not confirm within the release window.".to_owned(),
                None,
            )
            .await
            .map(|_| true),
            _ => Ok(false),
        };
        match outcome {
            Ok(true) => handled += 1,
            Ok(false) => {}
            Err(err) => tracing::warn!(order = %id, error = %err, "deadline transition failed"),
        }
    }
    Ok(handled)
}

async fn claim_due(state: &AppState, now: i64) -> Result<Vec<OrderId>, sea_orm::DbErr> {
    let backend = state.db.get_database_backend();
    let txn = state.db.begin().await?;
    let rows = match backend {
        DbBackend::Postgres => {
            txn.query_all_raw(Statement::from_sql_and_values(
                backend,
                "UPDATE orders SET next_deadline = $1 WHERE id IN (\
                   SELECT id FROM orders WHERE next_deadline <= $2 \
                   ORDER BY next_deadline LIMIT $3 FOR UPDATE SKIP LOCKED) RETURNING id",
                [(now + LEASE_MS).into(), now.into(), BATCH.into()],
            ))
            .await?
        }
        _ => {
            txn.query_all_raw(Statement::from_sql_and_values(
                backend,
                "UPDATE orders SET next_deadline = ? WHERE id IN (\
                   SELECT id FROM orders WHERE next_deadline <= ? \
                   ORDER BY next_deadline LIMIT ?) RETURNING id",
                [(now + LEASE_MS).into(), now.into(), BATCH.into()],
            ))
            .await?
        }
    };
    txn.commit().await?;
    rows.iter()
        .map(|row| row.try_get::<OrderId>("", "id"))
        .collect()
}
