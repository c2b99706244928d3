//! Replay protection: remembers one-shot values (request signatures) for as long as they could
//! be replayed.
//!
//! A signed merchant request is valid for its receive window, so its signature only has to be
//! remembered that long: a set with a TTL per entry. Claiming an entry must be atomic, or two
//! copies of one request racing on two nodes could both pass; in Redis that is a single
//! `SET key 1 NX PX ttl`, in process a check-and-insert under one lock.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use redis::aio::ConnectionManager;

use super::{ExpiringMap, InfraError, MonotonicClock, expiry_ms, micros};

#[async_trait::async_trait]
pub trait ReplayCache: Send + Sync {
    /// `true` the first time `key` is seen within `ttl`; `false` while it is remembered.
    /// `ttl` is rounded up to whole milliseconds.
    async fn first_use(&self, key: &str, ttl: Duration) -> Result<bool, InfraError>;
}

/// The embedded replay cache: a TTL map swept as it grows, so memory stays bounded by the
/// entries still live.
#[derive(Debug)]
pub struct InProcessReplayCache {
    clock: MonotonicClock,
    seen: Mutex<ExpiringMap<()>>,
}

impl InProcessReplayCache {
    pub fn new() -> Self {
        Self {
            clock: MonotonicClock::new(),
            seen: Mutex::new(ExpiringMap::new()),
        }
    }
}

impl Default for InProcessReplayCache {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait::async_trait]
impl ReplayCache for InProcessReplayCache {
    async fn first_use(&self, key: &str, ttl: Duration) -> Result<bool, InfraError> {
        let now = self.clock.now_us();
        // Every statement leaves the map consistent, so a poisoned lock is still usable.
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        if seen.get(key, now).is_some() {
            return Ok(false);
        }
        let expires_at = now + expiry_ms(micros(ttl)) * 1000;
        seen.insert(key.to_owned(), (), expires_at, now);
        Ok(true)
    }
}

/// The production replay cache: keys `{prefix}replay:{key}`, shared by all nodes.
pub struct RedisReplayCache {
    conn: ConnectionManager,
    key_prefix: String,
}

impl RedisReplayCache {
    pub fn new(conn: ConnectionManager, prefix: &str) -> Self {
        Self {
            conn,
            key_prefix: redis_key(prefix, ""),
        }
    }
}

/// The Redis key that remembers `key` under `prefix` (also set by the rate limiter's
/// combined script, `RedisRateLimiter::admit`).
pub(super) fn redis_key(prefix: &str, key: &str) -> String {
    format!("{prefix}replay:{key}")
}

#[async_trait::async_trait]
impl ReplayCache for RedisReplayCache {
    async fn first_use(&self, key: &str, ttl: Duration) -> Result<bool, InfraError> {
        // `OK` when the key was set, nil when it already existed.
        let reply: Option<String> = redis::cmd("SET")
            .arg(format!("{}{key}", self.key_prefix))
            .arg(1)
            .arg("NX")
            .arg("PX")
            .arg(expiry_ms(micros(ttl)))
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(reply.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn redis_cache() -> RedisReplayCache {
        let (_, conn) = super::super::redis::test_support::connect().await;
        RedisReplayCache::new(conn, &super::super::redis::test_support::unique_prefix())
    }

    async fn remembers_for_the_ttl(cache: &dyn ReplayCache) {
        let ttl = Duration::from_millis(300);
        assert!(cache.first_use("sig-1", ttl).await.unwrap());
        assert!(!cache.first_use("sig-1", ttl).await.unwrap());
        assert!(!cache.first_use("sig-1", ttl).await.unwrap());
        tokio::time::sleep(ttl + Duration::from_millis(50)).await;
        assert!(
            cache.first_use("sig-1", ttl).await.unwrap(),
            "forgotten after the ttl"
        );
        assert!(!cache.first_use("sig-1", ttl).await.unwrap());
    }

    async fn keys_are_independent(cache: &dyn ReplayCache) {
        let ttl = Duration::from_secs(10);
        assert!(cache.first_use("sig-a", ttl).await.unwrap());
        assert!(cache.first_use("sig-b", ttl).await.unwrap());
        assert!(!cache.first_use("sig-a", ttl).await.unwrap());
    }

    async fn concurrent_claims_have_one_winner(cache: &dyn ReplayCache) {
        let ttl = Duration::from_secs(10);
        let claims = (0..16).map(|_| cache.first_use("raced", ttl));
        let results = futures_util::future::join_all(claims).await;
        let winners = results.into_iter().filter(|r| *r.as_ref().unwrap()).count();
        assert_eq!(winners, 1);
    }

    macro_rules! against_both_caches {
        ($($case:ident),* $(,)?) => {
            mod in_process {
                $(
                    #[tokio::test]
                    async fn $case() {
                        super::$case(&super::InProcessReplayCache::new()).await;
                    }
                )*
            }
            mod on_redis {
                $(
                    #[tokio::test]
                    async fn $case() {
                        super::$case(&super::redis_cache().await).await;
                    }
                )*
            }
        };
    }

    against_both_caches!(
        remembers_for_the_ttl,
        keys_are_independent,
        concurrent_claims_have_one_winner,
    );
}
