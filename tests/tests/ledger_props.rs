//! The ledger against an in-memory reference model, on the run's backend (SQLite or
//! PostgreSQL): random sequences of posted and pending transfers, full and partial posts,
//! voids, double resolutions, duplicate ids, overdrafts, invalid requests and linked
//! batches; balances are compared after every step and the invariant check must pass
//! after every case. Plus scenario tests of the public API and negative tests of the
//! check (a corrupted ledger must be reported).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde_json::Value;

use otcpay::ledger::{
    self, AccountCode, AccountKey, Balances, LedgerError, RejectReason, TransferOp,
    TransferOutcome, TransferRequest, transfer_flags, violation_kind,
};
use otcpay_tests::{TestApp, TestDb};

const NO_OVERDRAFT: i32 = ledger::account_flags::DEBITS_MUST_NOT_EXCEED_CREDITS;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// `cases` per property, unless `PROPTEST_CASES` asks for another number (deeper local
/// runs: `PROPTEST_CASES=2000 cargo test --test ledger_props`).
fn config(cases: u32) -> Config {
    let cases = if std::env::var_os("PROPTEST_CASES").is_some() {
        Config::default().cases
    } else {
        cases
    };
    Config {
        cases,
        max_shrink_iters: 256,
        failure_persistence: None,
        ..Config::default()
    }
}

// ---------------------------------------------------------------------------------------
// The reference model: the ledger's rules restated from its documentation (TigerBeetle's
// two-phase transfers, the no-overdraft flag, all-or-nothing linked batches, the id as
// idempotency key), in plain maps and without any of the ledger's own code. A rule that
// the ledger gets wrong therefore shows as a disagreement.
//
// It differs from the implementation in form on purpose: balances are moved first and
// the no-overdraft rule is then checked as a property of every flagged account (the
// ledger checks the debit account before moving anything); retries are compared as
// plain descriptions of what a request asks for (the ledger compares stored rows).

/// The four cached columns of an account.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Columns {
    debits_pending: i64,
    debits_posted: i64,
    credits_pending: i64,
    credits_posted: i64,
}

/// What a request asks for, in the words a retry is compared in: a post's amount left
/// out means the pending transfer's amount.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ask {
    Move {
        debit: String,
        credit: String,
        amount: i64,
        two_phase: bool,
    },
    Post {
        pending: String,
        amount: Option<i64>,
    },
    Void {
        pending: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Recorded {
    ask: Ask,
    kind: String,
    reference: String,
}

/// How a pending transfer ended, if it did: (voided?, resolving transfer id).
type Ending = Option<(bool, String)>;

#[derive(Debug, Clone)]
struct Reservation {
    debit: String,
    credit: String,
    amount: i64,
    ending: Ending,
}

/// The stored row a created transfer must have: debit, credit, amount, flags, reference.
#[derive(Debug, Clone)]
struct Row {
    debit: String,
    credit: String,
    amount: i64,
    flags: i32,
    reference: String,
}

#[derive(Debug, Clone, Default)]
struct RefLedger {
    balances: HashMap<String, Columns>,
    /// Accounts opened with `debits_must_not_exceed_credits` (all but custody).
    no_overdraft: HashSet<String>,
    reservations: HashMap<String, Reservation>,
    recorded: HashMap<String, Recorded>,
    rows: HashMap<String, Row>,
}

impl RefLedger {
    fn open(&mut self, key: &AccountKey) {
        let id = key.id();
        if key.code != AccountCode::Custody {
            self.no_overdraft.insert(id.clone());
        }
        self.balances.entry(id).or_default();
    }

    fn flags_of(&self, account: &str) -> i32 {
        if self.no_overdraft.contains(account) {
            NO_OVERDRAFT
        } else {
            0
        }
    }

    /// Pending transfers not resolved yet, in id order.
    fn open_pendings(&self) -> Vec<String> {
        let mut open: Vec<String> = self
            .reservations
            .iter()
            .filter(|(_, r)| r.ending.is_none())
            .map(|(id, _)| id.clone())
            .collect();
        open.sort();
        open
    }

    fn knows(&self, id: &str) -> bool {
        self.recorded.contains_key(id)
    }

    /// A linked batch: every transfer in order on a scratch copy, kept only when all of
    /// them are accepted; otherwise the index and reason of the first refused one.
    fn apply_batch(
        &mut self,
        batch: &[TransferRequest],
    ) -> Result<Vec<TransferOutcome>, (usize, RejectReason)> {
        let mut scratch = self.clone();
        let mut outcomes = Vec::with_capacity(batch.len());
        for (index, req) in batch.iter().enumerate() {
            outcomes.push(scratch.submit(req).map_err(|reason| (index, reason))?);
        }
        *self = scratch;
        Ok(outcomes)
    }

    fn ask_of(&self, req: &TransferRequest) -> Ask {
        match &req.op {
            TransferOp::Posted {
                debit,
                credit,
                amount,
            } => Ask::Move {
                debit: debit.id(),
                credit: credit.id(),
                amount: *amount,
                two_phase: false,
            },
            TransferOp::Pending {
                debit,
                credit,
                amount,
            } => Ask::Move {
                debit: debit.id(),
                credit: credit.id(),
                amount: *amount,
                two_phase: true,
            },
            TransferOp::PostPending {
                pending_id, amount, ..
            } => Ask::Post {
                pending: pending_id.clone(),
                amount: amount.or_else(|| self.reservations.get(pending_id).map(|r| r.amount)),
            },
            TransferOp::VoidPending { pending_id, .. } => Ask::Void {
                pending: pending_id.clone(),
            },
        }
    }

    /// One transfer, in the documented order of the checks: the request on its own
    /// (amount, accounts, modes), then its id (a retry), then what it moves.
    fn submit(&mut self, req: &TransferRequest) -> Result<TransferOutcome, RejectReason> {
        if req.id.is_empty() {
            return Err(RejectReason::IdMustNotBeEmpty);
        }
        match &req.op {
            TransferOp::Posted {
                debit,
                credit,
                amount,
            }
            | TransferOp::Pending {
                debit,
                credit,
                amount,
            } => {
                if *amount < 1 {
                    return Err(RejectReason::AmountMustBePositive);
                }
                if debit.id() == credit.id() {
                    return Err(RejectReason::SameAccount);
                }
                if debit.livemode != credit.livemode {
                    return Err(RejectReason::LivemodeMismatch);
                }
            }
            TransferOp::PostPending {
                amount: Some(amount),
                ..
            } if *amount < 1 => return Err(RejectReason::AmountMustBePositive),
            _ => {}
        }
        let recorded = Recorded {
            ask: self.ask_of(req),
            kind: req.kind.clone(),
            reference: req.reference.clone(),
        };
        if let Some(before) = self.recorded.get(&req.id) {
            return if *before == recorded {
                Ok(TransferOutcome::Exists)
            } else {
                Err(RejectReason::ExistsWithDifferentFields)
            };
        }
        let row = match &recorded.ask {
            Ask::Move {
                debit,
                credit,
                amount,
                two_phase,
            } => {
                for account in [debit, credit] {
                    if !self.balances.contains_key(account) {
                        return Err(RejectReason::AccountNotFound {
                            account: account.clone(),
                        });
                    }
                }
                let (d, c) = (debit.clone(), credit.clone());
                if *two_phase {
                    self.column(&d).debits_pending += amount;
                    self.column(&c).credits_pending += amount;
                    self.reservations.insert(
                        req.id.clone(),
                        Reservation {
                            debit: d.clone(),
                            credit: c.clone(),
                            amount: *amount,
                            ending: None,
                        },
                    );
                } else {
                    self.column(&d).debits_posted += amount;
                    self.column(&c).credits_posted += amount;
                }
                Row {
                    debit: d,
                    credit: c,
                    amount: *amount,
                    flags: if *two_phase {
                        transfer_flags::PENDING
                    } else {
                        0
                    },
                    reference: req.reference.clone(),
                }
            }
            Ask::Post { pending, .. } | Ask::Void { pending } => {
                let Some(reservation) = self.reservations.get(pending).cloned() else {
                    return Err(if self.knows(pending) {
                        RejectReason::NotPending {
                            pending_id: pending.clone(),
                        }
                    } else {
                        RejectReason::PendingNotFound {
                            pending_id: pending.clone(),
                        }
                    });
                };
                if let Some((voided, by)) = reservation.ending {
                    let (pending_id, by) = (pending.clone(), by);
                    return Err(if voided {
                        RejectReason::PendingAlreadyVoided { pending_id, by }
                    } else {
                        RejectReason::PendingAlreadyPosted { pending_id, by }
                    });
                }
                // A void posts nothing; a post posts its amount (all when left out).
                let (posted, voided) = match &recorded.ask {
                    Ask::Post { amount, .. } => (amount.unwrap_or(reservation.amount), false),
                    _ => (0, true),
                };
                if posted > reservation.amount {
                    return Err(RejectReason::PostAmountExceedsPending {
                        amount: posted,
                        pending_amount: reservation.amount,
                    });
                }
                let (d, c) = (reservation.debit.clone(), reservation.credit.clone());
                self.column(&d).debits_pending -= reservation.amount;
                self.column(&d).debits_posted += posted;
                self.column(&c).credits_pending -= reservation.amount;
                self.column(&c).credits_posted += posted;
                if let Some(r) = self.reservations.get_mut(pending) {
                    r.ending = Some((voided, req.id.clone()));
                }
                Row {
                    debit: d,
                    credit: c,
                    amount: if voided { reservation.amount } else { posted },
                    flags: if voided {
                        transfer_flags::VOID_PENDING
                    } else {
                        transfer_flags::POST_PENDING
                    },
                    reference: req.reference.clone(),
                }
            }
        };
        // The flag's rule, as a property of the balances after the move: every flagged
        // account has debits (pending and posted) within its posted credits.
        let mut flagged: Vec<&String> = self.no_overdraft.iter().collect();
        flagged.sort();
        for account in flagged {
            let b = self.balances.get(account).copied().unwrap_or_default();
            if b.debits_pending + b.debits_posted > b.credits_posted {
                return Err(RejectReason::ExceedsCredits {
                    account: account.clone(),
                });
            }
        }
        self.recorded.insert(req.id.clone(), recorded);
        self.rows.insert(req.id.clone(), row);
        Ok(TransferOutcome::Created)
    }

    fn column(&mut self, account: &str) -> &mut Columns {
        self.balances.entry(account.to_owned()).or_default()
    }
}

// ---------------------------------------------------------------------------------------
// Generated actions.

/// Accounts of a case: index into `case_accounts`. 0 and 6 are custody (may go negative),
/// 5 and 6 are test mode, 7 is never opened.
const ACCOUNTS: usize = 8;

fn case_accounts(case: u64) -> Vec<AccountKey> {
    let owner = |s: &str| format!("c{case}{s}");
    vec![
        AccountKey::new(AccountCode::Custody, owner(""), true),
        AccountKey::acceptor(owner("a"), true),
        AccountKey::acceptor(owner("b"), true),
        AccountKey::new(AccountCode::Escrow, owner(""), true),
        AccountKey::merchant(owner("m"), true),
        AccountKey::merchant(owner("t"), false),
        AccountKey::new(AccountCode::Custody, owner(""), false),
        AccountKey::merchant(owner("ghost"), true),
    ]
}

#[derive(Debug, Clone)]
enum Op {
    Posted {
        d: usize,
        c: usize,
        amount: i64,
    },
    Pending {
        d: usize,
        c: usize,
        amount: i64,
    },
    /// Resolves a transfer chosen by `pick` (mostly a pending one).
    Post {
        pick: usize,
        amount: Option<i64>,
    },
    Void {
        pick: usize,
    },
}

#[derive(Debug, Clone)]
enum Action {
    Single(Op),
    /// A linked batch.
    Batch(Vec<Op>),
    /// Resubmits an earlier request, identical or with another reference/amount.
    Duplicate {
        pick: usize,
        change: u8,
    },
}

fn amount() -> impl Strategy<Value = i64> {
    prop_oneof![10 => 1i64..400, 1 => -3i64..=0]
}

/// (debit, credit) indexes: mostly live accounts, debits often from custody so that the
/// other accounts get funded; sometimes the test-mode pair; sometimes anything (same
/// account, mixed modes, the unopened account).
fn accounts_pair() -> impl Strategy<Value = (usize, usize)> {
    let live_debit = prop_oneof![1 => Just(0usize), 4 => 1..5usize];
    let live_credit = prop_oneof![1 => Just(0usize), 6 => 1..5usize];
    let live = (live_debit, live_credit).prop_map(|(d, c)| {
        if d == c {
            (d, if c == 4 { 1 } else { c + 1 })
        } else {
            (d, c)
        }
    });
    prop_oneof![
        16 => live,
        2 => Just((6usize, 5usize)),
        3 => (0..ACCOUNTS, 0..ACCOUNTS),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (accounts_pair(), amount()).prop_map(|((d, c), amount)| Op::Posted { d, c, amount }),
        4 => (accounts_pair(), amount()).prop_map(|((d, c), amount)| Op::Pending { d, c, amount }),
        3 => (any::<usize>(), prop::option::of(amount())).prop_map(|(pick, amount)| Op::Post { pick, amount }),
        2 => any::<usize>().prop_map(|pick| Op::Void { pick }),
    ]
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        6 => op().prop_map(Action::Single),
        2 => prop::collection::vec(op(), 2..=4).prop_map(Action::Batch),
        2 => (any::<usize>(), 0u8..3).prop_map(|(pick, change)| Action::Duplicate { pick, change }),
    ]
}

/// Turns generated actions into requests, tracking ids issued so far.
struct Builder {
    case: u64,
    accounts: Vec<AccountKey>,
    next: u64,
    issued: Vec<String>,
    pendings: Vec<String>,
    /// Pending transfers believed open: the model's, plus those issued in this batch.
    open: Vec<String>,
    history: Vec<TransferRequest>,
}

impl Builder {
    fn new_id(&mut self) -> String {
        self.next += 1;
        format!("c{}-t{}", self.case, self.next)
    }

    fn pick_target(&self, pick: usize) -> String {
        let unknown = format!("c{}-unknown", self.case);
        let nth = |ids: &[String]| {
            if ids.is_empty() {
                unknown.clone()
            } else {
                ids[(pick / 20) % ids.len()].clone()
            }
        };
        match pick % 20 {
            // Mostly an open pending transfer…
            0..12 if !self.open.is_empty() => nth(&self.open),
            // …or the latest pending one (perhaps refused, perhaps resolved)…
            0..15 => self.pendings.last().cloned().unwrap_or(unknown),
            // …or any transfer (posted, post, void, refused)…
            15..18 => nth(&self.issued),
            // …or one that never existed.
            _ => unknown,
        }
    }

    fn request(&mut self, op: &Op) -> TransferRequest {
        let id = self.new_id();
        let req = match op {
            Op::Posted { d, c, amount } => TransferRequest::posted(
                id.clone(),
                self.accounts[*d].clone(),
                self.accounts[*c].clone(),
                *amount,
            ),
            Op::Pending { d, c, amount } => {
                self.pendings.push(id.clone());
                self.open.push(id.clone());
                TransferRequest::pending(
                    id.clone(),
                    self.accounts[*d].clone(),
                    self.accounts[*c].clone(),
                    *amount,
                )
            }
            Op::Post { pick, amount } => {
                TransferRequest::post_pending(id.clone(), self.pick_target(*pick), *amount)
            }
            Op::Void { pick } => TransferRequest::void_pending(id.clone(), self.pick_target(*pick)),
        };
        let req = req.with_reference(format!("ref-{}", self.next % 3));
        self.issued.push(id);
        self.history.push(req.clone());
        req
    }

    fn batch(&mut self, action: &Action) -> Vec<TransferRequest> {
        match action {
            Action::Single(op) => vec![self.request(op)],
            Action::Batch(ops) => ops.iter().map(|op| self.request(op)).collect(),
            Action::Duplicate { pick, change } => {
                if self.history.is_empty() {
                    return vec![];
                }
                let mut req = self.history[pick % self.history.len()].clone();
                match change {
                    0 => {}
                    1 => req.reference.push_str("-other"),
                    _ => match &mut req.op {
                        TransferOp::Posted { amount, .. } | TransferOp::Pending { amount, .. } => {
                            *amount += 1
                        }
                        TransferOp::PostPending { amount, .. } => {
                            *amount = Some(amount.map_or(1, |a| a.max(0) + 1))
                        }
                        TransferOp::VoidPending { .. } => req.kind = "other_kind".to_owned(),
                    },
                }
                vec![req]
            }
        }
    }
}

fn rejected(err: LedgerError) -> Result<(usize, RejectReason), TestCaseError> {
    match err {
        LedgerError::Rejected { index, reason, .. } => Ok((index, reason)),
        LedgerError::Db(e) => Err(TestCaseError::fail(format!("database error: {e}"))),
    }
}

async fn assert_balances_match(
    db: &DatabaseConnection,
    model: &RefLedger,
    accounts: &[AccountKey],
) -> Result<(), TestCaseError> {
    let ids: Vec<String> = accounts.iter().map(AccountKey::id).collect();
    let rows = ledger::store::load_accounts(db, &ids, false)
        .await
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(rows.len(), model.balances.len());
    for row in rows {
        let m = model.balances.get(&row.id).copied().unwrap_or_default();
        let expected = Balances {
            debits_pending: m.debits_pending,
            debits_posted: m.debits_posted,
            credits_pending: m.credits_pending,
            credits_posted: m.credits_posted,
        };
        prop_assert_eq!(row.balances, expected, "account {}", row.id);
        prop_assert_eq!(row.flags, model.flags_of(&row.id), "flags of {}", row.id);
    }
    Ok(())
}

/// How often each outcome occurred over all cases (printed, to see that the generator
/// reaches every rule).
type Stats = std::sync::Mutex<std::collections::BTreeMap<String, u64>>;

fn tally(stats: &Stats, result: &Result<Vec<TransferOutcome>, (usize, RejectReason)>) {
    let key = match result {
        Ok(outcomes) if outcomes.len() > 1 => "batch ok".to_owned(),
        Ok(outcomes) => format!("{:?}", outcomes[0]),
        Err((_, reason)) => {
            let text = format!("{reason:?}");
            text.split([' ', '{']).next().unwrap_or_default().to_owned()
        }
    };
    *stats.lock().unwrap().entry(key).or_default() += 1;
}

async fn run_case(
    db: &DatabaseConnection,
    stats: &Stats,
    case: u64,
    actions: &[Action],
) -> Result<(), TestCaseError> {
    let accounts = case_accounts(case);
    let mut model = RefLedger::default();
    for key in &accounts[..ACCOUNTS - 1] {
        ledger::open_account(db, key).await.unwrap();
        model.open(key);
    }
    // Opening again is a no-op.
    prop_assert!(!ledger::open_account(db, &accounts[1]).await.unwrap());
    // Fund the accounts a little (about the size of a few transfers), so that both
    // successes and overdrafts are common.
    let mut funding: Vec<TransferRequest> = (1..5)
        .map(|i| {
            TransferRequest::posted(
                format!("c{case}-fund{i}"),
                accounts[0].clone(),
                accounts[i].clone(),
                300 * i as i64,
            )
        })
        .collect();
    funding.push(TransferRequest::posted(
        format!("c{case}-fund5"),
        accounts[6].clone(),
        accounts[5].clone(),
        1000,
    ));
    prop_assert!(model.apply_batch(&funding).is_ok());
    ledger::transfer(db, &funding).await.unwrap();
    let mut builder = Builder {
        case,
        accounts: accounts.clone(),
        next: 0,
        issued: Vec::new(),
        pendings: Vec::new(),
        open: Vec::new(),
        history: Vec::new(),
    };
    for action in actions {
        builder.open = model.open_pendings();
        let batch = builder.batch(action);
        if batch.is_empty() {
            continue;
        }
        let known_before: Vec<bool> = batch.iter().map(|r| model.knows(&r.id)).collect();
        let expected = model.apply_batch(&batch);
        tally(stats, &expected);
        let actual = ledger::transfer(db, &batch).await;
        match (expected, actual) {
            (Ok(e), Ok(a)) => prop_assert_eq!(e, a, "batch {:?}", batch),
            (Err(e), Err(a)) => {
                let a = rejected(a)?;
                prop_assert_eq!(e, a, "batch {:?}", batch);
                // Nothing of a refused batch was written.
                for (req, known) in batch.iter().zip(known_before) {
                    if !known {
                        let found = ledger::find_transfer(db, &req.id).await.unwrap();
                        prop_assert!(found.is_none(), "{} written by a refused batch", req.id);
                    }
                }
            }
            (e, a) => prop_assert!(false, "model {:?} but ledger {:?} for {:?}", e, a, batch),
        }
        assert_balances_match(db, &model, &accounts).await?;
    }
    // Stored rows agree with the model.
    for (id, t) in &model.rows {
        let row = ledger::find_transfer(db, id).await.unwrap().unwrap();
        prop_assert_eq!(&row.debit_account_id, &t.debit);
        prop_assert_eq!(&row.credit_account_id, &t.credit);
        prop_assert_eq!(row.amount, t.amount);
        prop_assert_eq!(row.flags, t.flags);
        prop_assert_eq!(&row.reference, &t.reference);
    }
    let report = ledger::check(db).await.unwrap();
    prop_assert!(report.ok, "ledger check: {:?}", report.violations);
    Ok(())
}

#[test]
fn ledger_matches_reference_model() {
    let rt = runtime();
    let test_db = rt.block_on(TestDb::new());
    let case = AtomicU64::new(0);
    let stats = Stats::default();
    let mut runner = TestRunner::new(config(64));
    let result = runner.run(&prop::collection::vec(action(), 1..=30), |actions| {
        let n = case.fetch_add(1, Ordering::SeqCst);
        rt.block_on(run_case(&test_db.db, &stats, n, &actions))
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    eprintln!("outcomes over all cases: {:?}", stats.lock().unwrap());
}

/// Linked batches with exactly one failing transfer at a random position: the error
/// names it, and nothing of the batch is applied, even the transfers before it.
#[test]
fn failing_transfer_voids_the_whole_batch() {
    let rt = runtime();
    let test_db = rt.block_on(TestDb::new());
    let db = &test_db.db;
    let case = AtomicU64::new(0);
    let mut runner = TestRunner::new(config(64));
    let strategy = (1usize..=5, 0usize..5, 0u8..6, 1i64..100);
    let result = runner.run(&strategy, |(len, fail_at, failure, amount)| {
        let fail_at = fail_at % len;
        let n = case.fetch_add(1, Ordering::SeqCst);
        rt.block_on(async {
            let custody = AccountKey::new(AccountCode::Custody, format!("b{n}"), true);
            let acceptor = AccountKey::acceptor(format!("b{n}a"), true);
            let escrow = AccountKey::new(AccountCode::Escrow, format!("b{n}"), true);
            let merchant = AccountKey::merchant(format!("b{n}m"), true);
            ledger::open_accounts(
                db,
                &[
                    custody.clone(),
                    acceptor.clone(),
                    escrow.clone(),
                    merchant.clone(),
                ],
            )
            .await
            .unwrap();
            ledger::transfer(
                db,
                &[TransferRequest::posted(
                    format!("b{n}-fund"),
                    custody.clone(),
                    acceptor.clone(),
                    1000,
                )],
            )
            .await
            .unwrap();
            let before: Vec<_> = {
                let mut v = Vec::new();
                for k in [&custody, &acceptor, &escrow, &merchant] {
                    v.push(ledger::account(db, k).await.unwrap().unwrap().balances);
                }
                v
            };
            let mut batch = Vec::new();
            for i in 0..len {
                let id = format!("b{n}-{i}");
                if i != fail_at {
                    // Valid steps: reserve, post it, move on to the merchant.
                    batch.push(TransferRequest::pending(
                        format!("{id}-p"),
                        acceptor.clone(),
                        escrow.clone(),
                        amount,
                    ));
                    batch.push(TransferRequest::post_pending(
                        format!("{id}-q"),
                        format!("{id}-p"),
                        None,
                    ));
                    batch.push(TransferRequest::posted(
                        format!("{id}-r"),
                        escrow.clone(),
                        merchant.clone(),
                        amount,
                    ));
                    continue;
                }
                let bad = match failure {
                    0 => TransferRequest::posted(id, acceptor.clone(), escrow.clone(), 1_000_000),
                    1 => TransferRequest::posted(id, acceptor.clone(), acceptor.clone(), amount),
                    2 => TransferRequest::void_pending(id, format!("b{n}-missing")),
                    3 => TransferRequest::posted(
                        id,
                        acceptor.clone(),
                        AccountKey::merchant(format!("b{n}x"), true),
                        amount,
                    ),
                    4 => TransferRequest::posted(
                        id,
                        acceptor.clone(),
                        AccountKey::merchant(format!("b{n}m"), false),
                        amount,
                    ),
                    _ => TransferRequest::posted(
                        format!("b{n}-fund"),
                        custody.clone(),
                        acceptor.clone(),
                        999,
                    ),
                };
                batch.push(bad);
            }
            let bad_index = batch
                .iter()
                .position(|r| {
                    !r.id.ends_with("-p") && !r.id.ends_with("-q") && !r.id.ends_with("-r")
                })
                .unwrap();
            let err = ledger::transfer(db, &batch).await.unwrap_err();
            prop_assert_eq!(err.index(), Some(bad_index), "{}", err);
            let expected_ok = match failure {
                0 => matches!(err.reason(), Some(RejectReason::ExceedsCredits { .. })),
                1 => matches!(err.reason(), Some(RejectReason::SameAccount)),
                2 => matches!(err.reason(), Some(RejectReason::PendingNotFound { .. })),
                3 => matches!(err.reason(), Some(RejectReason::AccountNotFound { .. })),
                4 => matches!(err.reason(), Some(RejectReason::LivemodeMismatch)),
                _ => matches!(err.reason(), Some(RejectReason::ExistsWithDifferentFields)),
            };
            prop_assert!(expected_ok, "unexpected {}", err);
            for (k, b) in [&custody, &acceptor, &escrow, &merchant]
                .into_iter()
                .zip(&before)
            {
                prop_assert_eq!(&ledger::account(db, k).await.unwrap().unwrap().balances, b);
            }
            for r in &batch {
                if r.id != format!("b{n}-fund") {
                    prop_assert!(ledger::find_transfer(db, &r.id).await.unwrap().is_none());
                }
            }
            // Without the bad transfer the same batch applies.
            let good: Vec<_> = batch
                .into_iter()
                .enumerate()
                .filter(|(i, _)| *i != bad_index)
                .map(|(_, r)| r)
                .collect();
            let outcomes = ledger::transfer(db, &good).await.unwrap();
            prop_assert!(outcomes.iter().all(|o| *o == TransferOutcome::Created));
            let moved = amount * (len as i64 - 1);
            prop_assert_eq!(
                ledger::balance(db, &merchant).await.unwrap().available,
                moved
            );
            prop_assert_eq!(
                ledger::balance(db, &acceptor).await.unwrap().available,
                1000 - moved
            );
            Ok(())
        })
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let report = rt.block_on(ledger::check(db)).unwrap();
    assert!(report.ok, "{:?}", report.violations);
}

// ---------------------------------------------------------------------------------------
// Scenarios of the public API.

#[tokio::test]
async fn order_flow_with_partial_release_and_statement() {
    let test_db = TestDb::new().await;
    let db = &test_db.db;
    let custody = AccountKey::custody(true);
    let acceptor = AccountKey::acceptor("acc_1", true);
    let escrow = AccountKey::escrow(true);
    let merchant = AccountKey::merchant("mch_1", true);
    let revenue = AccountKey::revenue(true);
    assert_eq!(
        ledger::balance(db, &merchant).await.unwrap(),
        ledger::Balance::default(),
        "a missing account has a zero balance"
    );
    assert!(ledger::open_account(db, &custody).await.unwrap());
    ledger::open_accounts(
        db,
        &[
            custody.clone(),
            acceptor.clone(),
            escrow.clone(),
            merchant.clone(),
            revenue.clone(),
        ],
    )
    .await
    .unwrap();
    let account = ledger::account(db, &acceptor).await.unwrap().unwrap();
    assert_eq!(account.id, "acceptor:acc_1:live");
    assert!(account.no_overdraft());
    assert!(
        !ledger::account(db, &custody)
            .await
            .unwrap()
            .unwrap()
            .no_overdraft()
    );

    // Deposit, then reserve 100 for an order.
    let deposit = TransferRequest::posted("dep-1", custody.clone(), acceptor.clone(), 500_000_000)
        .with_kind("deposit");
    assert_eq!(
        ledger::transfer(db, std::slice::from_ref(&deposit))
            .await
            .unwrap(),
        vec![TransferOutcome::Created]
    );
    assert_eq!(
        ledger::transfer(db, &[deposit]).await.unwrap(),
        vec![TransferOutcome::Exists]
    );
    let reserve = TransferRequest::pending(
        "ord_1:reserve",
        acceptor.clone(),
        escrow.clone(),
        100_000_000,
    )
    .with_kind("order_reserve")
    .with_reference("ord_1");
    ledger::transfer(db, &[reserve]).await.unwrap();
    let b = ledger::balance(db, &acceptor).await.unwrap();
    assert_eq!(
        (b.posted, b.pending_debits, b.available),
        (500_000_000, 100_000_000, 400_000_000)
    );
    assert_eq!(
        ledger::balance(db, &escrow).await.unwrap().pending_credits,
        100_000_000
    );

    // Partial completion (80 of 100) and fee split in one linked batch; the released 20
    // are spendable by a later transfer of the same batch.
    let completion = vec![
        TransferRequest::post_pending("ord_1:release", "ord_1:reserve", Some(80_000_000))
            .with_kind("order_release")
            .with_reference("ord_1")
            .expecting_accounts(acceptor.clone(), escrow.clone()),
        TransferRequest::posted(
            "ord_1:merchant",
            escrow.clone(),
            merchant.clone(),
            79_000_000,
        )
        .with_reference("ord_1"),
        TransferRequest::posted("ord_1:fee", escrow.clone(), revenue.clone(), 1_000_000)
            .with_reference("ord_1"),
        TransferRequest::posted(
            "spend-released",
            acceptor.clone(),
            custody.clone(),
            420_000_000,
        ),
    ];
    assert_eq!(ledger::transfer(db, &completion).await.unwrap().len(), 4);
    assert_eq!(ledger::balance(db, &acceptor).await.unwrap().available, 0);
    assert_eq!(
        ledger::balance(db, &merchant).await.unwrap().available,
        79_000_000
    );
    assert_eq!(
        ledger::balance(db, &escrow).await.unwrap(),
        ledger::Balance::default()
    );
    // Retrying the completion is a no-op; settling again in another way is refused.
    assert!(
        ledger::transfer(db, &completion)
            .await
            .unwrap()
            .iter()
            .all(|o| *o == TransferOutcome::Exists)
    );
    let again = ledger::transfer(
        db,
        &[TransferRequest::void_pending("ord_1:void", "ord_1:reserve")],
    )
    .await
    .unwrap_err();
    assert_eq!(
        again.reason(),
        Some(&RejectReason::PendingAlreadyPosted {
            pending_id: "ord_1:reserve".into(),
            by: "ord_1:release".into()
        })
    );
    let mismatch = ledger::transfer(
        db,
        &[TransferRequest::post_pending("x", "ord_1:reserve", None)
            .expecting_accounts(merchant.clone(), escrow.clone())],
    )
    .await
    .unwrap_err();
    assert!(matches!(
        mismatch.reason(),
        Some(RejectReason::PendingAccountsMismatch { .. })
    ));
    let not_pending = ledger::transfer(db, &[TransferRequest::void_pending("y", "dep-1")])
        .await
        .unwrap_err();
    assert!(matches!(
        not_pending.reason(),
        Some(RejectReason::NotPending { .. })
    ));
    let too_much = ledger::transfer(
        db,
        &[
            TransferRequest::pending("ord_2:reserve", merchant.clone(), escrow.clone(), 10),
            TransferRequest::post_pending("ord_2:release", "ord_2:reserve", Some(11)),
        ],
    )
    .await
    .unwrap_err();
    assert_eq!(too_much.index(), Some(1));
    assert_eq!(
        too_much.reason(),
        Some(&RejectReason::PostAmountExceedsPending {
            amount: 11,
            pending_amount: 10
        })
    );
    let overdraft = ledger::transfer(
        db,
        &[TransferRequest::posted(
            "z",
            acceptor.clone(),
            escrow.clone(),
            1,
        )],
    )
    .await
    .unwrap_err();
    assert_eq!(
        overdraft.reason(),
        Some(&RejectReason::ExceedsCredits {
            account: "acceptor:acc_1:live".into()
        })
    );
    assert_eq!(
        overdraft.to_string(),
        "transfer #0 (z) rejected: debits would exceed credits on account acceptor:acc_1:live"
    );

    // The stored rows.
    let release = ledger::find_transfer(db, "ord_1:release")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(release.amount, 80_000_000);
    assert_eq!(release.pending_id.as_deref(), Some("ord_1:reserve"));
    assert!(release.is_post_pending());
    assert_eq!(release.kind, "order_release");
    assert_eq!(release.debit_account_id, acceptor.id());
    assert!(ledger::find_transfer(db, "nope").await.unwrap().is_none());

    // Statement of the acceptor: newest first, paginated by id.
    let all = ledger::transfers_of_account(db, &acceptor.id(), None, 100)
        .await
        .unwrap();
    let ids: Vec<&str> = all.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids.len(), 4, "{ids:?}");
    for pair in all.windows(2) {
        assert!((pair[0].created_at, &pair[0].id) > (pair[1].created_at, &pair[1].id));
    }
    let first = ledger::transfers_of_account(db, &acceptor.id(), None, 2)
        .await
        .unwrap();
    let rest = ledger::transfers_of_account(db, &acceptor.id(), Some(&first[1].id), 10)
        .await
        .unwrap();
    let paged: Vec<&str> = first
        .iter()
        .chain(rest.iter())
        .map(|t| t.id.as_str())
        .collect();
    assert_eq!(paged, ids);
    assert!(
        ledger::transfers_of_account(db, &acceptor.id(), Some("unknown"), 10)
            .await
            .unwrap()
            .is_empty()
    );

    let report = ledger::check(db).await.unwrap();
    assert!(report.ok, "{:?}", report.violations);
    assert_eq!(report.accounts, 5);
    assert_eq!(report.transfers, 6);
}

#[tokio::test]
async fn live_and_test_money_never_mix() {
    let test_db = TestDb::new().await;
    let db = &test_db.db;
    let live = AccountKey::merchant("mch_1", true);
    let test = AccountKey::merchant("mch_1", false);
    assert_ne!(live.id(), test.id());
    ledger::open_accounts(
        db,
        &[live.clone(), test.clone(), AccountKey::custody(false)],
    )
    .await
    .unwrap();
    let err = ledger::transfer(
        db,
        &[TransferRequest::posted(
            "t",
            AccountKey::custody(false),
            live.clone(),
            5,
        )],
    )
    .await
    .unwrap_err();
    assert_eq!(err.reason(), Some(&RejectReason::LivemodeMismatch));
    ledger::transfer(
        db,
        &[TransferRequest::posted(
            "t",
            AccountKey::custody(false),
            test.clone(),
            5,
        )],
    )
    .await
    .unwrap();
    assert_eq!(ledger::balance(db, &test).await.unwrap().available, 5);
    assert_eq!(ledger::balance(db, &live).await.unwrap().available, 0);
    assert!(
        !ledger::find_transfer(db, "t")
            .await
            .unwrap()
            .unwrap()
            .livemode
    );
    // Bad amounts.
    for amount in [0, -1] {
        let err = ledger::transfer(
            db,
            &[TransferRequest::posted(
                "u",
                AccountKey::custody(false),
                test.clone(),
                amount,
            )],
        )
        .await
        .unwrap_err();
        assert_eq!(err.reason(), Some(&RejectReason::AmountMustBePositive));
    }
    let err = ledger::transfer(
        db,
        &[TransferRequest::posted(
            "",
            AccountKey::custody(false),
            test.clone(),
            1,
        )],
    )
    .await
    .unwrap_err();
    assert_eq!(err.reason(), Some(&RejectReason::IdMustNotBeEmpty));
    // A batch inside the caller's own transaction, committed with other work.
    use sea_orm::TransactionTrait;
    let txn = db.begin().await.unwrap();
    let out = ledger::apply(
        &txn,
        &[TransferRequest::posted(
            "v",
            AccountKey::custody(false),
            test.clone(),
            7,
        )],
        42,
    )
    .await
    .unwrap();
    assert_eq!(out, vec![TransferOutcome::Created]);
    txn.rollback().await.unwrap();
    assert!(ledger::find_transfer(db, "v").await.unwrap().is_none());
    assert_eq!(ledger::balance(db, &test).await.unwrap().available, 5);
    assert!(ledger::check(db).await.unwrap().ok);
}

// ---------------------------------------------------------------------------------------
// The check must see corruption.

async fn exec(db: &DatabaseConnection, sql: &str) {
    db.execute_unprepared(sql).await.unwrap();
}

/// Opens the live custody, escrow and `acceptor`'s accounts: what funding an acceptor
/// and reserving part of it need. Returns (custody, acceptor, escrow).
async fn open_reserve_accounts(
    db: &DatabaseConnection,
    acceptor: &str,
) -> (AccountKey, AccountKey, AccountKey) {
    let custody = AccountKey::custody(true);
    let acceptor = AccountKey::acceptor(acceptor, true);
    let escrow = AccountKey::escrow(true);
    ledger::open_accounts(db, &[custody.clone(), acceptor.clone(), escrow.clone()])
        .await
        .unwrap();
    (custody, acceptor, escrow)
}

#[tokio::test]
async fn check_reports_corrupted_ledgers() {
    let test_db = TestDb::new().await;
    let db = &test_db.db;
    let (custody, acceptor, escrow) = open_reserve_accounts(db, "acc_1").await;
    ledger::transfer(
        db,
        &[
            TransferRequest::posted("dep", custody.clone(), acceptor.clone(), 100),
            TransferRequest::pending("res", acceptor.clone(), escrow.clone(), 60),
        ],
    )
    .await
    .unwrap();
    assert!(ledger::check(db).await.unwrap().ok);

    // 1. A cached balance edited behind the ledger's back.
    exec(db, "UPDATE ledger_accounts SET credits_posted = credits_posted + 5 WHERE id = 'acceptor:acc_1:live'").await;
    let report = ledger::check(db).await.unwrap();
    assert!(!report.ok);
    let mismatch = report
        .violations
        .iter()
        .find(|v| v.kind == violation_kind::BALANCE_MISMATCH)
        .unwrap_or_else(|| panic!("{:?}", report.violations));
    assert_eq!(mismatch.account.as_deref(), Some("acceptor:acc_1:live"));
    assert!(
        report.has(violation_kind::UNBALANCED_POSTED),
        "{:?}",
        report.violations
    );
    assert!(!report.has(violation_kind::OVERDRAFT));
    exec(db, "UPDATE ledger_accounts SET credits_posted = credits_posted - 5 WHERE id = 'acceptor:acc_1:live'").await;
    assert!(ledger::check(db).await.unwrap().ok);

    // 2. An overdraft (debits raised on both sides, so the totals still balance).
    exec(db, "UPDATE ledger_accounts SET debits_posted = debits_posted + 50 WHERE id = 'acceptor:acc_1:live'").await;
    exec(db, "UPDATE ledger_accounts SET credits_posted = credits_posted + 50 WHERE id = 'escrow:platform:live'").await;
    let report = ledger::check(db).await.unwrap();
    assert!(
        report.has(violation_kind::OVERDRAFT),
        "{:?}",
        report.violations
    );
    assert!(!report.has(violation_kind::UNBALANCED_POSTED));
    assert_eq!(
        report
            .violations
            .iter()
            .filter(|v| v.kind == violation_kind::BALANCE_MISMATCH)
            .count(),
        2
    );
    exec(db, "UPDATE ledger_accounts SET debits_posted = debits_posted - 50 WHERE id = 'acceptor:acc_1:live'").await;
    exec(db, "UPDATE ledger_accounts SET credits_posted = credits_posted - 50 WHERE id = 'escrow:platform:live'").await;
    assert!(ledger::check(db).await.unwrap().ok);

    // 3. Rows written around the service: a post larger than its pending, a void of
    //    a posted transfer, a malformed row.
    let live = if test_db.backend == otcpay_tests::Backend::Postgres {
        "TRUE"
    } else {
        "1"
    };
    exec(
        db,
        &format!(
            "INSERT INTO ledger_transfers (id, debit_account_id, credit_account_id, amount, pending_id, flags, kind, reference, livemode, created_at) VALUES \
             ('bad-post', 'acceptor:acc_1:live', 'escrow:platform:live', 61, 'res', 2, 'x', '', {live}, 1), \
             ('bad-void', 'custody:platform:live', 'acceptor:acc_1:live', 100, 'dep', 4, 'x', '', {live}, 1), \
             ('bad-row', 'custody:platform:live', 'custody:platform:live', 0, NULL, 8, 'x', '', {live}, 1)"
        ),
    )
    .await;
    let report = ledger::check(db).await.unwrap();
    let kinds: Vec<(&str, Option<&str>)> = report
        .violations
        .iter()
        .map(|v| (v.kind.as_str(), v.transfer.as_deref()))
        .collect();
    assert!(
        kinds.contains(&(violation_kind::POST_EXCEEDS_PENDING, Some("bad-post"))),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&(violation_kind::INVALID_RESOLUTION, Some("bad-void"))),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&(violation_kind::MALFORMED_TRANSFER, Some("bad-row"))),
        "{kinds:?}"
    );
    assert!(report.has(violation_kind::BALANCE_MISMATCH));
    assert_eq!(report.transfers, 5);

    // The ledger refuses to resolve "res" again (it counts as posted by bad-post).
    let err = ledger::transfer(db, &[TransferRequest::void_pending("void-res", "res")])
        .await
        .unwrap_err();
    assert!(
        matches!(
            err.reason(),
            Some(RejectReason::PendingAlreadyPosted { .. })
        ),
        "{err}"
    );
}

/// The admin endpoint and the `ledger_check_ok` gauge, through the real server.
#[tokio::test]
async fn admin_check_endpoint_reports_and_sets_the_gauge() {
    let app = TestApp::spawn().await;
    let db = &app.db.db;
    let custody = AccountKey::custody(false);
    let merchant = AccountKey::merchant("mch_x", false);
    ledger::open_accounts(db, &[custody.clone(), merchant.clone()])
        .await
        .unwrap();
    ledger::transfer(db, &[TransferRequest::posted("t1", custody, merchant, 10)])
        .await
        .unwrap();
    let token = app.admin_token().await;

    let response = app.get("/api/v1/admin/ledger/check", Some(&token)).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["ok"], true, "{body}");
    assert_eq!(body["accounts"], 2);
    assert_eq!(body["transfers"], 1);
    assert_eq!(body["violations"], serde_json::json!([]));
    let metrics = app.get("/metrics", None).await.text().await.unwrap();
    assert!(metrics.contains("ledger_check_ok 1"), "{metrics}");

    exec(
        db,
        "UPDATE ledger_accounts SET credits_posted = 11 WHERE id = 'merchant:mch_x:test'",
    )
    .await;
    let body: Value = app
        .get("/api/v1/admin/ledger/check", Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["ok"], false);
    let violations = body["violations"].as_array().unwrap();
    assert!(
        violations
            .iter()
            .any(|v| v["kind"] == "balance_mismatch" && v["account"] == "merchant:mch_x:test"),
        "{body}"
    );
    let metrics = app.get("/metrics", None).await.text().await.unwrap();
    assert!(metrics.contains("ledger_check_ok 0"), "{metrics}");

    // Admins only.
    let response = app.get("/api/v1/admin/ledger/check", None).await;
    assert_eq!(response.status(), 401);
}

/// Posting a pending transfer twice by retrying with the same id is idempotent, and the
/// `None` (full) form equals the explicit full amount.
#[tokio::test]
async fn idempotent_resolution_retries() {
    let test_db = TestDb::new().await;
    let db = &test_db.db;
    let (custody, acceptor, escrow) = open_reserve_accounts(db, "a").await;
    ledger::transfer(
        db,
        &[
            TransferRequest::posted("d", custody, acceptor.clone(), 50),
            TransferRequest::pending("p", acceptor.clone(), escrow.clone(), 30),
            TransferRequest::post_pending("q", "p", None),
        ],
    )
    .await
    .unwrap();
    let full = ledger::transfer(db, &[TransferRequest::post_pending("q", "p", Some(30))])
        .await
        .unwrap();
    assert_eq!(full, vec![TransferOutcome::Exists]);
    let none = ledger::transfer(db, &[TransferRequest::post_pending("q", "p", None)])
        .await
        .unwrap();
    assert_eq!(none, vec![TransferOutcome::Exists]);
    let partial = ledger::transfer(db, &[TransferRequest::post_pending("q", "p", Some(29))])
        .await
        .unwrap_err();
    assert_eq!(
        partial.reason(),
        Some(&RejectReason::ExistsWithDifferentFields)
    );
    let as_void = ledger::transfer(db, &[TransferRequest::void_pending("q", "p")])
        .await
        .unwrap_err();
    assert_eq!(
        as_void.reason(),
        Some(&RejectReason::ExistsWithDifferentFields)
    );
    // A duplicate id inside one batch: the second copy is "exists".
    let dup = TransferRequest::posted("e", acceptor.clone(), escrow.clone(), 1);
    let out = ledger::transfer(db, &[dup.clone(), dup]).await.unwrap();
    assert_eq!(out, vec![TransferOutcome::Created, TransferOutcome::Exists]);
    assert_eq!(ledger::balance(db, &escrow).await.unwrap().posted, 31);
    let row = ledger::find_transfer(db, "q").await.unwrap().unwrap();
    assert_eq!(row.flags, transfer_flags::POST_PENDING);
    assert!(ledger::check(db).await.unwrap().ok);
}

/// `apply_new` (for ids minted with rows of the same transaction) writes what `apply`
/// would, and a duplicate id still cannot get in: the primary key refuses it, and the
/// rolled-back transaction leaves the balances as they were.
#[tokio::test]
async fn apply_new_writes_new_ids_and_the_key_refuses_an_existing_one() {
    use sea_orm::TransactionTrait;
    let test_db = TestDb::new().await;
    let db = &test_db.db;
    let (custody, acceptor, escrow) = open_reserve_accounts(db, "a").await;
    let fund = TransferRequest::posted("fund", custody.clone(), acceptor.clone(), 50);
    let reserve = TransferRequest::pending("reserve", acceptor.clone(), escrow.clone(), 10);

    let txn = db.begin().await.unwrap();
    let out = ledger::apply_new(&txn, &[fund, reserve.clone()], 1)
        .await
        .unwrap();
    txn.commit().await.unwrap();
    assert_eq!(
        out,
        vec![TransferOutcome::Created, TransferOutcome::Created]
    );
    let balance = ledger::balance(db, &acceptor).await.unwrap();
    assert_eq!((balance.posted, balance.available), (50, 40));

    // The same id again: no lookup answers "exists", the primary key refuses it.
    let txn = db.begin().await.unwrap();
    let err = ledger::apply_new(&txn, &[reserve], 2).await.unwrap_err();
    assert!(matches!(err, LedgerError::Db(_)), "{err:?}");
    txn.rollback().await.unwrap();
    let balance = ledger::balance(db, &acceptor).await.unwrap();
    assert_eq!((balance.posted, balance.available), (50, 40));

    // A batch that resolves a pending transfer is looked up as by `apply`: a retry is
    // "exists".
    for expected in [TransferOutcome::Created, TransferOutcome::Exists] {
        let txn = db.begin().await.unwrap();
        let out = ledger::apply_new(
            &txn,
            &[TransferRequest::post_pending("post", "reserve", None)],
            3,
        )
        .await
        .unwrap();
        txn.commit().await.unwrap();
        assert_eq!(out, vec![expected]);
    }
    assert_eq!(ledger::balance(db, &escrow).await.unwrap().posted, 10);
    assert!(ledger::check(db).await.unwrap().ok);
}
