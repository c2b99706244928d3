//! Commands: the only way to change the engine's state.

use crate::model::{AcceptorStatus, NewOrder, Quote};

/// A state change applied by [`Engine::apply`](crate::Engine::apply).
///
/// A command either applies completely or, when [`Engine::apply`](crate::Engine::apply)
/// returns an error, not at all. The events each command can emit are listed
/// per variant; "then retries the queue" means that waiting orders the change
/// made matchable are assigned in the same call (oldest first), each with an
/// [`Event::Assigned`](crate::Event::Assigned).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Adds an acceptor: offline, active, no liquidity, no quotes, no payment
    /// methods, no concurrency limit (`u32::MAX`), completion score 0.
    /// Emits nothing. Errors: `DuplicateAcceptor`.
    RegisterAcceptor { acceptor: String },
    /// Presence change. Going offline stops new assignments; orders already
    /// assigned stay. Going online retries the queue.
    SetPresence { acceptor: String, online: bool },
    /// Frozen acceptors keep their orders and get no new ones; activating
    /// retries the queue.
    SetStatus {
        acceptor: String,
        status: AcceptorStatus,
    },
    /// Sets or replaces the quote in `fiat`, then retries the queue.
    /// Errors: `UnknownAcceptor`, `UnknownFiat`, `InvalidRate`, `InvalidQuoteBounds`.
    SetQuote {
        acceptor: String,
        fiat: String,
        quote: Quote,
    },
    /// Withdraws the quote in `fiat` (no-op when there is none). Emits nothing.
    RemoveQuote { acceptor: String, fiat: String },
    /// Replaces the payment methods offered in `fiat` (duplicates are
    /// ignored), then retries the queue.
    SetPaymentMethods {
        acceptor: String,
        fiat: String,
        methods: Vec<String>,
    },
    /// Sets how many orders the acceptor may hold at once (lowering it below
    /// the current count keeps the open orders), then retries the queue.
    SetMaxConcurrentOrders { acceptor: String, max: u32 },
    /// Sets the completion score used in ranking. Emits nothing: the score
    /// never makes an acceptor eligible.
    SetCompletionScore { acceptor: String, score: u32 },
    /// Sets total liquidity (micro-USDT, reserved part included), then
    /// retries the queue. Errors: `LiquidityBelowReserved`.
    SetLiquidity { acceptor: String, liquidity: i64 },
    /// Adds `delta` (may be negative: withdrawals) to liquidity, then retries
    /// the queue. Errors: `LiquidityBelowReserved`, `LiquidityOverflow`.
    AdjustLiquidity { acceptor: String, delta: i64 },
    /// Submits an order. Emits `Assigned` when an acceptor is eligible now,
    /// otherwise `Queued`. Errors: `DuplicateOrder`, `UnknownFiat`,
    /// `InvalidAmount`, `UnknownAcceptor` (an excluded id).
    SubmitOrder(NewOrder),
    /// Merchant cancel. A waiting order is dropped (`Cancelled`); an assigned
    /// one releases its reservation (`Released`, then retries the queue).
    Cancel { order: String },
    /// The acceptor holding the order declined it: its reservation comes
    /// back, the acceptor is excluded for this order and the order rejoins
    /// the queue at its original place. Emits `Requeued`, then `Assigned`
    /// for this order (to another acceptor) and for other waiting orders
    /// when possible. Errors: `NotAssigned`, `NotAssignedTo`.
    Reject { order: String, acceptor: String },
    /// An assigned order ended without payment (expired, cancelled, lost a
    /// dispute; also the way to undo an assignment the server failed to
    /// persist): the reservation comes back. Emits `Released`, then retries
    /// the queue. Errors: `NotAssigned`.
    OrderReleased { order: String },
    /// An assigned order completed: `released_amount` (`1..=amount`, less
    /// than the amount for a partial release) leaves the acceptor's
    /// liquidity and the rest of the reservation becomes free again. Emits
    /// `Settled`, then retries the queue. Errors: `NotAssigned`,
    /// `InvalidReleasedAmount`.
    OrderSettled { order: String, released_amount: i64 },
    /// Gives up waiting orders whose match deadline is ≤ `now`: one
    /// `Unmatched` each, by deadline then submission order.
    Tick,
}
