//! The templates of the account pages.

use askama::Template;

use crate::pages::PageCtx;

/// `/login`: email and password, or (with `pending`) the authentication code.
#[derive(Template)]
#[template(path = "account/login.html")]
pub struct LoginPage {
    pub ctx: PageCtx,
    pub email: String,
    pub next: String,
    /// The sealed first step when the second factor is asked for.
    pub pending: Option<String>,
    pub error: Option<String>,
}

/// `GET /login` and `POST /login` forms.
#[derive(Debug, Default, serde::Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub next: Option<String>,
    #[serde(default)]
    pub csrf_token: String,
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct VerifyForm {
    #[serde(default)]
    pub pending: String,
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub next: Option<String>,
    #[serde(default)]
    pub csrf_token: String,
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub csrf_token: String,
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct NextQuery {
    pub next: Option<String>,
}

/// `/register`.
#[derive(Template)]
#[template(path = "account/register.html")]
pub struct RegisterPage {
    pub ctx: PageCtx,
    pub email: String,
    pub display_name: String,
    /// (field id, message) of the refusal, shown beside the field and at the top.
    pub error: Option<(String, String)>,
}

impl RegisterPage {
    pub fn error_for(&self, field: &str) -> Option<&str> {
        self.error
            .as_ref()
            .filter(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct RegisterForm {
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub csrf_token: String,
}

/// A page that only says something: check your email, email verified, link sent.
#[derive(Template)]
#[template(path = "account/message.html")]
pub struct MessagePage {
    pub ctx: PageCtx,
    pub heading: String,
    pub text: String,
    /// (href, label) of the way on.
    pub link: Option<(String, String)>,
}

/// `/forgot-password`.
#[derive(Template)]
#[template(path = "account/forgot.html")]
pub struct ForgotPage {
    pub ctx: PageCtx,
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct ForgotForm {
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub csrf_token: String,
}

/// `/reset-password?token=…`.
#[derive(Template)]
#[template(path = "account/reset.html")]
pub struct ResetPage {
    pub ctx: PageCtx,
    pub token: String,
    pub error: Option<String>,
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    pub token: String,
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    pub token: String,
    #[serde(default)]
    pub new_password: String,
    #[serde(default)]
    pub csrf_token: String,
}
