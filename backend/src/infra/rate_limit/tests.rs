use super::*;

const MS: u64 = 1_000;
const SEC: u64 = 1_000_000;

// ---- The pure GCRA step, on an explicit clock.

/// Replays `(now_us, cost)` requests against one bucket, storing TATs like the limiters do.
fn replay(quota: Quota, requests: &[(u64, u32)]) -> Vec<Decision> {
    let gcra = Gcra::new(quota);
    let mut tat = None;
    requests
        .iter()
        .map(|&(now, cost)| {
            let (decision, new_tat) = gcra.apply(now, tat, cost);
            tat = new_tat.or(tat);
            decision
        })
        .collect()
}

#[test]
fn whole_quota_passes_as_one_burst_then_refuses() {
    let quota = Quota::per_minute(100);
    let decisions = replay(quota, &vec![(0, 1); 101]);
    for (i, d) in decisions[..100].iter().enumerate() {
        assert!(d.allowed, "request {i}");
        assert_eq!(d.remaining, 99 - i as u32);
    }
    let refused = decisions[100];
    assert!(!refused.allowed);
    assert_eq!(refused.remaining, 0);
    assert_eq!(refused.retry_after, Duration::from_millis(600));
    assert_eq!(refused.reset_after, Duration::from_secs(60));
    assert_eq!(refused.limit, 100);
}

#[test]
fn one_cell_returns_per_emission_interval() {
    let quota = Quota::new(3, Duration::from_secs(3));
    let d = replay(
        quota,
        &[
            (0, 1),
            (0, 1),
            (0, 1),
            (SEC - 1, 1),
            (SEC, 1),
            (SEC, 1),
            (4 * SEC, 3),
        ],
    );
    let allowed: Vec<bool> = d.iter().map(|d| d.allowed).collect();
    assert_eq!(allowed, [true, true, true, false, true, false, true]);
    assert_eq!(d[3].retry_after, Duration::from_micros(1));
    assert_eq!(d[4].remaining, 0);
    assert_eq!(d[5].retry_after, Duration::from_secs(1));
    assert_eq!(
        d[6].remaining, 0,
        "full again one period after the last cell went"
    );
}

#[test]
fn peek_reports_without_consuming() {
    let quota = Quota::new(2, Duration::from_secs(2));
    let d = replay(
        quota,
        &[(0, 0), (0, 0), (0, 1), (0, 0), (0, 1), (0, 0), (SEC, 0)],
    );
    assert!(d[0].allowed && d[1].allowed);
    assert_eq!((d[0].remaining, d[1].remaining), (2, 2));
    assert_eq!(d[0].reset_after, Duration::ZERO);
    assert_eq!(d[3].remaining, 1);
    assert!(
        !d[5].allowed,
        "the bucket is empty: one more would not pass"
    );
    assert_eq!(d[5].retry_after, Duration::from_secs(1));
    assert!(d[6].allowed);
    assert_eq!(d[6].remaining, 1);
}

#[test]
fn weighted_requests_consume_several_cells() {
    let quota = Quota::new(5, Duration::from_secs(5));
    let d = replay(quota, &[(0, 3), (0, 3), (0, 2), (0, 6), (10 * SEC, 6)]);
    assert!(d[0].allowed);
    assert_eq!(d[0].remaining, 2);
    assert!(!d[1].allowed, "3 cells do not fit in 2");
    assert_eq!(d[1].remaining, 2, "a refusal consumes nothing");
    assert_eq!(d[1].retry_after, Duration::from_secs(1));
    assert!(d[2].allowed);
    assert!(
        !d[3].allowed && !d[4].allowed,
        "more than the limit never passes"
    );
}

#[test]
fn emission_interval_rounds_up_so_the_quota_is_never_exceeded() {
    let gcra = Gcra::new(Quota::new(3, Duration::from_secs(1)));
    assert_eq!(gcra.emission_us, 333_334);
    assert_eq!(gcra.capacity_us, 1_000_002);
    let tiny = Gcra::new(Quota::new(10, Duration::ZERO));
    assert_eq!(tiny.emission_us, 1);
}

#[test]
fn zero_limit_admits_nothing() {
    let d = replay(
        Quota::new(0, Duration::from_secs(1)),
        &[(0, 1), (0, 0), (5 * SEC, 1)],
    );
    assert!(d.iter().all(|d| !d.allowed && d.remaining == 0));
}

#[test]
fn stale_tat_counts_as_a_full_bucket() {
    let gcra = Gcra::new(Quota::new(4, Duration::from_secs(4)));
    let (d, tat) = gcra.apply(100 * SEC, Some(5 * SEC), 1);
    assert!(d.allowed);
    assert_eq!(d.remaining, 3);
    assert_eq!(tat, Some(101 * SEC));
    assert_eq!(d.reset_after, Duration::from_secs(1));
}

#[test]
fn lowered_quota_reports_zero_remaining_not_underflow() {
    let big = Gcra::new(Quota::new(100, Duration::from_secs(100)));
    let (_, tat) = big.apply(0, None, 50);
    let small = Gcra::new(Quota::new(10, Duration::from_secs(10)));
    let (d, _) = small.apply(0, tat, 1);
    assert!(!d.allowed);
    assert_eq!(d.remaining, 0);
    assert_eq!(d.retry_after, Duration::from_secs(41));
}

#[test]
fn bans_double_up_to_the_cap() {
    let policy = BanPolicy::default();
    let lengths: Vec<u64> = (0..13).map(|n| ban_length_us(&policy, n) / SEC).collect();
    assert_eq!(
        lengths,
        [
            120, 240, 480, 960, 1920, 3840, 7680, 15360, 30720, 61440, 122880, 245760, 259200
        ]
    );
    assert_eq!(ban_length_us(&policy, u64::MAX), 3 * 24 * 3600 * SEC);
    let odd = BanPolicy {
        base_ban: Duration::from_millis(1500),
        max_ban: Duration::from_secs(5),
        ..policy
    };
    assert_eq!(ban_length_us(&odd, 2), 5 * SEC);
    assert_eq!(ban_length_us(&odd, 1), 3000 * MS);
}

// ---- One behavioural suite, run against both limiters.

/// Fresh keys per test: the Redis limiter also gets its own random prefix.
async fn redis_limiter() -> RedisRateLimiter {
    let (_, conn) = super::super::redis::test_support::connect().await;
    RedisRateLimiter::new(conn, &super::super::redis::test_support::unique_prefix())
}

async fn burst_then_refusal(limiter: &dyn RateLimiter) {
    let quota = Quota::new(5, Duration::from_secs(1));
    for expected_remaining in (0..5).rev() {
        let d = limiter.acquire("burst", quota, 1).await.unwrap();
        assert!(d.allowed);
        assert_eq!(d.remaining, expected_remaining);
        assert_eq!(d.retry_after, Duration::ZERO);
    }
    let refused = limiter.acquire("burst", quota, 1).await.unwrap();
    assert!(!refused.allowed);
    assert_eq!(refused.remaining, 0);
    assert!(refused.retry_after > Duration::ZERO);
    assert!(refused.retry_after <= Duration::from_millis(200));
    assert!(refused.reset_after > Duration::from_millis(800));
    assert!(refused.reset_after <= Duration::from_secs(1));
}

async fn cells_come_back_after_emission_interval(limiter: &dyn RateLimiter) {
    let quota = Quota::new(2, Duration::from_millis(400));
    assert!(limiter.acquire("refill", quota, 2).await.unwrap().allowed);
    let refused = limiter.acquire("refill", quota, 1).await.unwrap();
    assert!(!refused.allowed);
    tokio::time::sleep(refused.retry_after + Duration::from_millis(20)).await;
    assert!(limiter.acquire("refill", quota, 1).await.unwrap().allowed);
    assert!(
        !limiter.acquire("refill", quota, 1).await.unwrap().allowed,
        "one interval brings back one cell, not two"
    );
}

async fn peek_does_not_consume(limiter: &dyn RateLimiter) {
    let quota = Quota::new(2, Duration::from_secs(10));
    for _ in 0..3 {
        let d = limiter.acquire("peek", quota, 0).await.unwrap();
        assert!(d.allowed);
        assert_eq!(d.remaining, 2);
    }
    assert!(limiter.acquire("peek", quota, 2).await.unwrap().allowed);
    let d = limiter.acquire("peek", quota, 0).await.unwrap();
    assert!(!d.allowed);
    assert!(d.retry_after > Duration::from_secs(4));
}

async fn keys_are_independent(limiter: &dyn RateLimiter) {
    let quota = Quota::new(1, Duration::from_secs(10));
    assert!(limiter.acquire("a", quota, 1).await.unwrap().allowed);
    assert!(!limiter.acquire("a", quota, 1).await.unwrap().allowed);
    assert!(limiter.acquire("b", quota, 1).await.unwrap().allowed);
}

/// Requests in quick succession (well inside one emission interval), so the answers do not
/// depend on how long each call takes.
async fn answers_a_fixed_sequence(limiter: &dyn RateLimiter) {
    let quota = Quota::new(5, Duration::from_secs(50));
    let mut answers = Vec::new();
    for cost in [1, 0, 2, 3, 0, 2, 6, 1, 1, 0] {
        let d = limiter.acquire("sequence", quota, cost).await.unwrap();
        answers.push((d.allowed, d.remaining));
    }
    let expected = replay(quota, &[1, 0, 2, 3, 0, 2, 6, 1, 1, 0].map(|c| (0, c)));
    let expected: Vec<_> = expected.iter().map(|d| (d.allowed, d.remaining)).collect();
    assert_eq!(answers, expected);
}

/// Sends requests until banned; checks that exactly `max_rejections` refusals came first.
async fn offend(limiter: &dyn RateLimiter, quota: Quota, policy: BanPolicy) -> Duration {
    let mut refusals = 0;
    for _ in 0..50 {
        match limiter
            .acquire_guarded("offender", quota, policy)
            .await
            .unwrap()
        {
            Verdict::Allowed(_) => assert_eq!(refusals, 0, "no cell comes back mid-test"),
            Verdict::Limited(d) => {
                assert!(!d.allowed && d.retry_after > Duration::ZERO);
                refusals += 1;
            }
            Verdict::Banned { retry_after } => {
                assert_eq!(refusals, policy.max_rejections);
                return retry_after;
            }
        }
    }
    panic!("never banned");
}

fn assert_about(actual: Duration, expected: Duration) {
    assert!(
        actual <= expected && actual + Duration::from_millis(100) >= expected,
        "{actual:?} is not about {expected:?}"
    );
}

async fn bans_double_and_cap(limiter: &dyn RateLimiter) {
    // 10 s per cell: no cell comes back while the test runs.
    let quota = Quota::new(3, Duration::from_secs(30));
    let policy = BanPolicy {
        max_rejections: 2,
        window: Duration::from_secs(10),
        base_ban: Duration::from_secs(1),
        max_ban: Duration::from_millis(3_000),
    };
    let first = offend(limiter, quota, policy).await;
    assert_about(first, Duration::from_secs(1));
    match limiter
        .acquire_guarded("offender", quota, policy)
        .await
        .unwrap()
    {
        Verdict::Banned { retry_after } => assert!(retry_after <= first),
        other => panic!("expected a ban, got {other:?}"),
    }
    assert!(
        matches!(
            limiter
                .acquire_guarded("bystander", quota, policy)
                .await
                .unwrap(),
            Verdict::Allowed(_)
        ),
        "a ban is per key"
    );

    tokio::time::sleep(first + Duration::from_millis(20)).await;
    // The bucket is still empty: the next request is a refusal, counted anew.
    let second = offend(limiter, quota, policy).await;
    assert_about(second, Duration::from_secs(2));

    tokio::time::sleep(second + Duration::from_millis(20)).await;
    let third = offend(limiter, quota, policy).await;
    assert_about(third, Duration::from_secs(3));
}

#[tokio::test]
async fn redis_keys_live_under_the_prefix_and_expire() {
    let (_, mut conn) = super::super::redis::test_support::connect().await;
    let prefix = super::super::redis::test_support::unique_prefix();
    let limiter = RedisRateLimiter::new(conn.clone(), &prefix);
    let quota = Quota::new(2, Duration::from_secs(1));
    let policy = BanPolicy {
        max_rejections: 0,
        window: Duration::from_secs(5),
        base_ban: Duration::from_secs(2),
        max_ban: Duration::from_secs(4),
    };
    assert!(limiter.acquire("k", quota, 1).await.unwrap().allowed);
    assert!(limiter.acquire("k", quota, 0).await.unwrap().allowed);
    assert!(limiter.acquire("peeked", quota, 0).await.unwrap().allowed);
    let last_cell = limiter.acquire_guarded("k", quota, policy).await.unwrap();
    assert!(matches!(last_cell, Verdict::Allowed(_)), "{last_cell:?}");
    let banned = limiter.acquire_guarded("k", quota, policy).await.unwrap();
    assert!(matches!(banned, Verdict::Banned { .. }), "{banned:?}");

    let mut pttl = async |name: &str| -> i64 {
        redis::cmd("PTTL")
            .arg(format!("{prefix}{name}"))
            .query_async(&mut conn)
            .await
            .unwrap()
    };
    assert!(
        (1..=1_000).contains(&pttl("rl:tat:k").await),
        "TAT expires when full"
    );
    assert!((1_000..=2_000).contains(&pttl("rl:ban:k").await));
    assert!(
        (7_000..=8_000).contains(&pttl("rl:bans:k").await),
        "2 × max_ban"
    );
    assert_eq!(pttl("rl:rej:k").await, -2, "rejections reset by the ban");
    assert_eq!(pttl("rl:tat:peeked").await, -2, "a peek stores nothing");
}

macro_rules! against_both_limiters {
    ($($case:ident),* $(,)?) => {
        mod in_process {
            $(
                #[tokio::test]
                async fn $case() {
                    super::$case(&super::InProcessRateLimiter::new()).await;
                }
            )*
        }
        mod on_redis {
            $(
                #[tokio::test]
                async fn $case() {
                    super::$case(&super::redis_limiter().await).await;
                }
            )*
        }
    };
}

against_both_limiters!(
    burst_then_refusal,
    cells_come_back_after_emission_interval,
    peek_does_not_consume,
    keys_are_independent,
    answers_a_fixed_sequence,
    bans_double_and_cap,
);
