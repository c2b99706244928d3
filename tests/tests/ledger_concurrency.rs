//! The ledger under concurrent use. On PostgreSQL the batches really race (row locks keep
//! them correct); on SQLite they are serialised by the single connection and must give the
//! same results.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use otcpay::ledger::{self, AccountKey, RejectReason, TransferOutcome, TransferRequest};
use otcpay_tests::{Backend, TestDb};

/// A small deterministic generator (xorshift64*), so failures are reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[derive(Debug, Clone)]
struct Attempt {
    id: String,
    amount: i64,
    pending: bool,
    created: bool,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_spends_never_overdraw() {
    let test_db = TestDb::new().await;
    let db = test_db.db.clone();
    let tasks = 8u64;
    let per_task: u64 = if test_db.backend == Backend::Postgres {
        500
    } else {
        50
    };

    let custody = AccountKey::custody(true);
    let source = AccountKey::acceptor("acc_hot", true);
    let escrow = AccountKey::escrow(true);
    let merchants: Vec<AccountKey> = (0..4)
        .map(|i| AccountKey::merchant(format!("mch_{i}"), true))
        .collect();
    let mut keys = vec![custody.clone(), source.clone(), escrow.clone()];
    keys.extend(merchants.iter().cloned());
    ledger::open_accounts(&db, &keys).await.unwrap();

    // Plan every attempt up front; fund about 40 % of their total.
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let plans: Vec<Vec<Attempt>> = (0..tasks)
        .map(|t| {
            (0..per_task)
                .map(|i| Attempt {
                    id: format!("spend-{t}-{i}"),
                    amount: 1 + rng.below(1_000) as i64,
                    pending: rng.below(3) == 0,
                    created: false,
                })
                .collect()
        })
        .collect();
    let total: i64 = plans.iter().flatten().map(|a| a.amount).sum();
    let funding = total * 2 / 5;
    ledger::transfer(
        &db,
        &[TransferRequest::posted(
            "fund",
            custody.clone(),
            source.clone(),
            funding,
        )],
    )
    .await
    .unwrap();

    let started = Instant::now();
    let running = Arc::new(AtomicBool::new(true));
    // A watcher that keeps reading the hot account while the spenders run.
    let watcher = {
        let db = db.clone();
        let source = source.clone();
        let running = running.clone();
        tokio::spawn(async move {
            let mut reads = 0u64;
            while running.load(Ordering::SeqCst) {
                let b = ledger::balance(&db, &source).await.unwrap();
                assert!(b.available >= 0, "overdrawn: {b:?}");
                assert!(b.posted >= 0 && b.pending_debits >= 0);
                reads += 1;
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            reads
        })
    };
    let mut handles = Vec::new();
    for (t, mut plan) in plans.into_iter().enumerate() {
        let db = db.clone();
        let source = source.clone();
        let escrow = escrow.clone();
        let merchant = merchants[t % merchants.len()].clone();
        handles.push(tokio::spawn(async move {
            for attempt in &mut plan {
                let req = if attempt.pending {
                    TransferRequest::pending(attempt.id.clone(), source.clone(), escrow.clone(), attempt.amount)
                } else {
                    TransferRequest::posted(attempt.id.clone(), source.clone(), merchant.clone(), attempt.amount)
                };
                match ledger::transfer(&db, &[req]).await {
                    Ok(outcomes) => {
                        assert_eq!(outcomes, vec![TransferOutcome::Created]);
                        attempt.created = true;
                    }
                    Err(err) => assert!(
                        matches!(
                            err.reason(),
                            Some(RejectReason::ExceedsCredits { account }) if *account == source.id()
                        ),
                        "unexpected failure: {err}"
                    ),
                }
            }
            plan
        }));
    }
    let mut attempts = Vec::new();
    for handle in handles {
        attempts.extend(handle.await.unwrap());
    }
    running.store(false, Ordering::SeqCst);
    let reads = watcher.await.unwrap();
    let elapsed = started.elapsed();

    let successes: Vec<&Attempt> = attempts.iter().filter(|a| a.created).collect();
    let failures = attempts.len() - successes.len();
    assert!(
        !successes.is_empty() && failures > 0,
        "funding must make only part succeed"
    );
    let spent: i64 = successes.iter().map(|a| a.amount).sum();
    let spent_pending: i64 = successes
        .iter()
        .filter(|a| a.pending)
        .map(|a| a.amount)
        .sum();

    // Every success recorded exactly once, every failure not at all.
    for a in &attempts {
        let row = ledger::find_transfer(&db, &a.id).await.unwrap();
        assert_eq!(row.is_some(), a.created, "{}", a.id);
        if let Some(row) = row {
            assert_eq!(row.amount, a.amount);
            assert_eq!(row.debit_account_id, source.id());
        }
    }
    let statement = ledger::transfers_of_account(&db, &source.id(), None, 100_000)
        .await
        .unwrap();
    assert_eq!(
        statement.len(),
        successes.len() + 1,
        "the funding plus each success"
    );

    let b = ledger::balance(&db, &source).await.unwrap();
    assert_eq!(b.available, funding - spent);
    assert_eq!(b.posted, funding - (spent - spent_pending));
    assert_eq!(b.pending_debits, spent_pending);
    assert!(b.available >= 0);
    // With 1..=1000-unit attempts and 40 % funding the account ends nearly drained.
    assert!(
        b.available < 1_000,
        "leftover {} although attempts kept coming",
        b.available
    );
    assert_eq!(
        ledger::balance(&db, &escrow).await.unwrap().pending_credits,
        spent_pending
    );

    let report = ledger::check(&db).await.unwrap();
    assert!(report.ok, "{:?}", report.violations);
    eprintln!(
        "{:?}: {} attempts, {} created, {} refused, {} watcher reads in {:?}",
        test_db.backend,
        attempts.len(),
        successes.len(),
        failures,
        reads,
        elapsed
    );
}

/// Posts and voids racing for the same pending transfers (confirm vs expiry, double
/// clicks): exactly one resolution wins per pending transfer.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_resolutions_resolve_each_pending_once() {
    let test_db = TestDb::new().await;
    let db = test_db.db.clone();
    let pendings: usize = if test_db.backend == Backend::Postgres {
        60
    } else {
        20
    };
    let custody = AccountKey::custody(true);
    let acceptor = AccountKey::acceptor("acc_1", true);
    let escrow = AccountKey::escrow(true);
    ledger::open_accounts(&db, &[custody.clone(), acceptor.clone(), escrow.clone()])
        .await
        .unwrap();
    let mut setup = vec![TransferRequest::posted(
        "fund",
        custody,
        acceptor.clone(),
        1_000_000,
    )];
    for i in 0..pendings {
        setup.push(TransferRequest::pending(
            format!("p{i}"),
            acceptor.clone(),
            escrow.clone(),
            100 + i as i64,
        ));
    }
    ledger::transfer(&db, &setup).await.unwrap();

    // Four contenders per pending transfer: full post, partial post, two voids.
    let mut handles = Vec::new();
    for contender in 0..4 {
        let db = db.clone();
        handles.push(tokio::spawn(async move {
            let mut won = Vec::new();
            for i in 0..pendings {
                let pending_id = format!("p{i}");
                let id = format!("r{i}-{contender}");
                let req = match contender {
                    0 => TransferRequest::post_pending(id.clone(), pending_id.clone(), None),
                    1 => TransferRequest::post_pending(id.clone(), pending_id.clone(), Some(50)),
                    _ => TransferRequest::void_pending(id.clone(), pending_id.clone()),
                };
                match ledger::transfer(&db, &[req]).await {
                    Ok(_) => won.push((i, contender)),
                    Err(err) => assert!(
                        matches!(
                            err.reason(),
                            Some(
                                RejectReason::PendingAlreadyPosted { pending_id: p, .. }
                                    | RejectReason::PendingAlreadyVoided { pending_id: p, .. }
                            ) if *p == pending_id
                        ),
                        "unexpected failure: {err}"
                    ),
                }
            }
            won
        }));
    }
    let mut winners = vec![Vec::new(); pendings];
    for handle in handles {
        for (i, contender) in handle.await.unwrap() {
            winners[i].push(contender);
        }
    }
    let mut expected_posted = 0i64;
    for (i, w) in winners.iter().enumerate() {
        assert_eq!(w.len(), 1, "pending p{i} resolved by {w:?}");
        expected_posted += match w[0] {
            0 => 100 + i as i64,
            1 => 50,
            _ => 0,
        };
        let resolution = ledger::find_transfer(&db, &format!("r{i}-{}", w[0]))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            resolution.pending_id.as_deref(),
            Some(format!("p{i}").as_str())
        );
    }
    let escrow_balance = ledger::balance(&db, &escrow).await.unwrap();
    assert_eq!(escrow_balance.posted, expected_posted);
    assert_eq!(escrow_balance.pending_credits, 0);
    let acceptor_balance = ledger::balance(&db, &acceptor).await.unwrap();
    assert_eq!(acceptor_balance.available, 1_000_000 - expected_posted);
    assert_eq!(acceptor_balance.pending_debits, 0);
    let report = ledger::check(&db).await.unwrap();
    assert!(report.ok, "{:?}", report.violations);
}

/// The same request submitted concurrently (client retries) is applied once; accounts
/// opened concurrently exist once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_retries_and_opens_are_idempotent() {
    let test_db = TestDb::new().await;
    let db = test_db.db.clone();
    let custody = AccountKey::custody(true);
    let merchant = AccountKey::merchant("mch_race", true);
    let rounds: usize = if test_db.backend == Backend::Postgres {
        40
    } else {
        10
    };

    let mut opens = Vec::new();
    for _ in 0..8 {
        let db = db.clone();
        let keys = vec![custody.clone(), merchant.clone()];
        opens.push(tokio::spawn(async move {
            let mut created = 0;
            for key in &keys {
                if ledger::open_account(&db, key).await.unwrap() {
                    created += 1;
                }
            }
            created
        }));
    }
    let mut created = 0;
    for handle in opens {
        created += handle.await.unwrap();
    }
    assert_eq!(created, 2, "each account is created by exactly one opener");

    for round in 0..rounds {
        let req = TransferRequest::posted(
            format!("deposit-{round}"),
            custody.clone(),
            merchant.clone(),
            10,
        )
        .with_kind("deposit");
        let mut handles = Vec::new();
        for _ in 0..4 {
            let db = db.clone();
            let req = req.clone();
            handles.push(tokio::spawn(async move {
                ledger::transfer(&db, &[req]).await.unwrap()
            }));
        }
        let mut outcomes = Vec::new();
        for handle in handles {
            outcomes.extend(handle.await.unwrap());
        }
        assert_eq!(
            outcomes
                .iter()
                .filter(|o| **o == TransferOutcome::Created)
                .count(),
            1,
            "round {round}: {outcomes:?}"
        );
    }
    assert_eq!(
        ledger::balance(&db, &merchant).await.unwrap().available,
        10 * rounds as i64
    );
    let report = ledger::check(&db).await.unwrap();
    assert!(report.ok, "{:?}", report.violations);
    assert_eq!(report.accounts, 2);
    assert_eq!(report.transfers, rounds as u64);
}
