//! The handle to the order writer tasks (`writer/mod.rs`), as the server state holds it:
//! a queue per task and the rule that deals acceptors to them. It only sends jobs and
//! waits for answers; it depends on no service. `AppState::handles` holds it.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError};

use tokio::sync::{mpsc, oneshot};

use crate::error::{ApiError, ApiResult};
use crate::ids::AcceptorId;
use crate::money::Rate;
use crate::orders::store::order;
use crate::state::AppState;

/// What the engine (or the sandbox) decided for a new or waiting order.
#[derive(Debug, Clone)]
pub struct EngineAssignment {
    pub acceptor: AcceptorId,
    pub rate: Rate,
    pub fiat_amount: i64,
}

/// The batch this order was in failed as a whole; write the order on its own.
#[derive(Debug)]
pub struct Unbatched;

pub(super) struct Job {
    pub row: order::Model,
    pub assignment: EngineAssignment,
    pub reply: oneshot::Sender<Result<Option<order::Model>, Unbatched>>,
}

/// A cheap, cloneable handle to the writer tasks. They end when every handle is dropped.
#[derive(Clone)]
pub struct OrderWriter {
    /// One queue per writer task; an acceptor's orders always go to the same one.
    queues: Arc<[mpsc::Sender<Job>]>,
    /// Which queue each acceptor seen so far writes through: acceptors are dealt to the
    /// writers in turn as they first appear, so the few acceptors with the best rate,
    /// which take most orders at any time, land on different writers.
    owners: Arc<std::sync::Mutex<HashMap<AcceptorId, usize>>>,
}

impl OrderWriter {
    /// The server's writers (inserted into `AppState::handles` at start).
    pub fn of(state: &AppState) -> ApiResult<&Self> {
        state
            .handles
            .get::<Self>()
            .ok_or_else(|| ApiError::internal("the order writers were not started"))
    }

    pub(super) fn new(queues: Vec<mpsc::Sender<Job>>) -> Self {
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

    fn owner_of(&self, acceptor: &AcceptorId) -> usize {
        let mut owners = self.owners.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(owner) = owners.get(acceptor) {
            return *owner;
        }
        let owner = owners.len() % self.queues.len().max(1);
        owners.insert(acceptor.clone(), owner);
        owner
    }
}
