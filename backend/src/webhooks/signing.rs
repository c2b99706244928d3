//! Standard Webhooks signatures (<https://www.standardwebhooks.com/>).
//!
//! Every delivery carries three headers:
//! - `webhook-id`: the event id (`evt_…`), the same on every attempt — receivers dedupe on it;
//! - `webhook-timestamp`: Unix seconds of this attempt;
//! - `webhook-signature`: `v1,<base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}"))>`, where
//!   `key` is the base64-decoded part of the merchant's `whsec_…` secret after the prefix.
//!
//! A receiver verifies with [`verify`] (or any Standard Webhooks library): recompute the
//! signature over the raw body bytes, compare in constant time, and refuse timestamps
//! more than [`DEFAULT_TOLERANCE_SECS`] away from its clock (replay protection).

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};

use crate::crypto::{constant_time_eq, hmac_sha256};
use crate::ids;

pub const HEADER_ID: &str = "webhook-id";
pub const HEADER_TIMESTAMP: &str = "webhook-timestamp";
pub const HEADER_SIGNATURE: &str = "webhook-signature";

/// The prefix of webhook secrets.
pub const SECRET_PREFIX: &str = "whsec_";

/// How far a timestamp may be from the verifier's clock, in seconds (the Standard
/// Webhooks recommendation).
pub const DEFAULT_TOLERANCE_SECS: i64 = 5 * 60;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the webhook secret is not `whsec_` followed by base64")]
    InvalidSecret,
    #[error("the webhook-timestamp header is not a Unix timestamp in seconds")]
    InvalidTimestamp,
    #[error("the webhook timestamp is outside the tolerance")]
    TimestampOutOfTolerance,
    #[error("no v1 signature matches")]
    NoMatchingSignature,
}

/// A new secret: `whsec_` + base64 of 32 random bytes.
pub fn generate_secret() -> String {
    format!("{SECRET_PREFIX}{}", STANDARD.encode(ids::random_bytes(32)))
}

/// The HMAC key of a `whsec_…` secret (the prefix is optional, as in the reference
/// libraries).
pub fn secret_key(secret: &str) -> Result<Vec<u8>, SignatureError> {
    let encoded = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret);
    let key = STANDARD
        .decode(encoded)
        .or_else(|_| STANDARD_NO_PAD.decode(encoded))
        .map_err(|_| SignatureError::InvalidSecret)?;
    if key.is_empty() {
        return Err(SignatureError::InvalidSecret);
    }
    Ok(key)
}

/// The bare base64 signature of one message (without the `v1,` prefix).
fn raw_signature(key: &[u8], msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    let mut message = Vec::with_capacity(msg_id.len() + body.len() + 24);
    message.extend_from_slice(msg_id.as_bytes());
    message.push(b'.');
    message.extend_from_slice(timestamp.to_string().as_bytes());
    message.push(b'.');
    message.extend_from_slice(body);
    STANDARD.encode(hmac_sha256(key, &message))
}

/// The `webhook-signature` header value: `v1,<base64>`.
pub fn sign(
    secret: &str,
    msg_id: &str,
    timestamp: i64,
    body: &[u8],
) -> Result<String, SignatureError> {
    let key = secret_key(secret)?;
    Ok(format!(
        "v1,{}",
        raw_signature(&key, msg_id, timestamp, body)
    ))
}

/// The three headers of one delivery attempt, in sending order.
pub fn headers(
    secret: &str,
    msg_id: &str,
    timestamp: i64,
    body: &[u8],
) -> Result<[(&'static str, String); 3], SignatureError> {
    headers_rotating(secret, None, msg_id, timestamp, body)
}

/// [`headers`] during a secret rotation: with `previous`, `webhook-signature` carries
/// the signature of the current secret and then the previous one's, space-separated
/// (`v1,<new> v1,<old>`), so receivers still holding the old secret keep verifying.
pub fn headers_rotating(
    secret: &str,
    previous: Option<&str>,
    msg_id: &str,
    timestamp: i64,
    body: &[u8],
) -> Result<[(&'static str, String); 3], SignatureError> {
    let mut signature = sign(secret, msg_id, timestamp, body)?;
    if let Some(previous) = previous {
        signature.push(' ');
        signature.push_str(&sign(previous, msg_id, timestamp, body)?);
    }
    Ok([
        (HEADER_ID, msg_id.to_owned()),
        (HEADER_TIMESTAMP, timestamp.to_string()),
        (HEADER_SIGNATURE, signature),
    ])
}

/// Verifies a received webhook as a merchant would: `signature_header` may hold several
/// space-separated `v1,<base64>` signatures (during a secret rotation); one match is
/// enough. `now` is the verifier's clock in Unix seconds; timestamps more than
/// `tolerance_secs` away are refused.
pub fn verify(
    secret: &str,
    msg_id: &str,
    timestamp_header: &str,
    signature_header: &str,
    body: &[u8],
    now: i64,
    tolerance_secs: i64,
) -> Result<(), SignatureError> {
    let key = secret_key(secret)?;
    let timestamp: i64 = timestamp_header
        .trim()
        .parse()
        .map_err(|_| SignatureError::InvalidTimestamp)?;
    if (now - timestamp).abs() > tolerance_secs {
        return Err(SignatureError::TimestampOutOfTolerance);
    }
    let expected = raw_signature(&key, msg_id, timestamp, body);
    let matched = signature_header
        .split_whitespace()
        .filter_map(|part| part.split_once(','))
        .filter(|(version, _)| *version == "v1")
        .any(|(_, sig)| constant_time_eq(sig.as_bytes(), expected.as_bytes()));
    if matched {
        Ok(())
    } else {
        Err(SignatureError::NoMatchingSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The published test vector of the Standard Webhooks specification.
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const MSG_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TIMESTAMP: i64 = 1_614_265_330;
    const BODY: &[u8] = br#"{"test": 2432232314}"#;
    const EXPECTED: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    #[test]
    fn matches_the_standard_webhooks_test_vector() {
        assert_eq!(sign(SECRET, MSG_ID, TIMESTAMP, BODY).unwrap(), EXPECTED);
        // The prefix is optional.
        assert_eq!(
            sign("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", MSG_ID, TIMESTAMP, BODY).unwrap(),
            EXPECTED
        );
    }

    #[test]
    fn during_a_rotation_both_secrets_sign_and_either_verifies() {
        let new = generate_secret();
        let [_, _, (_, both)] =
            headers_rotating(&new, Some(SECRET), MSG_ID, TIMESTAMP, BODY).unwrap();
        let parts: Vec<&str> = both.split(' ').collect();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0], sign(&new, MSG_ID, TIMESTAMP, BODY).unwrap());
        assert_eq!(parts[1], EXPECTED);
        for secret in [new.as_str(), SECRET] {
            verify(
                secret,
                MSG_ID,
                &TIMESTAMP.to_string(),
                &both,
                BODY,
                TIMESTAMP,
                300,
            )
            .unwrap();
        }
        let [_, _, (_, one)] = headers(&new, MSG_ID, TIMESTAMP, BODY).unwrap();
        assert!(
            verify(
                SECRET,
                MSG_ID,
                &TIMESTAMP.to_string(),
                &one,
                BODY,
                TIMESTAMP,
                300
            )
            .is_err()
        );
    }

    #[test]
    fn headers_carry_id_timestamp_and_signature() {
        let headers = headers(SECRET, MSG_ID, TIMESTAMP, BODY).unwrap();
        assert_eq!(headers[0], ("webhook-id", MSG_ID.to_owned()));
        assert_eq!(headers[1], ("webhook-timestamp", "1614265330".to_owned()));
        assert_eq!(headers[2], ("webhook-signature", EXPECTED.to_owned()));
    }

    #[test]
    fn verify_accepts_the_vector_and_rotated_lists() {
        let ts = TIMESTAMP.to_string();
        assert_eq!(
            verify(SECRET, MSG_ID, &ts, EXPECTED, BODY, TIMESTAMP, 300),
            Ok(())
        );
        let several = format!("v1,bm90IGl0 v2,whatever {EXPECTED}");
        assert_eq!(
            verify(SECRET, MSG_ID, &ts, &several, BODY, TIMESTAMP + 10, 300),
            Ok(())
        );
    }

    #[test]
    fn verify_refuses_tampering_and_stale_timestamps() {
        let ts = TIMESTAMP.to_string();
        let err = |r: Result<(), SignatureError>| r.unwrap_err();
        assert_eq!(
            err(verify(
                SECRET,
                MSG_ID,
                &ts,
                EXPECTED,
                br#"{"test": 2432232315}"#,
                TIMESTAMP,
                300
            )),
            SignatureError::NoMatchingSignature
        );
        assert_eq!(
            err(verify(
                SECRET,
                "msg_other",
                &ts,
                EXPECTED,
                BODY,
                TIMESTAMP,
                300
            )),
            SignatureError::NoMatchingSignature
        );
        assert_eq!(
            err(verify(
                SECRET,
                MSG_ID,
                &ts,
                EXPECTED,
                BODY,
                TIMESTAMP + 301,
                300
            )),
            SignatureError::TimestampOutOfTolerance
        );
        assert_eq!(
            err(verify(
                SECRET,
                MSG_ID,
                &ts,
                EXPECTED,
                BODY,
                TIMESTAMP - 301,
                300
            )),
            SignatureError::TimestampOutOfTolerance
        );
        assert_eq!(
            err(verify(
                SECRET, MSG_ID, "soon", EXPECTED, BODY, TIMESTAMP, 300
            )),
            SignatureError::InvalidTimestamp
        );
        let other = generate_secret();
        assert_eq!(
            err(verify(&other, MSG_ID, &ts, EXPECTED, BODY, TIMESTAMP, 300)),
            SignatureError::NoMatchingSignature
        );
        // A v2 entry with the right bytes is not a v1 signature.
        let v2 = EXPECTED.replacen("v1,", "v2,", 1);
        assert_eq!(
            err(verify(SECRET, MSG_ID, &ts, &v2, BODY, TIMESTAMP, 300)),
            SignatureError::NoMatchingSignature
        );
    }

    #[test]
    fn secrets_are_whsec_base64() {
        let secret = generate_secret();
        assert!(secret.starts_with("whsec_"));
        assert_eq!(secret_key(&secret).unwrap().len(), 32);
        assert_eq!(secret_key("whsec_!!!"), Err(SignatureError::InvalidSecret));
        assert_eq!(secret_key("whsec_"), Err(SignatureError::InvalidSecret));
        assert!(sign(&secret, "evt_1", 1, b"{}").is_ok());
    }
}
