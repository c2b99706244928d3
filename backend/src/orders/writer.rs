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
//! [`Unbatched`] and its request writes it on its own (`service::create`), where it
//! meets its own error and its own recovery.
//!
//! After the commit the writer announces the batch (`service::announce` for many
//! orders): one wake-up of the webhook dispatcher and one pipeline of live events.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, PoisonError};

use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, DatabaseConnection, DatabaseTransaction, EntityTrait, TransactionTrait,
    TryIntoModel,
};
use tokio::sync::{Notify, mpsc, oneshot};

use super::sandbox;
use super::service::{self, EngineAssignment, Reservation};
use super::store::{order, order_event};
use crate::acceptors::store as acceptors_store;
use crate::db::now_ms;
use crate::error::ApiResult;
use crate::infra::event_bus::EventBus;
use crate::metrics::Metrics;
use crate::webhooks;

/// The most orders written in one transaction (34 columns each, well below either
/// database's limit of bound parameters per statement).
pub const MAX_BATCH: usize = 64;

/// Writer tasks, each with its own share of the acceptors: one batch can be committing
/// while another is being written, and two batches never lock the same accounts.
pub const WRITERS: usize = 4;

/// The batch this order was in failed as a whole; write the order on its own.
#[derive(Debug)]
pub struct Unbatched;

struct Job {
    row: order::Model,
    assignment: EngineAssignment,
    reply: oneshot::Sender<Result<Option<order::Model>, Unbatched>>,
}

/// A cheap, cloneable handle to the writer tasks. They end when every handle is dropped.
#[derive(Clone)]
pub struct OrderWriter {
    /// One queue per writer task; an acceptor's orders always go to the same one.
    queues: Arc<[mpsc::Sender<Job>]>,
    /// Which queue each acceptor seen so far writes through: acceptors are dealt to the
    /// writers in turn as they first appear, so the few acceptors with the best rate,
    /// which take most orders at any time, land on different writers.
    owners: Arc<std::sync::Mutex<HashMap<String, usize>>>,
}

impl OrderWriter {
    /// One writer task per connection in `connections` (see `db::connect_writers`).
    /// `event_bus` and `webhook_wakeup`: where a written batch is announced (see
    /// `service::announce`).
    pub fn spawn(
        connections: Vec<DatabaseConnection>,
        public_url: String,
        metrics: &Arc<Metrics>,
        event_bus: &Arc<dyn EventBus>,
        webhook_wakeup: &Arc<Notify>,
    ) -> Self {
        let queues: Vec<mpsc::Sender<Job>> = connections
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
        Self {
            queues: queues.into(),
            owners: Arc::default(),
        }
    }

    /// Writes `row` (a new order in `matching`) already assigned as the engine decided,
    /// with its reservation, history row and `order.assigned` webhook, in the next batch.
    /// `None`: the merchant already has an order with this `merchant_order_id`, and
    /// nothing was written.
    pub async fn write(
        &self,
        row: order::Model,
        assignment: EngineAssignment,
    ) -> Result<Option<order::Model>, Unbatched> {
        // Partitioned by acceptor, the writers never wait on each other's account locks.
        let Some(queue) = self.queues.get(self.owner_of(&assignment.acceptor)) else {
            return Err(Unbatched);
        };
        let (reply, answer) = oneshot::channel();
        let job = Job {
            row,
            assignment,
            reply,
        };
        queue.send(job).await.map_err(|_| Unbatched)?;
        answer.await.map_err(|_| Unbatched)?
    }

    fn owner_of(&self, acceptor: &str) -> usize {
        let mut owners = self.owners.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(owner) = owners.get(acceptor) {
            return *owner;
        }
        let owner = owners.len() % self.queues.len().max(1);
        owners.insert(acceptor.to_owned(), owner);
        owner
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
                            events.extend(service::live_events_of(&order, "order.assigned", view));
                            order
                        }));
                    }
                    let count = replies.iter().flatten().count();
                    self.metrics.order_batch_written(count as u64);
                    self.webhook_wakeup.notify_one();
                    for (job, reply) in jobs.drain(..).zip(replies) {
                        let _ = job.reply.send(Ok(reply));
                    }
                    // The whole batch's live events in one round trip.
                    if let Err(err) = self.event_bus.publish_all(&events).await {
                        tracing::warn!(error = %err, "live events not published");
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

/// The "new order" mail of each of `orders` whose acceptor (one of `acceptor_ids`)
/// asked for one, in the caller's transaction. One query when nobody asked.
pub(super) async fn mail_new_orders<'o>(
    txn: &DatabaseTransaction,
    public_url: &str,
    acceptor_ids: &[String],
    orders: impl Iterator<Item = &'o order::Model>,
) -> ApiResult<()> {
    let recipients = acceptors_store::new_order_mail_recipients(txn, acceptor_ids).await?;
    if recipients.is_empty() {
        return Ok(());
    }
    let letters: Vec<crate::mail::Letter<'_>> = orders
        .filter_map(|o| {
            let to = recipients
                .iter()
                .find(|r| o.acceptor_id.as_deref() == Some(r.acceptor_id.as_str()))?;
            let fiat = o
                .fiat_amount
                .map(|minor| super::view::format_fiat(&o.fiat_currency, minor))
                .unwrap_or_default();
            Some(crate::mail::Letter {
                kind: crate::mail::MailKind::NewOrder,
                tr: crate::i18n::Tr(crate::i18n::Lang::parse(&to.lang).unwrap_or_default()),
                to: &to.email,
                name: &to.display_name,
                link: Some(format!("{public_url}/acceptor/orders/{}", o.id)),
                args: vec![
                    ("reference", o.reference.clone()),
                    ("amount", crate::money::format_usdt(o.amount)),
                    ("fiat_amount", format!("{fiat} {}", o.fiat_currency)),
                ],
                keyed_args: Vec::new(),
            })
        })
        .collect();
    crate::mail::service::enqueue_all(txn, &letters).await
}

/// A new order as [`insert_assigned`] wrote it, with its `service::event_view` (the data
/// of its `order.assigned` webhook and live events).
pub(super) struct WrittenOrder {
    pub order: order::Model,
    pub view: serde_json::Value,
}

/// Inserts new orders already assigned as the engine decided, with their history rows,
/// `order.assigned` webhooks and reservations, in the caller's transaction: one
/// statement per table and one ledger batch. Returns the written orders in the given
/// order — `None` where the merchant already had an order with that
/// `merchant_order_id`, of which nothing is written — and the ids of the ledger
/// accounts opened (those in `opened` are known to exist and are not opened again).
pub(super) async fn insert_assigned(
    txn: &DatabaseTransaction,
    public_url: &str,
    orders: Vec<(order::Model, &EngineAssignment)>,
    opened: &HashSet<String>,
    now: i64,
) -> ApiResult<(Vec<Option<WrittenOrder>>, Vec<String>)> {
    let acceptor_ids: Vec<String> = orders
        .iter()
        .map(|(_, assignment)| &assignment.acceptor)
        .filter(|id| !sandbox::is_sandbox_acceptor(id))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .cloned()
        .collect();
    let methods = acceptors_store::payment_methods_of_acceptors(txn, &acceptor_ids).await?;

    let mut rows = Vec::with_capacity(orders.len());
    let mut assigned = Vec::with_capacity(orders.len());
    for (row, assignment) in orders {
        let (mut active, reservation) = service::assigned_fields(row, assignment, &methods, now)?;
        active.next_deadline = Set(service::next_deadline_for(&active));
        assigned.push((active.clone().try_into_model()?, reservation));
        rows.push(active);
    }
    let inserted: HashSet<String> = order::Entity::insert_many(rows)
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
        let view = service::event_view(&model, public_url)?;
        let (event, webhook) = service::assignment_rows(&model, view.clone());
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
