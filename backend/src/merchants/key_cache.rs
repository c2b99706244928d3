//! A short-lived, in-process cache of API keys with their merchants, so that a signed
//! request does not read the same two rows from the database every time.
//!
//! Entries live [`KEY_CACHE_TTL`]. A change made through this node (key revoked,
//! merchant patched) empties the cache when it commits, so it is seen by the next
//! request; a change made through another node is seen here within the TTL. A lookup
//! that raced with such a change does not put its older rows back: entries are only
//! stored under the generation the lookup started in.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::store::{api_key, merchant};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// How long another node's change to a key or merchant may go unseen here.
pub const KEY_CACHE_TTL: Duration = Duration::from_secs(1);

/// More distinct keys than this within a TTL and the cache starts over (it holds live
/// and test keys of active merchants; this bounds memory against odd clients).
const MAX_ENTRIES: usize = 10_000;

type Entry = (Instant, api_key::Model, merchant::Model);

#[derive(Default)]
pub struct KeyCache {
    entries: Mutex<HashMap<String, Entry>>,
    generation: AtomicU64,
}

impl KeyCache {
    /// The server's cache (inserted into `AppState::handles` at start).
    pub fn of(state: &AppState) -> ApiResult<&Self> {
        state
            .handles
            .get::<Self>()
            .ok_or_else(|| ApiError::internal("the API-key cache was not started"))
    }

    /// Take this before reading the database; pass it to [`KeyCache::store`].
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The cached key and merchant for this lookup hash, if fresh.
    pub fn get(&self, key_id_hash: &str) -> Option<(api_key::Model, merchant::Model)> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries
            .get(key_id_hash)
            .filter(|(stored, _, _)| stored.elapsed() < KEY_CACHE_TTL)
            .map(|(_, key, merchant)| (key.clone(), merchant.clone()))
    }

    /// Remembers what a lookup read, unless the cache was invalidated since `generation`.
    pub fn store(
        &self,
        generation: u64,
        key_id_hash: String,
        key: api_key::Model,
        merchant: merchant::Model,
    ) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if self.generation.load(Ordering::Acquire) != generation {
            return;
        }
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(key_id_hash, (Instant::now(), key, merchant));
    }

    /// Notes that the key was used at `now` (so that its `last_used_at` is not written
    /// again for every cached hit).
    pub fn mark_used(&self, key_id_hash: &str, now: i64) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, key, _)) = entries.get_mut(key_id_hash) {
            key.last_used_at = Some(now);
        }
    }

    /// Forgets everything; call after committing a change to a key or a merchant.
    pub fn invalidate(&self) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{ApiKeyId, MerchantId};

    fn rows(status: &str) -> (api_key::Model, merchant::Model) {
        let merchant_id = MerchantId::generate();
        let key = api_key::Model {
            id: ApiKeyId::generate(),
            key_id_hash: "h".into(),
            key_id_prefix: "mk_live_abcd".into(),
            merchant_id: merchant_id.clone(),
            livemode: true,
            kind: crate::merchants::model::KeyKind::Hmac,
            secret_enc: None,
            public_key_pem: None,
            revoked_at: None,
            last_used_at: None,
            created_at: 0,
        };
        let merchant = merchant::Model {
            id: merchant_id,
            user_id: None,
            name: "Shop".into(),
            email: "shop@example.com".into(),
            status: status.parse().unwrap(),
            fee_rate: "0.01".into(),
            default_fiat: None,
            webhook_url: None,
            webhook_secret_enc: "sealed".into(),
            webhook_secret_prev_enc: None,
            webhook_secret_prev_expires_at: None,
            rate_limit_per_minute: 100,
            auto_approve_withdrawals_below: None,
            created_at: 0,
            updated_at: 0,
        };
        (key, merchant)
    }

    #[test]
    fn a_stored_entry_is_served_until_invalidated() {
        let cache = KeyCache::default();
        assert!(cache.get("h").is_none());
        let (key, merchant) = rows("active");
        cache.store(cache.generation(), "h".into(), key, merchant);
        assert_eq!(
            cache.get("h").map(|(_, m)| m.status.as_str()),
            Some("active")
        );
        cache.mark_used("h", 42);
        assert_eq!(cache.get("h").and_then(|(k, _)| k.last_used_at), Some(42));
        cache.invalidate();
        assert!(cache.get("h").is_none());
    }

    #[test]
    fn a_lookup_that_raced_an_invalidation_is_not_stored() {
        let cache = KeyCache::default();
        let before = cache.generation();
        // The merchant is suspended and the cache emptied while the lookup runs.
        cache.invalidate();
        let (key, merchant) = rows("active");
        cache.store(before, "h".into(), key, merchant);
        assert!(cache.get("h").is_none());
    }
}
