//! Roles, session claims and the password policy.

use serde::{Deserialize, Serialize};

use crate::ids::UserId;

/// Who a portal login is (`users.role`, `sessions.role`).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
    sea_orm::DeriveValueType,
)]
#[serde(rename_all = "lowercase")]
#[sea_orm(value_type = "String")]
pub enum Role {
    Admin,
    Acceptor,
    Merchant,
}

crate::db::stored_as_text!(Role {
    Admin => "admin",
    Acceptor => "acceptor",
    Merchant => "merchant",
});

/// `users.status`: a disabled user cannot log in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sea_orm::DeriveValueType)]
#[sea_orm(value_type = "String")]
pub enum UserStatus {
    Active,
    Disabled,
}

crate::db::stored_as_text!(UserStatus {
    Active => "active",
    Disabled => "disabled",
});

/// JWT claims of a portal session.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The user id (`usr_…`).
    pub sub: String,
    /// The session (`ses_…`), checked on every request (`auth::session::resume`).
    pub sid: String,
    pub role: Role,
    pub email: String,
    /// Unix seconds.
    pub iat: i64,
    pub exp: i64,
}

pub const MIN_PASSWORD_LEN: usize = 10;
pub const MAX_PASSWORD_LEN: usize = 256;

/// API.md: passwords have at least 10 characters. The upper bound keeps argon2 input
/// (and request cost) bounded.
pub fn check_password_policy(password: &str) -> Result<(), &'static str> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_LEN {
        return Err("The password must have at least 10 characters.");
    }
    if chars > MAX_PASSWORD_LEN {
        return Err("The password must have at most 256 characters.");
    }
    Ok(())
}

/// Emails are compared case-insensitively: stored trimmed and lower-cased.
pub fn normalize_email(email: &str) -> Option<String> {
    let email = email.trim().to_lowercase();
    let (local, domain) = email.split_once('@')?;
    let plausible = !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && email.len() <= 254
        && !email.chars().any(char::is_whitespace);
    plausible.then_some(email)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_policy() {
        assert!(check_password_policy("short").is_err());
        assert!(check_password_policy("exactly10!").is_ok());
        assert!(check_password_policy(&"x".repeat(257)).is_err());
    }

    #[test]
    fn emails_normalize() {
        assert_eq!(
            normalize_email("  Admin@Example.COM ").as_deref(),
            Some("admin@example.com")
        );
        assert!(normalize_email("no-at-sign").is_none());
        assert!(normalize_email("a@b").is_none());
        assert!(normalize_email("a b@c.de").is_none());
    }
}

// ---------------------------------------------------------------------------------------
// The JSON bodies of `/api/v1/auth/*`

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"email": "ops@otcpay.example", "password": "correct horse battery"}))]
pub struct LoginRequest {
    #[schema(format = Email, min_length = 1)]
    pub email: String,
    #[schema(format = Password, min_length = 1)]
    pub password: String,
    /// The authenticator's current 6-digit code; required when the user enabled
    /// two-factor authentication. Each code logs in once.
    #[serde(default)]
    pub totp_code: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LoginResponse {
    /// The session JWT: send it as `Authorization: Bearer <token>`.
    pub token: String,
    #[schema(format = DateTime)]
    pub expires_at: String,
    pub user: UserView,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = PortalUser)]
pub struct UserView {
    pub id: UserId,
    pub email: String,
    #[schema(value_type = Role)]
    pub role: &'static str,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TotpSetupResponse {
    /// Base32 (RFC 4648, no padding), for typing into an authenticator app.
    pub secret: String,
    /// The same secret as an `otpauth://totp/…` URI (for a QR code).
    pub otpauth_url: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"code": "492039"}))]
pub struct TotpEnableRequest {
    /// The authenticator's current 6-digit code.
    #[schema(min_length = 1, example = "492039")]
    pub code: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"code": "492039"}))]
pub struct TotpDisableRequest {
    /// The authenticator's current 6-digit code.
    #[schema(min_length = 1, example = "492039")]
    pub code: String,
}

/// Whether two-factor authentication is now on.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TotpEnabled {
    pub totp_enabled: bool,
}

/// The token of a link sent by mail.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct TokenRequest {
    #[schema(min_length = 1)]
    pub token: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EmailVerified {
    pub email_verified: bool,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct PasswordResetRequest {
    #[schema(min_length = 1)]
    pub email: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Accepted {
    pub accepted: bool,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct PasswordResetConfirm {
    #[schema(min_length = 1)]
    pub token: String,
    #[schema(min_length = 10, max_length = 256)]
    pub new_password: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PasswordResetDone {
    pub password_reset: bool,
}
