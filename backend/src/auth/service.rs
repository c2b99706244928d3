//! Login, password hashing, session tokens and the first admin.

use std::time::Duration;

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use sea_orm::{ConnectionTrait, TransactionTrait};

use super::model::{self, Role};
use super::second_factor::{self, Outcome, Purpose, Refusal};
use super::session::{self, Session};
use super::tokens::{self, Purpose as TokenPurpose};
use super::{store, totp};
use crate::config::Settings;
use crate::db::now_ms;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::ids::UserId;
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

/// Throttle keys and limits of failed logins: per (email, client address) the
/// configured `login_max_failures`, per client address four times that, and per email
/// alone twenty times that (distributed guessing). Only failures spend them; a locked
/// key answers `429` before the password is hashed.
struct LoginThrottle {
    keys: [(String, Quota); 3],
}

impl LoginThrottle {
    fn new(state: &AppState, email: &str, client_ip: &str) -> Self {
        let settings = &state.settings;
        let period = Duration::from_secs(settings.login_window_seconds.max(1));
        let limit = settings.login_max_failures.max(1);
        let email_hash = state.keys.lookup_hash(email);
        Self {
            keys: [
                (
                    format!("login:email-ip:{email_hash}:{client_ip}"),
                    Quota::new(limit, period),
                ),
                (
                    format!("login:ip:{client_ip}"),
                    Quota::new(limit.saturating_mul(4), period),
                ),
                (
                    format!("login:email:{email_hash}"),
                    Quota::new(limit.saturating_mul(20), period),
                ),
            ],
        }
    }

    async fn check(&self, state: &AppState) -> ApiResult<()> {
        for (key, quota) in &self.keys {
            let peek = state
                .infra
                .rate_limiter
                .acquire(key, *quota, 0)
                .await
                .map_err(ApiError::internal)?;
            if !peek.allowed {
                return Err(ApiError::new(
                    ErrorCode::TooManyAttempts,
                    "Too many failed login attempts; try again later.",
                )
                .with_retry_after(peek.retry_after.as_secs().max(1)));
            }
        }
        Ok(())
    }

    async fn charge(&self, state: &AppState) -> ApiResult<()> {
        for (key, quota) in &self.keys {
            state
                .infra
                .rate_limiter
                .acquire(key, *quota, 1)
                .await
                .map_err(ApiError::internal)?;
        }
        Ok(())
    }
}

/// A hash of a random password, verified against when the email is unknown so that an
/// unknown email costs the same time as a wrong password.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$5R0W4X9bNBw3nB8xjSx9I1t0Ck2lqV9rN6W2sJ0m7cI";

/// `POST /api/v1/auth/login`: the password, then (with 2FA on) the code in the same
/// request. A missing code is `401 totp_required` and is not a failure.
pub async fn login(
    state: &AppState,
    email: &str,
    password: &str,
    totp_code: Option<&str>,
    client_ip: &str,
) -> ApiResult<Session> {
    let (user, role) = check_password(state, email, password, client_ip).await?;
    let second_factor = second_factor::require(state, &user, totp_code, Purpose::Login).await?;
    session::start(state, user, role, second_factor).await
}

/// The first step of the login page: a session when 2FA is off, else a short-lived
/// pending token that [`login_second_step`] takes with the code.
pub enum LoginStep {
    Done(Box<Session>),
    SecondFactor { pending: String },
}

/// How long the page's second step may take.
const PENDING_LOGIN_MS: i64 = 5 * 60 * 1000;

pub async fn login_first_step(
    state: &AppState,
    email: &str,
    password: &str,
    client_ip: &str,
) -> ApiResult<LoginStep> {
    let (user, role) = check_password(state, email, password, client_ip).await?;
    if user.totp_enabled {
        let expires = now_ms().saturating_add(PENDING_LOGIN_MS);
        return Ok(LoginStep::SecondFactor {
            pending: state.keys.seal(&format!("{}:{expires}", user.id)),
        });
    }
    let session = session::start(state, user, role, false).await?;
    Ok(LoginStep::Done(Box::new(session)))
}

/// The second step of the login page: the pending token of the first and a code.
pub async fn login_second_step(state: &AppState, pending: &str, code: &str) -> ApiResult<Session> {
    let expired = || {
        ApiError::new(
            ErrorCode::InvalidCredentials,
            "The login took too long; enter the email and password again.",
        )
    };
    let opened = state.keys.unseal(pending).map_err(|_| expired())?;
    let (user_id, expires) = opened.split_once(':').ok_or_else(expired)?;
    if expires.parse::<i64>().map_err(|_| expired())? < now_ms() {
        return Err(expired());
    }
    let user_id = UserId::parse(user_id).ok_or_else(expired)?;
    let user = store::find_by_id(&state.db, &user_id)
        .await?
        .filter(|u| u.status == model::UserStatus::Active)
        .ok_or_else(expired)?;
    let role = user.role;
    let second_factor = second_factor::require(state, &user, Some(code), Purpose::Login).await?;
    session::start(state, user, role, second_factor).await
}

/// The password check of every login. Failed passwords are throttled by
/// [`LoginThrottle`], checked before the (slow) hash verification so a locked-out
/// attacker gets no oracle and costs no CPU.
async fn check_password(
    state: &AppState,
    email: &str,
    password: &str,
    client_ip: &str,
) -> ApiResult<(store::Model, Role)> {
    let normalized = model::normalize_email(email).unwrap_or_else(|| email.trim().to_lowercase());
    let throttle = LoginThrottle::new(state, &normalized, client_ip);
    throttle.check(state).await?;

    let user = store::find_by_email(&state.db, &normalized).await?;
    let stored_hash = user
        .as_ref()
        .map_or(DUMMY_HASH, |u| u.password_hash.as_str());
    let password_ok = verify_password(password, stored_hash).await?;
    let role = user.as_ref().map(|u| u.role);
    let active = user
        .as_ref()
        .is_some_and(|u| u.status == model::UserStatus::Active);
    match (user, role) {
        (Some(user), Some(_)) if password_ok && active && !user.email_verified => {
            Err(ApiError::new(
                ErrorCode::Forbidden,
                "Confirm your email address first: open the link in the mail we sent.",
            ))
        }
        (Some(user), Some(role)) if password_ok && active => Ok((user, role)),
        _ => {
            throttle.charge(state).await?;
            Err(ApiError::new(
                ErrorCode::InvalidCredentials,
                "The email or password is not correct.",
            ))
        }
    }
}

/// `POST /api/v1/auth/verify-email`: spends the token of the verification mail.
pub async fn verify_email(state: &AppState, token: &str) -> ApiResult<store::Model> {
    let txn = state.db.begin().await?;
    let user = tokens::redeem(&txn, &state.keys, token, TokenPurpose::VerifyEmail).await?;
    store::set_email_verified(&txn, &user.id, true, now_ms()).await?;
    txn.commit().await?;
    Ok(user)
}

/// Reset mails per email address and hour: enough for a user who lost one, not a way
/// to flood an inbox.
const RESET_MAILS_PER_HOUR: u32 = 3;

/// `POST /api/v1/auth/password-reset`: mails a reset link when the address belongs to an
/// active user; the answer is the same either way (no account oracle).
pub async fn request_password_reset(state: &AppState, email: &str) -> ApiResult<()> {
    let Some(email) = model::normalize_email(email) else {
        return Ok(());
    };
    let allowance = state
        .infra
        .rate_limiter
        .acquire(
            &format!("reset-mail:{}", state.keys.lookup_hash(&email)),
            Quota::new(RESET_MAILS_PER_HOUR, Duration::from_secs(3600)),
            1,
        )
        .await
        .map_err(ApiError::internal)?;
    if !allowance.allowed {
        return Ok(());
    }
    let Some(user) = store::find_by_email(&state.db, &email)
        .await?
        .filter(|u| u.status == model::UserStatus::Active)
    else {
        return Ok(());
    };
    let txn = state.db.begin().await?;
    let token = tokens::issue(&txn, &state.keys, &user.id, TokenPurpose::ResetPassword).await?;
    crate::mail::enqueue(
        &txn,
        &crate::mail::Letter {
            kind: crate::mail::MailKind::ResetPassword,
            tr: crate::i18n::Tr(crate::i18n::Lang::parse(&user.lang).unwrap_or_default()),
            to: &user.email,
            name: &user.display_name,
            link: Some(format!("{}/reset-password?token={token}", state.public_url)),
            args: Vec::new(),
            keyed_args: Vec::new(),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// `POST /api/v1/auth/password-reset/confirm` (and `/set-password` of an invitation):
/// spends the token, sets the new password, verifies the email (the link reached it) and
/// ends every session of the user.
pub async fn reset_password(
    state: &AppState,
    token: &str,
    new_password: &str,
    purpose: TokenPurpose,
) -> ApiResult<store::Model> {
    model::check_password_policy(new_password)
        .map_err(|m| ApiError::invalid_request(m).with_param("new_password"))?;
    let hash = hash_password(&state.settings, new_password).await?;
    let txn = state.db.begin().await?;
    let user = tokens::redeem(&txn, &state.keys, token, purpose).await?;
    let now = now_ms();
    store::set_password_hash(&txn, &user.id, hash, now).await?;
    store::set_email_verified(&txn, &user.id, true, now).await?;
    store::revoke_sessions_of(&txn, &user.id, now).await?;
    txn.commit().await?;
    Ok(user)
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
pub async fn setup_totp(state: &AppState, user_id: &UserId) -> ApiResult<TotpSetup> {
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
        Some(state.keys.seal(&hex::encode(secret))),
        false,
        now_ms(),
    )
    .await?;
    Ok(TotpSetup {
        otpauth_url: totp::otpauth_url(TOTP_ISSUER, &user.email, &secret)
            .ok_or_else(|| ApiError::internal("the otpauth URL could not be built"))?,
        secret: totp::base32(&secret),
    })
}

fn wrong_code(refusal: Refusal) -> ApiError {
    let message = match refusal {
        Refusal::Wrong => "The code does not match the secret; check the authenticator's clock.",
        Refusal::Reused => "This code was already used; wait for the next one.",
    };
    ApiError::invalid_request(message).with_param("code")
}

/// `POST /api/v1/auth/totp/enable`: puts the secret of [`setup_totp`] in force once
/// `code` checks against it (`400 invalid_request`, `param` `code`, when it does not),
/// and counts the session it was done in as having passed the second factor. Without a
/// set-up secret, or when already enabled: `409 invalid_state`.
pub async fn enable_totp(
    state: &AppState,
    user_id: &UserId,
    session_id: &str,
    code: &str,
) -> ApiResult<()> {
    let user = session_user(state, user_id).await?;
    if user.totp_enabled {
        return Err(ApiError::invalid_state(
            "Two-factor authentication is already enabled.",
        ));
    }
    let sealed = user.totp_secret_enc.clone().ok_or_else(|| {
        ApiError::invalid_state(
            "Set up two-factor authentication first (`POST /api/v1/auth/totp/setup`).",
        )
    })?;
    if let Outcome::Refused(refusal) =
        second_factor::check(state, &user, &sealed, code, Purpose::Enable).await?
    {
        return Err(wrong_code(refusal));
    }
    let txn = state.db.begin().await?;
    store::set_totp(&txn, &user.id, Some(sealed), true, now_ms()).await?;
    store::mark_second_factor(&txn, session_id).await?;
    txn.commit().await?;
    Ok(())
}

/// `POST /api/v1/auth/totp/disable`: turns 2FA off when `code` checks (`400
/// invalid_request`, `param` `code`, when it does not; throttled like every code). The
/// secret is forgotten and no session of the user counts as having passed a second
/// factor any more. When 2FA is off: `409 invalid_state`.
pub async fn disable_totp(state: &AppState, user_id: &UserId, code: &str) -> ApiResult<()> {
    let user = session_user(state, user_id).await?;
    let sealed = match (&user.totp_secret_enc, user.totp_enabled) {
        (Some(sealed), true) => sealed.clone(),
        _ => {
            return Err(ApiError::invalid_state(
                "Two-factor authentication is not enabled.",
            ));
        }
    };
    if let Outcome::Refused(refusal) =
        second_factor::check(state, &user, &sealed, code, Purpose::Disable).await?
    {
        return Err(wrong_code(refusal));
    }
    let txn = state.db.begin().await?;
    store::set_totp(&txn, &user.id, None, false, now_ms()).await?;
    store::clear_second_factor(&txn, &user.id).await?;
    txn.commit().await?;
    Ok(())
}

/// The user of a valid session; a token whose user is gone is `401 invalid_token`.
async fn session_user(state: &AppState, user_id: &UserId) -> ApiResult<store::Model> {
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
            CreateUserError::EmailTaken => email_taken(),
            CreateUserError::Db(db) => db.into(),
            CreateUserError::Other(message) => ApiError::internal(message),
        }
    }
}

/// `409 email_taken`: one email address names one account (users and merchants alike).
pub fn email_taken() -> ApiError {
    ApiError::new(
        ErrorCode::EmailTaken,
        "This email address already belongs to an account.",
    )
    .with_param("email")
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
            id: UserId::generate(),
            email: &email,
            password_hash,
            role,
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
    db: &sea_orm::DatabaseConnection,
    settings: &Settings,
) -> Result<Option<String>, CreateUserError> {
    let (Some(email), Some(password)) = (&settings.admin_email, &settings.admin_password) else {
        return Ok(None);
    };
    if store::admin_exists(db).await? {
        return Ok(None);
    }
    // Configuration, not an action: nobody to audit (the CLI's `admin create` is).
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

/// Creates an admin from the command line (`otcpay admin create`), with its audit row
/// in the same transaction.
pub async fn create_admin(
    db: &sea_orm::DatabaseConnection,
    settings: &Settings,
    email: &str,
    password: &str,
    actor_role: &str,
) -> Result<store::Model, CreateUserError> {
    let txn = db.begin().await?;
    let user = create_user(
        &txn,
        settings,
        email,
        password,
        Role::Admin,
        "Administrator",
    )
    .await?;
    crate::audit::record(
        &txn,
        crate::audit::AuditEntry {
            actor_id: None,
            actor_role,
            action: "admin.create",
            target_type: "user",
            target_id: Some(&user.id),
            details: serde_json::json!({"email": user.email}),
            ip: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(user)
}

/// Whether the user has two-factor authentication on (an unknown user has not).
pub async fn two_factor_on(
    db: &impl ConnectionTrait,
    user_id: &UserId,
) -> Result<bool, sea_orm::DbErr> {
    Ok(store::find_by_id(db, user_id)
        .await?
        .is_some_and(|u| u.totp_enabled))
}

// Reads other features and the pages may use; the queries stay in `store.rs`.
pub use super::store::{find_by_email, find_by_id};

// Writes other features make in their own transaction (a new acceptor or merchant
// login, the demo's printed password).
pub use super::store::{
    NewUser, insert as insert_user, set_email_verified, set_lang, set_password_hash,
};

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
}
