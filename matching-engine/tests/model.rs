//! Model-based test: random command sequences go to the engine and to a
//! plain reference implementation; both must answer every command with the
//! same result, and the engine's invariants must hold after every step.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "model/reference.rs"]
mod reference;

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

use matching_engine::{
    AcceptorStatus, Command, Decimal, Engine, EngineConfig, Event, Market, NewOrder, Quote,
};
use proptest::prelude::*;
use reference::Reference;

const ORDERS: usize = 14;
/// Five methods for three slots: the last ones exercise the by-name path.
const METHODS: [&str; 5] = ["bank_transfer", "alipay", "wechat_pay", "card", "cash"];
/// Not a configured market.
const UNKNOWN_FIAT: &str = "XXX";
const MILLION: i64 = 1_000_000;

#[derive(Debug, Clone)]
enum Step {
    Apply(Command),
    /// Advances the clock by this many ms.
    Wait(i64),
    /// Replaces the engine with one restored from its own snapshot.
    SnapshotRestore,
}

fn acceptor_id(i: usize) -> String {
    format!("acc_{i:02}")
}

/// One of the first `pool` acceptor ids (registered or not).
fn acceptor(pool: usize) -> impl Strategy<Value = String> {
    (0..pool).prop_map(acceptor_id)
}

fn order_id() -> impl Strategy<Value = String> {
    (0..ORDERS).prop_map(|i| format!("ord_{i}"))
}

fn fiat() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => Just("CNY".to_owned()),
        6 => Just("JPY".to_owned()),
        1 => Just(UNKNOWN_FIAT.to_owned()),
    ]
}

fn rate() -> impl Strategy<Value = Decimal> {
    // Clustered rates so tolerance bands collide, a few invalid ones.
    prop_oneof![
        20 => prop::sample::select(&["7.2", "7.2001", "7.2049", "7.21", "7.3", "151", "151.1", "150.95"][..]),
        1 => prop::sample::select(&["0", "-1", "7.123456789", "10000000.1"][..]),
    ]
    .prop_map(|s| Decimal::from_str(s).unwrap())
}

fn amount() -> impl Strategy<Value = i64> {
    (
        1_i64..=40,
        prop::sample::select(&[0_i64, 1, 499_999, 500_000, 999_999][..]),
    )
        .prop_map(|(whole, part)| whole * MILLION + part)
}

fn quote() -> impl Strategy<Value = Quote> {
    (
        rate(),
        prop::sample::select(&[1, MILLION, 5 * MILLION, 20 * MILLION][..]),
        prop::sample::select(&[10 * MILLION, 30 * MILLION, 1_000 * MILLION, 1_000 * MILLION][..]),
    )
        .prop_map(|(rate, min_amount, max_amount)| Quote {
            rate,
            min_amount,
            max_amount,
        })
}

fn command(pool: usize) -> impl Strategy<Value = Command> {
    prop_oneof![
        1 => acceptor(pool).prop_map(|acceptor| Command::RegisterAcceptor { acceptor }),
        4 => (acceptor(pool), prop::bool::weighted(0.8))
            .prop_map(|(acceptor, online)| Command::SetPresence { acceptor, online }),
        1 => (acceptor(pool), prop::bool::weighted(0.8)).prop_map(|(acceptor, active)| {
            Command::SetStatus {
                acceptor,
                status: if active { AcceptorStatus::Active } else { AcceptorStatus::Frozen },
            }
        }),
        5 => (acceptor(pool), fiat(), quote())
            .prop_map(|(acceptor, fiat, quote)| Command::SetQuote { acceptor, fiat, quote }),
        1 => (acceptor(pool), fiat()).prop_map(|(acceptor, fiat)| Command::RemoveQuote { acceptor, fiat }),
        2 => (acceptor(pool), fiat(), prop::sample::subsequence(&METHODS[..], 0..=3)).prop_map(
            |(acceptor, fiat, methods)| Command::SetPaymentMethods {
                acceptor,
                fiat,
                methods: methods.into_iter().map(str::to_owned).collect(),
            }
        ),
        2 => (acceptor(pool), 0_u32..=3)
            .prop_map(|(acceptor, max)| Command::SetMaxConcurrentOrders { acceptor, max }),
        1 => (acceptor(pool), 0_u32..=2)
            .prop_map(|(acceptor, score)| Command::SetCompletionScore { acceptor, score }),
        3 => (acceptor(pool), 0_i64..=120).prop_map(|(acceptor, whole)| Command::SetLiquidity {
            acceptor,
            liquidity: whole * MILLION,
        }),
        2 => (acceptor(pool), -40_i64..=40).prop_map(|(acceptor, whole)| Command::AdjustLiquidity {
            acceptor,
            delta: whole * MILLION,
        }),
        10 => (
            order_id(),
            fiat(),
            amount(),
            prop::option::weighted(0.3, prop::sample::select(&METHODS[..])),
            prop::collection::vec(acceptor(pool), 0..=1),
            0_i64..=6_000,
        )
            .prop_map(|(id, fiat, amount, method, excluded, deadline)| {
                Command::SubmitOrder(NewOrder {
                    id,
                    fiat,
                    amount,
                    payment_method: method.map(str::to_owned),
                    excluded_acceptors: excluded,
                    // Relative: made absolute against the clock when applied.
                    match_deadline: deadline,
                })
            }),
        2 => order_id().prop_map(|order| Command::Cancel { order }),
        3 => (order_id(), acceptor(pool)).prop_map(|(order, acceptor)| Command::Reject { order, acceptor }),
        3 => order_id().prop_map(|order| Command::OrderReleased { order }),
        5 => (order_id(), prop::sample::select(&[MILLION, 3 * MILLION, 40 * MILLION][..]))
            .prop_map(|(order, released_amount)| Command::OrderSettled { order, released_amount }),
        3 => Just(Command::Tick),
    ]
}

fn step(pool: usize) -> impl Strategy<Value = Step> {
    prop_oneof![
        30 => command(pool).prop_map(Step::Apply),
        4 => (0_i64..=2_500).prop_map(Step::Wait),
        1 => Just(Step::SnapshotRestore),
    ]
}

fn config() -> impl Strategy<Value = EngineConfig> {
    (prop::sample::select(&[0_u32, 10, 100][..]), any::<bool>()).prop_map(
        |(rate_tolerance_bps, distinct_fiat_amounts)| EngineConfig {
            markets: vec![Market::new("CNY", 2), Market::new("JPY", 0)],
            rate_tolerance_bps,
            distinct_fiat_amounts,
        },
    )
}

/// Where the test believes each order is, from the events alone.
#[derive(Debug, Default)]
struct Ledger {
    waiting: BTreeSet<String>,
    /// order → (acceptor, fiat, fiat amount)
    assigned: BTreeMap<String, (String, String, i64)>,
    fiat_of: BTreeMap<String, String>,
    /// Σ liquidity set or adjusted − Σ consumed by settlements.
    expected_liquidity: BTreeMap<String, i64>,
}

impl Ledger {
    fn follow(&mut self, command: &Command, events: &[Event]) {
        match command {
            Command::SubmitOrder(order) => {
                // Every accepted order is answered: assigned or queued first.
                match events.first() {
                    Some(Event::Assigned { order: id, .. }) | Some(Event::Queued { order: id }) => {
                        assert_eq!(id, &order.id, "first event is not about the new order");
                    }
                    other => panic!("submit answered with {other:?}"),
                }
                self.waiting.insert(order.id.clone());
                self.fiat_of.insert(order.id.clone(), order.fiat.clone());
            }
            Command::SetLiquidity {
                acceptor,
                liquidity,
            } => {
                self.expected_liquidity.insert(acceptor.clone(), *liquidity);
            }
            Command::AdjustLiquidity { acceptor, delta } => {
                *self.expected_liquidity.entry(acceptor.clone()).or_insert(0) += delta;
            }
            _ => {}
        }
        for event in events {
            match event {
                Event::Assigned {
                    order,
                    acceptor,
                    fiat_amount,
                    ..
                } => {
                    assert!(
                        self.waiting.remove(order),
                        "{order} assigned while not waiting"
                    );
                    let fiat = self.fiat_of[order].clone();
                    let previous = self
                        .assigned
                        .insert(order.clone(), (acceptor.clone(), fiat, *fiat_amount));
                    assert!(previous.is_none(), "{order} assigned twice");
                }
                Event::Queued { order } => assert!(self.waiting.contains(order)),
                Event::Requeued { order, rejected_by } => {
                    let (holder, ..) = self.assigned.remove(order).expect("requeued unassigned");
                    assert_eq!(&holder, rejected_by);
                    self.waiting.insert(order.clone());
                }
                Event::Unmatched { order, .. } | Event::Cancelled { order } => {
                    assert!(self.waiting.remove(order), "{order} left while not waiting");
                }
                Event::Released {
                    order, acceptor, ..
                } => {
                    let (holder, ..) = self.assigned.remove(order).expect("released unassigned");
                    assert_eq!(&holder, acceptor);
                }
                Event::Settled {
                    order,
                    acceptor,
                    consumed,
                    ..
                } => {
                    let (holder, ..) = self.assigned.remove(order).expect("settled unassigned");
                    assert_eq!(&holder, acceptor);
                    *self.expected_liquidity.get_mut(acceptor).unwrap() -= consumed;
                }
            }
        }
    }

    fn check(&self, engine: &Engine, reference: &Reference, distinct: bool) {
        engine.check_invariants().unwrap();
        // Every open order is either waiting or assigned, as the events said.
        let open = reference.open_orders();
        let waiting: BTreeSet<String> = open
            .iter()
            .filter(|(_, a)| a.is_none())
            .map(|(id, _)| id.clone())
            .collect();
        assert_eq!(waiting, self.waiting);
        let assigned: BTreeSet<&String> = open
            .iter()
            .filter(|(_, a)| a.is_some())
            .map(|(id, _)| id)
            .collect();
        assert_eq!(assigned, self.assigned.keys().collect());
        let snapshot = engine.snapshot();
        assert_eq!(snapshot.orders.len(), open.len());
        for state in &snapshot.orders {
            let expected = &open[&state.order.id];
            let actual = state
                .assignment
                .as_ref()
                .map(|a| (a.acceptor.clone(), a.rate, a.fiat_amount));
            assert_eq!(&actual, expected, "order {}", state.order.id);
        }
        for id in reference.acceptor_ids() {
            let balance = engine.balance(&id).unwrap();
            let (liquidity, reserved, open_orders) = reference.balance(&id);
            assert_eq!(
                (balance.liquidity, balance.reserved, balance.open_orders),
                (liquidity, reserved, open_orders),
                "balance of {id}"
            );
            assert!(0 <= balance.reserved && balance.reserved <= balance.liquidity);
            // Liquidity only moves by explicit commands and settlements.
            assert_eq!(
                balance.liquidity,
                self.expected_liquidity.get(&id).copied().unwrap_or(0),
                "liquidity of {id} not conserved"
            );
        }
        if distinct {
            let mut seen = BTreeSet::new();
            for (acceptor, fiat, fiat_amount) in self.assigned.values() {
                assert!(
                    seen.insert((acceptor, fiat, fiat_amount)),
                    "{acceptor} holds two {fiat} orders of {fiat_amount}"
                );
            }
        }
    }
}

/// Runs `steps` after registering `listed` acceptors with liquidity, a CNY
/// quote and presence.
fn run(config: EngineConfig, listed: usize, steps: Vec<Step>) {
    let mut engine = Engine::new(config.clone()).unwrap();
    let mut reference = Reference::new(&config);
    let mut ledger = Ledger::default();
    let mut now = 1_700_000_000_000_i64;
    let rates = ["7.2", "7.2001", "7.2049", "7.21", "7.3"];
    let prelude = (0..listed).flat_map(|i| {
        let acceptor = acceptor_id(i);
        [
            Command::RegisterAcceptor {
                acceptor: acceptor.clone(),
            },
            Command::SetLiquidity {
                acceptor: acceptor.clone(),
                liquidity: (10 + 7 * i as i64 % 50) * MILLION,
            },
            Command::SetQuote {
                acceptor: acceptor.clone(),
                fiat: "CNY".into(),
                quote: Quote {
                    rate: Decimal::from_str(rates[i % rates.len()]).unwrap(),
                    min_amount: 1,
                    max_amount: 1_000 * MILLION,
                },
            },
            Command::SetPresence {
                acceptor,
                online: true,
            },
        ]
    });
    let steps = prelude.map(Step::Apply).chain(steps);
    for (i, step) in steps.enumerate() {
        match step {
            Step::Wait(ms) => now += ms,
            Step::SnapshotRestore => {
                let (restored, events) =
                    Engine::restore(config.clone(), engine.snapshot()).unwrap();
                assert_eq!(events, vec![], "restoring a live snapshot assigned orders");
                assert_eq!(restored.snapshot(), engine.snapshot());
                engine = restored;
            }
            Step::Apply(mut command) => {
                if let Command::SubmitOrder(order) = &mut command {
                    order.match_deadline += now;
                }
                let before = engine.snapshot();
                let actual = engine.apply(command.clone(), now);
                let expected = reference.apply(command.clone(), now);
                assert_eq!(actual, expected, "step {i}: {command:?}");
                match &actual {
                    Ok(events) => ledger.follow(&command, events),
                    // A refused command changes nothing.
                    Err(_) => assert_eq!(
                        engine.snapshot(),
                        before,
                        "step {i}: refused {command:?} changed state"
                    ),
                }
            }
        }
        ledger.check(&engine, &reference, config.distinct_fiat_amounts);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Few acceptors, many conflicts: errors, queues, rejects, expiries.
    #[test]
    fn engine_matches_the_reference(config in config(), steps in prop::collection::vec(step(5), 1..200)) {
        run(config, 3, steps);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// A crowded market, so the index is a real tree with rotations.
    #[test]
    fn engine_matches_the_reference_in_a_crowded_market(
        config in config(),
        steps in prop::collection::vec(step(48), 1..300),
    ) {
        run(config, 40, steps);
    }
}

/// A longer fixed-seed run under every configuration.
#[test]
fn long_fixed_seed_run_matches_the_reference_under_every_config() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]),
    );
    let steps = prop::collection::vec(step(12), 2_000)
        .new_tree(&mut runner)
        .unwrap()
        .current();
    for tolerance in [0, 10, 100] {
        for distinct in [false, true] {
            let config = EngineConfig {
                markets: vec![Market::new("CNY", 2), Market::new("JPY", 0)],
                rate_tolerance_bps: tolerance,
                distinct_fiat_amounts: distinct,
            };
            run(config, 8, steps.clone());
        }
    }
}
