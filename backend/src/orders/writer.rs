//! Group commit of new, already matched orders.
//!
//! Under load most of an order's cost is its transaction: a dozen round trips and a
//! commit. One task takes every order waiting to be written and writes them together —
//! one multi-row insert per table, one ledger batch that locks each account once, one
//! commit — so that cost is shared by all of them. An order waits at most for the batch
//! in flight; a lone order is a batch of one.
//!
//! A batch is all-or-nothing. When it fails (a duplicate `merchant_order_id` raced in,
//! the ledger refused a reservation the engine believed possible, the database hiccuped)
//! every order in it is answered [`Unbatched`] and its request writes it on its own
//! (`service::create`), where it meets its own error and its own recovery.

use std::collections::BTreeSet;

use sea_orm::{ActiveValue::Set, DatabaseConnection, EntityTrait, TransactionTrait, TryIntoModel};
use tokio::sync::{mpsc, oneshot};

use super::sandbox;
use super::service::{self, EngineAssignment, Reservation};
use super::store::{order, order_event};
use crate::acceptors::store as acceptors_store;
use crate::db::now_ms;
use crate::error::ApiResult;
use crate::metrics::Metrics;
use crate::webhooks;

/// The most orders written in one transaction (34 columns each, well below either
/// database's limit of bound parameters per statement).
pub const MAX_BATCH: usize = 64;

/// Counter of the transactions the writer committed; with `orders_group_committed_total`
/// it gives the mean batch size.
pub const BATCHES_METRIC: &str = "order_write_batches_total";
pub const ORDERS_METRIC: &str = "orders_group_committed_total";

/// The batch this order was in failed as a whole; write the order on its own.
#[derive(Debug)]
pub struct Unbatched;

struct Job {
    row: order::Model,
    assignment: EngineAssignment,
    reply: oneshot::Sender<Result<order::Model, Unbatched>>,
}

/// A cheap, cloneable handle to the writer task. The task ends when every handle is
/// dropped.
#[derive(Clone)]
pub struct OrderWriter {
    tx: mpsc::Sender<Job>,
}

impl OrderWriter {
    pub fn spawn(
        db: DatabaseConnection,
        public_url: String,
        metrics: &std::sync::Arc<Metrics>,
    ) -> Self {
        let (tx, mut rx) = mpsc::channel::<Job>(4 * MAX_BATCH);
        let metrics = metrics.clone();
        tokio::spawn(async move {
            let mut jobs = Vec::with_capacity(MAX_BATCH);
            while rx.recv_many(&mut jobs, MAX_BATCH).await > 0 {
                let written = write_batch(&db, &public_url, &jobs).await;
                match written {
                    Ok(models) => {
                        metrics.inc_counter(BATCHES_METRIC, &[], 1);
                        metrics.inc_counter(ORDERS_METRIC, &[], models.len() as u64);
                        for (job, model) in jobs.drain(..).zip(models) {
                            let _ = job.reply.send(Ok(model));
                        }
                    }
                    Err(err) => {
                        tracing::info!(orders = jobs.len(), error = %err, "batch not written; its orders are written one by one");
                        for job in jobs.drain(..) {
                            let _ = job.reply.send(Err(Unbatched));
                        }
                    }
                }
            }
        });
        Self { tx }
    }

    /// Writes `row` (a new order in `matching`) already assigned as the engine decided,
    /// with its reservation, history row and `order.assigned` webhook, in the next batch.
    pub async fn write(
        &self,
        row: order::Model,
        assignment: EngineAssignment,
    ) -> Result<order::Model, Unbatched> {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            row,
            assignment,
            reply,
        };
        self.tx.send(job).await.map_err(|_| Unbatched)?;
        answer.await.map_err(|_| Unbatched)?
    }
}

/// One transaction for all `jobs`; the written orders in the jobs' order.
async fn write_batch(
    db: &DatabaseConnection,
    public_url: &str,
    jobs: &[Job],
) -> ApiResult<Vec<order::Model>> {
    let now = now_ms();
    let acceptor_ids: Vec<String> = jobs
        .iter()
        .map(|job| &job.assignment.acceptor)
        .filter(|id| !sandbox::is_sandbox_acceptor(id))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .cloned()
        .collect();
    let txn = db.begin().await?;
    let methods = acceptors_store::payment_methods_of_acceptors(&txn, &acceptor_ids).await?;

    let mut rows = Vec::with_capacity(jobs.len());
    let mut models = Vec::with_capacity(jobs.len());
    let mut history = Vec::with_capacity(jobs.len());
    let mut outbox = Vec::with_capacity(jobs.len());
    let mut reservations = Reservation::default();
    for job in jobs {
        let (mut active, reservation) =
            service::assigned_fields(job.row.clone(), &job.assignment, &methods, now)?;
        active.next_deadline = Set(service::next_deadline_for(&active));
        let model = active.clone().try_into_model()?;
        let (event, webhook) = service::assignment_rows(&model, public_url)?;
        rows.push(active);
        models.push(model);
        history.push(event);
        outbox.push(webhook);
        reservations.absorb(reservation);
    }
    order::Entity::insert_many(rows)
        .exec_without_returning(&txn)
        .await?;
    order_event::Entity::insert_many(history)
        .exec_without_returning(&txn)
        .await?;
    webhooks::service::enqueue_all(&txn, outbox).await?;
    // Last, so the acceptors' account rows stay locked only until the commit.
    reservations.apply(&txn, now).await?;
    txn.commit().await?;
    Ok(models)
}
