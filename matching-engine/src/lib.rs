//! OTCPay's matching engine: assigns payment orders to OTC acceptors.
//!
//! A pure, deterministic, synchronous state machine. No I/O, no clock, no
//! randomness: time is the `now` argument (Unix ms) and the only way to
//! change state is [`Engine::apply`], which returns the [`Event`]s the
//! command produced. The same commands from the same state always give the
//! same events, so the server can run the engine in one task that owns it and
//! rebuild it from its database at start ([`Engine::restore`]).
//!
//! # Using it
//!
//! ```
//! use matching_engine::{Command, Engine, EngineConfig, Event, Market, NewOrder, Quote};
//! use rust_decimal::Decimal;
//!
//! let mut engine = Engine::new(EngineConfig::new(vec![Market::new("CNY", 2)]))?;
//! let now = 1_700_000_000_000;
//! for command in [
//!     Command::RegisterAcceptor { acceptor: "acc_1".into() },
//!     Command::SetLiquidity { acceptor: "acc_1".into(), liquidity: 5_000_000_000 },
//!     Command::SetQuote {
//!         acceptor: "acc_1".into(),
//!         fiat: "CNY".into(),
//!         quote: Quote { rate: Decimal::new(725, 2), min_amount: 1_000_000, max_amount: 1_000_000_000 },
//!     },
//!     Command::SetPresence { acceptor: "acc_1".into(), online: true },
//! ] {
//!     engine.apply(command, now)?;
//! }
//! let events = engine.apply(
//!     Command::SubmitOrder(NewOrder {
//!         id: "ord_1".into(),
//!         fiat: "CNY".into(),
//!         amount: 100_000_000, // 100 USDT
//!         payment_method: None,
//!         excluded_acceptors: vec![],
//!         match_deadline: now + 60_000,
//!     }),
//!     now,
//! )?;
//! assert_eq!(
//!     events,
//!     vec![Event::Assigned {
//!         order: "ord_1".into(),
//!         acceptor: "acc_1".into(),
//!         rate: Decimal::new(725, 2),
//!         fiat_amount: 72_500, // 725.00 CNY
//!     }]
//! );
//! # Ok::<(), matching_engine::EngineError>(())
//! ```
//!
//! * Construct with [`Engine::new`] and an [`EngineConfig`] (markets with
//!   their fiat scale, rate tolerance, distinct-amount policy).
//! * Drive with [`Engine::apply`]`(`[`Command`]`, now)`. It returns
//!   `Ok(events)` or, for a command that does not apply (unknown id, bad
//!   value, wrong state), an [`EngineError`] — and then nothing changed. The
//!   engine never panics on bad input. Each [`Command`] variant documents the
//!   events it can emit. [`Engine::apply_into`] does the same into a reused
//!   buffer.
//! * Rebuild with [`Engine::restore`]`(config, `[`EngineState`]`)`, from the
//!   database or from [`Engine::snapshot`]. Restoring assigns waiting orders
//!   that have become matchable and returns those events.
//! * Undo an assignment the server failed to persist with
//!   [`Command::OrderReleased`].
//! * Read with [`Engine::balance`], [`Engine::queued_orders`] and
//!   [`Engine::snapshot`]; audit with [`Engine::check_invariants`].
//!
//! The command, event and error enums are exhaustive on purpose: adding a
//! variant should break the server's `match` until it handles it.
//!
//! # Money
//!
//! USDT amounts are `i64` micro-USDT; fiat amounts are `i64` minor units of
//! the market's scale; rates are [`rust_decimal::Decimal`] fiat per USDT at
//! the API and an `i64` count of 10⁻⁸ inside (quotes with more than
//! [`RATE_SCALE`] decimals are refused, so the conversion is exact). On
//! assignment `fiat_amount = round_half_up(amount × rate)` at the fiat scale,
//! computed exactly in `i128`. Bounds ([`MAX_ORDER_AMOUNT`], [`MAX_RATE`],
//! [`MAX_FIAT_SCALE`]) keep every fiat amount below 10¹⁸.
//!
//! # Policy
//!
//! An acceptor is **eligible** for an order when it is online, active, quotes
//! the order's fiat with `min ≤ amount ≤ max`, has free liquidity
//! (`liquidity − reserved`) ≥ amount, holds fewer open orders than its
//! limit, offers the asked payment method (if any) in that fiat, and is not
//! excluded for the order (by the submitter or by an earlier reject).
//!
//! Eligible acceptors are **ranked** by:
//! 1. rate tolerance band, lowest first (the lowest fiat per USDT is the best
//!    price for the customer);
//! 2. round-robin within a band: least recently assigned in this market
//!    first (never assigned before anyone else);
//! 3. completion score, higher first;
//! 4. acceptor id, ascending.
//!
//! Bands are a fixed grid on the rate so that a band never depends on other
//! quotes: within each binary octave `[2^e, 2^(e+1))` of the fixed-point
//! rate, bands are `max(1, ⌊2^e · tolerance_bps / 10 000⌋)` units wide.
//! Rates in one band therefore differ by less than the tolerance, and each
//! band spans at least half of it; two rates closer than the tolerance can
//! still fall on both sides of a band edge. A tolerance of 0 makes every
//! distinct rate its own band.
//!
//! **Assignment** reserves the amount on the acceptor and fixes the rate and
//! fiat amount. With [`EngineConfig::distinct_fiat_amounts`] the fiat amount
//! is nudged up one minor unit at a time until no other open order of that
//! acceptor in that fiat has it. A release returns the reservation; a
//! settlement consumes the released amount from liquidity and frees the
//! rest; a reject returns the reservation and sends the order back to the
//! queue with that acceptor excluded. Going offline or being frozen stops new
//! assignments; assigned orders stay.
//!
//! **Queue.** An order nobody can take waits in its market's FIFO. Whenever
//! an acceptor change could make it eligible (presence, status, quote,
//! methods, concurrency limit, liquidity, a finished or rejected order) the
//! engine offers that acceptor the waiting orders, oldest first across its
//! markets. The invariant kept is: *no waiting order has an eligible
//! acceptor*. `Tick` gives up waiting orders whose deadline is ≤ `now`.
//!
//! # Index and complexity
//!
//! Each market has a treap (randomized balanced search tree with fixed-seed
//! priorities) holding the acceptors that are online, active and quoting
//! there, ordered by the ranking key `(band, round-robin stamp, −score,
//! id)`. Each node stores, for both of its children, the maximum
//! **capacity** in that child's subtree, where capacity = `min(free
//! liquidity, quote max)` while the acceptor is below its concurrency limit
//! and −1 at the limit. Finding the best acceptor is a left-first descent
//! that enters only subtrees whose capacity covers the amount: the first
//! node reached with enough capacity is the best-ranked acceptor with enough
//! free liquidity, a large enough quote maximum and a free concurrency slot
//! — O(log n) expected for n acceptors listed in the market, however many of
//! them cannot cover the amount. Round-robin is a re-key: an assignment
//! moves the acceptor to the back of its band (remove + insert, O(log n)
//! expected with O(1) expected rotations). A liquidity change updates one
//! node and pushes the new maxima up its parent links only while they
//! change (at most the depth, O(log n) expected, per market the acceptor
//! quotes in), and skips the index entirely when the capacity did not move
//! (free liquidity above the quote maximum). Nodes live in an arena (`Vec`) addressed by `u32`, two cache
//! lines each.
//!
//! Payment methods: the capacity is kept per *method slot*. Slot 0 counts
//! everyone; each market gives its first three distinct payment methods a
//! slot of their own, counting only acceptors that offer them. An order
//! asking for a slotted method is found by the same O(log n) descent. A
//! method that was never offered in the market is answered in O(1). A method
//! first seen after the three slots were taken is searched in slot 0 with a
//! name check per candidate.
//!
//! The remaining filters — quote **minimum** above the amount, **exclusions**
//! (acceptors that rejected the order), and **unslotted methods** — are
//! checked on each candidate the descent reaches; a rejected candidate
//! resumes the descent after it. Cost: O((1 + s) log n) where s is the number
//! of better-ranked acceptors that have capacity but fail one of these
//! filters; the worst case (every such acceptor failing) is O(n log n). In
//! practice s is small: exclusions are the few acceptors that rejected this
//! order, and minimum bounds rarely exceed order sizes.
//!
//! Queue retries cost O(q) eligibility checks for the q orders waiting in the
//! changed acceptor's markets (each O(1) plus its exclusion list), stopping
//! as soon as the acceptor cannot take more; with empty queues a retry is
//! O(1). A rejected order gets one index search. `Tick` is O(k log w) for k
//! expired of w waiting orders. Id lookups are hash maps.
//!
//! Invariants are asserted in the code (`debug_assert!`) where cheap, and
//! [`Engine::check_invariants`] audits all of them.

mod audit;
mod book;
mod command;
mod config;
mod engine;
mod error;
mod event;
mod fiat;
mod hash;
mod index;
mod model;
mod snapshot;
mod table;

pub use command::Command;
pub use config::{EngineConfig, Market};
pub use engine::Engine;
pub use error::EngineError;
pub use event::{Event, UnmatchedReason};
pub use fiat::{MAX_FIAT_SCALE, MAX_ORDER_AMOUNT, MAX_RATE, RATE_SCALE};
pub use model::{
    AcceptorBalance, AcceptorMarketState, AcceptorState, AcceptorStatus, Assignment, EngineState,
    NewOrder, OrderState, Quote,
};
pub use rust_decimal::Decimal;
