//! An acceptor's order statistics: the counters read from the database and the figures
//! the acceptor object shows (completion rate, mean release time). Pure; no I/O.

use rust_decimal::{Decimal, RoundingStrategy};

/// Counters of an acceptor's orders, as read from the database.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OrderCounts {
    pub completed: i64,
    /// Orders that ended: completed, expired or cancelled.
    pub finished: i64,
    /// Completed orders with both `paid_at` and `completed_at`.
    pub timed: i64,
    /// Σ (completed_at − paid_at) over the timed orders, ms.
    pub release_ms_total: i64,
}

/// `completed ÷ finished` rounded half up to two decimals; `"0.00"` without finished
/// orders.
pub fn completion_rate(completed: i64, finished: i64) -> String {
    let mut rate = if finished > 0 {
        (Decimal::from(completed.clamp(0, finished)) / Decimal::from(finished))
            .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
    } else {
        Decimal::ZERO
    };
    rate.rescale(2);
    rate.to_string()
}

/// The mean of `count` durations summing to `total_ms`, in whole seconds (half up).
pub fn avg_release_seconds(total_ms: i64, count: i64) -> Option<i64> {
    if count <= 0 {
        return None;
    }
    let total = i128::from(total_ms.max(0));
    let denominator = i128::from(count) * 1000;
    i64::try_from((total * 2 + denominator) / (2 * denominator)).ok()
}
