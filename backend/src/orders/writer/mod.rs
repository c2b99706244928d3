//! Group commit of new, already matched orders.
//!
//! Under load most of an order's cost is its transaction: a dozen round trips and a
//! commit. A writer task takes every order waiting in its queue and writes them
//! together — one multi-row insert per table, one ledger batch that locks each account
//! once, one commit — so that cost is shared by all of them. An order waits at most for
//! the batch in flight; a lone order is a batch of one. [`WRITERS`] tasks each own a
//! share of the acceptors.
//!
//! An order whose `merchant_order_id` is already taken (a retry, or a concurrent twin)
//! is skipped by the insert (`ON CONFLICT DO NOTHING`) and nothing of it is written;
//! its request answers with the order that holds the id. This is where idempotent
//! retries are recognised: there is no lookup per request before the engine.
//!
//! Otherwise a batch is all-or-nothing. When it fails (the ledger refused a reservation
//! the engine believed possible, the database hiccuped) every order in it is answered
//! [`Unbatched`] and its request writes it on its own ([`insert_alone`]), where it
//! meets its own error and its own recovery (`create.rs`).
//!
//! After the commit the writer announces the batch (`announce::publish` for many
//! orders): one wake-up of the webhook dispatcher and one pipeline of live events.
//!
//! `handle.rs` is the queue side that `AppState` holds; `assignment.rs` what an
//! assignment writes, shared with the assignment of a waiting order (`matching.rs`).

pub mod assignment;
pub mod handle;

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, DatabaseConnection, DatabaseTransaction, EntityTrait,
    IntoActiveModel, TransactionTrait, TryIntoModel,
};
use tokio::sync::{Notify, mpsc};

use self::assignment::{Reservation, assigned_fields, assignment_rows, mail_new_orders};
use self::handle::Job;
pub use self::handle::{EngineAssignment, OrderWriter, Unbatched};
use super::announce::{self, event_view, history_row, live_events};
use super::deadlines::next_deadline_for;
use super::model::{Actor, OrderStatus};
use super::side::AcceptorSide;
use super::store::{order, order_event};
use crate::acceptor_directory;
use crate::db::now_ms;
use crate::error::ApiResult;
use crate::ids::{AcceptorId, OrderId};
use crate::infra::event_bus::EventBus;
use crate::metrics::Metrics;
use crate::webhooks;

/// The most orders written in one transaction (34 columns each, well below either
/// database's limit of bound parameters per statement).
pub const MAX_BATCH: usize = 64;

/// Writer tasks, each with its own share of the acceptors: one batch can be committing
/// while another is being written, and two batches never lock the same accounts.
pub const WRITERS: usize = 4;

impl OrderWriter {
    /// One writer task per connection in `connections` (see `db::connect_writers`).
    /// `event_bus` and `webhook_wakeup`: where a written batch is announced (see
    /// `announce::publish`).
    pub fn spawn(
        connections: Vec<DatabaseConnection>,
        public_url: String,
        metrics: &Arc<Metrics>,
        event_bus: &Arc<dyn EventBus>,
        webhook_wakeup: &Arc<Notify>,
    ) -> Self {
        let queues = connections
            .into_iter()
            .map(|db| {
                let (tx, rx) = mpsc::channel::<Job>(4 * MAX_BATCH);
                let writer = Writer {
                    db,
                    public_url: public_url.clone(),
                    metrics: metrics.clone(),
                    event_bus: event_bus.clone(),
                    webhook_wakeup: webhook_wakeup.clone(),
                    opened: HashSet::new(),
                };
                tokio::spawn(writer.run(rx));
                tx
            })
            .collect();
        Self::new(queues)
    }
}

/// One writer task.
struct Writer {
    db: DatabaseConnection,
    public_url: String,
    metrics: Arc<Metrics>,
    event_bus: Arc<dyn EventBus>,
    webhook_wakeup: Arc<Notify>,
    /// Ledger accounts known to exist (accounts are never deleted): they need no
    /// "open if missing" statement.
    opened: HashSet<String>,
}

impl Writer {
    async fn run(mut self, mut queue: mpsc::Receiver<Job>) {
        let mut jobs = Vec::with_capacity(MAX_BATCH);
        while queue.recv_many(&mut jobs, MAX_BATCH).await > 0 {
            match write_batch(&self.db, &self.public_url, &self.opened, &jobs).await {
                Ok((models, opened)) => {
                    self.opened.extend(opened);
                    let mut events = Vec::with_capacity(3 * models.len());
                    let mut replies = Vec::with_capacity(models.len());
                    for written in models {
                        replies.push(written.map(|WrittenOrder { order, view }| {
                            events.extend(live_events(&order, "order.assigned", view));
                            order
                        }));
                    }
                    let count = replies.iter().flatten().count();
                    self.metrics.order_batch_written(count as u64);
                    for (job, reply) in jobs.drain(..).zip(replies) {
                        let _ = job.reply.send(Ok(reply));
                    }
                    // The whole batch's live events in one round trip.
                    announce::publish(self.event_bus.as_ref(), &self.webhook_wakeup, &events).await;
                }
                Err(err) => {
                    tracing::info!(orders = jobs.len(), error = %err, "batch not written; its orders are written one by one");
                    for job in jobs.drain(..) {
                        let _ = job.reply.send(Err(Unbatched));
                    }
                }
            }
        }
    }
}

/// One transaction for all `jobs`: the written orders in the jobs' order (`None` for a
/// taken `merchant_order_id`), and the ids of the ledger accounts they opened.
async fn write_batch(
    db: &DatabaseConnection,
    public_url: &str,
    opened: &HashSet<String>,
    jobs: &[Job],
) -> ApiResult<(Vec<Option<WrittenOrder>>, Vec<String>)> {
    let txn = db.begin().await?;
    let orders = jobs
        .iter()
        .map(|job| (job.row.clone(), &job.assignment))
        .collect();
    let written = insert_assigned(&txn, public_url, orders, opened, now_ms()).await?;
    txn.commit().await?;
    Ok(written)
}

/// Writes one new order in a transaction of its own, outside any batch: assigned as
/// `assignment` says (a batch of one), or still `matching` with its `order.created`
/// history row when the engine found nobody. `None`: its `merchant_order_id` is taken
/// and nothing was written. The caller announces it.
pub async fn insert_alone(
    db: &DatabaseConnection,
    public_url: &str,
    row: order::Model,
    assignment: Option<&EngineAssignment>,
    now: i64,
) -> ApiResult<Option<order::Model>> {
    let txn = db.begin().await?;
    let created = match assignment {
        Some(a) => {
            let (mut written, _) =
                insert_assigned(&txn, public_url, vec![(row, a)], &HashSet::new(), now).await?;
            written.pop().flatten().map(|written| written.order)
        }
        None => {
            let inserted = row.into_active_model().insert(&txn).await?;
            history_row(
                &inserted.id,
                "order.created",
                None,
                OrderStatus::Matching,
                (Actor::Merchant, Some(inserted.merchant_id.to_string())),
                None,
            )
            .insert(&txn)
            .await?;
            Some(inserted)
        }
    };
    if created.is_some() {
        txn.commit().await?;
    }
    Ok(created)
}

/// A new order as [`insert_assigned`] wrote it, with its `announce::event_view` (the
/// data of its `order.assigned` webhook and live events).
struct WrittenOrder {
    order: order::Model,
    view: serde_json::Value,
}

/// Inserts new orders already assigned as the engine decided, with their history rows,
/// `order.assigned` webhooks and reservations, in the caller's transaction: one
/// statement per table and one ledger batch. Returns the written orders in the given
/// order — `None` where the merchant already had an order with that
/// `merchant_order_id`, of which nothing is written — and the ids of the ledger
/// accounts opened (those in `opened` are known to exist and are not opened again).
async fn insert_assigned(
    txn: &DatabaseTransaction,
    public_url: &str,
    orders: Vec<(order::Model, &EngineAssignment)>,
    opened: &HashSet<String>,
    now: i64,
) -> ApiResult<(Vec<Option<WrittenOrder>>, Vec<String>)> {
    let acceptor_ids: Vec<AcceptorId> = orders
        .iter()
        .filter(|(row, _)| AcceptorSide::of(row).has_payment_methods())
        .map(|(_, assignment)| &assignment.acceptor)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .cloned()
        .collect();
    let methods = acceptor_directory::payment_methods_of_acceptors(txn, &acceptor_ids).await?;

    let mut rows = Vec::with_capacity(orders.len());
    let mut assigned = Vec::with_capacity(orders.len());
    for (row, assignment) in orders {
        let (mut active, reservation) = assigned_fields(row, assignment, &methods, now)?;
        active.next_deadline = Set(next_deadline_for(&active));
        assigned.push((active.clone().try_into_model()?, reservation));
        rows.push(active);
    }
    let inserted: HashSet<OrderId> = order::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::columns([
                order::Column::MerchantId,
                order::Column::Livemode,
                order::Column::MerchantOrderId,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_with_returning_keys(txn)
        .await?
        .into_iter()
        .collect();

    let mut models = Vec::with_capacity(assigned.len());
    let mut history = Vec::with_capacity(assigned.len());
    let mut outbox = Vec::with_capacity(assigned.len());
    let mut reservations = Reservation::default();
    for (model, reservation) in assigned {
        if !inserted.contains(&model.id) {
            models.push(None);
            continue;
        }
        // Made once for the webhook and the live events.
        let view = event_view(&model, public_url)?;
        let (event, webhook) = assignment_rows(&model, view.clone());
        history.push(event);
        outbox.push(webhook);
        reservations.absorb(reservation);
        models.push(Some(WrittenOrder { order: model, view }));
    }
    order_event::Entity::insert_many(history)
        .exec_without_returning(txn)
        .await?;
    webhooks::service::enqueue_all(txn, outbox).await?;
    let written = models.iter().flatten().map(|w| &w.order);
    mail_new_orders(txn, public_url, &acceptor_ids, written).await?;
    let newly_opened = reservations.forget_accounts(|id| opened.contains(id));
    // Last, so the acceptors' account rows stay locked only until the commit.
    reservations.apply_to_new_orders(txn, now).await?;
    Ok((models, newly_opened))
}
