//! Snapshot and restore: how the server rebuilds the engine at start.

use crate::book::{AcceptorHandle, Placement};
use crate::config::EngineConfig;
use crate::engine::Engine;
use crate::error::EngineError;
use crate::event::Event;
use crate::fiat::FixedRate;
use crate::model::{
    AcceptorMarketState, AcceptorState, Assignment, EngineState, NewOrder, OrderState, Quote,
};

impl Engine {
    /// Rebuilds an engine from a state, typically read from the database
    /// (acceptors, quotes, ledger balances and open orders) or taken with
    /// [`snapshot`](Self::snapshot).
    ///
    /// Assigned orders keep their acceptor, rate and fiat amount and reserve
    /// their amount; waiting orders queue in the order given. Then every
    /// waiting order that has an eligible acceptor is assigned, oldest first,
    /// and those `Assigned` events are returned for the server to persist
    /// (none when restoring a snapshot of a live engine). Orders past their
    /// match deadline are left for the next [`Command::Tick`](crate::Command::Tick).
    ///
    /// Errors: any error the equivalent commands would raise
    /// (`DuplicateAcceptor`, `UnknownFiat`, `InvalidRate`, …),
    /// `LiquidityBelowReserved` when an acceptor's assigned orders exceed its
    /// liquidity, and `InvalidState` for other inconsistencies.
    pub fn restore(
        config: EngineConfig,
        state: EngineState,
    ) -> Result<(Self, Vec<Event>), EngineError> {
        let mut engine = Self::new(config)?;
        for acceptor in state.acceptors {
            engine.restore_acceptor(acceptor)?;
        }
        for order in state.orders {
            engine.restore_order(order)?;
        }
        for acc in &engine.acceptors {
            if acc.reserved > acc.liquidity {
                return Err(EngineError::LiquidityBelowReserved {
                    acceptor: acc.id.clone(),
                    liquidity: acc.liquidity,
                    reserved: acc.reserved,
                });
            }
        }
        for a in 0..engine.acceptors.len() {
            engine.sync_sides(a as AcceptorHandle);
        }
        let mut events = Vec::new();
        engine.rematch_all(&mut events);
        Ok((engine, events))
    }

    /// A copy of the whole state; [`restore`](Self::restore) of it yields an
    /// engine that behaves identically.
    pub fn snapshot(&self) -> EngineState {
        let acceptors = self
            .acceptors
            .iter()
            .map(|acc| AcceptorState {
                id: acc.id.clone(),
                online: acc.online,
                status: acc.status,
                liquidity: acc.liquidity,
                max_concurrent_orders: acc.max_concurrent_orders,
                completion_score: acc.completion_score,
                markets: acc
                    .sides
                    .iter()
                    .filter(|s| s.quote.is_some() || !s.methods.is_empty() || s.stamp != 0)
                    .map(|side| AcceptorMarketState {
                        fiat: self.markets[side.market as usize].fiat.clone(),
                        quote: side.quote.map(|q| Quote {
                            rate: q.rate.decimal,
                            min_amount: q.min_amount,
                            max_amount: q.max_amount,
                        }),
                        payment_methods: side.methods.clone(),
                        last_assigned: side.stamp,
                    })
                    .collect(),
            })
            .collect();
        let mut open: Vec<_> = self.orders.iter().flatten().collect();
        open.sort_unstable_by_key(|o| o.seq);
        let orders = open
            .into_iter()
            .map(|o| OrderState {
                order: NewOrder {
                    id: o.id.clone(),
                    fiat: self.markets[o.market as usize].fiat.clone(),
                    amount: o.amount,
                    payment_method: o.payment_method.clone(),
                    excluded_acceptors: o
                        .excluded
                        .iter()
                        .map(|a| self.acceptors[*a as usize].id.clone())
                        .collect(),
                    match_deadline: o.match_deadline,
                },
                assignment: o.placement.map(|p| Assignment {
                    acceptor: self.acceptors[p.acceptor as usize].id.clone(),
                    rate: p.rate.decimal,
                    fiat_amount: p.fiat_amount,
                }),
            })
            .collect();
        EngineState { acceptors, orders }
    }

    fn restore_acceptor(&mut self, state: AcceptorState) -> Result<(), EngineError> {
        let a = self.register_acceptor(state.id)?;
        if state.liquidity < 0 {
            let acc = &self.acceptors[a as usize];
            return Err(EngineError::LiquidityBelowReserved {
                acceptor: acc.id.clone(),
                liquidity: state.liquidity,
                reserved: 0,
            });
        }
        let acc = &mut self.acceptors[a as usize];
        acc.online = state.online;
        acc.status = state.status;
        acc.liquidity = state.liquidity;
        acc.max_concurrent_orders = state.max_concurrent_orders;
        acc.completion_score = state.completion_score;
        for market_state in state.markets {
            let market = self.market_handle(&market_state.fiat)?;
            if self.acceptors[a as usize].side_position(market).is_some() {
                return Err(EngineError::InvalidState(format!(
                    "acceptor {} lists market {} twice",
                    self.acceptors[a as usize].id, market_state.fiat
                )));
            }
            let quote = market_state
                .quote
                .map(|q| self.validate_quote(&q))
                .transpose()?;
            self.install_payment_methods(a, market, market_state.payment_methods);
            let s = self.side_position_or_insert(a, market);
            let side = &mut self.acceptors[a as usize].sides[s];
            side.quote = quote;
            side.stamp = market_state.last_assigned;
            self.last_stamp = self.last_stamp.max(market_state.last_assigned);
        }
        Ok(())
    }

    fn restore_order(&mut self, state: OrderState) -> Result<(), EngineError> {
        let mut order = self.build_order(state.order)?;
        let Some(assignment) = state.assignment else {
            let h = self.insert_order(order);
            self.enqueue(h);
            return Ok(());
        };
        let a = self.acceptor_handle(&assignment.acceptor)?;
        let rate = FixedRate::parse(assignment.rate)
            .ok_or_else(|| EngineError::InvalidRate(assignment.rate.to_string()))?;
        if assignment.fiat_amount < 0 {
            return Err(EngineError::InvalidState(format!(
                "order {} has a negative fiat amount",
                order.id
            )));
        }
        let s = self.side_position_or_insert(a, order.market);
        let distinct = self.distinct_fiat_amounts;
        let acc = &mut self.acceptors[a as usize];
        acc.reserved = acc.reserved.checked_add(order.amount).ok_or_else(|| {
            EngineError::InvalidState(format!("reserved overflow for {}", acc.id))
        })?;
        acc.open_orders = acc.open_orders.saturating_add(1);
        if distinct {
            // Restored amounts are kept as they are, duplicates included.
            let open = &mut acc.sides[s].open_fiat_amounts;
            let position = open.partition_point(|&x| x < assignment.fiat_amount);
            open.insert(position, assignment.fiat_amount);
        }
        order.placement = Some(Placement {
            acceptor: a,
            rate,
            fiat_amount: assignment.fiat_amount,
        });
        self.insert_order(order);
        Ok(())
    }

    /// Offers every waiting order, oldest first, to its best eligible acceptor.
    fn rematch_all(&mut self, events: &mut Vec<Event>) {
        let mut waiting: Vec<(u64, u32)> = self
            .markets
            .iter()
            .flat_map(|m| m.queue.iter().map(|(&seq, &h)| (seq, h)))
            .collect();
        waiting.sort_unstable();
        for (_, h) in waiting {
            if let Some(a) = self.best_acceptor(self.order(h)) {
                self.dequeue_and_assign(h, a, events);
            }
        }
    }
}
