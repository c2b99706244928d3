//! Time-based one-time passwords (RFC 6238 over RFC 4226 HOTP): HMAC-SHA1, 30 s steps,
//! 6 digits — what every authenticator app reads from an `otpauth://` URI.

use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;

use crate::crypto::constant_time_eq;

/// Seconds per step.
pub const STEP_SECONDS: u64 = 30;
/// Digits of a code.
pub const DIGITS: u32 = 6;
/// Steps accepted on either side of now, for clock drift and a code typed at the end of
/// its step.
pub const DRIFT_STEPS: u64 = 1;
/// Bytes of a secret (RFC 4226 recommends 160 bits).
pub const SECRET_BYTES: usize = 20;

/// A new random secret.
pub fn new_secret() -> [u8; SECRET_BYTES] {
    rand::random()
}

/// RFC 4226 HOTP: the `digits`-digit code of `counter`.
pub fn hotp(secret: &[u8], counter: u64, digits: u32) -> u32 {
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(secret) else {
        // HMAC is defined for keys of every length (long keys are hashed first).
        unreachable!("HMAC accepts keys of any length")
    };
    mac.update(&counter.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    // Dynamic truncation: the low nibble of the last byte picks four bytes.
    let offset = usize::from(digest[digest.len() - 1] & 0x0f);
    let word = u32::from_be_bytes([
        digest[offset] & 0x7f,
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]);
    word % 10u32.pow(digits)
}

/// The step of Unix time `unix_seconds`.
pub fn step_at(unix_seconds: u64) -> u64 {
    unix_seconds / STEP_SECONDS
}

/// The step whose code `code` is, within [`DRIFT_STEPS`] of `unix_seconds`; `None` when
/// the code is malformed or matches none. Every candidate is compared, in constant time.
pub fn verify(secret: &[u8], code: &str, unix_seconds: u64) -> Option<u64> {
    let code = code.trim();
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now = step_at(unix_seconds);
    let mut matched = None;
    for step in now.saturating_sub(DRIFT_STEPS)..=now + DRIFT_STEPS {
        let expected = format!(
            "{:0width$}",
            hotp(secret, step, DIGITS),
            width = DIGITS as usize
        );
        if constant_time_eq(expected.as_bytes(), code.as_bytes()) {
            matched = Some(step);
        }
    }
    matched
}

/// RFC 4648 base32, upper case, without padding: how authenticator apps take secrets.
pub fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &byte in bytes {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// The `otpauth://` URI an authenticator app scans (Google's Key URI format).
pub fn otpauth_url(issuer: &str, account: &str, secret_base32: &str) -> String {
    let label = format!("{issuer}:{account}");
    format!(
        "otpauth://totp/{}?secret={secret_base32}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
        percent_encode(&label),
        percent_encode(issuer),
    )
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 rows: (time, 8-digit code).
    const RFC6238_SHA1: [(u64, u32); 6] = [
        (59, 94_287_082),
        (1_111_111_109, 7_081_804),
        (1_111_111_111, 14_050_471),
        (1_234_567_890, 89_005_924),
        (2_000_000_000, 69_279_037),
        (20_000_000_000, 65_353_130),
    ];
    const RFC_SECRET: &[u8] = b"12345678901234567890";

    #[test]
    fn codes_match_the_rfc_6238_vectors() {
        for (time, code) in RFC6238_SHA1 {
            assert_eq!(hotp(RFC_SECRET, step_at(time), 8), code, "t = {time}");
            assert_eq!(hotp(RFC_SECRET, step_at(time), DIGITS), code % 1_000_000);
        }
    }

    #[test]
    fn verify_accepts_one_step_of_drift_and_nothing_else() {
        let time = 1_111_111_111;
        let code = |step: u64| format!("{:06}", hotp(RFC_SECRET, step, DIGITS));
        let now = step_at(time);
        assert_eq!(verify(RFC_SECRET, &code(now), time), Some(now));
        assert_eq!(verify(RFC_SECRET, &code(now - 1), time), Some(now - 1));
        assert_eq!(verify(RFC_SECRET, &code(now + 1), time), Some(now + 1));
        assert_eq!(verify(RFC_SECRET, &code(now - 2), time), None);
        assert_eq!(verify(RFC_SECRET, &code(now + 2), time), None);
        assert_eq!(verify(RFC_SECRET, "12345", time), None);
        assert_eq!(verify(RFC_SECRET, "12a456", time), None);
        assert_eq!(
            verify(RFC_SECRET, &format!(" {} ", code(now)), time),
            Some(now)
        );
    }

    #[test]
    fn base32_matches_rfc_4648_without_padding() {
        let cases: [(&[u8], &str); 7] = [
            (b"", ""),
            (b"f", "MY"),
            (b"fo", "MZXQ"),
            (b"foo", "MZXW6"),
            (b"foob", "MZXW6YQ"),
            (b"fooba", "MZXW6YTB"),
            (b"foobar", "MZXW6YTBOI"),
        ];
        for (input, expected) in cases {
            assert_eq!(base32(input), expected);
        }
        assert_eq!(base32(&new_secret()).len(), 32);
    }

    #[test]
    fn the_uri_names_issuer_account_and_parameters() {
        assert_eq!(
            otpauth_url("OTCPay", "ops@otcpay.example", "MZXW6YTBOI"),
            "otpauth://totp/OTCPay%3Aops%40otcpay.example?secret=MZXW6YTBOI&issuer=OTCPay&algorithm=SHA1&digits=6&period=30"
        );
    }
}
