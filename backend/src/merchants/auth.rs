//! Signed merchant requests (API.md "Merchant authentication") and per-key rate limits.
//!
//! A handler that takes a [`SignedRequest`] only runs for a request that passed every
//! check below, in this order (the first failure answers):
//!
//! 0. The body is read first (at most 64 KiB; more → `413 payload_too_large`), so the
//!    connection stays reusable whatever the outcome.
//! 1. `API-Key`, `Request-Time` and `Signature-V1` present → else `401 missing_credentials`.
//! 2. The client IP has not exhausted its allowance of failed authentications
//!    ([`AUTH_FAILURES_PER_MINUTE`] per minute, GCRA, key `merchant-auth-fail:{ip}`) →
//!    else `429 rate_limited` with `Retry-After`. Every failure of steps 3–6 costs one
//!    cell; missing credentials and successes cost nothing. For a key in the key cache
//!    (no database needed) the allowance is asked in the same Redis script as step 6,
//!    and a failure of steps 3–5 is told `429` when charging it finds the allowance
//!    spent: the answers are those of asking first, one round trip fewer. A key not in
//!    the cache is looked up only after the allowance was asked.
//! 3. The key exists (looked up by its keyed hash), is not revoked, and its merchant is
//!    active → else `401 invalid_api_key` (one message for the three cases: no oracle).
//! 4. Time: `Request-Time` (Unix ms) at most 1 s in the future and at most `Recv-Window`
//!    ms old → else `401 request_expired`. An unparseable `Request-Time` is also
//!    `401 request_expired` (the request cannot be placed in time). `Recv-Window` is
//!    optional (default 30 000); a value that is not an integer in 1..=60 000 is
//!    `400 invalid_request` with `param: "Recv-Window"` — a client bug, not a stale request.
//! 5. `Signature-V1` over `Request-Time + METHOD + path_and_query + body` (the request
//!    target exactly as sent, the raw body bytes): lowercase hex HMAC-SHA256 under the
//!    key's secret, compared in constant time; or, for ECDSA keys, the hex DER
//!    ECDSA-P256-SHA256 signature → else `401 invalid_signature`.
//! 6. First use: the replay cache remembers each signed request for the longest window
//!    the server accepts (60 s) + 1 s of skew, whatever `Recv-Window` the request named
//!    (the header is not signed) → a second use is `401 replayed_request`. The cache is keyed by the key and the
//!    SHA-256 of the signed message: for HMAC that is the same as keying by the
//!    signature; for ECDSA it also refuses the same request re-signed or with a
//!    malleated `(r, n − s)` signature, which keying by signature bytes would let through.
//!
//! Then the per-key rate limit, asked together with step 6 (one atomic script on Redis;
//! a replayed request is never counted): `merchant.rate_limit_per_minute` per minute
//! (GCRA; the whole allowance may be spent as a burst) with [`BanPolicy::default`] bans —
//! over it
//! `429 rate_limited` with `Retry-After`; more than 10 refusals within a minute → `418
//! banned` with `Retry-After`, bans doubling from 2 min up to 3 days. The limiter's
//! [`Decision`] is stored in the request extensions as [`RateLimitInfo`] and the
//! [`rate_limit_headers`] middleware copies it onto the response as `X-RateLimit-Limit`,
//! `X-RateLimit-Remaining` and `X-RateLimit-Reset` (seconds until the allowance is full).
//!
//! `last_used_at` is written at most once a minute per key: only when the loaded row's
//! value is older than that, and then with a conditional `UPDATE` so that concurrent
//! nodes do not all write.
//!
//! The replay cache and the limiter fail closed: if Redis is unreachable the request is
//! refused with `503 service_unavailable` rather than served unprotected.

use std::str::FromStr;
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web::{self, Bytes, BytesMut};
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use futures_util::StreamExt;
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use super::key_cache::KeyCache;
use super::model::{KeyKind, MerchantStatus, key_id_mode};
use super::store::{self, api_key, merchant};
use crate::client_addr::client_ip;
use crate::crypto::{constant_time_eq, hmac_sha256};
use crate::db::now_ms;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::infra::{Admission, BanPolicy, Decision, InfraError, Quota, SignedUse, Verdict};
use crate::ledger::AccountKey;
use crate::state::AppState;

/// The `p256` crate as the server uses it, so that clients in tests build keys and
/// signatures with exactly the same version.
pub use p256;

pub const API_KEY_HEADER: &str = "API-Key";
pub const REQUEST_TIME_HEADER: &str = "Request-Time";
pub const RECV_WINDOW_HEADER: &str = "Recv-Window";
pub const SIGNATURE_HEADER: &str = "Signature-V1";

pub const DEFAULT_RECV_WINDOW_MS: i64 = 30_000;
pub const MAX_RECV_WINDOW_MS: i64 = 60_000;
/// How far in the future `Request-Time` may be (client clock ahead of ours).
pub const MAX_FUTURE_SKEW_MS: i64 = 1_000;
/// Failed authentications allowed per client IP and minute.
pub const AUTH_FAILURES_PER_MINUTE: u32 = 30;
/// `last_used_at` is precise to this much.
pub const LAST_USED_RESOLUTION_MS: i64 = 60_000;
/// The largest body a signed request may carry (API.md: 64 KiB).
pub const MAX_SIGNED_BODY_BYTES: usize = crate::http_body::MAX_BODY_BYTES;

const X_RATELIMIT_LIMIT: HeaderName = HeaderName::from_static("x-ratelimit-limit");
const X_RATELIMIT_REMAINING: HeaderName = HeaderName::from_static("x-ratelimit-remaining");
const X_RATELIMIT_RESET: HeaderName = HeaderName::from_static("x-ratelimit-reset");

/// An authenticated merchant request: use it as a handler argument.
#[derive(Debug, Clone)]
pub struct SignedRequest {
    pub merchant: merchant::Model,
    /// The key's mode: `false` for `mk_test_…` keys (sandbox ledger, sandbox orders).
    pub livemode: bool,
    /// The public key id as sent in `API-Key`.
    pub key_id: String,
    /// The raw body, exactly the bytes that were signed.
    pub body: Bytes,
}

impl SignedRequest {
    /// The body, a JSON object; anything else → `400 invalid_request`.
    pub fn json<T: DeserializeOwned>(&self) -> ApiResult<T> {
        crate::http_body::parse_object(&self.body)
    }

    /// The merchant's ledger account for this request's mode.
    pub fn account(&self) -> AccountKey {
        AccountKey::merchant(self.merchant.id.clone(), self.livemode)
    }
}

/// The per-key limiter's decision for this request, kept in the request extensions for
/// [`rate_limit_headers`].
#[derive(Debug, Clone, Copy)]
pub struct RateLimitInfo(pub Decision);

impl FromRequest for SignedRequest {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let payload = payload.take();
        Box::pin(async move { authenticate(req, payload).await })
    }
}

/// Middleware: copies the per-key rate limit of a signed request onto its response
/// (`X-RateLimit-Limit`, `X-RateLimit-Remaining`, `X-RateLimit-Reset` in seconds).
/// Responses of other requests are untouched. Wrap the whole App with it.
pub async fn rate_limit_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let mut response = next.call(req).await?;
    let info = response
        .request()
        .extensions()
        .get::<RateLimitInfo>()
        .copied();
    if let Some(RateLimitInfo(decision)) = info {
        let headers = response.headers_mut();
        headers.insert(X_RATELIMIT_LIMIT, HeaderValue::from(decision.limit));
        headers.insert(X_RATELIMIT_REMAINING, HeaderValue::from(decision.remaining));
        headers.insert(
            X_RATELIMIT_RESET,
            HeaderValue::from(ceil_seconds(decision.reset_after)),
        );
    }
    Ok(response)
}

fn ceil_seconds(d: Duration) -> u64 {
    u64::try_from(d.as_millis().div_ceil(1000)).unwrap_or(u64::MAX)
}

fn infra_unavailable(err: InfraError) -> ApiError {
    tracing::error!(error = %err, "rate limiter or replay cache unavailable");
    ApiError::new(
        ErrorCode::ServiceUnavailable,
        "Request authentication is temporarily unavailable; retry shortly.",
    )
}

fn failure_quota() -> Quota {
    Quota::per_minute(AUTH_FAILURES_PER_MINUTE)
}

fn failure_key(ip: &str) -> String {
    format!("merchant-auth-fail:{ip}")
}

/// Failures that cost the client IP a cell of its failure allowance.
fn counts_as_failure(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::InvalidApiKey
            | ErrorCode::RequestExpired
            | ErrorCode::InvalidSignature
            | ErrorCode::ReplayedRequest
            | ErrorCode::InvalidRequest
    )
}

/// The raw headers of a signed request.
struct Credentials {
    key_id: String,
    request_time: String,
    recv_window: Option<String>,
    signature: String,
}

fn header(req: &HttpRequest, name: &str) -> Option<String> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

fn credentials(req: &HttpRequest) -> ApiResult<Credentials> {
    let missing = |name: &str| {
        ApiError::new(
            ErrorCode::MissingCredentials,
            format!(
                "The `{name}` header is missing; signed requests need `API-Key`, \
                 `Request-Time` and `Signature-V1`."
            ),
        )
    };
    Ok(Credentials {
        key_id: header(req, API_KEY_HEADER).ok_or_else(|| missing(API_KEY_HEADER))?,
        request_time: header(req, REQUEST_TIME_HEADER)
            .ok_or_else(|| missing(REQUEST_TIME_HEADER))?,
        signature: header(req, SIGNATURE_HEADER).ok_or_else(|| missing(SIGNATURE_HEADER))?,
        recv_window: header(req, RECV_WINDOW_HEADER),
    })
}

async fn read_body(mut payload: Payload) -> ApiResult<Bytes> {
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| {
            ApiError::invalid_request(format!("The request body could not be read: {e}."))
        })?;
        if body.len() + chunk.len() > MAX_SIGNED_BODY_BYTES {
            return Err(ApiError::new(
                ErrorCode::PayloadTooLarge,
                "The request body is larger than 64 KiB.",
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

async fn authenticate(req: HttpRequest, payload: Payload) -> ApiResult<SignedRequest> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::internal("application state missing"))?;
    let body = read_body(payload).await?;
    let creds = credentials(&req)?;
    let failures = FailureGate::of(&req);

    // 2. A key in the key cache needs no database: its address's gate is asked together
    // with step 6 and the key's limit (one round trip). Any other key is looked up only
    // after the gate, so a blocked address guessing keys never reaches the database.
    let lookup_hash = state.keys.lookup_hash(&creds.key_id);
    let found = match KeyCache::of(&state)?.get(&lookup_hash) {
        Some(found) => Some(found),
        None => {
            failures.check(&state).await?;
            load_key(&state, lookup_hash).await?
        }
    };

    let admitted = match verify(&state, &req, &creds, &body, found) {
        // 6. and the key's rate limit, together.
        Ok(verified) => admit(&state, &req, &failures, verified).await,
        Err(err) => Err(err),
    };
    let (merchant, key) = match admitted {
        Ok(admitted) => admitted,
        Err(err) => return Err(failures.after_refusal(&state, err).await),
    };
    touch_last_used(&state, &key).await;
    crate::http_body::require_json(&req, &body)?;
    Ok(SignedRequest {
        livemode: key.livemode,
        merchant,
        key_id: creds.key_id,
        body,
    })
}

/// Step 2: the client address's allowance of failed authentications.
struct FailureGate {
    key: String,
}

impl FailureGate {
    fn of(req: &HttpRequest) -> Self {
        Self {
            key: failure_key(&client_ip(req)),
        }
    }

    fn refused(retry_after: Duration) -> ApiError {
        ApiError::new(
            ErrorCode::RateLimited,
            "Too many failed authentications from this address; try again later.",
        )
        .with_retry_after(ceil_seconds(retry_after))
    }

    /// Peeks: `429` when the allowance is spent.
    async fn check(&self, state: &AppState) -> ApiResult<()> {
        let allowance = state
            .infra
            .rate_limiter
            .acquire(&self.key, failure_quota(), 0)
            .await
            .map_err(infra_unavailable)?;
        if allowance.allowed {
            Ok(())
        } else {
            Err(Self::refused(allowance.retry_after))
        }
    }

    /// The answer to a request refused after step 2: a failure of steps 3–6 costs a cell,
    /// and when the allowance is spent the address is told that instead (step 2 comes
    /// first; for a cached key the gate was not asked before a failure of steps 3–5).
    async fn after_refusal(&self, state: &AppState, err: ApiError) -> ApiError {
        if !counts_as_failure(err.code) {
            return err;
        }
        match state
            .infra
            .rate_limiter
            .acquire(&self.key, failure_quota(), 1)
            .await
        {
            Ok(allowance) if !allowance.allowed => Self::refused(allowance.retry_after),
            Ok(_) => err,
            Err(infra) => infra_unavailable(infra),
        }
    }
}

/// The key with this lookup hash and its merchant, from the database; remembered in the
/// key cache.
async fn load_key(
    state: &AppState,
    lookup_hash: String,
) -> ApiResult<Option<(api_key::Model, merchant::Model)>> {
    let generation = KeyCache::of(state)?.generation();
    let found = store::find_key_with_merchant(&state.db, &lookup_hash).await?;
    if let Some((key, merchant)) = &found {
        KeyCache::of(state)?.store(generation, lookup_hash, key.clone(), merchant.clone());
    }
    Ok(found)
}

/// A request that passed steps 3–5, with what step 6 needs.
struct Verified {
    merchant: merchant::Model,
    key: api_key::Model,
    /// The replay cache's key for this signed request.
    replay_key: String,
}

/// Steps 3–5 of the module docs, for the key found under the request's `API-Key`.
fn verify(
    state: &AppState,
    req: &HttpRequest,
    creds: &Credentials,
    body: &[u8],
    found: Option<(api_key::Model, merchant::Model)>,
) -> ApiResult<Verified> {
    // 3. The key and its merchant.
    let invalid_key = || {
        ApiError::new(
            ErrorCode::InvalidApiKey,
            "The API key is unknown, revoked, or belongs to a suspended merchant.",
        )
    };
    let mode = key_id_mode(&creds.key_id).ok_or_else(invalid_key)?;
    let (key, merchant) = found
        .filter(|(k, m)| {
            k.revoked_at.is_none()
                && k.livemode == mode.livemode()
                && m.status == MerchantStatus::Active
        })
        .ok_or_else(invalid_key)?;

    // 4. Time.
    let window_ms = recv_window_ms(creds.recv_window.as_deref())?;
    check_time(&creds.request_time, window_ms, now_ms())?;

    // 5. Signature.
    let target = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.uri().path(), |pq| pq.as_str());
    let mut message = Vec::with_capacity(creds.request_time.len() + 16 + target.len() + body.len());
    message.extend_from_slice(creds.request_time.as_bytes());
    message.extend_from_slice(req.method().as_str().as_bytes());
    message.extend_from_slice(target.as_bytes());
    message.extend_from_slice(body);
    if !signature_ok(state, &key, &message, &creds.signature)? {
        return Err(ApiError::new(
            ErrorCode::InvalidSignature,
            "The signature does not match; sign Request-Time + METHOD + path_and_query + body.",
        ));
    }

    let replay_key = format!(
        "merchant-sig:{}:{}",
        key.id,
        hex::encode(Sha256::digest(&message))
    );
    Ok(Verified {
        merchant,
        key,
        replay_key,
    })
}

/// How long an accepted signature is remembered: the longest receive window the server
/// accepts plus the allowed clock skew, whatever window the request named —
/// `Recv-Window` is not signed, so a replay could name a longer one than the original.
pub const REPLAY_TTL: Duration =
    Duration::from_millis(MAX_RECV_WINDOW_MS.unsigned_abs() + MAX_FUTURE_SKEW_MS.unsigned_abs());

/// The gate of step 2 (for a cached key, not asked yet), step 6 (first use) and then the
/// per-key rate limit with bans, in one call to the limiter (one round trip on Redis). A
/// replayed request is not counted against the key.
async fn admit(
    state: &AppState,
    req: &HttpRequest,
    failures: &FailureGate,
    verified: Verified,
) -> ApiResult<(merchant::Model, api_key::Model)> {
    let Verified {
        merchant,
        key,
        replay_key,
    } = verified;
    let limit = u32::try_from(merchant.rate_limit_per_minute)
        .unwrap_or(1)
        .max(1);
    let admission = state
        .infra
        .admit(&SignedUse {
            gate_key: &failures.key,
            gate_quota: failure_quota(),
            replay_key: &replay_key,
            replay_ttl: REPLAY_TTL,
            limit_key: &format!("merchant-key:{}", key.id),
            quota: Quota::per_minute(limit),
            ban: BanPolicy::default(),
        })
        .await
        .map_err(infra_unavailable)?;
    let verdict = match admission {
        Admission::Gated(allowance) => return Err(FailureGate::refused(allowance.retry_after)),
        Admission::Replayed => {
            return Err(ApiError::new(
                ErrorCode::ReplayedRequest,
                "This signed request was already used; sign each request afresh.",
            ));
        }
        Admission::Counted(verdict) => verdict,
    };
    match verdict {
        Verdict::Allowed(decision) => {
            req.extensions_mut().insert(RateLimitInfo(decision));
            Ok((merchant, key))
        }
        Verdict::Limited(decision) => {
            req.extensions_mut().insert(RateLimitInfo(decision));
            Err(ApiError::new(
                ErrorCode::RateLimited,
                format!("Rate limit of {limit} requests per minute exceeded for this API key."),
            )
            .with_retry_after(ceil_seconds(decision.retry_after)))
        }
        Verdict::Banned { retry_after } => Err(ApiError::new(
            ErrorCode::Banned,
            "This API key is temporarily banned for repeatedly exceeding its rate limit.",
        )
        .with_retry_after(ceil_seconds(retry_after))),
    }
}

fn recv_window_ms(header: Option<&str>) -> ApiResult<i64> {
    let Some(text) = header else {
        return Ok(DEFAULT_RECV_WINDOW_MS);
    };
    text.parse::<i64>()
        .ok()
        .filter(|ms| (1..=MAX_RECV_WINDOW_MS).contains(ms))
        .ok_or_else(|| {
            ApiError::invalid_request("`Recv-Window` must be an integer from 1 to 60000 (ms).")
                .with_param(RECV_WINDOW_HEADER)
        })
}

fn check_time(request_time: &str, window_ms: i64, now: i64) -> ApiResult<()> {
    let expired = |message: &'static str| ApiError::new(ErrorCode::RequestExpired, message);
    let sent: i64 = request_time
        .parse()
        .ok()
        .filter(|_| request_time.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| expired("`Request-Time` must be the client time in Unix milliseconds."))?;
    if sent.saturating_sub(now) > MAX_FUTURE_SKEW_MS {
        return Err(expired(
            "`Request-Time` is more than 1 s in the future; check the client clock.",
        ));
    }
    if now.saturating_sub(sent) > window_ms {
        return Err(expired(
            "`Request-Time` is older than the receive window; sign the request afresh.",
        ));
    }
    Ok(())
}

/// Whether `signature` (hex) signs `message` under the key. A key whose secret cannot
/// be opened is a server fault (wrong master key), not the client's.
fn signature_ok(
    state: &AppState,
    key: &api_key::Model,
    message: &[u8],
    signature: &str,
) -> ApiResult<bool> {
    match key.kind {
        KeyKind::Hmac => {
            let sealed = key
                .secret_enc
                .as_deref()
                .ok_or_else(|| ApiError::internal(format!("API key {} has no secret", key.id)))?;
            let secret = state.keys.unseal(sealed).map_err(ApiError::internal)?;
            let expected = hex::encode(hmac_sha256(secret.as_bytes(), message));
            Ok(constant_time_eq(
                expected.as_bytes(),
                signature.to_ascii_lowercase().as_bytes(),
            ))
        }
        KeyKind::EcdsaP256 => {
            use p256::ecdsa::signature::Verifier;
            let pem = key.public_key_pem.as_deref().ok_or_else(|| {
                ApiError::internal(format!("API key {} has no public key", key.id))
            })?;
            let verifying_key = p256::ecdsa::VerifyingKey::from_str(pem).map_err(|_| {
                ApiError::internal(format!("API key {} has a bad public key", key.id))
            })?;
            let Some(der) = hex::decode(signature)
                .ok()
                .and_then(|bytes| p256::ecdsa::DerSignature::from_bytes(&bytes).ok())
            else {
                return Ok(false);
            };
            Ok(verifying_key.verify(message, &der).is_ok())
        }
    }
}

async fn touch_last_used(state: &AppState, key: &api_key::Model) {
    let now = now_ms();
    if key
        .last_used_at
        .is_some_and(|t| now.saturating_sub(t) < LAST_USED_RESOLUTION_MS)
    {
        return;
    }
    if let Ok(cache) = KeyCache::of(state) {
        cache.mark_used(&key.key_id_hash, now);
    }
    if let Err(err) =
        store::touch_key_last_used(&state.db, &key.id, now, LAST_USED_RESOLUTION_MS).await
    {
        tracing::warn!(error = %err, key = %key.id, "could not record API key use");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recv_window_defaults_and_bounds() {
        assert_eq!(recv_window_ms(None).unwrap(), 30_000);
        assert_eq!(recv_window_ms(Some("60000")).unwrap(), 60_000);
        assert_eq!(recv_window_ms(Some("1")).unwrap(), 1);
        for bad in ["0", "60001", "-5", "abc", "1.5"] {
            let err = recv_window_ms(Some(bad)).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidRequest, "{bad}");
        }
    }

    #[test]
    fn request_time_must_be_recent_and_not_ahead() {
        let now = 1_000_000_000_000;
        let ok = |t: i64, w| check_time(&t.to_string(), w, now).is_ok();
        assert!(ok(now, 30_000));
        assert!(ok(now + 1_000, 30_000));
        assert!(!ok(now + 1_001, 30_000));
        assert!(ok(now - 30_000, 30_000));
        assert!(!ok(now - 30_001, 30_000));
        assert!(!ok(now - 5_000, 1_000));
        for bad in [
            "",
            "abc",
            "+1000000000000",
            "1e12",
            "-1",
            "99999999999999999999999",
        ] {
            let err = check_time(bad, 30_000, now).unwrap_err();
            assert_eq!(err.code, ErrorCode::RequestExpired, "{bad}");
        }
    }

    #[test]
    fn seconds_round_up() {
        assert_eq!(ceil_seconds(Duration::ZERO), 0);
        assert_eq!(ceil_seconds(Duration::from_millis(1)), 1);
        assert_eq!(ceil_seconds(Duration::from_millis(1000)), 1);
        assert_eq!(ceil_seconds(Duration::from_millis(1001)), 2);
    }
}
