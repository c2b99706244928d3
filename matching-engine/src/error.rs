//! Errors for commands the engine refuses. A refused command changes nothing.

use std::fmt;

/// Why a command (or a restore) was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineError {
    /// The configuration is unusable (duplicate or empty fiat code, scale or
    /// tolerance out of range).
    InvalidConfig(String),
    /// No acceptor with this id is registered.
    UnknownAcceptor(String),
    /// An acceptor with this id is already registered.
    DuplicateAcceptor(String),
    /// No open order with this id (it may have completed or expired).
    UnknownOrder(String),
    /// An open order with this id already exists.
    DuplicateOrder(String),
    /// The fiat code is not one of the configured markets.
    UnknownFiat(String),
    /// Order amount outside `1..=MAX_ORDER_AMOUNT`.
    InvalidAmount { order: String, amount: i64 },
    /// Rate ≤ 0, above `MAX_RATE` or with more than `RATE_SCALE` decimals.
    InvalidRate(String),
    /// Quote bounds not `1 ≤ min_amount ≤ max_amount`.
    InvalidQuoteBounds { min_amount: i64, max_amount: i64 },
    /// The change would leave less liquidity than is reserved.
    LiquidityBelowReserved {
        acceptor: String,
        liquidity: i64,
        reserved: i64,
    },
    /// The adjustment overflows `i64`.
    LiquidityOverflow { acceptor: String },
    /// The order is waiting, not assigned.
    NotAssigned(String),
    /// The order is assigned to someone else.
    NotAssignedTo { order: String, acceptor: String },
    /// `released_amount` outside `1..=amount`.
    InvalidReleasedAmount { order: String, released_amount: i64 },
    /// A restored state is inconsistent.
    InvalidState(String),
}

impl fmt::Display for EngineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidConfig(why) => write!(f, "invalid engine config: {why}"),
            Self::UnknownAcceptor(id) => write!(f, "unknown acceptor {id}"),
            Self::DuplicateAcceptor(id) => write!(f, "acceptor {id} already registered"),
            Self::UnknownOrder(id) => write!(f, "unknown order {id}"),
            Self::DuplicateOrder(id) => write!(f, "order {id} already open"),
            Self::UnknownFiat(code) => write!(f, "fiat {code} is not a configured market"),
            Self::InvalidAmount { order, amount } => {
                write!(f, "order {order}: invalid amount {amount}")
            }
            Self::InvalidRate(rate) => write!(f, "invalid rate {rate}"),
            Self::InvalidQuoteBounds {
                min_amount,
                max_amount,
            } => write!(f, "invalid quote bounds {min_amount}..={max_amount}"),
            Self::LiquidityBelowReserved {
                acceptor,
                liquidity,
                reserved,
            } => write!(
                f,
                "acceptor {acceptor}: liquidity {liquidity} below reserved {reserved}"
            ),
            Self::LiquidityOverflow { acceptor } => {
                write!(f, "acceptor {acceptor}: liquidity overflow")
            }
            Self::NotAssigned(order) => write!(f, "order {order} is not assigned"),
            Self::NotAssignedTo { order, acceptor } => {
                write!(f, "order {order} is not assigned to {acceptor}")
            }
            Self::InvalidReleasedAmount {
                order,
                released_amount,
            } => write!(
                f,
                "order {order}: invalid released amount {released_amount}"
            ),
            Self::InvalidState(why) => write!(f, "invalid engine state: {why}"),
        }
    }
}

impl std::error::Error for EngineError {}
