//! What every handler and worker shares.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::client_addr::TrustedProxies;
use crate::config::Settings;
use crate::crypto::MasterKey;
use crate::engine::EngineHandle;
use crate::infra::Infra;
use crate::merchants::key_cache::KeyCache;
use crate::metrics::Metrics;
use crate::orders::writer::OrderWriter;

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
    /// API keys with their merchants, as signed requests read them.
    pub api_keys: KeyCache,
    /// Writes new matched orders in shared transactions (group commit).
    pub order_writer: OrderWriter,
    /// Wakes the webhook dispatcher when a transaction has enqueued events, so the
    /// first attempt is immediate rather than at the next poll.
    pub webhook_wakeup: Arc<tokio::sync::Notify>,
}
