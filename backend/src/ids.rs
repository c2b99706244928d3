//! Opaque prefixed ids (`ord_…`, `mch_…`, `acc_…`, …).
//!
//! The part after the prefix is 26 Crockford base32 characters: 48 bits of Unix
//! milliseconds followed by 80 random bits, so ids sort by creation time (the lists'
//! "newest first" and `starting_after` cursors rely on it) and cannot be guessed.
//! Within one process ids are strictly increasing even inside one millisecond: a new
//! id is at least the previous one plus one (the ULID "monotonic" rule).

use std::sync::Mutex;

use rand::Rng;

static LAST_ID: Mutex<u128> = Mutex::new(0);

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A new time-ordered id with the given prefix, e.g. `new("ord")` → `ord_01J…`.
pub fn new(prefix: &str) -> String {
    let millis = u128::from(u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap_or(0));
    let mut random = [0u8; 10];
    rand::rng().fill_bytes(&mut random);
    let mut value = millis << 80;
    for (i, byte) in random.iter().enumerate() {
        value |= u128::from(*byte) << (8 * (9 - i));
    }
    {
        let mut last = match LAST_ID.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        if value <= *last {
            value = *last + 1;
        }
        *last = value;
    }
    let mut out = String::with_capacity(prefix.len() + 27);
    out.push_str(prefix);
    out.push('_');
    for i in (0..26).rev() {
        let digit = ((value >> (5 * i)) & 0x1f) as usize;
        out.push(char::from(CROCKFORD[digit]));
    }
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
}
