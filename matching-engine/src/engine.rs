//! The engine: command dispatch, matching, reservation and the waiting queues.

use std::cmp::Ordering;
use std::collections::BTreeSet;

use crate::book::{
    Acceptor, AcceptorHandle, ActiveQuote, MarketBook, MethodFilter, Order, OrderHandle, Placement,
    Side, capacity, insert_distinct, remove_sorted,
};
use crate::command::Command;
use crate::config::EngineConfig;
use crate::error::EngineError;
use crate::event::{Event, UnmatchedReason};
use crate::fiat::{FixedRate, MAX_FIAT_SCALE, MAX_ORDER_AMOUNT, fiat_amount, rate_band};
use crate::hash::IdMap;
use crate::index::NO_CAPACITY;
use crate::model::{AcceptorBalance, AcceptorStatus, NewOrder, Quote};
use crate::table::{IdTable, id_hash};

/// The matching engine. See the crate documentation for the policy and the
/// complexity of each operation.
#[derive(Debug, Clone)]
pub struct Engine {
    pub(crate) rate_tolerance_bps: u32,
    pub(crate) distinct_fiat_amounts: bool,
    pub(crate) markets: Vec<MarketBook>,
    pub(crate) market_by_fiat: IdMap<String, u16>,
    pub(crate) acceptors: Vec<Acceptor>,
    pub(crate) acceptor_by_id: IdMap<String, AcceptorHandle>,
    /// Open orders; `None` slots are free and listed in `free_order_slots`.
    pub(crate) orders: Vec<Option<Order>>,
    pub(crate) free_order_slots: Vec<OrderHandle>,
    pub(crate) order_by_id: IdTable,
    /// Waiting orders by (match deadline, submission sequence).
    pub(crate) expiry: BTreeSet<(i64, u64, OrderHandle)>,
    pub(crate) next_order_seq: u64,
    /// Round-robin stamp of the most recent assignment.
    pub(crate) last_stamp: u64,
}

impl Engine {
    /// An empty engine for the configured markets.
    ///
    /// Errors: [`EngineError::InvalidConfig`] for an empty or repeated fiat
    /// code, a scale above [`MAX_FIAT_SCALE`], a tolerance above 10 000 bp or
    /// more than 65 535 markets.
    pub fn new(config: EngineConfig) -> Result<Self, EngineError> {
        if config.rate_tolerance_bps > 10_000 {
            return Err(EngineError::InvalidConfig(format!(
                "rate tolerance {} bp is above 10000",
                config.rate_tolerance_bps
            )));
        }
        let mut markets = Vec::with_capacity(config.markets.len());
        let mut market_by_fiat = IdMap::default();
        for market in config.markets {
            if market.fiat.is_empty() {
                return Err(EngineError::InvalidConfig("empty fiat code".into()));
            }
            if market.scale > MAX_FIAT_SCALE {
                return Err(EngineError::InvalidConfig(format!(
                    "{} scale {} is above {MAX_FIAT_SCALE}",
                    market.fiat, market.scale
                )));
            }
            let handle = u16::try_from(markets.len())
                .map_err(|_| EngineError::InvalidConfig("too many markets".into()))?;
            if market_by_fiat.insert(market.fiat.clone(), handle).is_some() {
                return Err(EngineError::InvalidConfig(format!(
                    "market {} listed twice",
                    market.fiat
                )));
            }
            markets.push(MarketBook::new(market.fiat, market.scale));
        }
        Ok(Self {
            rate_tolerance_bps: config.rate_tolerance_bps,
            distinct_fiat_amounts: config.distinct_fiat_amounts,
            markets,
            market_by_fiat,
            acceptors: Vec::new(),
            acceptor_by_id: IdMap::default(),
            orders: Vec::new(),
            free_order_slots: Vec::new(),
            order_by_id: IdTable::default(),
            expiry: BTreeSet::new(),
            next_order_seq: 0,
            last_stamp: 0,
        })
    }

    /// Applies one command at time `now` (Unix ms) and returns what happened,
    /// in order. A refused command returns the error and changes nothing.
    /// `now` is only read by [`Command::Tick`].
    pub fn apply(&mut self, command: Command, now: i64) -> Result<Vec<Event>, EngineError> {
        let mut events = Vec::new();
        self.apply_into(command, now, &mut events)?;
        Ok(events)
    }

    /// Same as [`apply`](Self::apply) but appends the events to `events`, so
    /// a hot loop can reuse one buffer. On error nothing is appended.
    pub fn apply_into(
        &mut self,
        command: Command,
        now: i64,
        events: &mut Vec<Event>,
    ) -> Result<(), EngineError> {
        match command {
            Command::RegisterAcceptor { acceptor } => {
                self.register_acceptor(acceptor)?;
            }
            Command::SetPresence { acceptor, online } => {
                let a = self.acceptor_handle(&acceptor)?;
                self.acceptors[a as usize].online = online;
                self.acceptor_changed(a, events);
            }
            Command::SetStatus { acceptor, status } => {
                let a = self.acceptor_handle(&acceptor)?;
                self.acceptors[a as usize].status = status;
                self.acceptor_changed(a, events);
            }
            Command::SetQuote {
                acceptor,
                fiat,
                quote,
            } => self.set_quote(&acceptor, &fiat, quote, events)?,
            Command::RemoveQuote { acceptor, fiat } => {
                let a = self.acceptor_handle(&acceptor)?;
                let market = self.market_handle(&fiat)?;
                if let Some(s) = self.acceptors[a as usize].side_position(market) {
                    self.acceptors[a as usize].sides[s].quote = None;
                    self.sync_side(a, s);
                }
            }
            Command::SetPaymentMethods {
                acceptor,
                fiat,
                methods,
            } => self.set_payment_methods(&acceptor, &fiat, methods, events)?,
            Command::SetMaxConcurrentOrders { acceptor, max } => {
                let a = self.acceptor_handle(&acceptor)?;
                self.acceptors[a as usize].max_concurrent_orders = max;
                self.acceptor_changed(a, events);
            }
            Command::SetCompletionScore { acceptor, score } => {
                let a = self.acceptor_handle(&acceptor)?;
                self.acceptors[a as usize].completion_score = score;
                // Ranking only: nobody becomes eligible, so no queue retry.
                self.sync_sides(a);
            }
            Command::SetLiquidity {
                acceptor,
                liquidity,
            } => {
                let a = self.acceptor_handle(&acceptor)?;
                self.set_liquidity(a, liquidity)?;
                self.acceptor_changed(a, events);
            }
            Command::AdjustLiquidity { acceptor, delta } => {
                let a = self.acceptor_handle(&acceptor)?;
                let liquidity = self.acceptors[a as usize]
                    .liquidity
                    .checked_add(delta)
                    .ok_or(EngineError::LiquidityOverflow { acceptor })?;
                self.set_liquidity(a, liquidity)?;
                self.acceptor_changed(a, events);
            }
            Command::SubmitOrder(order) => self.submit_order(order, events)?,
            Command::Cancel { order } => {
                let h = self.order_handle(&order)?;
                if self.order(h).placement.is_some() {
                    self.finish_assigned(h, 0, events);
                } else {
                    self.dequeue(h);
                    let order = self.drop_order(h);
                    events.push(Event::Cancelled { order: order.id });
                }
            }
            Command::Reject { order, acceptor } => self.reject(&order, &acceptor, events)?,
            Command::OrderReleased { order } => {
                let h = self.order_handle(&order)?;
                if self.order(h).placement.is_none() {
                    return Err(EngineError::NotAssigned(order));
                }
                self.finish_assigned(h, 0, events);
            }
            Command::OrderSettled {
                order,
                released_amount,
            } => {
                let h = self.order_handle(&order)?;
                let o = self.order(h);
                if o.placement.is_none() {
                    return Err(EngineError::NotAssigned(order));
                }
                if released_amount < 1 || released_amount > o.amount {
                    return Err(EngineError::InvalidReleasedAmount {
                        order,
                        released_amount,
                    });
                }
                self.finish_assigned(h, released_amount, events);
            }
            Command::Tick => self.expire(now, events),
        }
        Ok(())
    }

    /// Liquidity accounting of one acceptor, `None` if unknown.
    pub fn balance(&self, acceptor: &str) -> Option<AcceptorBalance> {
        let a = self.acceptor_by_id.get(acceptor)?;
        let acc = &self.acceptors[*a as usize];
        Some(AcceptorBalance {
            liquidity: acc.liquidity,
            reserved: acc.reserved,
            open_orders: acc.open_orders,
        })
    }

    /// Number of orders waiting in a market, `None` if the fiat is unknown.
    pub fn queued_orders(&self, fiat: &str) -> Option<usize> {
        let m = self.market_by_fiat.get(fiat)?;
        Some(self.markets[*m as usize].queue.len())
    }

    // ---- lookups -------------------------------------------------------

    pub(crate) fn acceptor_handle(&self, id: &str) -> Result<AcceptorHandle, EngineError> {
        self.acceptor_by_id
            .get(id)
            .copied()
            .ok_or_else(|| EngineError::UnknownAcceptor(id.to_owned()))
    }

    #[inline]
    pub(crate) fn market_handle(&self, fiat: &str) -> Result<u16, EngineError> {
        // A handful of short codes compare faster than they hash.
        let found = if self.markets.len() <= 16 {
            self.markets
                .iter()
                .position(|m| m.fiat == fiat)
                .and_then(|m| u16::try_from(m).ok())
        } else {
            self.market_by_fiat.get(fiat).copied()
        };
        found.ok_or_else(|| EngineError::UnknownFiat(fiat.to_owned()))
    }

    #[inline]
    pub(crate) fn find_order(&self, id: &str, hash: u64) -> Option<OrderHandle> {
        self.order_by_id.find(hash, |h| {
            self.orders[h as usize]
                .as_ref()
                .is_some_and(|order| order.id == id)
        })
    }

    fn order_handle(&self, id: &str) -> Result<OrderHandle, EngineError> {
        self.find_order(id, id_hash(id))
            .ok_or_else(|| EngineError::UnknownOrder(id.to_owned()))
    }

    /// The open order behind a handle. Handles come from `order_by_id` or the
    /// queues, which only ever point at occupied slots.
    #[inline]
    pub(crate) fn order(&self, h: OrderHandle) -> &Order {
        match self.orders.get(h as usize) {
            Some(Some(order)) => order,
            _ => unreachable!("order handle {h} points at a free slot"),
        }
    }

    #[inline]
    fn order_mut(&mut self, h: OrderHandle) -> &mut Order {
        match self.orders.get_mut(h as usize) {
            Some(Some(order)) => order,
            _ => unreachable!("order handle {h} points at a free slot"),
        }
    }

    // ---- acceptor commands ---------------------------------------------

    pub(crate) fn register_acceptor(&mut self, id: String) -> Result<AcceptorHandle, EngineError> {
        if self.acceptor_by_id.contains_key(&id) {
            return Err(EngineError::DuplicateAcceptor(id));
        }
        let handle = AcceptorHandle::try_from(self.acceptors.len())
            .map_err(|_| EngineError::InvalidState("too many acceptors".into()))?;
        self.acceptor_by_id.insert(id.clone(), handle);
        self.acceptors.push(Acceptor::new(id));
        Ok(handle)
    }

    pub(crate) fn validate_quote(&self, quote: &Quote) -> Result<ActiveQuote, EngineError> {
        let rate = FixedRate::parse(quote.rate)
            .ok_or_else(|| EngineError::InvalidRate(quote.rate.to_string()))?;
        if quote.min_amount < 1 || quote.min_amount > quote.max_amount {
            return Err(EngineError::InvalidQuoteBounds {
                min_amount: quote.min_amount,
                max_amount: quote.max_amount,
            });
        }
        Ok(ActiveQuote {
            rate,
            band: rate_band(rate.fixed, self.rate_tolerance_bps),
            min_amount: quote.min_amount,
            max_amount: quote.max_amount,
        })
    }

    /// Position of the acceptor's side in `market`, created when missing.
    pub(crate) fn side_position_or_insert(&mut self, a: AcceptorHandle, market: u16) -> usize {
        let acc = &mut self.acceptors[a as usize];
        match acc.side_position(market) {
            Some(s) => s,
            None => {
                acc.sides.push(Side::new(market));
                acc.sides.len() - 1
            }
        }
    }

    fn set_quote(
        &mut self,
        acceptor: &str,
        fiat: &str,
        quote: Quote,
        events: &mut Vec<Event>,
    ) -> Result<(), EngineError> {
        let a = self.acceptor_handle(acceptor)?;
        let market = self.market_handle(fiat)?;
        let quote = self.validate_quote(&quote)?;
        let s = self.side_position_or_insert(a, market);
        self.acceptors[a as usize].sides[s].quote = Some(quote);
        self.sync_side(a, s);
        self.acceptor_changed(a, events);
        Ok(())
    }

    fn set_payment_methods(
        &mut self,
        acceptor: &str,
        fiat: &str,
        methods: Vec<String>,
        events: &mut Vec<Event>,
    ) -> Result<(), EngineError> {
        let a = self.acceptor_handle(acceptor)?;
        let market = self.market_handle(fiat)?;
        self.install_payment_methods(a, market, methods);
        self.acceptor_changed(a, events);
        Ok(())
    }

    pub(crate) fn install_payment_methods(
        &mut self,
        a: AcceptorHandle,
        market: u16,
        methods: Vec<String>,
    ) {
        let mut unique: Vec<String> = Vec::with_capacity(methods.len());
        for method in methods {
            if !unique.contains(&method) {
                unique.push(method);
            }
        }
        let book = &mut self.markets[market as usize];
        for method in &unique {
            book.intern_method(method);
        }
        let mask = book.method_mask(&unique);
        let s = self.side_position_or_insert(a, market);
        let side = &mut self.acceptors[a as usize].sides[s];
        side.methods = unique;
        side.method_mask = mask;
        self.sync_side(a, s);
    }

    fn set_liquidity(&mut self, a: AcceptorHandle, liquidity: i64) -> Result<(), EngineError> {
        let acc = &mut self.acceptors[a as usize];
        if liquidity < acc.reserved {
            return Err(EngineError::LiquidityBelowReserved {
                acceptor: acc.id.clone(),
                liquidity,
                reserved: acc.reserved,
            });
        }
        acc.liquidity = liquidity;
        Ok(())
    }

    /// After any change to one acceptor that may make it eligible: refresh its
    /// index entries, then offer it the waiting orders.
    fn acceptor_changed(&mut self, a: AcceptorHandle, events: &mut Vec<Event>) {
        self.sync_sides(a);
        self.rematch(a, None, events);
    }

    // ---- index maintenance ---------------------------------------------

    /// Makes the market index entry of one side match the acceptor's state.
    pub(crate) fn sync_side(&mut self, a: AcceptorHandle, s: usize) {
        let acc = &self.acceptors[a as usize];
        let side = &acc.sides[s];
        let market = side.market as usize;
        let current = side.node;
        let wanted = acc.is_listed(side).then(|| acc.listing(a, side));
        let acceptors = &self.acceptors;
        let tie = |x: u32, y: u32| acceptors[x as usize].id.cmp(&acceptors[y as usize].id);
        let index = &mut self.markets[market].index;
        let node = match (current, wanted) {
            (Some(node), Some(listing)) => {
                index.update(node, listing, &tie);
                Some(node)
            }
            (Some(node), None) => {
                index.remove(node);
                None
            }
            (None, Some(listing)) => Some(index.insert(listing, &tie)),
            (None, None) => None,
        };
        let side = &mut self.acceptors[a as usize].sides[s];
        side.node = node;
        side.indexed_capacity = wanted.map_or(NO_CAPACITY, |l| l.capacity);
    }

    pub(crate) fn sync_sides(&mut self, a: AcceptorHandle) {
        for s in 0..self.acceptors[a as usize].sides.len() {
            self.sync_side(a, s);
        }
    }

    /// After a change that can only move the acceptor's capacity (free
    /// liquidity or open order count): updates the index entries whose
    /// capacity actually changed, skipping side `except`.
    fn sync_capacities(&mut self, a: AcceptorHandle, except: Option<usize>) {
        let acc = &mut self.acceptors[a as usize];
        let (free, below_limit) = (acc.free(), acc.below_limit());
        for (s, side) in acc.sides.iter_mut().enumerate() {
            let Some(node) = side.node else {
                continue;
            };
            let capacity = capacity(side.quote.as_ref(), free, below_limit);
            if Some(s) == except || capacity == side.indexed_capacity {
                continue;
            }
            side.indexed_capacity = capacity;
            self.markets[side.market as usize]
                .index
                .set_capacity(node, capacity);
        }
    }

    // ---- matching --------------------------------------------------------

    /// The side through which acceptor `a` could take `order` now, checked
    /// rule by rule (the definition of eligibility).
    pub(crate) fn eligible_side(&self, a: AcceptorHandle, order: &Order) -> Option<&Side> {
        let acc = &self.acceptors[a as usize];
        if !acc.online
            || acc.status != AcceptorStatus::Active
            || acc.open_orders >= acc.max_concurrent_orders
            || acc.free() < order.amount
            || order.excluded.contains(&a)
        {
            return None;
        }
        let side = acc.side(order.market)?;
        let quote = side.quote.as_ref()?;
        if order.amount < quote.min_amount || order.amount > quote.max_amount {
            return None;
        }
        if let Some(method) = &order.payment_method
            && !side.offers(method)
        {
            return None;
        }
        Some(side)
    }

    /// The best eligible acceptor for an order, by one index descent.
    pub(crate) fn best_acceptor(&self, order: &Order) -> Option<AcceptorHandle> {
        let book = &self.markets[order.market as usize];
        let (slot, by_name) = match book.method_filter(order.payment_method.as_deref()) {
            MethodFilter::Any => (0, None),
            MethodFilter::Slot(slot) => (slot, None),
            MethodFilter::ByName(name) => (0, Some(name)),
            MethodFilter::Nobody => return None,
        };
        let acceptors = &self.acceptors;
        let excluded = &order.excluded;
        // The index already guarantees: listed (online, active, quoting),
        // below the concurrency limit, free ≥ amount, quote bounds, and the
        // asked method when it has a slot. The rest is checked here.
        let found = book.index.first_fit(slot, order.amount, &mut |a| {
            (excluded.is_empty() || !excluded.contains(&a))
                && by_name.is_none_or(|name| {
                    acceptors[a as usize]
                        .side(order.market)
                        .is_some_and(|side| side.offers(name))
                })
        });
        debug_assert!(found.is_none_or(|a| self.eligible_side(a, order).is_some()));
        found
    }

    /// Gives order `h` (not queued) to acceptor `a` and reserves its amount.
    fn assign(&mut self, h: OrderHandle, a: AcceptorHandle, events: &mut Vec<Event>) {
        let (market, amount) = {
            let order = self.order(h);
            debug_assert!(order.placement.is_none());
            debug_assert!(self.eligible_side(a, order).is_some());
            (order.market, order.amount)
        };
        let scale = self.markets[market as usize].scale;
        // Restored stamps may be large (e.g. Unix ms); saturating keeps the
        // engine total even at the very end of the range.
        self.last_stamp = self.last_stamp.saturating_add(1);
        let stamp = self.last_stamp;
        let distinct = self.distinct_fiat_amounts;
        let acc = &mut self.acceptors[a as usize];
        // Only eligible acceptors are assigned, and eligibility needs a quote.
        let Some(s) = acc.side_position(market) else {
            unreachable!("assigning to acceptor {a} without a side in market {market}");
        };
        let side = &mut acc.sides[s];
        let Some(quote) = side.quote else {
            unreachable!("assigning to acceptor {a} without a quote in market {market}");
        };
        let mut fiat = fiat_amount(amount, quote.rate, scale);
        if distinct {
            fiat = insert_distinct(&mut side.open_fiat_amounts, fiat);
        }
        side.stamp = stamp;
        acc.reserved += amount;
        acc.open_orders += 1;
        debug_assert!(acc.reserved <= acc.liquidity);
        debug_assert!(acc.open_orders <= acc.max_concurrent_orders);
        let acceptor_id = acc.id.clone();
        // The assigned side moves to the back of its band; every other side
        // only sees its capacity shrink.
        self.sync_side(a, s);
        self.sync_capacities(a, Some(s));
        let order = self.order_mut(h);
        order.placement = Some(Placement {
            acceptor: a,
            rate: quote.rate,
            fiat_amount: fiat,
        });
        events.push(Event::Assigned {
            order: order.id.clone(),
            acceptor: acceptor_id,
            rate: quote.rate.decimal,
            fiat_amount: fiat,
        });
    }

    fn submit_order(&mut self, new: NewOrder, events: &mut Vec<Event>) -> Result<(), EngineError> {
        let order = self.build_order(new)?;
        let h = self.insert_order(order);
        match self.best_acceptor(self.order(h)) {
            Some(a) => self.assign(h, a, events),
            None => {
                self.enqueue(h);
                events.push(Event::Queued {
                    order: self.order(h).id.clone(),
                });
            }
        }
        Ok(())
    }

    /// Validates a submitted order.
    pub(crate) fn build_order(&mut self, new: NewOrder) -> Result<Order, EngineError> {
        let id_hash = id_hash(&new.id);
        if self.find_order(&new.id, id_hash).is_some() {
            return Err(EngineError::DuplicateOrder(new.id));
        }
        let market = self.market_handle(&new.fiat)?;
        if new.amount < 1 || new.amount > MAX_ORDER_AMOUNT {
            return Err(EngineError::InvalidAmount {
                order: new.id,
                amount: new.amount,
            });
        }
        let mut excluded = Vec::with_capacity(new.excluded_acceptors.len());
        for id in &new.excluded_acceptors {
            let a = self.acceptor_handle(id)?;
            if !excluded.contains(&a) {
                excluded.push(a);
            }
        }
        let seq = self.next_order_seq;
        self.next_order_seq += 1;
        Ok(Order {
            id: new.id,
            id_hash,
            seq,
            market,
            amount: new.amount,
            payment_method: new.payment_method,
            excluded,
            match_deadline: new.match_deadline,
            placement: None,
        })
    }

    pub(crate) fn insert_order(&mut self, order: Order) -> OrderHandle {
        let id_hash = order.id_hash;
        let h = match self.free_order_slots.pop() {
            Some(h) => {
                self.orders[h as usize] = Some(order);
                h
            }
            None => {
                self.orders.push(Some(order));
                // Open orders are bounded far below u32::MAX by memory.
                OrderHandle::try_from(self.orders.len() - 1).unwrap_or(OrderHandle::MAX)
            }
        };
        self.order_by_id.insert(id_hash, h);
        h
    }

    fn drop_order(&mut self, h: OrderHandle) -> Order {
        let order = match self.orders.get_mut(h as usize).and_then(Option::take) {
            Some(order) => order,
            None => unreachable!("dropping free order slot {h}"),
        };
        self.order_by_id.remove(order.id_hash, h);
        self.free_order_slots.push(h);
        order
    }

    pub(crate) fn enqueue(&mut self, h: OrderHandle) {
        let order = self.order(h);
        debug_assert!(order.placement.is_none(), "queueing an assigned order");
        let (market, seq, deadline) = (order.market, order.seq, order.match_deadline);
        let displaced = self.markets[market as usize].queue.insert(seq, h);
        let fresh = self.expiry.insert((deadline, seq, h));
        debug_assert!(displaced.is_none() && fresh, "order queued twice");
    }

    fn dequeue(&mut self, h: OrderHandle) {
        let order = self.order(h);
        let (market, seq, deadline) = (order.market, order.seq, order.match_deadline);
        let removed = self.markets[market as usize].queue.remove(&seq);
        let expired = self.expiry.remove(&(deadline, seq, h));
        debug_assert!(removed == Some(h) && expired);
    }

    /// Ends an assigned order: `consumed` micro-USDT leave the acceptor's
    /// liquidity (0 for a release), the rest of the reservation is free.
    fn finish_assigned(&mut self, h: OrderHandle, consumed: i64, events: &mut Vec<Event>) {
        let a = self.unreserve(h, consumed);
        let order = self.drop_order(h);
        let acceptor = self.acceptors[a as usize].id.clone();
        events.push(if consumed == 0 {
            Event::Released {
                order: order.id,
                acceptor,
                amount: order.amount,
            }
        } else {
            Event::Settled {
                order: order.id,
                acceptor,
                consumed,
                returned: order.amount - consumed,
            }
        });
        self.rematch(a, None, events);
    }

    /// Takes an assigned order off its acceptor (the order stays open,
    /// unplaced) and returns that acceptor.
    fn unreserve(&mut self, h: OrderHandle, consumed: i64) -> AcceptorHandle {
        let order = self.order_mut(h);
        let Some(placement) = order.placement.take() else {
            unreachable!("unreserving a waiting order");
        };
        let (market, amount) = (order.market, order.amount);
        debug_assert!((0..=amount).contains(&consumed));
        let a = placement.acceptor;
        let distinct = self.distinct_fiat_amounts;
        let acc = &mut self.acceptors[a as usize];
        acc.reserved -= amount;
        acc.liquidity -= consumed;
        acc.open_orders -= 1;
        debug_assert!(acc.reserved >= 0 && acc.reserved <= acc.liquidity);
        if distinct && let Some(s) = acc.side_position(market) {
            remove_sorted(&mut acc.sides[s].open_fiat_amounts, placement.fiat_amount);
        }
        self.sync_capacities(a, None);
        a
    }

    fn reject(
        &mut self,
        order: &str,
        acceptor: &str,
        events: &mut Vec<Event>,
    ) -> Result<(), EngineError> {
        let h = self.order_handle(order)?;
        let a = self.acceptor_handle(acceptor)?;
        match self.order(h).placement {
            None => return Err(EngineError::NotAssigned(order.to_owned())),
            Some(p) if p.acceptor != a => {
                return Err(EngineError::NotAssignedTo {
                    order: order.to_owned(),
                    acceptor: acceptor.to_owned(),
                });
            }
            Some(_) => {}
        }
        self.unreserve(h, 0);
        let o = self.order_mut(h);
        o.excluded.push(a);
        let id = o.id.clone();
        self.enqueue(h);
        events.push(Event::Requeued {
            order: id,
            rejected_by: acceptor.to_owned(),
        });
        self.rematch(a, Some(h), events);
        Ok(())
    }

    /// Restores "no waiting order has an eligible acceptor" after acceptor
    /// `a` changed (and, for a reject, order `fresh` rejoined the queue).
    ///
    /// Before the change no waiting order had an eligible acceptor, and
    /// assignments only shrink capacity, so `a` is the only acceptor that can
    /// have become eligible for an old waiting order: those are checked
    /// against `a` alone. `fresh` gets a full index search. Orders are
    /// visited oldest first across every market involved, exactly as a full
    /// rematch of the whole queue would assign them.
    fn rematch(&mut self, a: AcceptorHandle, fresh: Option<OrderHandle>, events: &mut Vec<Event>) {
        let mut markets: Vec<(u16, u64)> = Vec::new();
        let acc = &self.acceptors[a as usize];
        if acc.can_take_more() {
            for side in &acc.sides {
                if side.node.is_some() && !self.markets[side.market as usize].queue.is_empty() {
                    markets.push((side.market, 0));
                }
            }
        }
        let mut fresh_pending = fresh;
        if let Some(h) = fresh {
            let market = self.order(h).market;
            if !markets.iter().any(|(m, _)| *m == market) {
                markets.push((market, 0));
            }
        }
        while !markets.is_empty() {
            // Oldest waiting order not yet visited, over all markets involved.
            let mut next: Option<(u64, usize, OrderHandle)> = None;
            for (position, (market, from)) in markets.iter().enumerate() {
                if let Some((&seq, &h)) = self.markets[*market as usize].queue.range(*from..).next()
                    && next.is_none_or(|(best, ..)| seq < best)
                {
                    next = Some((seq, position, h));
                }
            }
            let Some((seq, position, h)) = next else {
                break;
            };
            markets[position].1 = seq + 1;
            let order = self.order(h);
            let taker = if fresh_pending == Some(h) {
                fresh_pending = None;
                self.best_acceptor(order)
            } else {
                self.eligible_side(a, order).map(|_| a)
            };
            if let Some(taker) = taker {
                self.dequeue_and_assign(h, taker, events);
            }
            if fresh_pending.is_none() && !self.acceptors[a as usize].can_take_more() {
                break;
            }
        }
    }

    pub(crate) fn dequeue_and_assign(
        &mut self,
        h: OrderHandle,
        a: AcceptorHandle,
        events: &mut Vec<Event>,
    ) {
        self.dequeue(h);
        self.assign(h, a, events);
    }

    /// Drops waiting orders whose match deadline is ≤ `now`.
    fn expire(&mut self, now: i64, events: &mut Vec<Event>) {
        while let Some(&(deadline, _, h)) = self.expiry.first() {
            if deadline > now {
                break;
            }
            self.dequeue(h);
            let order = self.drop_order(h);
            events.push(Event::Unmatched {
                order: order.id,
                reason: UnmatchedReason::NoAcceptor,
            });
        }
    }

    /// Orders acceptor handles by id: the final ranking tie-break.
    pub(crate) fn id_order(&self, x: AcceptorHandle, y: AcceptorHandle) -> Ordering {
        self.acceptors[x as usize]
            .id
            .cmp(&self.acceptors[y as usize].id)
    }
}
