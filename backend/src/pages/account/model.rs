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
