//! One test per matching rule, through the public API only.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::str::FromStr;

use matching_engine::{
    AcceptorMarketState, AcceptorState, AcceptorStatus, Assignment, Command, Decimal, Engine,
    EngineConfig, EngineError, EngineState, Event, Market, NewOrder, OrderState, Quote,
    UnmatchedReason,
};

const USDT: i64 = 1_000_000;
const T0: i64 = 1_700_000_000_000;

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn config() -> EngineConfig {
    EngineConfig {
        markets: vec![Market::new("CNY", 2), Market::new("JPY", 0)],
        rate_tolerance_bps: 10,
        distinct_fiat_amounts: false,
    }
}

struct Desk {
    engine: Engine,
    now: i64,
    next_order: u32,
}

impl Desk {
    fn new() -> Self {
        Self::with(config())
    }

    fn with(config: EngineConfig) -> Self {
        Self {
            engine: Engine::new(config).unwrap(),
            now: T0,
            next_order: 0,
        }
    }

    fn apply(&mut self, command: Command) -> Vec<Event> {
        self.engine.apply(command, self.now).unwrap()
    }

    /// An online CNY acceptor with `liquidity` USDT quoting `rate`, taking
    /// orders of 1..=10 000 USDT.
    fn acceptor(&mut self, id: &str, rate: &str, liquidity: i64) {
        self.apply(Command::RegisterAcceptor {
            acceptor: id.into(),
        });
        self.apply(Command::SetLiquidity {
            acceptor: id.into(),
            liquidity: liquidity * USDT,
        });
        self.quote(id, "CNY", rate);
        self.apply(Command::SetPresence {
            acceptor: id.into(),
            online: true,
        });
    }

    fn quote(&mut self, id: &str, fiat: &str, rate: &str) -> Vec<Event> {
        self.apply(Command::SetQuote {
            acceptor: id.into(),
            fiat: fiat.into(),
            quote: Quote {
                rate: dec(rate),
                min_amount: USDT,
                max_amount: 10_000 * USDT,
            },
        })
    }

    fn order(&mut self, fiat: &str, amount: i64) -> NewOrder {
        self.next_order += 1;
        NewOrder {
            id: format!("ord_{}", self.next_order),
            fiat: fiat.into(),
            amount,
            payment_method: None,
            excluded_acceptors: vec![],
            match_deadline: self.now + 60_000,
        }
    }

    /// Submits a CNY order of `amount` micro-USDT; returns (order id, events).
    fn submit(&mut self, amount: i64) -> (String, Vec<Event>) {
        let order = self.order("CNY", amount);
        let id = order.id.clone();
        (id, self.apply(Command::SubmitOrder(order)))
    }

    /// Submits and returns who got the order (None when queued).
    fn taker(&mut self, amount: i64) -> Option<String> {
        let (_, events) = self.submit(amount);
        taker(&events)
    }

    fn free(&self, id: &str) -> i64 {
        self.engine.balance(id).unwrap().free()
    }
}

fn taker(events: &[Event]) -> Option<String> {
    match events.first() {
        Some(Event::Assigned { acceptor, .. }) => Some(acceptor.clone()),
        Some(Event::Queued { .. }) => None,
        other => panic!("unexpected answer {other:?}"),
    }
}

fn assigned(order: &str, acceptor: &str, rate: &str, fiat_amount: i64) -> Event {
    Event::Assigned {
        order: order.into(),
        acceptor: acceptor.into(),
        rate: dec(rate),
        fiat_amount,
    }
}

#[test]
fn lowest_rate_wins() {
    let mut desk = Desk::new();
    desk.acceptor("acc_dear", "7.30", 1_000);
    desk.acceptor("acc_cheap", "7.10", 1_000);
    desk.acceptor("acc_mid", "7.20", 1_000);
    for _ in 0..3 {
        assert_eq!(desk.taker(10 * USDT).as_deref(), Some("acc_cheap"));
    }
}

#[test]
fn offline_frozen_and_unquoted_acceptors_get_nothing() {
    let mut desk = Desk::new();
    desk.acceptor("acc_a", "7.10", 1_000);
    desk.acceptor("acc_b", "7.20", 1_000);
    desk.acceptor("acc_c", "7.30", 1_000);
    desk.apply(Command::SetPresence {
        acceptor: "acc_a".into(),
        online: false,
    });
    desk.apply(Command::SetStatus {
        acceptor: "acc_b".into(),
        status: AcceptorStatus::Frozen,
    });
    assert_eq!(desk.taker(10 * USDT).as_deref(), Some("acc_c"));
    desk.apply(Command::RemoveQuote {
        acceptor: "acc_c".into(),
        fiat: "CNY".into(),
    });
    assert_eq!(desk.taker(10 * USDT), None);
    // A quote in another fiat does not count.
    desk.quote("acc_c", "JPY", "150");
    assert_eq!(desk.taker(10 * USDT), None);
}

#[test]
fn quote_bounds_limit_order_sizes() {
    let mut desk = Desk::new();
    desk.acceptor("acc_small", "7.10", 1_000);
    desk.acceptor("acc_big", "7.20", 1_000);
    desk.apply(Command::SetQuote {
        acceptor: "acc_small".into(),
        fiat: "CNY".into(),
        quote: Quote {
            rate: dec("7.10"),
            min_amount: 5 * USDT,
            max_amount: 50 * USDT,
        },
    });
    assert_eq!(desk.taker(4 * USDT).as_deref(), Some("acc_big"));
    assert_eq!(desk.taker(5 * USDT).as_deref(), Some("acc_small"));
    assert_eq!(desk.taker(50 * USDT).as_deref(), Some("acc_small"));
    assert_eq!(desk.taker(50 * USDT + 1).as_deref(), Some("acc_big"));
}

#[test]
fn free_liquidity_must_cover_the_amount() {
    let mut desk = Desk::new();
    desk.acceptor("acc_cheap", "7.10", 100);
    desk.acceptor("acc_rich", "7.20", 10_000);
    assert_eq!(desk.taker(101 * USDT).as_deref(), Some("acc_rich"));
    assert_eq!(desk.taker(60 * USDT).as_deref(), Some("acc_cheap"));
    assert_eq!(desk.free("acc_cheap"), 40 * USDT);
    // Reserved liquidity is not free: 41 no longer fits, 40 does.
    assert_eq!(desk.taker(41 * USDT).as_deref(), Some("acc_rich"));
    assert_eq!(desk.taker(40 * USDT).as_deref(), Some("acc_cheap"));
    assert_eq!(desk.free("acc_cheap"), 0);
}

#[test]
fn concurrency_limit_is_respected() {
    let mut desk = Desk::new();
    desk.acceptor("acc_cheap", "7.10", 1_000);
    desk.acceptor("acc_other", "7.50", 1_000);
    desk.apply(Command::SetMaxConcurrentOrders {
        acceptor: "acc_cheap".into(),
        max: 2,
    });
    assert_eq!(desk.taker(USDT).as_deref(), Some("acc_cheap"));
    assert_eq!(desk.taker(USDT).as_deref(), Some("acc_cheap"));
    assert_eq!(desk.taker(USDT).as_deref(), Some("acc_other"));
    assert_eq!(desk.engine.balance("acc_cheap").unwrap().open_orders, 2);
}

#[test]
fn asked_payment_method_must_be_offered() {
    let mut desk = Desk::new();
    desk.acceptor("acc_a", "7.10", 1_000);
    desk.acceptor("acc_b", "7.20", 1_000);
    desk.acceptor("acc_c", "7.30", 1_000);
    let methods = |acceptor: &str, list: &[&str]| Command::SetPaymentMethods {
        acceptor: acceptor.into(),
        fiat: "CNY".into(),
        methods: list.iter().map(|m| (*m).to_owned()).collect(),
    };
    desk.apply(methods("acc_a", &["bank_transfer"]));
    desk.apply(methods("acc_b", &["alipay", "wechat_pay", "bank_transfer"]));
    // Methods beyond the indexed slots are matched by name.
    desk.apply(methods("acc_c", &["card", "cash", "alipay"]));
    let ask = |desk: &mut Desk, method: Option<&str>| {
        let mut order = desk.order("CNY", 10 * USDT);
        order.payment_method = method.map(str::to_owned);
        let events = desk.apply(Command::SubmitOrder(order));
        taker(&events)
    };
    assert_eq!(ask(&mut desk, None).as_deref(), Some("acc_a"));
    assert_eq!(
        ask(&mut desk, Some("bank_transfer")).as_deref(),
        Some("acc_a")
    );
    assert_eq!(ask(&mut desk, Some("alipay")).as_deref(), Some("acc_b"));
    assert_eq!(ask(&mut desk, Some("cash")).as_deref(), Some("acc_c"));
    assert_eq!(ask(&mut desk, Some("card")).as_deref(), Some("acc_c"));
    assert_eq!(ask(&mut desk, Some("paypal")), None);
}

#[test]
fn excluded_acceptors_are_skipped() {
    let mut desk = Desk::new();
    desk.acceptor("acc_a", "7.10", 1_000);
    desk.acceptor("acc_b", "7.20", 1_000);
    let mut order = desk.order("CNY", 10 * USDT);
    order.excluded_acceptors = vec!["acc_a".into()];
    let events = desk.apply(Command::SubmitOrder(order));
    assert_eq!(taker(&events).as_deref(), Some("acc_b"));
}

#[test]
fn rates_within_tolerance_are_served_round_robin() {
    let mut desk = Desk::new();
    // 7.2000 and 7.2030 are 4 bp apart; both sit in one 10 bp band.
    desk.acceptor("acc_a", "7.2030", 1_000);
    desk.acceptor("acc_b", "7.2000", 1_000);
    desk.acceptor("acc_c", "7.2010", 1_000);
    // Outside the band: never served while the band can take orders.
    desk.acceptor("acc_far", "7.30", 1_000);
    let takers: Vec<String> = (0..6).map(|_| desk.taker(USDT).unwrap()).collect();
    // Never assigned before: equal turns and scores, so by id; then in turn.
    assert_eq!(
        takers,
        ["acc_a", "acc_b", "acc_c", "acc_a", "acc_b", "acc_c"]
    );
}

#[test]
fn round_robin_skips_those_who_cannot_take_the_order() {
    let mut desk = Desk::new();
    desk.acceptor("acc_a", "7.20", 1_000);
    desk.acceptor("acc_b", "7.20", 20);
    desk.acceptor("acc_c", "7.20", 1_000);
    assert_eq!(desk.taker(USDT).as_deref(), Some("acc_a"));
    // acc_b's turn, but it cannot cover 50 USDT: acc_c takes it.
    assert_eq!(desk.taker(50 * USDT).as_deref(), Some("acc_c"));
    // acc_b has now waited longest.
    assert_eq!(desk.taker(USDT).as_deref(), Some("acc_b"));
    assert_eq!(desk.taker(USDT).as_deref(), Some("acc_a"));
}

#[test]
fn zero_tolerance_ranks_every_rate_on_its_own() {
    let mut desk = Desk::with(EngineConfig {
        rate_tolerance_bps: 0,
        ..config()
    });
    desk.acceptor("acc_a", "7.2001", 1_000);
    desk.acceptor("acc_b", "7.2000", 1_000);
    for _ in 0..3 {
        assert_eq!(desk.taker(USDT).as_deref(), Some("acc_b"));
    }
}

#[test]
fn completion_score_then_id_break_round_robin_ties() {
    let mut desk = Desk::new();
    desk.acceptor("acc_a", "7.20", 1_000);
    desk.acceptor("acc_b", "7.20", 1_000);
    desk.acceptor("acc_c", "7.20", 1_000);
    desk.apply(Command::SetCompletionScore {
        acceptor: "acc_c".into(),
        score: 9_500,
    });
    desk.apply(Command::SetCompletionScore {
        acceptor: "acc_b".into(),
        score: 9_000,
    });
    let takers: Vec<String> = (0..4).map(|_| desk.taker(USDT).unwrap()).collect();
    assert_eq!(takers, ["acc_c", "acc_b", "acc_a", "acc_c"]);
}

#[test]
fn fiat_amount_is_rounded_half_up_in_minor_units() {
    let mut desk = Desk::new();
    desk.acceptor("acc_a", "7.25", 1_000);
    desk.quote("acc_a", "JPY", "150.5");
    desk.apply(Command::SetQuote {
        acceptor: "acc_a".into(),
        fiat: "CNY".into(),
        quote: Quote {
            rate: dec("7.25"),
            min_amount: 1,
            max_amount: 1_000 * USDT,
        },
    });
    // 123.456789 USDT × 7.25 = 895.0617… CNY → 895.06
    let (id, events) = desk.submit(123_456_789);
    assert_eq!(events, vec![assigned(&id, "acc_a", "7.25", 89_506)]);
    // 0.002 USDT × 7.25 = 0.0145 → 0.01; 0.003 × 7.25 = 0.02175 → 0.02
    let (id, events) = desk.submit(2_000);
    assert_eq!(events, vec![assigned(&id, "acc_a", "7.25", 1)]);
    // 1 USDT × 150.5 JPY = 150.5 → 151 (half up at scale 0)
    let order = desk.order("JPY", USDT);
    let id = order.id.clone();
    let events = desk.apply(Command::SubmitOrder(order));
    assert_eq!(events, vec![assigned(&id, "acc_a", "150.5", 151)]);
}

#[test]
fn release_returns_the_reservation() {
    let mut desk = Desk::new();
    desk.acceptor("acc_a", "7.20", 100);
    let (id, _) = desk.submit(30 * USDT);
    assert_eq!(desk.free("acc_a"), 70 * USDT);
    let events = desk.apply(Command::OrderReleased { order: id.clone() });
    assert_eq!(
        events,
        vec![Event::Released {
            order: id.clone(),
            acceptor: "acc_a".into(),
            amount: 30 * USDT
        }]
    );
    let balance = desk.engine.balance("acc_a").unwrap();
    assert_eq!(
        (balance.liquidity, balance.reserved, balance.open_orders),
        (100 * USDT, 0, 0)
    );
    // The order has left the engine.
    assert_eq!(
        desk.engine
            .apply(Command::OrderReleased { order: id.clone() }, desk.now),
        Err(EngineError::UnknownOrder(id))
    );
}

#[test]
fn settlement_consumes_the_released_amount_and_frees_the_rest() {
    let mut desk = Desk::new();
    desk.acceptor("acc_a", "7.20", 100);
    let (full, _) = desk.submit(30 * USDT);
    let (partial, _) = desk.submit(20 * USDT);
    let events = desk.apply(Command::OrderSettled {
        order: full.clone(),
        released_amount: 30 * USDT,
    });
    assert_eq!(
        events,
        vec![Event::Settled {
            order: full,
            acceptor: "acc_a".into(),
            consumed: 30 * USDT,
            returned: 0
        }]
    );
    let events = desk.apply(Command::OrderSettled {
        order: partial.clone(),
        released_amount: 5 * USDT,
    });
    assert_eq!(
        events,
        vec![Event::Settled {
            order: partial,
            acceptor: "acc_a".into(),
            consumed: 5 * USDT,
            returned: 15 * USDT
        }]
    );
    let balance = desk.engine.balance("acc_a").unwrap();
    assert_eq!((balance.liquidity, balance.reserved), (65 * USDT, 0));
}

#[test]
fn reject_requeues_with_the_acceptor_excluded() {
    let mut desk = Desk::new();
    desk.acceptor("acc_a", "7.10", 100);
    desk.acceptor("acc_b", "7.20", 100);
    let (id, _) = desk.submit(10 * USDT);
    let events = desk.apply(Command::Reject {
        order: id.clone(),
        acceptor: "acc_a".into(),
    });
    assert_eq!(
        events,
        vec![
            Event::Requeued {
                order: id.clone(),
                rejected_by: "acc_a".into()
            },
            assigned(&id, "acc_b", "7.20", 7_200),
        ]
    );
    assert_eq!(desk.free("acc_a"), 100 * USDT);
    // Rejecting again leaves it waiting: acc_a is excluded for good.
    let events = desk.apply(Command::Reject {
        order: id.clone(),
        acceptor: "acc_b".into(),
    });
    assert_eq!(
        events,
        vec![Event::Requeued {
            order: id.clone(),
            rejected_by: "acc_b".into()
        }]
    );
    assert_eq!(desk.engine.queued_orders("CNY"), Some(1));
    // A newcomer picks it up.
    desk.acceptor("acc_c", "7.50", 100);
    let order = desk.engine.snapshot().orders.remove(0);
    assert_eq!(order.assignment.unwrap().acceptor, "acc_c");
    assert_eq!(order.order.excluded_acceptors, ["acc_a", "acc_b"]);
}

#[test]
fn going_offline_keeps_assigned_orders() {
    let mut desk = Desk::new();
    desk.acceptor("acc_a", "7.10", 100);
    desk.acceptor("acc_b", "7.20", 100);
    let (id, _) = desk.submit(10 * USDT);
    desk.apply(Command::SetPresence {
        acceptor: "acc_a".into(),
        online: false,
    });
    assert_eq!(desk.taker(10 * USDT).as_deref(), Some("acc_b"));
    assert_eq!(desk.engine.balance("acc_a").unwrap().reserved, 10 * USDT);
    let events = desk.apply(Command::OrderSettled {
        order: id,
        released_amount: 10 * USDT,
    });
    assert!(matches!(events[..], [Event::Settled { .. }]));
}

#[test]
fn waiting_orders_are_assigned_oldest_first_when_liquidity_arrives() {
    let mut desk = Desk::new();
    desk.acceptor("acc_a", "7.20", 0);
    let (first, events) = desk.submit(30 * USDT);
    assert_eq!(
        events,
        vec![Event::Queued {
            order: first.clone()
        }]
    );
    let (second, _) = desk.submit(10 * USDT);
    let (third, _) = desk.submit(20 * USDT);
    assert_eq!(desk.engine.queued_orders("CNY"), Some(3));
    // 35 USDT: the oldest (30) fits, the second (10) no longer does, the
    // third (20) neither; order of arrival decides, not size.
    let events = desk.apply(Command::AdjustLiquidity {
        acceptor: "acc_a".into(),
        delta: 35 * USDT,
    });
    assert_eq!(events, vec![assigned(&first, "acc_a", "7.20", 21_600)]);
    // 5 more: the second now fits.
    let events = desk.apply(Command::AdjustLiquidity {
        acceptor: "acc_a".into(),
        delta: 5 * USDT,
    });
    assert_eq!(events, vec![assigned(&second, "acc_a", "7.20", 7_200)]);
    // Settling frees liquidity for the last one.
    let events = desk.apply(Command::OrderSettled {
        order: first.clone(),
        released_amount: 10 * USDT,
    });
    assert_eq!(events.len(), 2);
    assert_eq!(events[1], assigned(&third, "acc_a", "7.20", 14_400));
    assert_eq!(desk.engine.queued_orders("CNY"), Some(0));
}

#[test]
fn waiting_orders_retry_on_every_kind_of_acceptor_change() {
    let mut desk = Desk::new();
    desk.acceptor("acc_a", "7.20", 100);
    let changes: Vec<(Command, Command)> = vec![
        (
            Command::SetPresence {
                acceptor: "acc_a".into(),
                online: false,
            },
            Command::SetPresence {
                acceptor: "acc_a".into(),
                online: true,
            },
        ),
        (
            Command::SetStatus {
                acceptor: "acc_a".into(),
                status: AcceptorStatus::Frozen,
            },
            Command::SetStatus {
                acceptor: "acc_a".into(),
                status: AcceptorStatus::Active,
            },
        ),
        (
            Command::RemoveQuote {
                acceptor: "acc_a".into(),
                fiat: "CNY".into(),
            },
            Command::SetQuote {
                acceptor: "acc_a".into(),
                fiat: "CNY".into(),
                quote: Quote {
                    rate: dec("7.20"),
                    min_amount: 1,
                    max_amount: 1_000 * USDT,
                },
            },
        ),
        (
            Command::SetMaxConcurrentOrders {
                acceptor: "acc_a".into(),
                max: 0,
            },
            Command::SetMaxConcurrentOrders {
                acceptor: "acc_a".into(),
                max: 10,
            },
        ),
    ];
    for (block, unblock) in changes {
        assert_eq!(desk.apply(block.clone()), vec![], "{block:?}");
        let (id, events) = desk.submit(USDT);
        assert_eq!(
            events,
            vec![Event::Queued { order: id.clone() }],
            "{block:?}"
        );
        let events = desk.apply(unblock.clone());
        assert_eq!(
            events,
            vec![assigned(&id, "acc_a", "7.20", 720)],
            "{unblock:?}"
        );
    }
    // Payment methods.
    let mut order = desk.order("CNY", USDT);
    order.payment_method = Some("alipay".into());
    let id = order.id.clone();
    assert_eq!(
        desk.apply(Command::SubmitOrder(order)),
        vec![Event::Queued { order: id.clone() }]
    );
    let events = desk.apply(Command::SetPaymentMethods {
        acceptor: "acc_a".into(),
        fiat: "CNY".into(),
        methods: vec!["alipay".into()],
    });
    assert_eq!(events, vec![assigned(&id, "acc_a", "7.20", 720)]);
}

#[test]
fn tick_gives_up_waiting_orders_at_their_deadline() {
    let mut desk = Desk::new();
    let mut early = desk.order("CNY", USDT);
    early.match_deadline = T0 + 1_000;
    let mut late = desk.order("CNY", USDT);
    late.match_deadline = T0 + 5_000;
    let (early_id, late_id) = (early.id.clone(), late.id.clone());
    desk.apply(Command::SubmitOrder(late));
    desk.apply(Command::SubmitOrder(early));
    assert_eq!(desk.engine.apply(Command::Tick, T0 + 999).unwrap(), vec![]);
    assert_eq!(
        desk.engine.apply(Command::Tick, T0 + 1_000).unwrap(),
        vec![Event::Unmatched {
            order: early_id,
            reason: UnmatchedReason::NoAcceptor
        }]
    );
    assert_eq!(
        desk.engine.apply(Command::Tick, T0 + 60_000).unwrap(),
        vec![Event::Unmatched {
            order: late_id,
            reason: UnmatchedReason::NoAcceptor
        }]
    );
    assert_eq!(desk.engine.queued_orders("CNY"), Some(0));
}

#[test]
fn cancel_drops_waiting_orders_and_releases_assigned_ones() {
    let mut desk = Desk::new();
    desk.acceptor("acc_a", "7.20", 10);
    let (held, _) = desk.submit(10 * USDT);
    let (waiting, events) = desk.submit(10 * USDT);
    assert_eq!(
        events,
        vec![Event::Queued {
            order: waiting.clone()
        }]
    );
    assert_eq!(
        desk.apply(Command::Cancel {
            order: waiting.clone()
        }),
        vec![Event::Cancelled { order: waiting }]
    );
    assert_eq!(
        desk.apply(Command::Cancel {
            order: held.clone()
        }),
        vec![Event::Released {
            order: held,
            acceptor: "acc_a".into(),
            amount: 10 * USDT
        }]
    );
    assert_eq!(desk.free("acc_a"), 10 * USDT);
}

#[test]
fn distinct_amounts_nudge_by_minor_units_per_acceptor() {
    let mut desk = Desk::with(EngineConfig {
        distinct_fiat_amounts: true,
        ..config()
    });
    desk.acceptor("acc_a", "7.20", 1_000);
    let amounts: Vec<i64> = (0..3)
        .map(|_| match &desk.submit(100 * USDT).1[0] {
            Event::Assigned { fiat_amount, .. } => *fiat_amount,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(amounts, [72_000, 72_001, 72_002]);
    // Once the first is finished, its amount is free again.
    desk.apply(Command::OrderReleased {
        order: "ord_1".into(),
    });
    let (id, events) = desk.submit(100 * USDT);
    assert_eq!(events, vec![assigned(&id, "acc_a", "7.20", 72_000)]);
    // Other acceptors are not affected.
    desk.acceptor("acc_b", "7.20", 1_000);
    desk.apply(Command::SetPresence {
        acceptor: "acc_a".into(),
        online: false,
    });
    let (id, events) = desk.submit(100 * USDT);
    assert_eq!(events, vec![assigned(&id, "acc_b", "7.20", 72_000)]);
}

#[test]
fn liquidity_is_shared_across_markets_and_retries_go_oldest_first() {
    let mut desk = Desk::new();
    desk.acceptor("acc_a", "7.20", 0);
    desk.quote("acc_a", "JPY", "150");
    let (cny, _) = desk.submit(10 * USDT);
    let jpy = desk.order("JPY", 10 * USDT);
    let jpy_id = jpy.id.clone();
    desk.apply(Command::SubmitOrder(jpy));
    let events = desk.apply(Command::SetLiquidity {
        acceptor: "acc_a".into(),
        liquidity: 15 * USDT,
    });
    assert_eq!(events, vec![assigned(&cny, "acc_a", "7.20", 7_200)]);
    let events = desk.apply(Command::AdjustLiquidity {
        acceptor: "acc_a".into(),
        delta: 5 * USDT,
    });
    assert_eq!(events, vec![assigned(&jpy_id, "acc_a", "150", 1_500)]);
}

#[test]
fn refused_commands_change_nothing() {
    let mut desk = Desk::new();
    desk.acceptor("acc_a", "7.20", 100);
    desk.acceptor("acc_b", "7.30", 100);
    let (id, _) = desk.submit(60 * USDT);
    let (waiting, _) = desk.submit(200 * USDT);
    let before = desk.engine.snapshot();
    let quote = |rate: &str, min_amount, max_amount| Command::SetQuote {
        acceptor: "acc_a".into(),
        fiat: "CNY".into(),
        quote: Quote {
            rate: dec(rate),
            min_amount,
            max_amount,
        },
    };
    let cases: Vec<(Command, EngineError)> = vec![
        (
            Command::RegisterAcceptor {
                acceptor: "acc_a".into(),
            },
            EngineError::DuplicateAcceptor("acc_a".into()),
        ),
        (
            Command::SetPresence {
                acceptor: "nobody".into(),
                online: true,
            },
            EngineError::UnknownAcceptor("nobody".into()),
        ),
        (
            Command::SetQuote {
                acceptor: "acc_a".into(),
                fiat: "XXX".into(),
                quote: Quote {
                    rate: dec("1"),
                    min_amount: 1,
                    max_amount: 1,
                },
            },
            EngineError::UnknownFiat("XXX".into()),
        ),
        (quote("0", 1, 1), EngineError::InvalidRate("0".into())),
        (quote("-7.2", 1, 1), EngineError::InvalidRate("-7.2".into())),
        (
            quote("7.123456789", 1, 1),
            EngineError::InvalidRate("7.123456789".into()),
        ),
        (
            quote("7.2", 5, 4),
            EngineError::InvalidQuoteBounds {
                min_amount: 5,
                max_amount: 4,
            },
        ),
        (
            quote("7.2", 0, 4),
            EngineError::InvalidQuoteBounds {
                min_amount: 0,
                max_amount: 4,
            },
        ),
        (
            Command::SetLiquidity {
                acceptor: "acc_a".into(),
                liquidity: 59 * USDT,
            },
            EngineError::LiquidityBelowReserved {
                acceptor: "acc_a".into(),
                liquidity: 59 * USDT,
                reserved: 60 * USDT,
            },
        ),
        (
            Command::AdjustLiquidity {
                acceptor: "acc_a".into(),
                delta: i64::MAX,
            },
            EngineError::LiquidityOverflow {
                acceptor: "acc_a".into(),
            },
        ),
        (
            Command::SubmitOrder(NewOrder {
                id: id.clone(),
                ..desk.order("CNY", USDT)
            }),
            EngineError::DuplicateOrder(id.clone()),
        ),
        (
            Command::SubmitOrder(NewOrder {
                id: "ord_new".into(),
                ..desk.order("CNY", 0)
            }),
            EngineError::InvalidAmount {
                order: "ord_new".into(),
                amount: 0,
            },
        ),
        (
            Command::SubmitOrder(NewOrder {
                id: "ord_new".into(),
                excluded_acceptors: vec!["nobody".into()],
                ..desk.order("CNY", USDT)
            }),
            EngineError::UnknownAcceptor("nobody".into()),
        ),
        (
            Command::Cancel {
                order: "ord_404".into(),
            },
            EngineError::UnknownOrder("ord_404".into()),
        ),
        (
            Command::OrderReleased {
                order: waiting.clone(),
            },
            EngineError::NotAssigned(waiting.clone()),
        ),
        (
            Command::Reject {
                order: id.clone(),
                acceptor: "acc_b".into(),
            },
            EngineError::NotAssignedTo {
                order: id.clone(),
                acceptor: "acc_b".into(),
            },
        ),
        (
            Command::OrderSettled {
                order: id.clone(),
                released_amount: 60 * USDT + 1,
            },
            EngineError::InvalidReleasedAmount {
                order: id.clone(),
                released_amount: 60 * USDT + 1,
            },
        ),
        (
            Command::OrderSettled {
                order: id.clone(),
                released_amount: 0,
            },
            EngineError::InvalidReleasedAmount {
                order: id.clone(),
                released_amount: 0,
            },
        ),
    ];
    for (command, error) in cases {
        assert_eq!(
            desk.engine.apply(command.clone(), desk.now),
            Err(error),
            "{command:?}"
        );
        assert_eq!(desk.engine.snapshot(), before, "{command:?} changed state");
    }
    desk.engine.check_invariants().unwrap();
}

#[test]
fn invalid_configs_are_refused() {
    let bad = [
        EngineConfig::new(vec![Market::new("CNY", 2), Market::new("CNY", 0)]),
        EngineConfig::new(vec![Market::new("", 2)]),
        EngineConfig::new(vec![Market::new("XAU", 4)]),
        EngineConfig {
            rate_tolerance_bps: 10_001,
            ..config()
        },
    ];
    for config in bad {
        assert!(matches!(
            Engine::new(config),
            Err(EngineError::InvalidConfig(_))
        ));
    }
}

#[test]
fn snapshot_restores_an_identical_engine() {
    let mut desk = Desk::with(EngineConfig {
        distinct_fiat_amounts: true,
        ..config()
    });
    desk.acceptor("acc_a", "7.20", 100);
    desk.acceptor("acc_b", "7.20", 100);
    desk.submit(10 * USDT);
    desk.submit(10 * USDT);
    desk.submit(500 * USDT);
    let (mut restored, events) =
        Engine::restore(config_distinct(), desk.engine.snapshot()).unwrap();
    assert_eq!(events, vec![]);
    assert_eq!(restored.snapshot(), desk.engine.snapshot());
    // Both continue identically: round-robin turns and amounts included.
    for amount in [10 * USDT, 10 * USDT, 10 * USDT] {
        let order = desk.order("CNY", amount);
        let a = desk
            .engine
            .apply(Command::SubmitOrder(order.clone()), desk.now);
        let b = restored.apply(Command::SubmitOrder(order), desk.now);
        assert_eq!(a, b);
    }
}

fn config_distinct() -> EngineConfig {
    EngineConfig {
        distinct_fiat_amounts: true,
        ..config()
    }
}

#[test]
fn restore_from_database_rows_assigns_what_can_be_assigned() {
    let acceptor = |id: &str, liquidity: i64, last_assigned: u64| AcceptorState {
        id: id.into(),
        online: true,
        status: AcceptorStatus::Active,
        liquidity,
        max_concurrent_orders: 5,
        completion_score: 0,
        markets: vec![AcceptorMarketState {
            fiat: "CNY".into(),
            quote: Some(Quote {
                rate: dec("7.20"),
                min_amount: 1,
                max_amount: 1_000 * USDT,
            }),
            payment_methods: vec!["bank_transfer".into()],
            last_assigned,
        }],
    };
    let order = |id: &str, amount: i64, assignment: Option<Assignment>| OrderState {
        order: NewOrder {
            id: id.into(),
            fiat: "CNY".into(),
            amount,
            payment_method: None,
            excluded_acceptors: vec![],
            match_deadline: T0 + 60_000,
        },
        assignment,
    };
    let state = EngineState {
        // acc_b was assigned longer ago (by Unix ms), so it has the next turn.
        acceptors: vec![
            acceptor("acc_a", 50 * USDT, T0 as u64),
            acceptor("acc_b", 50 * USDT, T0 as u64 - 10_000),
        ],
        orders: vec![
            order(
                "ord_held",
                40 * USDT,
                Some(Assignment {
                    acceptor: "acc_a".into(),
                    rate: dec("7.10"),
                    fiat_amount: 28_400,
                }),
            ),
            order("ord_waiting", 20 * USDT, None),
            order("ord_too_big", 60 * USDT, None),
        ],
    };
    let (engine, events) = Engine::restore(config(), state).unwrap();
    assert_eq!(
        events,
        vec![assigned("ord_waiting", "acc_b", "7.20", 14_400)]
    );
    assert_eq!(engine.balance("acc_a").unwrap().reserved, 40 * USDT);
    assert_eq!(engine.queued_orders("CNY"), Some(1));
    engine.check_invariants().unwrap();

    // An over-reserved acceptor is refused.
    let mut broken = engine.snapshot();
    broken.acceptors[0].liquidity = 10 * USDT;
    assert!(matches!(
        Engine::restore(config(), broken),
        Err(EngineError::LiquidityBelowReserved { .. })
    ));
}
