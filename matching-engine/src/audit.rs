//! Full consistency audit of the engine's derived state.

use std::collections::BTreeSet;

use crate::book::{AcceptorHandle, OrderHandle};
use crate::engine::Engine;

impl Engine {
    /// Checks every invariant the engine relies on and returns the first
    /// violation found. Meant for tests and debugging: it costs
    /// O(acceptors × waiting orders + n log n).
    ///
    /// Checked: reserved liquidity equals the sum of assigned orders and
    /// stays within `0..=liquidity`; open order counts; each acceptor is in a
    /// market index exactly when online, active and quoting there, with the
    /// right rank, capacity and methods; the index structure itself; queues
    /// and deadlines hold exactly the waiting orders; distinct fiat amounts
    /// per acceptor when that policy is on; and no waiting order has an
    /// eligible acceptor (otherwise it should have been assigned).
    pub fn check_invariants(&self) -> Result<(), String> {
        let mut reserved = vec![0_i64; self.acceptors.len()];
        let mut open = vec![0_u32; self.acceptors.len()];
        let mut fiat_amounts: Vec<Vec<(u16, i64)>> = vec![Vec::new(); self.acceptors.len()];
        let mut waiting = 0_usize;
        for (h, slot) in self.orders.iter().enumerate() {
            let Some(order) = slot else {
                continue;
            };
            let h = h as OrderHandle;
            if self.find_order(&order.id, order.id_hash) != Some(h)
                || order.id_hash != crate::table::id_hash(&order.id)
            {
                return Err(format!("order {} is not indexed by id", order.id));
            }
            let market = &self.markets[order.market as usize];
            let queued = market.queue.get(&order.seq) == Some(&h);
            let timed = self.expiry.contains(&(order.match_deadline, order.seq, h));
            match order.placement {
                Some(p) => {
                    if queued || timed {
                        return Err(format!("assigned order {} is still queued", order.id));
                    }
                    reserved[p.acceptor as usize] += order.amount;
                    open[p.acceptor as usize] += 1;
                    fiat_amounts[p.acceptor as usize].push((order.market, p.fiat_amount));
                }
                None => {
                    if !queued || !timed {
                        return Err(format!("waiting order {} is not queued", order.id));
                    }
                    waiting += 1;
                    if let Some(a) = (0..self.acceptors.len() as AcceptorHandle)
                        .find(|&a| self.eligible_side(a, order).is_some())
                    {
                        return Err(format!(
                            "waiting order {} could go to {}",
                            order.id, self.acceptors[a as usize].id
                        ));
                    }
                }
            }
        }
        if self.order_by_id.len() != self.orders.iter().flatten().count() {
            return Err("order id map and order slots disagree".into());
        }
        let queued: usize = self.markets.iter().map(|m| m.queue.len()).sum();
        if queued != waiting || self.expiry.len() != waiting {
            return Err(format!(
                "{waiting} waiting orders, {queued} queued, {} deadlines",
                self.expiry.len()
            ));
        }

        let mut listed = vec![0_usize; self.markets.len()];
        for (a, acc) in self.acceptors.iter().enumerate() {
            if self.acceptor_by_id.get(&acc.id) != Some(&(a as AcceptorHandle)) {
                return Err(format!("acceptor {} is not indexed by id", acc.id));
            }
            if acc.reserved != reserved[a] || acc.open_orders != open[a] {
                return Err(format!(
                    "acceptor {}: reserved {} / open {} but orders say {} / {}",
                    acc.id, acc.reserved, acc.open_orders, reserved[a], open[a]
                ));
            }
            if acc.reserved < 0 || acc.reserved > acc.liquidity {
                return Err(format!(
                    "acceptor {}: reserved {} outside 0..={}",
                    acc.id, acc.reserved, acc.liquidity
                ));
            }
            let mut markets_seen = BTreeSet::new();
            for side in &acc.sides {
                if !markets_seen.insert(side.market) {
                    return Err(format!("acceptor {} has two sides in one market", acc.id));
                }
                let index = &self.markets[side.market as usize].index;
                match (acc.is_listed(side), side.node) {
                    (true, Some(node)) => {
                        listed[side.market as usize] += 1;
                        if index.listing(node) != acc.listing(a as AcceptorHandle, side) {
                            return Err(format!("acceptor {}: stale index listing", acc.id));
                        }
                        if side.indexed_capacity != acc.capacity(side) {
                            return Err(format!("acceptor {}: stale cached capacity", acc.id));
                        }
                    }
                    (false, None) => {}
                    (true, None) => return Err(format!("acceptor {} missing from index", acc.id)),
                    (false, Some(_)) => {
                        return Err(format!("acceptor {} listed while unavailable", acc.id));
                    }
                }
                let book = &self.markets[side.market as usize];
                if side.method_mask != book.method_mask(&side.methods) {
                    return Err(format!("acceptor {}: stale method mask", acc.id));
                }
                if self.distinct_fiat_amounts {
                    let mut expected: Vec<i64> = fiat_amounts[a]
                        .iter()
                        .filter(|(m, _)| *m == side.market)
                        .map(|(_, f)| *f)
                        .collect();
                    expected.sort_unstable();
                    if side.open_fiat_amounts != expected {
                        return Err(format!("acceptor {}: stale open fiat amounts", acc.id));
                    }
                }
            }
        }
        for (m, book) in self.markets.iter().enumerate() {
            book.index.check(&|x, y| self.id_order(x, y))?;
            if book.index.len() != listed[m] {
                return Err(format!(
                    "market {}: index holds {} acceptors, {} are listed",
                    book.fiat,
                    book.index.len(),
                    listed[m]
                ));
            }
        }
        Ok(())
    }
}
