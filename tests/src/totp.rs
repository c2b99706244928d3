//! An authenticator app for tests, written from RFC 6238 and RFC 4648 independently of
//! the server's code: the code an app shows for a base32 secret.

use std::time::{SystemTime, UNIX_EPOCH};

use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;

/// RFC 4648 base32 (no padding) back to bytes.
pub fn base32_decode(text: &str) -> Vec<u8> {
    let (mut buffer, mut bits, mut out) = (0u64, 0u32, Vec::new());
    for c in text.bytes() {
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'2'..=b'7' => c - b'2' + 26,
            other => panic!("not base32: {other}"),
        };
        buffer = (buffer << 5) | u64::from(value);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    out
}

/// The current 30 s step.
pub fn current_step() -> i64 {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    (now / 30) as i64
}

/// The code of `secret` (base32) at `step`.
pub fn code_at(secret: &str, step: i64) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(&base32_decode(secret)).unwrap();
    mac.update(&(step as u64).to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let at = usize::from(digest[19] & 0x0f);
    let word = u32::from_be_bytes([
        digest[at] & 0x7f,
        digest[at + 1],
        digest[at + 2],
        digest[at + 3],
    ]);
    format!("{:06}", word % 1_000_000)
}

/// The code an authenticator app shows for `secret`, `offset` steps of 30 s from now.
pub fn code(secret: &str, offset: i64) -> String {
    code_at(secret, current_step() + offset)
}

/// Waits until the next 30 s step begins (a code is accepted once: a test that needs a
/// second code waits for it, as a user would).
pub async fn next_step() {
    let step = current_step();
    while current_step() == step {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}
