//! The security page's data: where two-factor authentication stands, the secret of a
//! set-up just made (shown once), and the message of a refused code.

use askama::Template;
use serde::Deserialize;

use crate::auth::Role;
use crate::pages::PageCtx;

/// Where the user's two-factor authentication stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TwoFactor {
    Off,
    /// Set up, not yet turned on with a code.
    SetUp,
    On,
}

/// A set-up just made: shown on the page that answers the set-up, never again.
pub struct SetupShown {
    /// Base32, as apps take it.
    pub secret: String,
    /// A PNG `data:` URI of the `otpauth://` URL.
    pub qr: Option<String>,
}

impl SetupShown {
    /// The secret in groups of four, easier to type.
    pub fn grouped(&self) -> String {
        self.secret
            .as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// `POST /{role}/security/enable` and `/disable`.
#[derive(Debug, Default, Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub csrf_token: String,
}

#[derive(Template)]
#[template(path = "security/page.html")]
pub struct SecurityPage {
    pub ctx: PageCtx,
    /// `/{role}/security`, where the forms post.
    pub base: String,
    pub role: Role,
    pub two_factor: TwoFactor,
    pub setup: Option<SetupShown>,
    /// A refused code, shown beside the field and at the top.
    pub code_error: Option<String>,
    /// A message about the page's state (it changed elsewhere).
    pub notice: Option<String>,
}

impl SecurityPage {
    pub fn is_on(&self) -> bool {
        self.two_factor == TwoFactor::On
    }

    pub fn is_set_up(&self) -> bool {
        self.two_factor == TwoFactor::SetUp
    }

    /// What 2FA protects, in the role's words: an acceptor's releases, an admin's or a
    /// merchant's money actions.
    pub fn on_text(&self) -> &str {
        match self.role {
            Role::Acceptor => self.ctx.t("security.on_text"),
            _ => self.ctx.t("security_roles.on_text"),
        }
    }

    pub fn off_text(&self) -> &str {
        match self.role {
            Role::Acceptor => self.ctx.t("security.off_text"),
            Role::Admin => self.ctx.t("security_roles.off_text_admin"),
            _ => self.ctx.t("security_roles.off_text"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_shown_in_groups() {
        let shown = SetupShown {
            secret: "JBSWY3DPEHPK3PXPA".into(),
            qr: None,
        };
        assert_eq!(shown.grouped(), "JBSW Y3DP EHPK 3PXP A");
    }
}
