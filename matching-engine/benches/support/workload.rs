//! Seeded workloads shared by the criterion benches and the `bench` example.
//!
//! Typical market: acceptors spread over five fiats (a quarter also quote a
//! second fiat) with rates within ±2 % of a reference, liquidity spread
//! log-uniformly from 2 000 to ~4 000 000 USDT, and order sizes from 10 to
//! ~2 600 USDT. Adversarial market: 99 % of the acceptors quote the best
//! rates but hold less USDT than the smallest order; the 1 % that can cover
//! orders rank last.

#![allow(dead_code)]

use matching_engine::{Command, Decimal, Engine, EngineConfig, Event, Market, NewOrder, Quote};
use std::collections::VecDeque;

/// SplitMix64: a tiny, fast, seedable generator, plenty for workloads.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0; the modulo bias is irrelevant here).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// Uniform in `lo..=hi`.
    pub fn between(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

pub const USDT: i64 = 1_000_000;

/// (fiat, scale, reference rate in 10⁻⁴ fiat per USDT, payment methods)
pub const FIATS: [(&str, u32, i64, &[&str]); 5] = [
    ("CNY", 2, 72_000, &["bank_transfer", "alipay", "wechat_pay"]),
    ("USD", 2, 10_000, &["bank_transfer", "zelle"]),
    ("EUR", 2, 9_200, &["sepa", "revolut"]),
    ("JPY", 0, 1_500_000, &["bank_transfer", "paypay"]),
    ("VND", 0, 254_000_000, &["bank_transfer", "momo"]),
];

pub fn config() -> EngineConfig {
    EngineConfig {
        markets: FIATS
            .iter()
            .map(|(fiat, scale, ..)| Market::new(*fiat, *scale))
            .collect(),
        rate_tolerance_bps: 10,
        distinct_fiat_amounts: false,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Everyone quotes near the reference and most can cover most orders.
    Typical,
    /// 99 % quote the best rates and cannot cover any order.
    Adversarial,
}

fn apply(engine: &mut Engine, command: Command) {
    engine.apply(command, 0).unwrap();
}

/// An engine with `acceptors` online acceptors of the given shape.
pub fn build_engine(acceptors: usize, shape: Shape, seed: u64) -> Engine {
    let mut rng = SplitMix64::new(seed);
    let mut engine = Engine::new(config()).unwrap();
    for i in 0..acceptors {
        let id = format!("acc_{i:06}");
        let poor = shape == Shape::Adversarial && i % 100 != 0;
        apply(
            &mut engine,
            Command::RegisterAcceptor {
                acceptor: id.clone(),
            },
        );
        let (liquidity, max_concurrent) = match (shape, poor) {
            (Shape::Typical, _) => (
                (2_000 << rng.below(11)) * USDT + rng.between(0, 1_000 * USDT),
                rng.between(5, 20) as u32,
            ),
            (Shape::Adversarial, true) => (rng.between(1, 9 * USDT), 20),
            (Shape::Adversarial, false) => (1_000_000_000 * USDT, 100_000),
        };
        apply(
            &mut engine,
            Command::SetLiquidity {
                acceptor: id.clone(),
                liquidity,
            },
        );
        apply(
            &mut engine,
            Command::SetMaxConcurrentOrders {
                acceptor: id.clone(),
                max: max_concurrent,
            },
        );
        apply(
            &mut engine,
            Command::SetCompletionScore {
                acceptor: id.clone(),
                score: rng.below(10_001) as u32,
            },
        );
        let first = rng.below(5) as usize;
        let mut fiats = vec![first];
        if rng.chance(25) {
            fiats.push((first + 1 + rng.below(4) as usize) % 5);
        }
        for f in fiats {
            let (fiat, _, reference, methods) = FIATS[f];
            // Spread in 10⁻⁴ of the reference: ±2 % typical; in the
            // adversarial market the poor take −3 %..−2 % and the rich +0..+2 %.
            let spread = match (shape, poor) {
                (Shape::Typical, _) => rng.between(-200, 200),
                (Shape::Adversarial, true) => rng.between(-300, -200),
                (Shape::Adversarial, false) => rng.between(0, 200),
            };
            let rate = Decimal::new(reference * (10_000 + spread), 8);
            apply(
                &mut engine,
                Command::SetQuote {
                    acceptor: id.clone(),
                    fiat: fiat.into(),
                    quote: Quote {
                        rate,
                        min_amount: 10 * USDT,
                        max_amount: rng.between(5_000, 50_000) * USDT,
                    },
                },
            );
            let offered: Vec<String> = methods
                .iter()
                .filter(|_| rng.chance(70))
                .map(|m| (*m).to_owned())
                .collect();
            apply(
                &mut engine,
                Command::SetPaymentMethods {
                    acceptor: id.clone(),
                    fiat: fiat.into(),
                    methods: if offered.is_empty() {
                        vec![methods[0].to_owned()]
                    } else {
                        offered
                    },
                },
            );
        }
        apply(
            &mut engine,
            Command::SetPresence {
                acceptor: id,
                online: true,
            },
        );
    }
    engine
}

/// Inputs of one cycle, generated ahead so that timing covers the engine only.
pub struct PreparedCycle {
    submit: Command,
    /// The order id again, for the command that will finish it.
    id: String,
    amount: i64,
    finish_roll: u64,
}

/// Drives assign → settle/release cycles with a window of open orders.
pub struct Driver {
    rng: SplitMix64,
    next_order: u64,
    open: VecDeque<(String, i64)>,
    window: usize,
    events: Vec<Event>,
    pub queued: u64,
    pub assigned: u64,
}

impl Driver {
    pub fn new(seed: u64, window: usize) -> Self {
        Self {
            rng: SplitMix64::new(seed),
            next_order: 0,
            open: VecDeque::with_capacity(window + 1),
            window,
            events: Vec::with_capacity(16),
            queued: 0,
            assigned: 0,
        }
    }

    /// Generates the inputs of the next cycle: an order of 10 to ~2 600
    /// USDT in a random fiat, a fifth of them asking for a payment method.
    pub fn prepare(&mut self) -> PreparedCycle {
        let (fiat, _, _, methods) = FIATS[self.rng.below(5) as usize];
        let amount = (10 << self.rng.below(9)) * USDT + self.rng.between(0, 10 * USDT);
        let payment_method = self
            .rng
            .chance(20)
            .then(|| methods[self.rng.below(methods.len() as u64) as usize].to_owned());
        self.next_order += 1;
        let id = format!("ord_{}", self.next_order);
        PreparedCycle {
            submit: Command::SubmitOrder(NewOrder {
                id: id.clone(),
                fiat: fiat.into(),
                amount,
                payment_method,
                excluded_acceptors: Vec::new(),
                match_deadline: i64::MAX,
            }),
            id,
            amount,
            finish_roll: self.rng.below(100),
        }
    }

    pub fn prepare_many(&mut self, cycles: usize) -> Vec<PreparedCycle> {
        (0..cycles).map(|_| self.prepare()).collect()
    }

    /// One cycle: submit the order (assigned on the spot in these markets),
    /// then finish the oldest open order: settle it (60 %, a tenth of those
    /// partially) or release it.
    pub fn run(&mut self, engine: &mut Engine, cycle: PreparedCycle) {
        self.events.clear();
        engine
            .apply_into(cycle.submit, 0, &mut self.events)
            .unwrap();
        match self.events.first() {
            Some(Event::Assigned { .. }) => {
                self.assigned += 1;
                self.open.push_back((cycle.id, cycle.amount));
            }
            _ => {
                // Nobody could take it: drop it so queues do not grow.
                self.queued += 1;
                engine
                    .apply_into(Command::Cancel { order: cycle.id }, 0, &mut self.events)
                    .unwrap();
            }
        }
        if self.open.len() > self.window
            && let Some((order, amount)) = self.open.pop_front()
        {
            {
                let command = if cycle.finish_roll < 54 {
                    Command::OrderSettled {
                        order,
                        released_amount: amount,
                    }
                } else if cycle.finish_roll < 60 {
                    Command::OrderSettled {
                        order,
                        released_amount: amount / 2,
                    }
                } else {
                    Command::OrderReleased { order }
                };
                self.events.clear();
                engine.apply_into(command, 0, &mut self.events).unwrap();
            }
        }
    }

    /// Prepares and runs one cycle.
    pub fn cycle(&mut self, engine: &mut Engine) {
        let cycle = self.prepare();
        self.run(engine, cycle);
    }
}
