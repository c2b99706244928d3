//! Events: what a command did, for the server to persist and announce.

use rust_decimal::Decimal;

/// Why an order left the engine without an acceptor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnmatchedReason {
    /// No eligible acceptor appeared before the match deadline.
    NoAcceptor,
}

/// An outcome of [`Engine::apply`](crate::Engine::apply), in the order it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The order was given to `acceptor`, whose free liquidity now reserves
    /// the order's amount. `fiat_amount` (minor units) is what the customer
    /// pays: `round_half_up(amount × rate)`, nudged up when the distinct
    /// amount policy is on.
    Assigned {
        order: String,
        acceptor: String,
        rate: Decimal,
        fiat_amount: i64,
    },
    /// Nobody can take the order now; it waits in its market's FIFO.
    Queued { order: String },
    /// `rejected_by` declined the order; it waits again (and may be assigned
    /// to someone else by a following `Assigned` in the same call).
    Requeued { order: String, rejected_by: String },
    /// The order passed its match deadline while waiting and left the engine.
    Unmatched {
        order: String,
        reason: UnmatchedReason,
    },
    /// A waiting order was cancelled and left the engine.
    Cancelled { order: String },
    /// An assigned order left the engine and `amount` micro-USDT of
    /// `acceptor`'s liquidity is free again.
    Released {
        order: String,
        acceptor: String,
        amount: i64,
    },
    /// An assigned order completed: `consumed` micro-USDT left `acceptor`'s
    /// liquidity and `returned` (the unreleased rest) is free again.
    Settled {
        order: String,
        acceptor: String,
        consumed: i64,
        returned: i64,
    },
}
