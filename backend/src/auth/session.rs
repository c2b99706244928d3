//! Portal sessions: a signed JWT that names a row of the `sessions` table.
//!
//! The token alone is not enough: every authenticated request loads the row, so a
//! logout (`revoked_at`) ends the token at once on every node, and an expired session
//! is refused to the second (no leeway). The row also records whether the session
//! passed the second factor, which admin actions that move money require.
//!
//! Pages carry the token in the `otcpay_session` cookie; a state-changing request
//! authenticated by that cookie must also carry the session's CSRF token (header
//! `X-CSRF-Token`, or the `csrf_token` field of a page's form), which is derived from the
//! session id with the master key and so needs no storage.

use jsonwebtoken::{Algorithm as JwtAlgorithm, DecodingKey, EncodingKey, Header, Validation};

use super::model::{Claims, Role};
use super::store::{self, session};
use crate::config::Settings;
use crate::crypto::{MasterKey, constant_time_eq, hmac_sha256};
use crate::db::now_ms;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::ids;
use crate::ids::UserId;
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "otcpay_session";
pub const CSRF_HEADER: &str = "X-CSRF-Token";
pub const CSRF_FIELD: &str = "csrf_token";

/// A session just started by a login.
pub struct Session {
    pub id: String,
    pub token: String,
    pub expires_at_ms: i64,
    pub user: store::Model,
    pub role: Role,
    pub second_factor: bool,
}

/// The user behind a valid, unrevoked, unexpired session.
#[derive(Debug, Clone)]
pub struct SessionUser {
    pub user_id: UserId,
    pub email: String,
    pub role: Role,
    pub session_id: String,
    /// The session passed a TOTP code (at login, or by turning 2FA on in it).
    pub second_factor: bool,
}

fn session_ttl_ms(settings: &Settings) -> i64 {
    i64::try_from(settings.session_ttl_seconds.saturating_mul(1000)).unwrap_or(i64::MAX / 2)
}

/// Starts a session for `user`: its row, then the token that names it.
pub async fn start(
    state: &AppState,
    user: store::Model,
    role: Role,
    second_factor: bool,
) -> ApiResult<Session> {
    let now = now_ms();
    let row = store::insert_session(
        &state.db,
        session::Model {
            id: ids::new("ses"),
            user_id: user.id.clone(),
            role,
            second_factor,
            created_at: now,
            expires_at: now.saturating_add(session_ttl_ms(&state.settings)),
            revoked_at: None,
        },
    )
    .await?;
    let claims = Claims {
        sub: user.id.to_string(),
        sid: row.id.clone(),
        role,
        email: user.email.clone(),
        iat: now / 1000,
        // Whole seconds, rounded up: the row's `expires_at` is the exact end.
        exp: (row.expires_at + 999) / 1000,
    };
    Ok(Session {
        token: sign_token(&state.keys, &claims)?,
        id: row.id,
        expires_at_ms: row.expires_at,
        user,
        role,
        second_factor,
    })
}

pub fn sign_token(keys: &MasterKey, claims: &Claims) -> ApiResult<String> {
    jsonwebtoken::encode(
        &Header::new(JwtAlgorithm::HS256),
        claims,
        &EncodingKey::from_secret(keys.jwt_secret()),
    )
    .map_err(ApiError::internal)
}

/// The claims of a token signed with our key (HS256 only) and not expired; no leeway.
pub fn decode_token(keys: &MasterKey, token: &str) -> Option<Claims> {
    let mut validation = Validation::new(JwtAlgorithm::HS256);
    validation.leeway = 0;
    validation.set_required_spec_claims(&["exp", "sub"]);
    jsonwebtoken::decode::<Claims>(
        token,
        &DecodingKey::from_secret(keys.jwt_secret()),
        &validation,
    )
    .ok()
    .map(|data| data.claims)
}

fn invalid_token() -> ApiError {
    ApiError::new(
        ErrorCode::InvalidToken,
        "The session token is invalid, has expired or was logged out; log in again.",
    )
}

/// The session a token names, if it is still in force: signed by us, its row present
/// for the same user and role, not revoked, not past its end.
pub async fn resume(state: &AppState, token: &str) -> ApiResult<SessionUser> {
    let claims = decode_token(&state.keys, token).ok_or_else(invalid_token)?;
    let row = store::find_session(&state.db, &claims.sid)
        .await?
        .ok_or_else(invalid_token)?;
    let in_force = row.user_id == claims.sub
        && row.role == claims.role
        && row.revoked_at.is_none()
        && row.expires_at > now_ms();
    if !in_force {
        return Err(invalid_token());
    }
    let user_id = UserId::parse(&claims.sub).ok_or_else(invalid_token)?;
    Ok(SessionUser {
        user_id,
        email: claims.email,
        role: claims.role,
        session_id: row.id,
        second_factor: row.second_factor,
    })
}

/// Logs a session out: its token stops working on every node at once.
pub async fn end(state: &AppState, session_id: &str) -> ApiResult<()> {
    store::revoke_session(&state.db, session_id, now_ms()).await?;
    Ok(())
}

/// The CSRF token of a session: a keyed hash of its id, so it needs no storage and
/// dies with the session.
pub fn csrf_token(keys: &MasterKey, session_id: &str) -> String {
    let mac = hmac_sha256(keys.jwt_secret(), format!("csrf:{session_id}").as_bytes());
    hex::encode(&mac[..16])
}

/// Whether `presented` is the CSRF token of the session (constant time).
pub fn csrf_matches(keys: &MasterKey, session_id: &str, presented: &str) -> bool {
    constant_time_eq(
        csrf_token(keys, session_id).as_bytes(),
        presented.trim().as_bytes(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: i64) -> Claims {
        Claims {
            sub: "usr_x".into(),
            sid: "ses_x".into(),
            role: Role::Admin,
            email: "a@b.co".into(),
            iat: 0,
            exp,
        }
    }

    #[test]
    fn tokens_round_trip_and_reject_tampering() {
        let keys = MasterKey::from_bytes(&[1u8; 32]);
        let token = sign_token(&keys, &claims(now_ms() / 1000 + 60)).unwrap();
        let decoded = decode_token(&keys, &token).unwrap();
        assert_eq!(decoded.sub, "usr_x");
        assert_eq!(decoded.sid, "ses_x");
        assert_eq!(decoded.role, Role::Admin);
        let other = MasterKey::from_bytes(&[2u8; 32]);
        assert!(decode_token(&other, &token).is_none());
        assert!(decode_token(&keys, "garbage").is_none());
    }

    #[test]
    fn an_expired_token_is_refused_without_leeway() {
        let keys = MasterKey::from_bytes(&[1u8; 32]);
        let token = sign_token(&keys, &claims(now_ms() / 1000 - 1)).unwrap();
        assert!(decode_token(&keys, &token).is_none());
    }

    #[test]
    fn csrf_tokens_belong_to_one_session() {
        let keys = MasterKey::from_bytes(&[1u8; 32]);
        let token = csrf_token(&keys, "ses_a");
        assert_eq!(token.len(), 32);
        assert!(csrf_matches(&keys, "ses_a", &token));
        assert!(!csrf_matches(&keys, "ses_b", &token));
        assert!(!csrf_matches(&keys, "ses_a", ""));
        let other = MasterKey::from_bytes(&[2u8; 32]);
        assert!(!csrf_matches(&other, "ses_a", &token));
    }
}
