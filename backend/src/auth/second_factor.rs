//! The second factor (TOTP) wherever a code is checked: login, acceptor releases, and
//! turning two-factor authentication on and off.
//!
//! Two rules hold for every check:
//! - **Throttled per user** with the login limiter's policy (`login_max_failures` per
//!   `login_window_seconds`): the allowance is peeked before the code is compared, only
//!   a wrong code spends it, and once spent every check answers `429 too_many_attempts`
//!   with `Retry-After` — six digits are a million guesses, the throttle keeps them out
//!   of reach. The failure that spends the allowance is written to the audit log and
//!   counted in `second_factor_lockouts_total`.
//! - **A code is accepted once** (RFC 6238 §5.2): the replay cache remembers the
//!   (user, step) of every accepted code for the drift window, whatever it was used for.

use std::time::Duration;

use serde_json::json;

use super::store;
use super::totp;
use crate::audit::{self, AuditEntry};
use crate::db::now_ms;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::infra::rate_limit::Quota;
use crate::state::AppState;

/// What a code is checked for (the audit log and the metric say it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Login,
    Release,
    Enable,
    Disable,
    /// A merchant's withdrawal request from the dashboard.
    Withdrawal,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Login => "login",
            Self::Release => "release",
            Self::Enable => "enable",
            Self::Disable => "disable",
            Self::Withdrawal => "withdrawal",
        }
    }
}

/// The answer of one check that did not throttle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The code is valid now and was not used before: it is spent.
    Accepted,
    /// The code is malformed or wrong (and counted), or was already used (not counted).
    Refused(Refusal),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Wrong,
    Reused,
}

fn quota(state: &AppState) -> Quota {
    Quota::new(
        state.settings.login_max_failures.max(1),
        Duration::from_secs(state.settings.login_window_seconds.max(1)),
    )
}

fn throttle_key(user_id: &str) -> String {
    format!("second-factor:{user_id}")
}

fn too_many_attempts(retry_after: Duration) -> ApiError {
    ApiError::new(
        ErrorCode::TooManyAttempts,
        "Too many wrong two-factor codes; try again later.",
    )
    .with_retry_after(retry_after.as_secs().max(1))
}

/// The secret of a user, unsealed.
pub fn secret_of(state: &AppState, sealed: &str) -> ApiResult<Vec<u8>> {
    let hex_secret = state.keys.unseal(sealed).map_err(ApiError::internal)?;
    hex::decode(hex_secret).map_err(ApiError::internal)
}

fn unix_seconds() -> u64 {
    u64::try_from(now_ms() / 1000).unwrap_or(0)
}

/// Checks `code` against the sealed secret `sealed` of `user` (enabled or, while turning
/// 2FA on, only set up). `429` when the user's allowance is spent, before comparing.
pub async fn check(
    state: &AppState,
    user: &store::Model,
    sealed: &str,
    code: &str,
    purpose: Purpose,
) -> ApiResult<Outcome> {
    let limiter = &state.infra.rate_limiter;
    let key = throttle_key(&user.id);
    let peek = limiter
        .acquire(&key, quota(state), 0)
        .await
        .map_err(ApiError::internal)?;
    if !peek.allowed {
        return Err(too_many_attempts(peek.retry_after));
    }
    let secret = secret_of(state, sealed)?;
    let Some(step) = totp::verify(&secret, code, unix_seconds()) else {
        let spent = limiter
            .acquire(&key, quota(state), 1)
            .await
            .map_err(ApiError::internal)?;
        if spent.remaining == 0 {
            record_lockout(state, user, purpose).await;
        }
        return Ok(Outcome::Refused(Refusal::Wrong));
    };
    let window = Duration::from_secs(totp::STEP_SECONDS * (2 * totp::DRIFT_STEPS + 2));
    let first_use = state
        .infra
        .replay_cache
        .first_use(&format!("totp-used:{}:{step}", user.id), window)
        .await
        .map_err(ApiError::internal)?;
    Ok(if first_use {
        Outcome::Accepted
    } else {
        Outcome::Refused(Refusal::Reused)
    })
}

/// The check of an action guarded by 2FA when it is on: `Ok(false)` when 2FA is off,
/// `Ok(true)` for an accepted code, else `401 totp_required` (`param` `totp_code`).
pub async fn require(
    state: &AppState,
    user: &store::Model,
    code: Option<&str>,
    purpose: Purpose,
) -> ApiResult<bool> {
    if !user.totp_enabled {
        return Ok(false);
    }
    let sealed = user
        .totp_secret_enc
        .as_deref()
        .ok_or_else(|| ApiError::internal("two-factor authentication is on without a secret"))?;
    let code = code.map(str::trim).filter(|c| !c.is_empty()).ok_or_else(|| {
        totp_required(
            "Two-factor authentication is enabled: send `totp_code` from the authenticator app.",
        )
    })?;
    match check(state, user, sealed, code, purpose).await? {
        Outcome::Accepted => Ok(true),
        Outcome::Refused(Refusal::Wrong) => Err(totp_required(
            "The two-factor code is not valid now; check the authenticator's clock.",
        )),
        Outcome::Refused(Refusal::Reused) => Err(totp_required(
            "This two-factor code was already used; wait for the next one.",
        )),
    }
}

pub fn totp_required(message: &'static str) -> ApiError {
    ApiError::new(ErrorCode::TotpRequired, message).with_param("totp_code")
}

async fn record_lockout(state: &AppState, user: &store::Model, purpose: Purpose) {
    tracing::warn!(user = %user.id, purpose = purpose.as_str(), "second factor locked after repeated wrong codes");
    state.metrics.second_factor_lockout(purpose.as_str());
    let entry = AuditEntry {
        actor_id: Some(&user.id),
        actor_role: user.role.as_str(),
        action: "auth.second_factor_lockout",
        target_type: "user",
        target_id: Some(&user.id),
        details: json!({"purpose": purpose.as_str()}),
        ip: None,
    };
    if let Err(err) = audit::record(&state.db, entry).await {
        tracing::error!(error = %err, "second-factor lockout not audited");
    }
}
