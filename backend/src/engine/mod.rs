//! The matching engine inside the server: one task owns the [`Engine`] (an actor) and
//! everyone else talks to it through an [`EngineHandle`].
//!
//! The database is the source of truth. At start the engine is rebuilt from acceptors,
//! quotes, payment methods, ledger balances and open orders (`orders::engine_state`,
//! which can read all of them; this folder depends on no feature). A change that
//! affects matching is first committed to the database, then applied to the engine with
//! `AppState::notify_engine`, which also persists whatever the engine decided (assignments of waiting
//! orders) through the decision handler registered at start
//! (`AppState::engine_decisions`); the engine knows no feature's service. An assignment
//! the database refuses is undone in the engine (`OrderReleased`).
//!
//! `handle.rs` is the actor and its handle, which `AppState` holds.

pub mod handle;

use matching_engine::{EngineConfig, Market};

use crate::money::FIATS;

pub use self::handle::{EngineFailure, EngineHandle};
pub use matching_engine::AcceptorBalance;

/// The engine's configuration: one market per fiat of the currency table.
pub fn config(rate_tolerance_bps: u32, distinct_fiat_amounts: bool) -> EngineConfig {
    EngineConfig {
        markets: FIATS.iter().map(|f| Market::new(f.code, f.scale)).collect(),
        rate_tolerance_bps,
        distinct_fiat_amounts,
    }
}
