//! Runtime infrastructure seams: rate limiting, replay protection and live-event fan-out.
//!
//! Each seam is a trait with two implementations, chosen at start by configuration only:
//!
//! - **in-process** (the embedded default): state lives in this process, nothing external is
//!   needed, and it is exactly right for a single node;
//! - **Redis** (production): every node shares one view, so limits, replay protection and live
//!   events hold across any number of stateless API nodes behind a load balancer.
//!
//! Both implementations of a seam give the same answers to the same sequence of calls; the tests
//! of each seam run one behavioural suite against both. [`Infra`] bundles the three seams and,
//! in Redis mode, the one connection they share.

pub mod event_bus;
pub mod rate_limit;
mod redis;
pub mod replay_cache;

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ::redis::aio::ConnectionManager;

pub use event_bus::{BusEvent, EventBus, InProcessEventBus, RedisEventBus};
pub use rate_limit::{
    BanPolicy, Decision, InProcessRateLimiter, Quota, RateLimiter, RedisRateLimiter, Verdict,
};
pub use replay_cache::{InProcessReplayCache, RedisReplayCache, ReplayCache};

/// A failure of the infrastructure behind a seam. The in-process implementations never fail.
#[derive(Debug, thiserror::Error)]
pub enum InfraError {
    #[error("redis: {0}")]
    Redis(#[from] ::redis::RedisError),
    #[error("redis did not answer within {0:?}")]
    Timeout(Duration),
    #[error("unexpected reply from redis: {0}")]
    UnexpectedReply(String),
    #[error("event encoding: {0}")]
    Codec(#[from] serde_json::Error),
}

/// The three seams, wired to one backend.
#[derive(Clone)]
pub struct Infra {
    pub rate_limiter: Arc<dyn RateLimiter>,
    pub replay_cache: Arc<dyn ReplayCache>,
    pub event_bus: Arc<dyn EventBus>,
    redis: Option<ConnectionManager>,
    /// The same limiter as `rate_limiter` when it is Redis's, for its combined script.
    redis_limiter: Option<Arc<RedisRateLimiter>>,
}

/// What [`Infra::admit`] asks about one signed request.
#[derive(Debug, Clone, Copy)]
pub struct SignedUse<'a> {
    /// A bucket that must have a free cell (e.g. the client address's failed
    /// authentications), and its quota.
    pub gate_key: &'a str,
    pub gate_quota: Quota,
    /// The replay cache's key for the request, and how long it is remembered.
    pub replay_key: &'a str,
    pub replay_ttl: Duration,
    /// The bucket the request is counted against, its quota and ban policy.
    pub limit_key: &'a str,
    pub quota: Quota,
    pub ban: BanPolicy,
}

/// The answer of [`Infra::admit`].
#[derive(Debug, Clone, Copy)]
pub enum Admission {
    /// The gate bucket is empty; its decision says when it has a cell again.
    Gated(Decision),
    /// The request was seen within its replay TTL.
    Replayed,
    /// A first use, counted against the limit.
    Counted(Verdict),
}

impl Infra {
    /// With `redis_url` `None`, the in-process implementations; with `Some`, the Redis ones,
    /// sharing one connection manager, every key and channel prefixed by `prefix`
    /// (e.g. `"otcpay:"`). Returns once Redis answered and the event subscription is confirmed.
    pub async fn connect(redis_url: Option<&str>, prefix: &str) -> Result<Self, InfraError> {
        let Some(url) = redis_url else {
            return Ok(Self::in_process());
        };
        let client = ::redis::Client::open(url)?;
        let conn = self::redis::connection_manager(&client).await?;
        let event_bus = RedisEventBus::start(client, conn.clone(), prefix).await?;
        let limiter = Arc::new(RedisRateLimiter::new(conn.clone(), prefix));
        Ok(Self {
            rate_limiter: limiter.clone(),
            replay_cache: Arc::new(RedisReplayCache::new(conn.clone(), prefix)),
            event_bus: Arc::new(event_bus),
            redis: Some(conn),
            redis_limiter: Some(limiter),
        })
    }

    /// The embedded default: everything in this process.
    pub fn in_process() -> Self {
        Self {
            rate_limiter: Arc::new(InProcessRateLimiter::new()),
            replay_cache: Arc::new(InProcessReplayCache::new()),
            event_bus: Arc::new(InProcessEventBus::new()),
            redis: None,
            redis_limiter: None,
        }
    }

    /// Admits a signed request whose signature checked out: refused at once when its
    /// client's `gate` bucket is empty (peeked, never consumed); then its first use
    /// (`replay_cache`); then, only for a first use, its key's rate limit
    /// (`rate_limiter.acquire_guarded`). On Redis all three are one atomic script, one
    /// round trip. A refusal at any step counts nothing in the steps after it.
    pub async fn admit(&self, request: &SignedUse<'_>) -> Result<Admission, InfraError> {
        if let Some(redis) = &self.redis_limiter {
            return redis.admit(request).await;
        }
        let gate = self
            .rate_limiter
            .acquire(request.gate_key, request.gate_quota, 0)
            .await?;
        if !gate.allowed {
            return Ok(Admission::Gated(gate));
        }
        if !self
            .replay_cache
            .first_use(request.replay_key, request.replay_ttl)
            .await?
        {
            return Ok(Admission::Replayed);
        }
        self.rate_limiter
            .acquire_guarded(request.limit_key, request.quota, request.ban)
            .await
            .map(Admission::Counted)
    }

    /// For `/readyz`: PINGs Redis when configured; always ready when embedded.
    pub async fn ready(&self) -> Result<(), InfraError> {
        match &self.redis {
            Some(conn) => self::redis::ping(conn.clone()).await,
            None => Ok(()),
        }
    }

    pub fn uses_redis(&self) -> bool {
        self.redis.is_some()
    }
}

impl fmt::Debug for Infra {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let backend = if self.uses_redis() {
            "redis"
        } else {
            "in-process"
        };
        f.debug_struct("Infra").field("backend", &backend).finish()
    }
}

/// Microseconds since an arbitrary origin, never going backwards: the clock of the in-process
/// implementations (one node needs no wall clock, and a monotonic one ignores NTP steps).
#[derive(Debug)]
pub(crate) struct MonotonicClock {
    origin: Instant,
}

impl MonotonicClock {
    pub(crate) fn new() -> Self {
        Self {
            origin: Instant::now(),
        }
    }

    pub(crate) fn now_us(&self) -> u64 {
        micros(self.origin.elapsed())
    }
}

/// Longest span the seams reason about (a year). Spans are clamped to it so that every time
/// value, once added to a Unix timestamp in microseconds, stays an exact integer in a Lua double.
pub(crate) const MAX_SPAN_US: u64 = 366 * 24 * 3600 * 1_000_000;

/// `d` in whole microseconds, clamped to [`MAX_SPAN_US`].
pub(crate) fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).map_or(MAX_SPAN_US, |us| us.min(MAX_SPAN_US))
}

/// A Redis `PX` expiry for a span: milliseconds rounded up, at least 1 (`PX 0` is an error).
pub(crate) fn expiry_ms(span_us: u64) -> u64 {
    span_us.div_ceil(1000).max(1)
}

/// A string-keyed map whose entries expire: the in-process stand-in for Redis keys with a TTL.
///
/// Expired entries are invisible at once and physically removed by a sweep that runs whenever
/// the map has doubled since the previous sweep, so memory stays proportional to the live
/// entries while each insert costs amortised O(1).
#[derive(Debug)]
pub(crate) struct ExpiringMap<V> {
    entries: HashMap<String, Expiring<V>>,
    sweep_at_len: usize,
}

#[derive(Debug)]
struct Expiring<V> {
    value: V,
    expires_at_us: u64,
}

impl<V> ExpiringMap<V> {
    const MIN_SWEEP_AT_LEN: usize = 1024;

    pub(crate) fn new() -> Self {
        Self {
            entries: HashMap::new(),
            sweep_at_len: Self::MIN_SWEEP_AT_LEN,
        }
    }

    pub(crate) fn get(&self, key: &str, now_us: u64) -> Option<&V> {
        self.entries
            .get(key)
            .filter(|e| e.expires_at_us > now_us)
            .map(|e| &e.value)
    }

    /// Inserts or replaces `key`, live until `expires_at_us`.
    pub(crate) fn insert(&mut self, key: String, value: V, expires_at_us: u64, now_us: u64) {
        if self.entries.len() >= self.sweep_at_len {
            self.entries.retain(|_, e| e.expires_at_us > now_us);
            self.sweep_at_len = (self.entries.len() * 2).max(Self::MIN_SWEEP_AT_LEN);
        }
        self.entries.insert(
            key,
            Expiring {
                value,
                expires_at_us,
            },
        );
    }

    pub(crate) fn remove(&mut self, key: &str) {
        self.entries.remove(key);
    }

    /// Entries held, expired or not (what the memory bound is about).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

impl ExpiringMap<u64> {
    /// Redis `INCR` + `PEXPIRE` on the first increment: a counter over a fixed window that
    /// starts with its first hit. Returns the new count.
    pub(crate) fn incr(&mut self, key: &str, window_us: u64, now_us: u64) -> u64 {
        if let Some(e) = self.entries.get_mut(key)
            && e.expires_at_us > now_us
        {
            e.value += 1;
            return e.value;
        }
        self.insert(key.to_owned(), 1, now_us + window_us, now_us);
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expired_entries_are_invisible() {
        let mut map = ExpiringMap::new();
        map.insert("k".into(), 7_u64, 100, 0);
        assert_eq!(map.get("k", 99), Some(&7));
        assert_eq!(map.get("k", 100), None);
    }

    #[test]
    fn sweeps_keep_memory_proportional_to_live_entries() {
        let mut map = ExpiringMap::new();
        // A million one-shot keys, each live for 10 µs, inserted 1 µs apart.
        for now in 0..1_000_000_u64 {
            map.insert(format!("key-{now}"), (), now + 10, now);
            assert!(map.len() <= 2 * ExpiringMap::<()>::MIN_SWEEP_AT_LEN);
        }
    }

    #[test]
    fn counter_window_starts_at_first_hit() {
        let mut map = ExpiringMap::new();
        assert_eq!(map.incr("c", 1_000, 0), 1);
        assert_eq!(map.incr("c", 1_000, 999), 2);
        assert_eq!(
            map.incr("c", 1_000, 1_000),
            1,
            "window over: counting restarts"
        );
    }

    #[test]
    fn spans_are_clamped_and_expiries_rounded_up() {
        assert_eq!(micros(Duration::from_millis(3)), 3_000);
        assert_eq!(micros(Duration::MAX), MAX_SPAN_US);
        assert_eq!(expiry_ms(1), 1);
        assert_eq!(expiry_ms(1_000), 1);
        assert_eq!(expiry_ms(1_001), 2);
        assert_eq!(expiry_ms(0), 1);
    }

    #[tokio::test]
    async fn in_process_infra_is_always_ready() {
        let infra = Infra::in_process();
        assert!(!infra.uses_redis());
        infra.ready().await.unwrap();
    }

    /// A first use is counted; the same request again is refused and not counted; a
    /// request the replay cache already saw is refused too (one key space for both); an
    /// empty gate refuses before anything is remembered or counted.
    async fn admit_counts_first_uses_through_an_open_gate_only(infra: &Infra) {
        let quota = Quota::new(2, Duration::from_secs(60));
        let gate_quota = Quota::new(1, Duration::from_secs(60));
        let ttl = Duration::from_secs(5);
        let admit = |gate_key: &'static str, replay_key: &'static str| async move {
            infra
                .admit(&SignedUse {
                    gate_key,
                    gate_quota,
                    replay_key,
                    replay_ttl: ttl,
                    limit_key: "key-a",
                    quota,
                    ban: BanPolicy::default(),
                })
                .await
        };
        let remaining = |admission: Admission| match admission {
            Admission::Counted(Verdict::Allowed(d)) => d.remaining,
            other => panic!("expected an allowed first use, got {other:?}"),
        };
        assert_eq!(remaining(admit("gate-a", "sig-1").await.unwrap()), 1);
        assert!(
            matches!(admit("gate-a", "sig-1").await.unwrap(), Admission::Replayed),
            "a replay is refused"
        );
        assert!(infra.replay_cache.first_use("sig-2", ttl).await.unwrap());
        assert!(
            matches!(admit("gate-a", "sig-2").await.unwrap(), Admission::Replayed),
            "seen by the replay cache"
        );

        // Spend the gate's only cell: the gate now refuses, naming when it opens again.
        assert!(
            infra
                .rate_limiter
                .acquire("gate-b", gate_quota, 1)
                .await
                .unwrap()
                .allowed
        );
        match admit("gate-b", "sig-3").await.unwrap() {
            Admission::Gated(d) => {
                assert!(!d.allowed);
                assert!(d.retry_after > Duration::from_secs(59), "{d:?}");
            }
            other => panic!("expected the gate to refuse, got {other:?}"),
        }
        // The gated request was not remembered, and admissions only peek at the gate:
        // gate-a, passed three times, still has its one cell.
        assert!(infra.replay_cache.first_use("sig-3", ttl).await.unwrap());
        assert!(
            infra
                .rate_limiter
                .acquire("gate-a", gate_quota, 0)
                .await
                .unwrap()
                .allowed
        );

        // No refusal spent a cell of the limit: one first use still passes, the next not.
        assert_eq!(remaining(admit("gate-a", "sig-4").await.unwrap()), 0);
        assert!(matches!(
            admit("gate-a", "sig-5").await.unwrap(),
            Admission::Counted(Verdict::Limited(_))
        ));
    }

    #[tokio::test]
    async fn admit_in_process() {
        admit_counts_first_uses_through_an_open_gate_only(&Infra::in_process()).await;
    }

    #[tokio::test]
    async fn admit_on_redis() {
        let url = redis::test_support::url();
        let prefix = redis::test_support::unique_prefix();
        let infra = Infra::connect(Some(&url), &prefix)
            .await
            .unwrap_or_else(|e| panic!("{}", redis::test_support::unreachable(&url, &e)));
        admit_counts_first_uses_through_an_open_gate_only(&infra).await;
    }

    #[tokio::test]
    async fn redis_infra_pings_redis() {
        let url = redis::test_support::url();
        let prefix = redis::test_support::unique_prefix();
        let infra = Infra::connect(Some(&url), &prefix)
            .await
            .unwrap_or_else(|e| panic!("{}", redis::test_support::unreachable(&url, &e)));
        assert!(infra.uses_redis());
        infra.ready().await.unwrap();
        assert!(
            infra
                .replay_cache
                .first_use("wired", Duration::from_secs(1))
                .await
                .unwrap()
        );
    }
}
