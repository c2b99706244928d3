//! Rate limiting with GCRA, plus escalating bans for persistent violators.
//!
//! GCRA (the generic cell rate algorithm) is a token bucket stored as a single number: the
//! *theoretical arrival time* (TAT), the instant at which the bucket would be full again. Each
//! request pushes the TAT forward by one emission interval `T = period / limit` per cell; a
//! request is admitted iff, after the push, the TAT is at most one `period` (`limit` cells) ahead
//! of now. So the whole allowance can be spent as one burst, then cells come back one every `T`.
//! One integer per key, O(1) per request, no timer, and an expiry equal to the time until full
//! makes idle keys vanish on their own.
//!
//! The math is written once, in [`Gcra::apply`], over an explicit clock. The in-process limiter
//! calls it under a mutex; the Redis limiter runs a line-for-line Lua mirror of it as one script
//! per call. A script because read-decide-write must be atomic when many nodes share a key, and
//! because it reads the clock with Redis `TIME`: every node then measures time on the same clock,
//! so skew between API nodes cannot hand anyone extra cells. Times are integer microseconds; a
//! Unix time in µs stays below 2^53, so Lua's doubles hold every value exactly.
//!
//! Bans (see [`RateLimiter::acquire_guarded`]) sit on top: refusals are counted per key over a
//! window, and a key that keeps hammering after being refused is shut out for a time that doubles
//! with each repeat offence, up to a cap.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use super::{ExpiringMap, InfraError, MAX_SPAN_US, MonotonicClock, expiry_ms, micros};

mod redis_limiter;

pub use redis_limiter::RedisRateLimiter;

/// `limit` requests per `period`; the whole allowance may be used as one burst.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quota {
    pub limit: u32,
    pub period: Duration,
}

impl Quota {
    pub const fn new(limit: u32, period: Duration) -> Self {
        Self { limit, period }
    }

    pub const fn per_minute(limit: u32) -> Self {
        Self::new(limit, Duration::from_secs(60))
    }
}

/// The answer for one request, with what the `X-RateLimit-*` and `Retry-After` headers need.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    pub limit: u32,
    /// Cells still available now (after this request, if it was admitted).
    pub remaining: u32,
    /// When a refused request would pass; zero when allowed.
    pub retry_after: Duration,
    /// Until the bucket is full again.
    pub reset_after: Duration,
}

/// How persistent violators are banned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BanPolicy {
    /// Refusals tolerated within `window`; one more bans the key.
    pub max_rejections: u32,
    pub window: Duration,
    /// First ban; each further offence doubles it.
    pub base_ban: Duration,
    pub max_ban: Duration,
}

impl Default for BanPolicy {
    /// API.md: bans double from 2 minutes up to 3 days.
    fn default() -> Self {
        Self {
            max_rejections: 10,
            window: Duration::from_secs(60),
            base_ban: Duration::from_secs(2 * 60),
            max_ban: Duration::from_secs(3 * 24 * 3600),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Allowed(Decision),
    Limited(Decision),
    Banned { retry_after: Duration },
}

#[async_trait::async_trait]
pub trait RateLimiter: Send + Sync {
    /// Consumes `cost` cells of `key`'s bucket. `cost == 0` peeks: allowed iff one more request
    /// would pass now, and nothing is stored. A cost above `quota.limit` never passes.
    async fn acquire(&self, key: &str, quota: Quota, cost: u32) -> Result<Decision, InfraError>;

    /// [`acquire`](Self::acquire) of one cell, with bans. While banned: `Banned`, and nothing
    /// else is counted. Each refusal is counted over `ban.window`; when the count exceeds
    /// `ban.max_rejections` the key is banned for `base_ban × 2^(earlier bans)`, capped at
    /// `max_ban`, and the count restarts. Earlier bans are remembered for `2 × max_ban`.
    async fn acquire_guarded(
        &self,
        key: &str,
        quota: Quota,
        ban: BanPolicy,
    ) -> Result<Verdict, InfraError>;
}

/// A quota in GCRA terms, in microseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Gcra {
    limit: u32,
    /// Time one cell takes to come back: `period / limit`, rounded up so that rounding never
    /// admits more than the quota. A quota of 0 admits nothing.
    emission_us: u64,
    /// How far ahead of now the TAT may run: `limit` cells.
    capacity_us: u64,
}

impl Gcra {
    fn new(quota: Quota) -> Self {
        let period_us = micros(quota.period);
        let emission_us = period_us.div_ceil(u64::from(quota.limit.max(1))).max(1);
        Self {
            limit: quota.limit,
            emission_us,
            capacity_us: emission_us
                .saturating_mul(u64::from(quota.limit))
                .min(MAX_SPAN_US),
        }
    }

    /// A cost above the limit can never pass; clamping it to `limit + 1` keeps that answer and
    /// keeps the arithmetic small (exact in Lua too).
    fn clamp_cost(&self, cost: u32) -> u32 {
        cost.min(self.limit.saturating_add(1))
    }

    /// Applies a request of `cost` cells (0 = peek) at `now_us` to a bucket whose stored TAT is
    /// `stored_tat_us` (`None`: no key, a full bucket). Returns the decision and, when cells were
    /// consumed, the TAT to store (with a `PX` expiry of `expiry_ms(tat - now)`).
    ///
    /// Mirrored by `GCRA_LUA`: change both together.
    fn apply(&self, now_us: u64, stored_tat_us: Option<u64>, cost: u32) -> (Decision, Option<u64>) {
        let cost = self.clamp_cost(cost);
        let tat = stored_tat_us.map_or(now_us, |t| t.max(now_us));
        let new_tat = tat + u64::from(cost.max(1)) * self.emission_us;
        let allow_at = new_tat.saturating_sub(self.capacity_us);
        if now_us < allow_at {
            let decision = self.decision(
                false,
                self.free_cells(now_us, tat),
                allow_at - now_us,
                tat - now_us,
            );
            return (decision, None);
        }
        if cost == 0 {
            return (
                self.decision(true, self.free_cells(now_us, tat), 0, tat - now_us),
                None,
            );
        }
        let decision = self.decision(true, self.free_cells(now_us, new_tat), 0, new_tat - now_us);
        (decision, Some(new_tat))
    }

    fn free_cells(&self, now_us: u64, tat: u64) -> u64 {
        self.capacity_us.saturating_sub(tat - now_us) / self.emission_us
    }

    fn decision(
        &self,
        allowed: bool,
        free_cells: u64,
        retry_after_us: u64,
        reset_after_us: u64,
    ) -> Decision {
        Decision {
            allowed,
            limit: self.limit,
            remaining: u32::try_from(free_cells)
                .unwrap_or(u32::MAX)
                .min(self.limit),
            retry_after: Duration::from_micros(retry_after_us),
            reset_after: Duration::from_micros(reset_after_us),
        }
    }
}

/// Ban for a key with `previous_bans` earlier offences: `base × 2^previous`, capped at `max`.
/// Mirrored in `GUARDED_LUA`.
fn ban_length_us(policy: &BanPolicy, previous_bans: u64) -> u64 {
    let max = micros(policy.max_ban);
    let mut ban = micros(policy.base_ban);
    for _ in 0..previous_bans {
        if ban >= max {
            break;
        }
        ban *= 2;
    }
    ban.min(max)
}

/// The keys of one limited subject under `prefix`, the same in Redis and in process. Each kind
/// has its own tag after `rl:`, so no subject (say, one named `rej:x`) can alias another's keys.
struct BucketKeys {
    tat: String,
    rejections: String,
    banned_until: String,
    bans: String,
}

impl BucketKeys {
    fn new(prefix: &str, key: &str) -> Self {
        Self {
            tat: format!("{prefix}rl:tat:{key}"),
            rejections: format!("{prefix}rl:rej:{key}"),
            banned_until: format!("{prefix}rl:ban:{key}"),
            bans: format!("{prefix}rl:bans:{key}"),
        }
    }
}

/// The embedded limiter: [`Gcra::apply`] over an in-memory key space that behaves like the
/// Redis one (same keys, same expiries), so both limiters answer alike.
#[derive(Debug)]
pub struct InProcessRateLimiter {
    clock: MonotonicClock,
    keys: Mutex<ExpiringMap<u64>>,
}

impl InProcessRateLimiter {
    pub fn new() -> Self {
        Self {
            clock: MonotonicClock::new(),
            keys: Mutex::new(ExpiringMap::new()),
        }
    }

    fn keys(&self) -> MutexGuard<'_, ExpiringMap<u64>> {
        // The map is consistent after every statement, so a panic elsewhere cannot corrupt it.
        self.keys.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Default for InProcessRateLimiter {
    fn default() -> Self {
        Self::new()
    }
}

/// Runs the GCRA step on the in-memory key space, storing the new TAT if cells were consumed.
fn apply_in_memory(
    keys: &mut ExpiringMap<u64>,
    tat_key: &str,
    gcra: &Gcra,
    now_us: u64,
    cost: u32,
) -> Decision {
    let (decision, new_tat) = gcra.apply(now_us, keys.get(tat_key, now_us).copied(), cost);
    if let Some(tat) = new_tat {
        let expires_at = now_us + expiry_ms(tat - now_us) * 1000;
        keys.insert(tat_key.to_owned(), tat, expires_at, now_us);
    }
    decision
}

#[async_trait::async_trait]
impl RateLimiter for InProcessRateLimiter {
    async fn acquire(&self, key: &str, quota: Quota, cost: u32) -> Result<Decision, InfraError> {
        let gcra = Gcra::new(quota);
        let now = self.clock.now_us();
        let tat_key = BucketKeys::new("", key).tat;
        Ok(apply_in_memory(
            &mut self.keys(),
            &tat_key,
            &gcra,
            now,
            cost,
        ))
    }

    async fn acquire_guarded(
        &self,
        key: &str,
        quota: Quota,
        ban: BanPolicy,
    ) -> Result<Verdict, InfraError> {
        let gcra = Gcra::new(quota);
        let names = BucketKeys::new("", key);
        let now = self.clock.now_us();
        let mut keys = self.keys();

        if let Some(&until) = keys.get(&names.banned_until, now)
            && until > now
        {
            return Ok(Verdict::Banned {
                retry_after: Duration::from_micros(until - now),
            });
        }
        let decision = apply_in_memory(&mut keys, &names.tat, &gcra, now, 1);
        if decision.allowed {
            return Ok(Verdict::Allowed(decision));
        }
        let window_us = expiry_ms(micros(ban.window)) * 1000;
        if keys.incr(&names.rejections, window_us, now) <= u64::from(ban.max_rejections) {
            return Ok(Verdict::Limited(decision));
        }
        let previous_bans = keys.get(&names.bans, now).copied().unwrap_or(0);
        let ban_us = ban_length_us(&ban, previous_bans);
        let ban_expires_at = now + expiry_ms(ban_us) * 1000;
        let bans_expire_at = now + expiry_ms(micros(ban.max_ban) * 2) * 1000;
        keys.insert(names.banned_until, now + ban_us, ban_expires_at, now);
        keys.insert(names.bans, previous_bans + 1, bans_expire_at, now);
        keys.remove(&names.rejections);
        Ok(Verdict::Banned {
            retry_after: Duration::from_micros(ban_us),
        })
    }
}

#[cfg(test)]
mod tests;
