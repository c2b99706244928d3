//! The engine's internal records: markets, acceptors and open orders.

use std::collections::BTreeMap;

use crate::fiat::FixedRate;
use crate::index::{Listing, METHOD_SLOTS, NO_CAPACITY, NodeId, RankIndex, RankKey};
use crate::model::AcceptorStatus;

/// Handle of an acceptor: its position in `Engine::acceptors`.
pub(crate) type AcceptorHandle = u32;
/// Handle of an open order: its slot in `Engine::orders`.
pub(crate) type OrderHandle = u32;

/// One fiat market: its ranking index and its queue of waiting orders.
#[derive(Debug, Clone)]
pub(crate) struct MarketBook {
    pub(crate) fiat: String,
    pub(crate) scale: u32,
    pub(crate) index: RankIndex,
    /// Waiting orders by submission sequence (FIFO).
    pub(crate) queue: BTreeMap<u64, OrderHandle>,
    /// Payment methods with their own index slot; slot = position + 1.
    /// Interned on first sight, never released.
    pub(crate) methods: Vec<String>,
}

/// How an order's payment method can be searched for in a market.
pub(crate) enum MethodFilter<'a> {
    /// No method asked: index slot 0.
    Any,
    /// An interned method: its own index slot.
    Slot(usize),
    /// A method without a slot (all slots taken): slot 0 plus a name check
    /// on each candidate.
    ByName(&'a str),
    /// A method nobody in the market has ever offered.
    Nobody,
}

impl MarketBook {
    pub(crate) fn new(fiat: String, scale: u32) -> Self {
        Self {
            fiat,
            scale,
            index: RankIndex::new(),
            queue: BTreeMap::new(),
            methods: Vec::new(),
        }
    }

    fn slots_full(&self) -> bool {
        self.methods.len() >= METHOD_SLOTS - 1
    }

    pub(crate) fn method_filter<'a>(&self, method: Option<&'a str>) -> MethodFilter<'a> {
        let Some(name) = method else {
            return MethodFilter::Any;
        };
        match self.methods.iter().position(|m| m == name) {
            Some(position) => MethodFilter::Slot(position + 1),
            // While slots are left every offered method gets one, so a
            // method without a slot has never been offered here.
            None if !self.slots_full() => MethodFilter::Nobody,
            None => MethodFilter::ByName(name),
        }
    }

    /// Gives `name` a slot if it has none and one is left.
    pub(crate) fn intern_method(&mut self, name: &str) {
        if !self.methods.iter().any(|m| m == name) && !self.slots_full() {
            self.methods.push(name.to_owned());
        }
    }

    /// Index slot bits for a set of offered methods.
    pub(crate) fn method_mask(&self, offered: &[String]) -> u8 {
        self.methods
            .iter()
            .enumerate()
            .filter(|(_, name)| offered.contains(name))
            .fold(0, |mask, (position, _)| mask | (1 << (position + 1)))
    }
}

/// A validated quote with its precomputed band.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ActiveQuote {
    pub(crate) rate: FixedRate,
    pub(crate) band: i64,
    pub(crate) min_amount: i64,
    pub(crate) max_amount: i64,
}

/// An acceptor's presence in one market.
#[derive(Debug, Clone)]
pub(crate) struct Side {
    pub(crate) market: u16,
    pub(crate) quote: Option<ActiveQuote>,
    pub(crate) methods: Vec<String>,
    pub(crate) method_mask: u8,
    /// Round-robin stamp of the last assignment in this market (0 = never).
    pub(crate) stamp: u64,
    /// Index node while listed (online, active and quoting).
    pub(crate) node: Option<NodeId>,
    /// Capacity last written to the index node, so that liquidity moves
    /// that leave it unchanged do not touch the index at all.
    pub(crate) indexed_capacity: i64,
    /// Fiat amounts of open orders here, sorted; kept only under the
    /// distinct-amount policy.
    pub(crate) open_fiat_amounts: Vec<i64>,
}

impl Side {
    pub(crate) fn new(market: u16) -> Self {
        Self {
            market,
            quote: None,
            methods: Vec::new(),
            method_mask: 0,
            stamp: 0,
            node: None,
            indexed_capacity: NO_CAPACITY,
            open_fiat_amounts: Vec::new(),
        }
    }

    #[inline]
    pub(crate) fn offers(&self, method: &str) -> bool {
        self.methods.iter().any(|m| m == method)
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Acceptor {
    pub(crate) id: String,
    pub(crate) online: bool,
    pub(crate) status: AcceptorStatus,
    pub(crate) liquidity: i64,
    pub(crate) reserved: i64,
    pub(crate) open_orders: u32,
    pub(crate) max_concurrent_orders: u32,
    pub(crate) completion_score: u32,
    /// One entry per market the acceptor was ever configured in; few, so
    /// searched linearly.
    pub(crate) sides: Vec<Side>,
}

impl Acceptor {
    pub(crate) fn new(id: String) -> Self {
        Self {
            id,
            online: false,
            status: AcceptorStatus::Active,
            liquidity: 0,
            reserved: 0,
            open_orders: 0,
            max_concurrent_orders: u32::MAX,
            completion_score: 0,
            sides: Vec::new(),
        }
    }

    #[inline]
    pub(crate) fn free(&self) -> i64 {
        self.liquidity - self.reserved
    }

    #[inline]
    pub(crate) fn side_position(&self, market: u16) -> Option<usize> {
        self.sides.iter().position(|s| s.market == market)
    }

    #[inline]
    pub(crate) fn side(&self, market: u16) -> Option<&Side> {
        self.sides.iter().find(|s| s.market == market)
    }

    /// Whether the acceptor belongs in the index of this side's market.
    #[inline]
    pub(crate) fn is_listed(&self, side: &Side) -> bool {
        self.online && self.status == AcceptorStatus::Active && side.quote.is_some()
    }

    /// Whether the acceptor could take any further order at all.
    #[inline]
    pub(crate) fn can_take_more(&self) -> bool {
        self.online
            && self.status == AcceptorStatus::Active
            && self.open_orders < self.max_concurrent_orders
            && self.free() > 0
    }

    /// Largest order this side can take now, ignoring the quote minimum.
    #[inline]
    pub(crate) fn capacity(&self, side: &Side) -> i64 {
        capacity(side.quote.as_ref(), self.free(), self.below_limit())
    }

    #[inline]
    pub(crate) fn below_limit(&self) -> bool {
        self.open_orders < self.max_concurrent_orders
    }

    /// How this side should appear in its market's index.
    #[inline]
    pub(crate) fn listing(&self, handle: AcceptorHandle, side: &Side) -> Listing {
        Listing {
            key: RankKey {
                band: side.quote.map_or(i64::MAX, |q| q.band),
                stamp: side.stamp,
                score: self.completion_score,
                acceptor: handle,
            },
            capacity: self.capacity(side),
            min_amount: side.quote.map_or(i64::MAX, |q| q.min_amount),
            methods: side.method_mask,
        }
    }
}

/// Largest order a side with `quote` can take: `min(free, quote max)` while
/// below the concurrency limit, [`NO_CAPACITY`] otherwise.
#[inline]
pub(crate) fn capacity(quote: Option<&ActiveQuote>, free: i64, below_limit: bool) -> i64 {
    match quote {
        Some(quote) if below_limit => free.min(quote.max_amount),
        _ => NO_CAPACITY,
    }
}

/// Where an assigned order went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Placement {
    pub(crate) acceptor: AcceptorHandle,
    pub(crate) rate: FixedRate,
    pub(crate) fiat_amount: i64,
}

#[derive(Debug, Clone)]
pub(crate) struct Order {
    pub(crate) id: String,
    /// Hash of `id` in the engine's order table.
    pub(crate) id_hash: u64,
    /// Submission sequence: FIFO position among waiting orders.
    pub(crate) seq: u64,
    pub(crate) market: u16,
    pub(crate) amount: i64,
    pub(crate) payment_method: Option<String>,
    pub(crate) excluded: Vec<AcceptorHandle>,
    pub(crate) match_deadline: i64,
    /// `None` while waiting in the market queue.
    pub(crate) placement: Option<Placement>,
}

/// Inserts `base` into the sorted multiset `open`, nudged up by one unit at a
/// time until it is not already present, and returns the inserted amount.
pub(crate) fn insert_distinct(open: &mut Vec<i64>, base: i64) -> i64 {
    let mut amount = base;
    let mut position = open.partition_point(|&x| x < amount);
    while open.get(position) == Some(&amount) {
        amount += 1;
        while open.get(position).is_some_and(|&x| x < amount) {
            position += 1;
        }
    }
    open.insert(position, amount);
    amount
}

/// Removes one occurrence of `amount` from the sorted multiset `open`.
pub(crate) fn remove_sorted(open: &mut Vec<i64>, amount: i64) {
    let position = open.partition_point(|&x| x < amount);
    debug_assert_eq!(open.get(position), Some(&amount));
    if open.get(position) == Some(&amount) {
        open.remove(position);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_insert_nudges_past_taken_amounts() {
        let mut open = vec![100, 101, 103];
        assert_eq!(insert_distinct(&mut open, 100), 102);
        assert_eq!(insert_distinct(&mut open, 100), 104);
        assert_eq!(insert_distinct(&mut open, 99), 99);
        assert_eq!(insert_distinct(&mut open, 200), 200);
        assert_eq!(open, vec![99, 100, 101, 102, 103, 104, 200]);
        remove_sorted(&mut open, 102);
        assert_eq!(insert_distinct(&mut open, 101), 102);
        // Duplicates restored from a database are skipped over as well.
        let mut restored = vec![5, 5, 6];
        assert_eq!(insert_distinct(&mut restored, 5), 7);
    }
}
