//! Throughput, latency and scaling figures for the matching engine.
//!
//! `cargo run --release -p matching-engine --example bench -- --json`
//!
//! One cycle = submit an order (it is assigned) + settle or release an
//! earlier order, with 1 000 orders kept open; inputs are generated before
//! the clock starts. Prints a few readable lines, then (with `--json`) one
//! JSON line last:
//! `{"acceptors", "assign_settle_per_sec", "p50_ns", "p99_ns",
//!   "scaling_100k_vs_1k", "adversarial_vs_typical"}`.
//!
//! * `assign_settle_per_sec`: cycles per second of on-CPU time of the
//!   benchmark thread at 10 000 acceptors (the wall-clock figure is printed
//!   too; they differ when other processes share the cores).
//! * `p50_ns`, `p99_ns`: wall-clock duration of single cycles. For
//!   reference the run also prints the p99 of a fixed busy loop of the same
//!   median: the machine's own timing noise.
//! * `scaling_100k_vs_1k`, `adversarial_vs_typical`: ratios of on-CPU time
//!   per cycle.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../benches/support/workload.rs"]
mod workload;

use std::hint::black_box;
use std::time::Instant;

use matching_engine::Engine;
use workload::{Driver, Shape, build_engine};

const OPEN_WINDOW: usize = 1_000;
const WARMUP_CYCLES: usize = 100_000;

/// A warmed-up engine and driver.
fn setup(acceptors: usize, shape: Shape) -> (Engine, Driver) {
    let started = Instant::now();
    let mut engine = build_engine(acceptors, shape, 0xacce_9701 + acceptors as u64);
    let mut driver = Driver::new(0x0bde_5eed, OPEN_WINDOW);
    for _ in 0..WARMUP_CYCLES {
        driver.cycle(&mut engine);
    }
    println!(
        "setup {acceptors} acceptors ({shape:?}) + {WARMUP_CYCLES} warm-up cycles: {:.2} s",
        started.elapsed().as_secs_f64()
    );
    (engine, driver)
}

/// Inputs are generated in chunks outside the timed sections.
const CHUNK: usize = 50_000;

/// Nanoseconds this thread has spent on a CPU, from the kernel's scheduler
/// statistics. The machine is shared with other builds, so on-CPU time
/// measures the engine's own cost better than wall time does.
fn thread_cpu_ns() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    stat.split_whitespace().next()?.parse().ok()
}

/// Per-cycle cost over `cycles` cycles.
struct Cost {
    wall_ns: f64,
    /// On-CPU nanoseconds per cycle (wall time when unavailable).
    cpu_ns: f64,
}

/// Mean cost per cycle over `cycles` cycles.
fn cost_per_cycle(engine: &mut Engine, driver: &mut Driver, cycles: usize) -> Cost {
    let (mut wall, mut cpu) = (0_u128, Some(0_u64));
    for _ in 0..cycles / CHUNK {
        let mut chunk = driver.prepare_many(CHUNK);
        let cpu_before = thread_cpu_ns();
        let started = Instant::now();
        for cycle in chunk.drain(..) {
            driver.run(engine, cycle);
        }
        wall += started.elapsed().as_nanos();
        cpu = match (cpu, cpu_before, thread_cpu_ns()) {
            (Some(total), Some(before), Some(after)) => Some(total + (after - before)),
            _ => None,
        };
        // The emptied buffer is freed here, outside the timed section.
        drop(chunk);
    }
    let n = (cycles / CHUNK * CHUNK) as f64;
    let wall_ns = wall as f64 / n;
    Cost {
        wall_ns,
        cpu_ns: cpu.map_or(wall_ns, |c| c as f64 / n),
    }
}

/// Duration of each of `cycles` cycles, in nanoseconds.
fn cycle_latencies(engine: &mut Engine, driver: &mut Driver, cycles: usize) -> Vec<u64> {
    let mut samples = Vec::with_capacity(cycles);
    for _ in 0..cycles / CHUNK {
        for cycle in driver.prepare_many(CHUNK) {
            let started = Instant::now();
            driver.run(engine, cycle);
            samples.push(started.elapsed().as_nanos() as u64);
        }
    }
    samples
}

/// p50 and p99 of a fixed busy loop calibrated to last about `target_ns`:
/// the timing noise of the machine itself at that duration (interrupts,
/// virtual CPU preemption), for reading the engine's tail latency.
fn noise_floor(target_ns: u64) -> (u64, u64) {
    let spin = |iterations: u64| {
        let mut x = 1_u64;
        for _ in 0..iterations {
            x = black_box(x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1));
        }
        x
    };
    let time = |iterations: u64| {
        let started = Instant::now();
        black_box(spin(iterations));
        started.elapsed().as_nanos() as u64
    };
    let median_of = |iterations: u64| {
        let mut runs: Vec<u64> = (0..301).map(|_| time(iterations)).collect();
        runs.sort_unstable();
        runs[runs.len() / 2]
    };
    let mut iterations = 16_u64;
    while median_of(iterations) < target_ns {
        iterations += iterations / 16 + 1;
    }
    let mut samples: Vec<u64> = (0..1_000_000).map(|_| time(iterations)).collect();
    samples.sort_unstable();
    (
        samples[samples.len() / 2],
        samples[samples.len() * 99 / 100],
    )
}

fn main() {
    let json = std::env::args().any(|arg| arg == "--json");
    let run_started = Instant::now();

    // Throughput and latency at 10 000 acceptors.
    let (mut engine, mut driver) = setup(10_000, Shape::Typical);
    let throughput_cycles = 2_000_000;
    let typical = cost_per_cycle(&mut engine, &mut driver, throughput_cycles);
    let per_sec = 1e9 / typical.cpu_ns;
    let mut samples = cycle_latencies(&mut engine, &mut driver, 1_000_000);
    samples.sort_unstable();
    let percentile = |p: f64| samples[((samples.len() as f64 * p) as usize).min(samples.len() - 1)];
    let (p50, p99) = (percentile(0.50), percentile(0.99));
    println!(
        "10k typical: {:.0} ns/cycle on CPU ({per_sec:.0} cycles/s), {:.0} ns/cycle wall ({:.0} cycles/s); latency p50 {p50} ns, p90 {} ns, p99 {p99} ns, p99.9 {} ns (assigned {}, unassignable {})",
        typical.cpu_ns,
        typical.wall_ns,
        1e9 / typical.wall_ns,
        percentile(0.90),
        percentile(0.999),
        driver.assigned,
        driver.queued
    );
    engine.check_invariants().unwrap();
    drop(engine);
    let (noise_p50, noise_p99) = noise_floor(p50);
    println!("machine noise floor: a fixed busy loop of p50 {noise_p50} ns has p99 {noise_p99} ns");

    // Scaling: the same workload at 1 000 and at 100 000 acceptors.
    let scaling_cycles = 1_000_000;
    let (mut small, mut small_driver) = setup(1_000, Shape::Typical);
    let small_cost = cost_per_cycle(&mut small, &mut small_driver, scaling_cycles);
    drop(small);
    let (mut large, mut large_driver) = setup(100_000, Shape::Typical);
    let large_cost = cost_per_cycle(&mut large, &mut large_driver, scaling_cycles);
    drop(large);
    let scaling = large_cost.cpu_ns / small_cost.cpu_ns;
    println!(
        "scaling: 1k {:.0} ns/cycle, 100k {:.0} ns/cycle on CPU, ratio {scaling:.2} (wall: {:.0} / {:.0}, ratio {:.2})",
        small_cost.cpu_ns,
        large_cost.cpu_ns,
        small_cost.wall_ns,
        large_cost.wall_ns,
        large_cost.wall_ns / small_cost.wall_ns
    );

    // Adversarial: 99 % of the acceptors cannot cover any order.
    let (mut hostile_engine, mut hostile_driver) = setup(10_000, Shape::Adversarial);
    let hostile = cost_per_cycle(&mut hostile_engine, &mut hostile_driver, scaling_cycles);
    let adversarial = hostile.cpu_ns / typical.cpu_ns;
    println!(
        "adversarial 10k: {:.0} ns/cycle on CPU, ratio {adversarial:.2} (wall: {:.0} ns, ratio {:.2}; unassignable {})",
        hostile.cpu_ns,
        hostile.wall_ns,
        hostile.wall_ns / typical.wall_ns,
        hostile_driver.queued
    );
    println!(
        "total run time {:.1} s",
        run_started.elapsed().as_secs_f64()
    );

    if json {
        println!(
            "{{\"acceptors\": 10000, \"assign_settle_per_sec\": {per_sec:.0}, \"p50_ns\": {p50}, \"p99_ns\": {p99}, \"scaling_100k_vs_1k\": {scaling:.2}, \"adversarial_vs_typical\": {adversarial:.2}}}"
        );
    }
}
