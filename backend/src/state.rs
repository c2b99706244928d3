//! What every handler and worker shares.

use std::sync::Arc;

use futures_util::future::BoxFuture;
use sea_orm::DatabaseConnection;

use crate::client_addr::TrustedProxies;
use crate::config::Settings;
use crate::crypto::MasterKey;
use crate::engine::handle::EngineHandle;
use crate::infra::Infra;
use crate::merchants::key_cache::KeyCache;
use crate::metrics::Metrics;
use crate::orders::writer::handle::OrderWriter;

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
    /// What `engine::notify` does with the engine's decisions.
    pub engine_decisions: EngineDecisions,
    /// API keys with their merchants, as signed requests read them.
    pub api_keys: KeyCache,
    /// Writes new matched orders in shared transactions (group commit).
    pub order_writer: OrderWriter,
    /// Wakes the webhook dispatcher when a transaction has enqueued events, so the
    /// first attempt is immediate rather than at the next poll.
    pub webhook_wakeup: Arc<tokio::sync::Notify>,
}
