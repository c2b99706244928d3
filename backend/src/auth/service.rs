//! Login, password hashing, session tokens and the first admin.

use std::time::Duration;

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use jsonwebtoken::{Algorithm as JwtAlgorithm, DecodingKey, EncodingKey, Header, Validation};
use sea_orm::ConnectionTrait;

use super::model::{self, Claims, Role};
use super::store;
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

    match (user, role) {
        (Some(user), Some(role)) if password_ok && active => {
            let (token, expires_at_ms) = issue_token(&state.keys, &state.settings, &user, role)?;
            Ok(Session {
                token,
                expires_at_ms,
                user,
                role,
            })
        }
        _ => {
            for (key, quota) in [(&email_key, per_email), (&ip_key, per_ip)] {
                limiter
                    .acquire(key, quota, 1)
                    .await
                    .map_err(ApiError::internal)?;
            }
            Err(ApiError::new(
                ErrorCode::InvalidCredentials,
                "The email or password is not correct.",
            ))
        }
    }
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
