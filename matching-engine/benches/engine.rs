//! Criterion benchmarks of the matching engine's hot paths.
//!
//! `cargo bench -p matching-engine` (the `bench` example prints the figures
//! recorded in BENCHMARKS.md).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/workload.rs"]
mod workload;

use std::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use matching_engine::{Command, Engine};
use workload::{Driver, Shape, build_engine};

const OPEN_WINDOW: usize = 1_000;

fn warmed(acceptors: usize, shape: Shape) -> (Engine, Driver) {
    let mut engine = build_engine(acceptors, shape, 42);
    let mut driver = Driver::new(7, OPEN_WINDOW);
    for _ in 0..20_000 {
        driver.cycle(&mut engine);
    }
    (engine, driver)
}

/// Submit (assigned on the spot) + settle or release an earlier order.
fn assign_settle_cycle(c: &mut Criterion) {
    let mut group = c.benchmark_group("assign_settle_cycle");
    for (name, acceptors, shape) in [
        ("typical_1k", 1_000, Shape::Typical),
        ("typical_10k", 10_000, Shape::Typical),
        ("typical_100k", 100_000, Shape::Typical),
        ("adversarial_10k", 10_000, Shape::Adversarial),
    ] {
        let (mut engine, mut driver) = warmed(acceptors, shape);
        group.bench_function(name, |b| {
            // Inputs are generated before the clock starts.
            b.iter_custom(|iterations| {
                let cycles = driver.prepare_many(iterations as usize);
                let started = Instant::now();
                for cycle in cycles {
                    driver.run(&mut engine, cycle);
                }
                started.elapsed()
            })
        });
    }
    group.finish();
}

/// Acceptor updates that touch the index without assigning anything.
fn acceptor_updates(c: &mut Criterion) {
    let (mut engine, _) = warmed(10_000, Shape::Typical);
    let mut flip = false;
    c.bench_function("presence_toggle_10k", |b| {
        b.iter(|| {
            flip = !flip;
            engine
                .apply(
                    Command::SetPresence {
                        acceptor: "acc_004242".into(),
                        online: flip,
                    },
                    0,
                )
                .unwrap()
        })
    });
    let mut delta = 1_i64;
    c.bench_function("liquidity_adjust_10k", |b| {
        b.iter(|| {
            delta = -delta;
            engine
                .apply(
                    Command::AdjustLiquidity {
                        acceptor: "acc_001234".into(),
                        delta: black_box(delta),
                    },
                    0,
                )
                .unwrap()
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30);
    targets = assign_settle_cycle, acceptor_updates
}
criterion_main!(benches);
