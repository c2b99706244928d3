//! Errors of page handlers, rendered as pages: the logged-out are sent to `/login`, the
//! wrong role gets a 403 page, another tenant's object a 404 page, and an unexpected
//! failure a 500 page that shows the request id to quote.
//!
//! Only the type: how it is rendered is in `error_page.rs`, which needs the page context
//! (the layout), while the context's extractors fail with this type.

use crate::error::{ApiError, ErrorCode};
use crate::i18n::Tr;

#[derive(Debug)]
pub enum PageError {
    /// Not logged in: to the login page, then back to `next`.
    Login {
        next: String,
    },
    Forbidden(Tr),
    NotFound(Tr),
    /// A request the page cannot take (a bad link, a malformed form).
    BadRequest(Tr, String),
    Internal(Tr),
}

impl PageError {
    /// A service's refusal seen from a page: its status decides the page.
    pub fn from_api(tr: Tr, err: ApiError) -> Self {
        match err.code {
            ErrorCode::NotFound => Self::NotFound(tr),
            ErrorCode::Forbidden | ErrorCode::TotpSetupRequired => Self::Forbidden(tr),
            ErrorCode::MissingCredentials | ErrorCode::InvalidToken => Self::Login {
                next: "/".to_owned(),
            },
            ErrorCode::InternalError | ErrorCode::ServiceUnavailable => Self::Internal(tr),
            _ => Self::BadRequest(tr, err.message.into_owned()),
        }
    }
}

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self:?}")
    }
}
