//! Opaque prefixed ids (`ord_…`, `mch_…`, `acc_…`, …).
//!
//! The part after the prefix is 26 Crockford base32 characters: 48 bits of Unix
//! milliseconds followed by 80 random bits, so ids sort by creation time (the lists'
//! "newest first" and `starting_after` cursors rely on it) and cannot be guessed.
//! Within one process ids are strictly increasing even inside one millisecond: a new
//! id is at least the previous one plus one (the ULID "monotonic" rule).

use std::sync::Mutex;

use rand::Rng;
use ulid::{Generator, ULID_LEN};

/// One generator for the process, so ids are monotonic across threads too.
static GENERATOR: Mutex<Generator> = Mutex::new(Generator::new());

/// A new time-ordered id with the given prefix, e.g. `new("ord")` → `ord_01J…`.
pub fn new(prefix: &str) -> String {
    let ulid = {
        let mut generator = match GENERATOR.lock() {
            Ok(guard) => guard,
            // The generator is a plain value: a panic elsewhere leaves it usable.
            Err(poisoned) => poisoned.into_inner(),
        };
        match generator.generate() {
            Ok(ulid) => ulid,
            // 2^80 ids in one millisecond: borrow the next millisecond, still increasing.
            Err(overflow) => overflow.commit_overflow_increment(),
        }
    };
    let mut buf = [0u8; ULID_LEN];
    let encoded = ulid.array_to_str(&mut buf);
    let mut out = String::with_capacity(prefix.len() + 1 + ULID_LEN);
    out.push_str(prefix);
    out.push('_');
    out.push_str(encoded);
    out
}

/// A request id for `X-Request-Id`.
pub fn request_id() -> String {
    new("req")
}

/// `n` random bytes as lowercase hex: tokens, secrets.
pub fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// `n` random bytes.
pub fn random_bytes(n: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; n];
    rand::rng().fill_bytes(&mut bytes);
    bytes
}

/// True when `id` looks like an id of ours with this prefix (cheap shape check before
/// a database lookup).
pub fn has_prefix(id: &str, prefix: &str) -> bool {
    id.len() == prefix.len() + 27
        && id.starts_with(prefix)
        && id.as_bytes().get(prefix.len()) == Some(&b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_prefixed_unique_and_time_ordered() {
        let a = new("ord");
        let b = new("ord");
        assert!(a.starts_with("ord_") && a.len() == 30);
        assert!(has_prefix(&a, "ord"));
        assert!(!has_prefix(&a, "mch"));
        assert_ne!(a, b);
        assert!(a < b, "{a} should sort before {b}");
    }

    #[test]
    fn ids_increase_within_one_millisecond_and_decode_as_ulids() {
        let ids: Vec<String> = (0..1000).map(|_| new("mch")).collect();
        for pair in ids.windows(2) {
            assert!(
                pair[0] < pair[1],
                "{} should sort before {}",
                pair[0],
                pair[1]
            );
        }
        let last = ids.last().map(String::as_str).unwrap_or_default();
        let ulid = ulid::Ulid::from_string(&last[4..]);
        assert!(ulid.is_ok(), "{last} is not prefix + ULID");
    }
}
