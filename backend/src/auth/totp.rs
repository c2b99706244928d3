//! Time-based one-time passwords (RFC 6238) through the maintained `totp-rs` crate:
//! HMAC-SHA1, 30 s steps, 6 digits — what every authenticator app reads from an
//! `otpauth://` URI. Accepting a code once and throttling wrong ones is
//! `second_factor`'s job.

use totp_rs::{Builder, Secret, Totp};

/// Seconds per step.
pub const STEP_SECONDS: u64 = 30;
/// Digits of a code.
pub const DIGITS: u8 = 6;
/// Steps accepted on either side of now, for clock drift and a code typed at the end of
/// its step.
pub const DRIFT_STEPS: u64 = 1;
/// Bytes of a secret (RFC 4226 recommends 160 bits).
pub const SECRET_BYTES: usize = 20;

/// A new random secret.
pub fn new_secret() -> [u8; SECRET_BYTES] {
    rand::random()
}

fn totp(secret: &[u8], issuer: Option<&str>, account: &str) -> Option<Totp> {
    Builder::new()
        .with_secret(Secret::from(secret))
        .with_digits(DIGITS)
        .with_step_duration(STEP_SECONDS)
        .with_skew(DRIFT_STEPS as u16)
        .with_issuer(issuer)
        .with_account_name(account)
        .build()
        .ok()
}

/// The step whose code `code` is, within [`DRIFT_STEPS`] of `unix_seconds`; `None` when
/// the code is malformed or matches none.
pub fn verify(secret: &[u8], code: &str, unix_seconds: u64) -> Option<u64> {
    let code = code.trim();
    if code.len() != usize::from(DIGITS) || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    totp(secret, None, "user")?.check(code, unix_seconds)
}

/// RFC 4648 base32, upper case, without padding: how authenticator apps take secrets.
pub fn base32(bytes: &[u8]) -> String {
    Secret::from(bytes).to_base32()
}

/// The `otpauth://` URI an authenticator app scans (Google's Key URI format).
pub fn otpauth_url(issuer: &str, account: &str, secret: &[u8]) -> Option<String> {
    totp(secret, Some(issuer), account)?.to_url().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC_SECRET: &[u8] = b"12345678901234567890";

    /// RFC 6238 appendix B, SHA-1 rows (time, 8-digit code), read as 6 digits.
    #[test]
    fn codes_match_the_rfc_6238_vectors() {
        for (time, code) in [
            (59, 94_287_082u32),
            (1_111_111_109, 7_081_804),
            (1_111_111_111, 14_050_471),
            (1_234_567_890, 89_005_924),
            (2_000_000_000, 69_279_037),
            (20_000_000_000, 65_353_130),
        ] {
            let six = format!("{:06}", code % 1_000_000);
            assert_eq!(
                verify(RFC_SECRET, &six, time),
                Some(time / 30),
                "t = {time}"
            );
        }
    }

    #[test]
    fn verify_accepts_one_step_of_drift_and_nothing_else() {
        let time = 1_111_111_111;
        let code = |step: u64| {
            totp(RFC_SECRET, None, "user")
                .unwrap()
                .generate(step * STEP_SECONDS)
                .to_string()
        };
        let now = time / STEP_SECONDS;
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
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32(&new_secret()).len(), 32);
    }

    #[test]
    fn the_uri_names_issuer_account_and_secret() {
        assert_eq!(
            otpauth_url("OTCPay", "ops@otcpay.example", RFC_SECRET).as_deref(),
            Some(
                "otpauth://totp/OTCPay:ops%40otcpay.example?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=OTCPay"
            )
        );
    }
}
