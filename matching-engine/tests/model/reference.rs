//! A deliberately plain reference engine: linear scans, recomputed sums and a
//! full rematch of every waiting order after every command. It shares no code
//! with the engine beyond the public types, so agreement between the two is
//! evidence that the engine's index, caches and targeted retries are right.

use std::collections::BTreeMap;

use matching_engine::{
    AcceptorStatus, Command, Decimal, EngineConfig, EngineError, Event, NewOrder, Quote,
    UnmatchedReason,
};
use rust_decimal::RoundingStrategy;
use rust_decimal::prelude::ToPrimitive;

#[derive(Debug, Clone)]
struct Side {
    quote: Option<Quote>,
    methods: Vec<String>,
    stamp: u64,
}

#[derive(Debug, Clone)]
struct Acceptor {
    online: bool,
    status: AcceptorStatus,
    liquidity: i64,
    max_concurrent: u32,
    score: u32,
    sides: BTreeMap<String, Side>,
}

#[derive(Debug, Clone)]
struct Order {
    seq: u64,
    new: NewOrder,
    /// (acceptor, rate, fiat amount) once assigned.
    assigned: Option<(String, Decimal, i64)>,
}

#[derive(Debug, Clone)]
pub struct Reference {
    tolerance_bps: u32,
    distinct: bool,
    scales: BTreeMap<String, u32>,
    acceptors: BTreeMap<String, Acceptor>,
    orders: BTreeMap<String, Order>,
    next_seq: u64,
    last_stamp: u64,
}

/// Tolerance band of a rate: within each power-of-two octave of the rate in
/// units of 10⁻⁸, bands are `max(1, octave × tolerance / 10 000)` wide.
fn band(rate: Decimal, tolerance_bps: u32) -> i64 {
    let units = (rate * Decimal::from(100_000_000)).to_i64().unwrap();
    let mut octave = 1_i64;
    while octave <= units / 2 {
        octave *= 2;
    }
    let width = ((octave as i128 * tolerance_bps as i128) / 10_000).max(1) as i64;
    octave + (units - octave) / width * width
}

fn valid_rate(rate: Decimal) -> bool {
    rate > Decimal::ZERO && rate <= Decimal::from(10_000_000) && rate.normalize().scale() <= 8
}

impl Reference {
    pub fn new(config: &EngineConfig) -> Self {
        Self {
            tolerance_bps: config.rate_tolerance_bps,
            distinct: config.distinct_fiat_amounts,
            scales: config
                .markets
                .iter()
                .map(|m| (m.fiat.clone(), m.scale))
                .collect(),
            acceptors: BTreeMap::new(),
            orders: BTreeMap::new(),
            next_seq: 0,
            last_stamp: 0,
        }
    }

    /// Liquidity, reserved, open orders — reserved and open recomputed.
    pub fn balance(&self, acceptor: &str) -> (i64, i64, u32) {
        let liquidity = self.acceptors[acceptor].liquidity;
        let mine = self
            .orders
            .values()
            .filter(|o| o.assigned.as_ref().is_some_and(|(a, ..)| a == acceptor));
        let reserved = mine.clone().map(|o| o.new.amount).sum();
        (liquidity, reserved, mine.count() as u32)
    }

    pub fn acceptor_ids(&self) -> Vec<String> {
        self.acceptors.keys().cloned().collect()
    }

    /// Open orders: id → assignment.
    pub fn open_orders(&self) -> BTreeMap<String, Option<(String, Decimal, i64)>> {
        self.orders
            .iter()
            .map(|(id, o)| (id.clone(), o.assigned.clone()))
            .collect()
    }

    fn eligible(&self, id: &str, order: &Order) -> bool {
        let acc = &self.acceptors[id];
        let (_, reserved, open) = self.balance(id);
        let Some(side) = acc.sides.get(&order.new.fiat) else {
            return false;
        };
        let Some(quote) = side.quote else {
            return false;
        };
        acc.online
            && acc.status == AcceptorStatus::Active
            && quote.min_amount <= order.new.amount
            && order.new.amount <= quote.max_amount
            && acc.liquidity - reserved >= order.new.amount
            && open < acc.max_concurrent
            && order
                .new
                .payment_method
                .as_ref()
                .is_none_or(|m| side.methods.contains(m))
            && !order.new.excluded_acceptors.iter().any(|x| x == id)
    }

    fn best(&self, order: &Order) -> Option<String> {
        self.acceptors
            .keys()
            .filter(|id| self.eligible(id, order))
            .min_by_key(|id| {
                let acc = &self.acceptors[*id];
                let side = &acc.sides[&order.new.fiat];
                let rate = side.quote.map(|q| q.rate).unwrap_or_default();
                (
                    band(rate, self.tolerance_bps),
                    side.stamp,
                    std::cmp::Reverse(acc.score),
                    (*id).clone(),
                )
            })
            .cloned()
    }

    fn assign(&mut self, order_id: &str, acceptor: &str, events: &mut Vec<Event>) {
        let fiat = self.orders[order_id].new.fiat.clone();
        let amount = self.orders[order_id].new.amount;
        let rate = self.acceptors[acceptor].sides[&fiat].quote.unwrap().rate;
        let scale = self.scales[&fiat];
        let exact = Decimal::from(amount) / Decimal::from(1_000_000) * rate;
        let rounded = exact.round_dp_with_strategy(scale, RoundingStrategy::MidpointAwayFromZero);
        let mut fiat_amount = (rounded * Decimal::from(10_i64.pow(scale)))
            .to_i64()
            .unwrap();
        if self.distinct {
            let taken: Vec<i64> = self
                .orders
                .values()
                .filter_map(|o| o.assigned.as_ref().map(|a| (o, a)))
                .filter(|(o, (a, ..))| a == acceptor && o.new.fiat == fiat)
                .map(|(_, (_, _, f))| *f)
                .collect();
            while taken.contains(&fiat_amount) {
                fiat_amount += 1;
            }
        }
        self.last_stamp += 1;
        let stamp = self.last_stamp;
        self.acceptors
            .get_mut(acceptor)
            .unwrap()
            .sides
            .get_mut(&fiat)
            .unwrap()
            .stamp = stamp;
        self.orders.get_mut(order_id).unwrap().assigned =
            Some((acceptor.to_owned(), rate, fiat_amount));
        events.push(Event::Assigned {
            order: order_id.to_owned(),
            acceptor: acceptor.to_owned(),
            rate,
            fiat_amount,
        });
    }

    /// Every waiting order, oldest first, goes to its best eligible acceptor.
    fn rematch_everything(&mut self, events: &mut Vec<Event>) {
        let mut waiting: Vec<(u64, String)> = self
            .orders
            .iter()
            .filter(|(_, o)| o.assigned.is_none())
            .map(|(id, o)| (o.seq, id.clone()))
            .collect();
        waiting.sort();
        for (_, id) in waiting {
            if let Some(acceptor) = self.best(&self.orders[&id]) {
                self.assign(&id, &acceptor, events);
            }
        }
    }

    fn acceptor(&self, id: &str) -> Result<(), EngineError> {
        if self.acceptors.contains_key(id) {
            Ok(())
        } else {
            Err(EngineError::UnknownAcceptor(id.to_owned()))
        }
    }

    fn fiat(&self, fiat: &str) -> Result<(), EngineError> {
        if self.scales.contains_key(fiat) {
            Ok(())
        } else {
            Err(EngineError::UnknownFiat(fiat.to_owned()))
        }
    }

    fn order(&self, id: &str) -> Result<&Order, EngineError> {
        self.orders
            .get(id)
            .ok_or_else(|| EngineError::UnknownOrder(id.to_owned()))
    }

    fn side_mut(&mut self, acceptor: &str, fiat: &str) -> &mut Side {
        self.acceptors
            .get_mut(acceptor)
            .unwrap()
            .sides
            .entry(fiat.to_owned())
            .or_insert(Side {
                quote: None,
                methods: Vec::new(),
                stamp: 0,
            })
    }

    fn set_liquidity(&mut self, acceptor: &str, liquidity: i64) -> Result<(), EngineError> {
        let (_, reserved, _) = self.balance(acceptor);
        if liquidity < reserved {
            return Err(EngineError::LiquidityBelowReserved {
                acceptor: acceptor.to_owned(),
                liquidity,
                reserved,
            });
        }
        self.acceptors.get_mut(acceptor).unwrap().liquidity = liquidity;
        Ok(())
    }

    pub fn apply(&mut self, command: Command, now: i64) -> Result<Vec<Event>, EngineError> {
        let mut events = Vec::new();
        match command {
            Command::RegisterAcceptor { acceptor } => {
                if self.acceptors.contains_key(&acceptor) {
                    return Err(EngineError::DuplicateAcceptor(acceptor));
                }
                self.acceptors.insert(
                    acceptor,
                    Acceptor {
                        online: false,
                        status: AcceptorStatus::Active,
                        liquidity: 0,
                        max_concurrent: u32::MAX,
                        score: 0,
                        sides: BTreeMap::new(),
                    },
                );
            }
            Command::SetPresence { acceptor, online } => {
                self.acceptor(&acceptor)?;
                self.acceptors.get_mut(&acceptor).unwrap().online = online;
            }
            Command::SetStatus { acceptor, status } => {
                self.acceptor(&acceptor)?;
                self.acceptors.get_mut(&acceptor).unwrap().status = status;
            }
            Command::SetQuote {
                acceptor,
                fiat,
                quote,
            } => {
                self.acceptor(&acceptor)?;
                self.fiat(&fiat)?;
                if !valid_rate(quote.rate) {
                    return Err(EngineError::InvalidRate(quote.rate.to_string()));
                }
                if quote.min_amount < 1 || quote.min_amount > quote.max_amount {
                    return Err(EngineError::InvalidQuoteBounds {
                        min_amount: quote.min_amount,
                        max_amount: quote.max_amount,
                    });
                }
                self.side_mut(&acceptor, &fiat).quote = Some(quote);
            }
            Command::RemoveQuote { acceptor, fiat } => {
                self.acceptor(&acceptor)?;
                self.fiat(&fiat)?;
                if let Some(side) = self
                    .acceptors
                    .get_mut(&acceptor)
                    .unwrap()
                    .sides
                    .get_mut(&fiat)
                {
                    side.quote = None;
                }
            }
            Command::SetPaymentMethods {
                acceptor,
                fiat,
                methods,
            } => {
                self.acceptor(&acceptor)?;
                self.fiat(&fiat)?;
                self.side_mut(&acceptor, &fiat).methods = methods;
            }
            Command::SetMaxConcurrentOrders { acceptor, max } => {
                self.acceptor(&acceptor)?;
                self.acceptors.get_mut(&acceptor).unwrap().max_concurrent = max;
            }
            Command::SetCompletionScore { acceptor, score } => {
                self.acceptor(&acceptor)?;
                self.acceptors.get_mut(&acceptor).unwrap().score = score;
            }
            Command::SetLiquidity {
                acceptor,
                liquidity,
            } => {
                self.acceptor(&acceptor)?;
                self.set_liquidity(&acceptor, liquidity)?;
            }
            Command::AdjustLiquidity { acceptor, delta } => {
                self.acceptor(&acceptor)?;
                let liquidity = self.acceptors[&acceptor]
                    .liquidity
                    .checked_add(delta)
                    .ok_or_else(|| EngineError::LiquidityOverflow {
                        acceptor: acceptor.clone(),
                    })?;
                self.set_liquidity(&acceptor, liquidity)?;
            }
            Command::SubmitOrder(new) => {
                if self.orders.contains_key(&new.id) {
                    return Err(EngineError::DuplicateOrder(new.id));
                }
                self.fiat(&new.fiat)?;
                if new.amount < 1 || new.amount > 100_000_000_000_000 {
                    return Err(EngineError::InvalidAmount {
                        order: new.id,
                        amount: new.amount,
                    });
                }
                for excluded in &new.excluded_acceptors {
                    self.acceptor(excluded)?;
                }
                let id = new.id.clone();
                let order = Order {
                    seq: self.next_seq,
                    new,
                    assigned: None,
                };
                self.next_seq += 1;
                let best = self.best(&order);
                self.orders.insert(id.clone(), order);
                match best {
                    Some(acceptor) => self.assign(&id, &acceptor, &mut events),
                    None => events.push(Event::Queued { order: id }),
                }
            }
            Command::Cancel { order } => {
                let o = self.order(&order)?.clone();
                self.orders.remove(&order);
                events.push(match o.assigned {
                    Some((acceptor, ..)) => Event::Released {
                        order,
                        acceptor,
                        amount: o.new.amount,
                    },
                    None => Event::Cancelled { order },
                });
            }
            Command::Reject { order, acceptor } => {
                let o = self.order(&order)?.clone();
                self.acceptor(&acceptor)?;
                match &o.assigned {
                    None => return Err(EngineError::NotAssigned(order)),
                    Some((holder, ..)) if *holder != acceptor => {
                        return Err(EngineError::NotAssignedTo { order, acceptor });
                    }
                    Some(_) => {}
                }
                let o = self.orders.get_mut(&order).unwrap();
                o.assigned = None;
                o.new.excluded_acceptors.push(acceptor.clone());
                events.push(Event::Requeued {
                    order,
                    rejected_by: acceptor,
                });
            }
            Command::OrderReleased { order } => {
                let o = self.order(&order)?.clone();
                let Some((acceptor, ..)) = o.assigned else {
                    return Err(EngineError::NotAssigned(order));
                };
                self.orders.remove(&order);
                events.push(Event::Released {
                    order,
                    acceptor,
                    amount: o.new.amount,
                });
            }
            Command::OrderSettled {
                order,
                released_amount,
            } => {
                let o = self.order(&order)?.clone();
                let Some((acceptor, ..)) = o.assigned else {
                    return Err(EngineError::NotAssigned(order));
                };
                if released_amount < 1 || released_amount > o.new.amount {
                    return Err(EngineError::InvalidReleasedAmount {
                        order,
                        released_amount,
                    });
                }
                self.orders.remove(&order);
                self.acceptors.get_mut(&acceptor).unwrap().liquidity -= released_amount;
                events.push(Event::Settled {
                    order,
                    acceptor,
                    consumed: released_amount,
                    returned: o.new.amount - released_amount,
                });
            }
            Command::Tick => {
                let mut due: Vec<(i64, u64, String)> = self
                    .orders
                    .iter()
                    .filter(|(_, o)| o.assigned.is_none() && o.new.match_deadline <= now)
                    .map(|(id, o)| (o.new.match_deadline, o.seq, id.clone()))
                    .collect();
                due.sort();
                for (_, _, id) in due {
                    self.orders.remove(&id);
                    events.push(Event::Unmatched {
                        order: id,
                        reason: UnmatchedReason::NoAcceptor,
                    });
                }
            }
        }
        self.rematch_everything(&mut events);
        Ok(events)
    }
}
