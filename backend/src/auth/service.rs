//! Login, password hashing, session tokens and the first admin.

use std::time::Duration;

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use jsonwebtoken::{Algorithm as JwtAlgorithm, DecodingKey, EncodingKey, Header, Validation};
use sea_orm::ConnectionTrait;

use super::model::{self, Claims, Role};
use super::{store, totp};
use crate::config::Settings;
use crate::crypto::MasterKey;
use crate::db::now_ms;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::ids;
use crate::infra::rate_limit::Quota;
use crate::state::AppState;

/// Argon2id with the configured cost. Hashes carry their parameters, so raising the cost
/// later still verifies old hashes.
fn argon2(settings: &Settings) -> Result<Argon2<'static>, ApiError> {
    let params = Params::new(
        settings.argon2_memory_kib,
        settings.argon2_iterations,
        1,
        None,
    )
    .map_err(ApiError::internal)?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes a password on the blocking pool: argon2 is deliberately slow and must not
/// stall an HTTP worker.
pub async fn hash_password(settings: &Settings, password: &str) -> ApiResult<String> {
    let hasher = argon2(settings)?;
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || {
        hasher
            .hash_password(password.as_bytes())
            .map(|hash| hash.to_string())
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::internal)
}

/// Verifies on the blocking pool. A malformed stored hash verifies as false.
pub async fn verify_password(password: &str, stored_hash: &str) -> ApiResult<bool> {
    let password = password.to_owned();
    let stored_hash = stored_hash.to_owned();
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&stored_hash)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .map_err(ApiError::internal)
}

pub struct Session {
    pub token: String,
    pub expires_at_ms: i64,
    pub user: store::Model,
    pub role: Role,
}

pub fn issue_token(
    keys: &MasterKey,
    settings: &Settings,
    user: &store::Model,
    role: Role,
) -> ApiResult<(String, i64)> {
    let now = now_ms() / 1000;
    let exp = now + i64::try_from(settings.session_ttl_seconds).unwrap_or(i64::MAX / 2);
    let claims = Claims {
        sub: user.id.clone(),
        role,
        email: user.email.clone(),
        iat: now,
        exp,
    };
    let token = jsonwebtoken::encode(
        &Header::new(JwtAlgorithm::HS256),
        &claims,
        &EncodingKey::from_secret(keys.jwt_secret()),
    )
    .map_err(ApiError::internal)?;
    Ok((token, exp * 1000))
}

pub fn decode_token(keys: &MasterKey, token: &str) -> Option<Claims> {
    let mut validation = Validation::new(JwtAlgorithm::HS256);
    validation.leeway = 5;
    jsonwebtoken::decode::<Claims>(
        token,
        &DecodingKey::from_secret(keys.jwt_secret()),
        &validation,
    )
    .ok()
    .map(|data| data.claims)
}

fn email_throttle_key(keys: &MasterKey, email: &str) -> String {
    format!("login:email:{}", keys.lookup_hash(email))
}

fn ip_throttle_key(ip: &str) -> String {
    format!("login:ip:{ip}")
}

fn throttle_quotas(settings: &Settings) -> (Quota, Quota) {
    let period = Duration::from_secs(settings.login_window_seconds.max(1));
    let per_email = Quota {
        limit: settings.login_max_failures.max(1),
        period,
    };
    let per_ip = Quota {
        limit: settings.login_max_failures.max(1).saturating_mul(4),
        period,
    };
    (per_email, per_ip)
}

fn too_many_attempts(retry_after: Duration) -> ApiError {
    ApiError::new(
        ErrorCode::TooManyAttempts,
        "Too many failed login attempts; try again later.",
    )
    .with_retry_after(retry_after.as_secs().max(1))
}

/// A hash of a random password, verified against when the email is unknown so that an
/// unknown email costs the same time as a wrong password.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$5R0W4X9bNBw3nB8xjSx9I1t0Ck2lqV9rN6W2sJ0m7cI";

/// `POST /api/v1/auth/login`. Failures are throttled per email and per client IP: only
/// failures consume the allowance, and the check happens before the (slow) hash
/// verification so a locked-out attacker gets no oracle and costs no CPU.
pub async fn login(
    state: &AppState,
    email: &str,
    password: &str,
    totp_code: Option<&str>,
    client_ip: &str,
) -> ApiResult<Session> {
    let limiter = &state.infra.rate_limiter;
    let (per_email, per_ip) = throttle_quotas(&state.settings);
    let normalized = model::normalize_email(email).unwrap_or_else(|| email.trim().to_lowercase());
    let email_key = email_throttle_key(&state.keys, &normalized);
    let ip_key = ip_throttle_key(client_ip);

    for (key, quota) in [(&email_key, per_email), (&ip_key, per_ip)] {
        let peek = limiter
            .acquire(key, quota, 0)
            .await
            .map_err(ApiError::internal)?;
        if !peek.allowed {
            return Err(too_many_attempts(peek.retry_after));
        }
    }

    let user = store::find_by_email(&state.db, &normalized).await?;
    let stored_hash = user
        .as_ref()
        .map_or(DUMMY_HASH, |u| u.password_hash.as_str());
    let password_ok = verify_password(password, stored_hash).await?;
    let role = user.as_ref().and_then(|u| Role::parse(&u.role));
    let active = user
        .as_ref()
        .is_some_and(|u| u.status == model::USER_ACTIVE);

    let refusal = match (user, role) {
        (Some(user), Some(role)) if password_ok && active => {
            match login_second_factor(state, &user, totp_code).await {
                Ok(()) => {
                    let (token, expires_at_ms) =
                        issue_token(&state.keys, &state.settings, &user, role)?;
                    return Ok(Session {
                        token,
                        expires_at_ms,
                        user,
                        role,
                    });
                }
                // Asking for the code is not a failure; a wrong one is (codes are
                // guessable in a million tries, the throttle keeps that out of reach).
                Err(err) if totp_code.is_none_or(|c| c.trim().is_empty()) => return Err(err),
                Err(err) => err,
            }
        }
        _ => ApiError::new(
            ErrorCode::InvalidCredentials,
            "The email or password is not correct.",
        ),
    };
    for (key, quota) in [(&email_key, per_email), (&ip_key, per_ip)] {
        limiter
            .acquire(key, quota, 1)
            .await
            .map_err(ApiError::internal)?;
    }
    Err(refusal)
}

/// The second factor of a login: a valid code, not used for a login before (each code
/// logs in once, so one seen over a shoulder or a proxy is spent).
async fn login_second_factor(
    state: &AppState,
    user: &store::Model,
    code: Option<&str>,
) -> ApiResult<()> {
    let Some(step) = second_factor(state, user, code)? else {
        return Ok(());
    };
    let window = Duration::from_secs(totp::STEP_SECONDS * (2 * totp::DRIFT_STEPS + 2));
    let first_use = state
        .infra
        .replay_cache
        .first_use(&format!("totp-login:{}:{step}", user.id), window)
        .await
        .map_err(ApiError::internal)?;
    if first_use {
        Ok(())
    } else {
        Err(totp_refused(
            "This two-factor code was already used to log in; wait for the next one.",
        ))
    }
}

/// Checks `user`'s second factor where it is enabled: `Ok(None)` when 2FA is off,
/// `Ok(Some(step))` for a code valid now, else `401 totp_required` (`param`:
/// `totp_code`). Login and acceptor releases ask for it.
pub fn second_factor(
    state: &AppState,
    user: &store::Model,
    code: Option<&str>,
) -> ApiResult<Option<u64>> {
    if !user.totp_enabled {
        return Ok(None);
    }
    let code = code.map(str::trim).filter(|c| !c.is_empty()).ok_or_else(|| {
        totp_refused("Two-factor authentication is enabled: send `totp_code` from the authenticator app.")
    })?;
    let sealed = user
        .totp_secret_enc
        .as_deref()
        .ok_or_else(|| ApiError::internal("two-factor authentication is on without a secret"))?;
    let secret = totp_secret(state, sealed)?;
    totp::verify(&secret, code, unix_seconds())
        .map(Some)
        .ok_or_else(|| {
            totp_refused("The two-factor code is not valid now; check the authenticator's clock.")
        })
}

fn totp_refused(message: &'static str) -> ApiError {
    ApiError::new(ErrorCode::TotpRequired, message).with_param("totp_code")
}

fn totp_secret(state: &AppState, sealed: &str) -> ApiResult<Vec<u8>> {
    let hex_secret = state.keys.unseal(sealed).map_err(ApiError::internal)?;
    hex::decode(hex_secret).map_err(ApiError::internal)
}

fn unix_seconds() -> u64 {
    u64::try_from(now_ms() / 1000).unwrap_or(0)
}

/// Authenticator apps show this as the account's issuer.
const TOTP_ISSUER: &str = "OTCPay";

/// A secret to enter into an authenticator app, shown once.
pub struct TotpSetup {
    /// Base32, as apps take it.
    pub secret: String,
    pub otpauth_url: String,
}

/// `POST /api/v1/auth/totp/setup`: a new secret for the user, in force only once
/// [`enable_totp`] saw a code from it. Calling it again replaces a secret not yet
/// enabled. A user whose 2FA is on keeps it: `409 invalid_state`.
pub async fn setup_totp(state: &AppState, user_id: &str) -> ApiResult<TotpSetup> {
    let user = session_user(state, user_id).await?;
    if user.totp_enabled {
        return Err(ApiError::invalid_state(
            "Two-factor authentication is already enabled.",
        ));
    }
    let secret = totp::new_secret();
    store::set_totp(
        &state.db,
        &user.id,
        state.keys.seal(&hex::encode(secret)),
        false,
        now_ms(),
    )
    .await?;
    let secret = totp::base32(&secret);
    Ok(TotpSetup {
        otpauth_url: totp::otpauth_url(TOTP_ISSUER, &user.email, &secret),
        secret,
    })
}

/// `POST /api/v1/auth/totp/enable`: puts the secret of [`setup_totp`] in force once
/// `code` checks against it (`400 invalid_request`, `param` `code`, when it does not).
/// Without a set-up secret, or when already enabled: `409 invalid_state`.
pub async fn enable_totp(state: &AppState, user_id: &str, code: &str) -> ApiResult<()> {
    let user = session_user(state, user_id).await?;
    if user.totp_enabled {
        return Err(ApiError::invalid_state(
            "Two-factor authentication is already enabled.",
        ));
    }
    let sealed = user.totp_secret_enc.ok_or_else(|| {
        ApiError::invalid_state(
            "Set up two-factor authentication first (`POST /api/v1/auth/totp/setup`).",
        )
    })?;
    if totp::verify(&totp_secret(state, &sealed)?, code, unix_seconds()).is_none() {
        return Err(ApiError::invalid_request(
            "The code does not match the secret; check the authenticator's clock.",
        )
        .with_param("code"));
    }
    store::set_totp(&state.db, &user.id, sealed, true, now_ms()).await?;
    Ok(())
}

/// The user of a valid session; a token whose user is gone is `401 invalid_token`.
async fn session_user(state: &AppState, user_id: &str) -> ApiResult<store::Model> {
    store::find_by_id(&state.db, user_id).await?.ok_or_else(|| {
        ApiError::new(
            ErrorCode::InvalidToken,
            "The session's user no longer exists; log in again.",
        )
    })
}

#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    #[error("the email address is not valid")]
    InvalidEmail,
    #[error("{0}")]
    WeakPassword(&'static str),
    #[error("a user with this email already exists")]
    EmailTaken,
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
    #[error("{0}")]
    Other(String),
}

impl From<CreateUserError> for ApiError {
    fn from(err: CreateUserError) -> Self {
        match err {
            CreateUserError::InvalidEmail => {
                ApiError::invalid_request("The email address is not valid.").with_param("email")
            }
            CreateUserError::WeakPassword(message) => {
                ApiError::invalid_request(message).with_param("password")
            }
            CreateUserError::EmailTaken => ApiError::new(
                ErrorCode::Conflict,
                "A user with this email already exists.",
            )
            .with_param("email"),
            CreateUserError::Db(db) => db.into(),
            CreateUserError::Other(message) => ApiError::internal(message),
        }
    }
}

/// Creates a user with a fresh argon2id hash. The caller decides the role and wraps
/// it in its own transaction when the user comes with other rows (an acceptor).
pub async fn create_user(
    db: &impl ConnectionTrait,
    settings: &Settings,
    email: &str,
    password: &str,
    role: Role,
    display_name: &str,
) -> Result<store::Model, CreateUserError> {
    let email = model::normalize_email(email).ok_or(CreateUserError::InvalidEmail)?;
    model::check_password_policy(password).map_err(CreateUserError::WeakPassword)?;
    if store::find_by_email(db, &email).await?.is_some() {
        return Err(CreateUserError::EmailTaken);
    }
    let password_hash = hash_password(settings, password)
        .await
        .map_err(|e| CreateUserError::Other(e.message.into_owned()))?;
    let user = store::insert(
        db,
        store::NewUser {
            id: ids::new("usr"),
            email: &email,
            password_hash,
            role: role.as_str(),
            display_name,
            email_verified: true,
            now: now_ms(),
        },
    )
    .await?;
    Ok(user)
}

/// Creates the first admin from `OTCPAY_ADMIN_EMAIL` / `OTCPAY_ADMIN_PASSWORD` when no
/// admin exists yet. Returns the email of the admin created, if any.
pub async fn bootstrap_admin(
    db: &impl ConnectionTrait,
    settings: &Settings,
) -> Result<Option<String>, CreateUserError> {
    let (Some(email), Some(password)) = (&settings.admin_email, &settings.admin_password) else {
        return Ok(None);
    };
    if store::admin_exists(db).await? {
        return Ok(None);
    }
    let user = create_user(
        db,
        settings,
        email,
        password.expose(),
        Role::Admin,
        "Administrator",
    )
    .await?;
    Ok(Some(user.email))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_and_verify() {
        let settings = Settings {
            argon2_memory_kib: 1024,
            argon2_iterations: 1,
            ..Settings::default()
        };
        let hash = hash_password(&settings, "correct horse battery")
            .await
            .unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(
            verify_password("correct horse battery", &hash)
                .await
                .unwrap()
        );
        assert!(!verify_password("wrong password!", &hash).await.unwrap());
        assert!(
            !verify_password("anything at all", "not-a-hash")
                .await
                .unwrap()
        );
    }

    #[test]
    fn dummy_hash_parses() {
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
    }

    #[test]
    fn tokens_round_trip_and_reject_tampering() {
        let keys = MasterKey::from_bytes(&[1u8; 32]);
        let settings = Settings::default();
        let user = store::Model {
            id: "usr_x".into(),
            email: "a@b.co".into(),
            password_hash: String::new(),
            role: "admin".into(),
            display_name: "A".into(),
            status: "active".into(),
            email_verified: true,
            totp_secret_enc: None,
            totp_enabled: false,
            created_at: 0,
            updated_at: 0,
        };
        let (token, _) = issue_token(&keys, &settings, &user, Role::Admin).unwrap();
        let claims = decode_token(&keys, &token).unwrap();
        assert_eq!(claims.sub, "usr_x");
        assert_eq!(claims.role, Role::Admin);
        let other = MasterKey::from_bytes(&[2u8; 32]);
        assert!(decode_token(&other, &token).is_none());
        assert!(decode_token(&keys, "garbage").is_none());
    }
}
