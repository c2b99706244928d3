//! Plain data types shared by commands, events and snapshots.

use rust_decimal::Decimal;

/// Administrative status of an acceptor. Only active acceptors get orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AcceptorStatus {
    /// Approved and allowed to take orders.
    Active,
    /// Frozen by an admin: keeps its open orders, gets no new ones.
    Frozen,
}

/// An acceptor's price and order-size range in one fiat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quote {
    /// Fiat per USDT, > 0, at most [`MAX_RATE`](crate::MAX_RATE), at most
    /// [`RATE_SCALE`](crate::RATE_SCALE) decimals.
    pub rate: Decimal,
    /// Smallest order the acceptor takes, in micro-USDT (≥ 1).
    pub min_amount: i64,
    /// Largest order the acceptor takes, in micro-USDT (≥ `min_amount`).
    pub max_amount: i64,
}

/// An order to match, as submitted by the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrder {
    /// Unique order id, e.g. `"ord_…"`.
    pub id: String,
    /// Fiat code of a configured market.
    pub fiat: String,
    /// Amount in micro-USDT, `1..=MAX_ORDER_AMOUNT`.
    pub amount: i64,
    /// Payment method the customer asked for, if any (e.g. `"alipay"`).
    pub payment_method: Option<String>,
    /// Acceptors that must not get this order (all must be registered).
    pub excluded_acceptors: Vec<String>,
    /// Unix ms from which a waiting order is given up by [`Command::Tick`](crate::Command::Tick).
    pub match_deadline: i64,
}

/// Where an assigned order went, fixed at assignment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// The acceptor holding the order and its reserved liquidity.
    pub acceptor: String,
    /// The acceptor's rate at assignment time.
    pub rate: Decimal,
    /// Fiat the customer pays, in minor units.
    pub fiat_amount: i64,
}

/// An open order (waiting or assigned) as held by the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderState {
    /// The order as submitted, with `excluded_acceptors` including every
    /// acceptor that rejected it since.
    pub order: NewOrder,
    /// `None` while the order waits in its market's queue.
    pub assignment: Option<Assignment>,
}

/// An acceptor's settings in one fiat market.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptorMarketState {
    /// Fiat code of a configured market.
    pub fiat: String,
    /// Current quote; without one the acceptor gets no orders in this fiat.
    pub quote: Option<Quote>,
    /// Payment methods offered in this fiat (e.g. `"bank_transfer"`).
    pub payment_methods: Vec<String>,
    /// Round-robin stamp of the acceptor's last assignment in this fiat:
    /// only the order of stamps matters, `0` means never. The engine numbers
    /// new assignments after the largest restored stamp, so a server
    /// rebuilding from its database may use e.g. the Unix ms of the last
    /// assignment.
    pub last_assigned: u64,
}

/// Everything the engine knows about one acceptor (reserved liquidity is not
/// stored: it is the sum of the acceptor's assigned orders).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptorState {
    /// Unique acceptor id.
    pub id: String,
    /// Presence: only online acceptors get new orders.
    pub online: bool,
    /// Administrative status.
    pub status: AcceptorStatus,
    /// USDT held on the platform in micro-USDT, reserved part included.
    pub liquidity: i64,
    /// Open orders the acceptor may hold at once.
    pub max_concurrent_orders: u32,
    /// Completion score set by the server (higher ranks first among equal
    /// rates and equal round-robin turns), e.g. basis points 0..=10 000.
    pub completion_score: u32,
    /// Per-fiat quotes and payment methods.
    pub markets: Vec<AcceptorMarketState>,
}

/// A full copy of the engine's state, for [`Engine::snapshot`](crate::Engine::snapshot)
/// and [`Engine::restore`](crate::Engine::restore).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EngineState {
    /// All registered acceptors.
    pub acceptors: Vec<AcceptorState>,
    /// All open orders in submission order; waiting orders queue in this order.
    pub orders: Vec<OrderState>,
}

/// An acceptor's liquidity as the engine currently accounts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AcceptorBalance {
    /// Total liquidity in micro-USDT.
    pub liquidity: i64,
    /// Part of `liquidity` reserved by assigned orders.
    pub reserved: i64,
    /// Number of orders currently assigned to the acceptor.
    pub open_orders: u32,
}

impl AcceptorBalance {
    /// Liquidity available for new orders.
    pub fn free(&self) -> i64 {
        self.liquidity - self.reserved
    }
}
