//! What every handler and worker shares.
//!
//! `AppState` names no feature: a handle a feature starts and keeps (the order
//! writers, the API-key cache) is held in [`FeatureHandles`] by its type, inserted by
//! `startup` before the server takes requests and fetched by the feature that owns it
//! (`OrderWriter::of`, `KeyCache::of`). The matching engine's handle is the engine
//! folder's, which depends on no feature.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use sea_orm::DatabaseConnection;

use crate::client_addr::TrustedProxies;
use crate::config::Settings;
use crate::crypto::MasterKey;
use crate::engine::handle::EngineHandle;
use crate::infra::Infra;
use crate::metrics::Metrics;

/// Makes the matching engine's decisions (assignments of waiting orders) durable. The
/// orders feature provides it at start (`orders::matching::persist_decisions`), so the
/// engine applies commands without calling back into a feature.
pub type EngineDecisions =
    for<'a> fn(&'a AppState, Vec<matching_engine::Event>) -> BoxFuture<'a, ()>;

pub struct AppState {
    pub db: DatabaseConnection,
    pub settings: Arc<Settings>,
    pub keys: MasterKey,
    pub infra: Infra,
    pub metrics: Arc<Metrics>,
    /// Peers whose `X-Forwarded-For` names the client (`client_addr`).
    pub trusted_proxies: TrustedProxies,
    /// Base of links sent to customers (cashier pages), without a trailing slash.
    pub public_url: String,
    pub engine: EngineHandle,
    /// What [`AppState::notify_engine`] does with the engine's decisions.
    pub engine_decisions: EngineDecisions,
    /// The features' own handles (the order writers, the API-key cache).
    pub handles: FeatureHandles,
    /// Wakes the webhook dispatcher when a transaction has enqueued events, so the
    /// first attempt is immediate rather than at the next poll.
    pub webhook_wakeup: Arc<tokio::sync::Notify>,
}

impl AppState {
    /// Applies a command whose database change is already committed, then persists what
    /// the engine decided. Failures are logged, not returned: the database change
    /// stands, and the engine is rebuilt from the database at the next start.
    pub async fn notify_engine(&self, command: matching_engine::Command) {
        match self.engine.apply(command).await {
            Ok(events) => (self.engine_decisions)(self, events).await,
            Err(err) => tracing::warn!(error = %err, "engine command refused"),
        }
    }

    /// Applies several commands in order (see [`AppState::notify_engine`]).
    pub async fn notify_engine_all(&self, commands: Vec<matching_engine::Command>) {
        for command in commands {
            self.notify_engine(command).await;
        }
    }
}

/// Handles kept by their type, one of each.
#[derive(Default)]
pub struct FeatureHandles(HashMap<TypeId, Arc<dyn Any + Send + Sync>>);

impl FeatureHandles {
    pub fn insert<T: Any + Send + Sync>(&mut self, handle: T) {
        self.0.insert(TypeId::of::<T>(), Arc::new(handle));
    }

    /// The handle of this type; `None` only if startup did not insert it.
    pub fn get<T: Any + Send + Sync>(&self) -> Option<&T> {
        self.0.get(&TypeId::of::<T>())?.downcast_ref()
    }
}
