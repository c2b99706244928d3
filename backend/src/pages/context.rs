//! What every page knows about its request: the language, the logged-in user (if any),
//! the CSRF token its forms carry, the flash message of a post/redirect/get, and the
//! path (for the language switch). Handlers get it with [`Page`] (anyone) or a role
//! extractor ([`AcceptorPage`], …), which also refuse the wrong role with a 403 page and
//! send the logged-out to `/login`.
//!
//! CSRF: a logged-in page's forms carry the session's token
//! (`auth::session::csrf_token`); anonymous forms (login, register, password reset)
//! carry a random token that is also in the `otcpay_csrf` cookie (double submit). Either
//! way [`PageCtx::check_csrf`] compares in constant time.

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;

use super::error::PageError;
use crate::auth::Role;
use crate::auth::session::{self, SESSION_COOKIE, SessionUser};
use crate::crypto::constant_time_eq;
use crate::i18n::{Lang, Tr};
use crate::state::AppState;

pub const ANON_CSRF_COOKIE: &str = "otcpay_csrf";
pub const FLASH_COOKIE: &str = "otcpay_flash";

/// A flash message shown once after a redirect.
#[derive(Debug, Clone)]
pub struct Flash {
    /// `success`, `error` or `info`.
    pub kind: String,
    pub text: String,
}

#[derive(Debug, Clone)]
pub struct PageCtx {
    pub tr: Tr,
    pub user: Option<SessionUser>,
    pub csrf: String,
    /// A new anonymous CSRF token to set as a cookie (first visit).
    pub new_anon_csrf: bool,
    pub flash: Option<Flash>,
    /// The request path with its query, for the language switch's `next`.
    pub path: String,
    /// Whether cookies get `Secure` (the public URL is https).
    pub secure: bool,
}

impl PageCtx {
    /// The id a page's path names; one of another kind is the 404 page, as an unknown
    /// one is.
    pub fn named<T>(&self, id: Result<T, crate::ids::WrongId>) -> Result<T, PageError> {
        id.map_err(|_| PageError::NotFound(self.tr))
    }

    /// The context of a page rendered without a request (error pages).
    pub fn bare(tr: Tr) -> Self {
        Self {
            tr,
            user: None,
            csrf: String::new(),
            new_anon_csrf: false,
            flash: None,
            path: "/".to_owned(),
            secure: false,
        }
    }

    pub fn t<'k>(&self, key: &'k str) -> &'k str {
        self.tr.t(key)
    }

    pub fn fmt(&self, key: &str, args: &[(&str, &str)]) -> String {
        self.tr.fmt(key, args)
    }

    /// The request path without its query.
    pub fn path_only(&self) -> &str {
        self.path.split('?').next().unwrap_or("/")
    }

    pub fn lang(&self) -> &'static str {
        self.tr.lang().code()
    }

    pub fn role(&self) -> Option<&'static str> {
        self.user.as_ref().map(|u| u.role.as_str())
    }

    pub fn is_role(&self, role: &str) -> bool {
        self.role() == Some(role)
    }

    /// `/lang/{code}?next=<this page>`.
    pub fn lang_href(&self, code: &str) -> String {
        format!("/lang/{code}?next={}", urlencode(&self.path))
    }

    /// `403 forbidden` page unless `presented` is this page's CSRF token.
    pub fn check_csrf(&self, presented: &str) -> Result<(), PageError> {
        if !self.csrf.is_empty()
            && constant_time_eq(self.csrf.as_bytes(), presented.trim().as_bytes())
        {
            Ok(())
        } else {
            Err(PageError::Forbidden(self.tr))
        }
    }

    /// Cookies this response must carry (the anonymous CSRF token, the flash consumed).
    pub fn cookies(&self) -> Vec<Cookie<'static>> {
        let mut cookies = Vec::new();
        if self.new_anon_csrf {
            cookies.push(private_cookie(
                ANON_CSRF_COOKIE,
                self.csrf.clone(),
                None,
                self.secure,
            ));
        }
        if self.flash.is_some() {
            cookies.push(removal(FLASH_COOKIE, self.secure));
        }
        cookies
    }
}

pub fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A same-site, script-proof cookie for the whole site.
pub fn private_cookie(
    name: &'static str,
    value: String,
    max_age_seconds: Option<i64>,
    secure: bool,
) -> Cookie<'static> {
    let mut cookie = Cookie::build(name, value)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .finish();
    if let Some(seconds) = max_age_seconds {
        cookie.set_max_age(CookieDuration::seconds(seconds));
    }
    cookie
}

pub fn removal(name: &'static str, secure: bool) -> Cookie<'static> {
    let mut cookie = private_cookie(name, String::new(), Some(0), secure);
    cookie.make_removal();
    cookie
}

/// A flash cookie for the next page (`kind`: success, error, info).
pub fn flash_cookie(kind: &str, text: &str, secure: bool) -> Cookie<'static> {
    private_cookie(
        FLASH_COOKIE,
        format!("{kind}:{}", urlencode(text)),
        Some(60),
        secure,
    )
}

fn read_flash(req: &HttpRequest) -> Option<Flash> {
    let value = req.cookie(FLASH_COOKIE)?.value().to_owned();
    let (kind, text) = value.split_once(':')?;
    let kind = match kind {
        "success" | "error" | "info" => kind.to_owned(),
        _ => return None,
    };
    let bytes = percent_decode(text);
    Some(Flash {
        kind,
        text: String::from_utf8_lossy(&bytes).into_owned(),
    })
}

fn percent_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = text.get(i + 1..i + 3)
            && let Ok(byte) = u8::from_str_radix(hex, 16)
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

pub fn state_of(req: &HttpRequest) -> Result<web::Data<AppState>, PageError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or(PageError::Internal(Tr(Lang::En)))
}

/// The context of any page: the session when the cookie holds a valid one.
pub async fn page_ctx(req: &HttpRequest) -> Result<PageCtx, PageError> {
    let state = state_of(req)?;
    let tr = Tr(Lang::of(req));
    let user = match req.cookie(SESSION_COOKIE) {
        Some(cookie) => session::resume(&state, cookie.value()).await.ok(),
        None => None,
    };
    let (csrf, new_anon_csrf) = match &user {
        Some(user) => (session::csrf_token(&state.keys, &user.session_id), false),
        None => match req.cookie(ANON_CSRF_COOKIE) {
            Some(c) if c.value().len() == 32 => (c.value().to_owned(), false),
            _ => (crate::ids::random_hex(16), true),
        },
    };
    let path = match req.uri().query() {
        Some(q) => format!("{}?{q}", req.path()),
        None => req.path().to_owned(),
    };
    Ok(PageCtx {
        tr,
        user,
        csrf,
        new_anon_csrf,
        flash: read_flash(req),
        path,
        secure: state.public_url.starts_with("https://"),
    })
}

/// Any visitor of a page.
pub struct Page(pub PageCtx);

impl FromRequest for Page {
    type Error = PageError;
    type Future = LocalBoxFuture<'static, Result<Self, PageError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { page_ctx(&req).await.map(Page) })
    }
}

async fn with_role(req: &HttpRequest, role: Role) -> Result<(PageCtx, SessionUser), PageError> {
    let ctx = page_ctx(req).await?;
    match ctx.user.clone() {
        None => Err(PageError::Login {
            next: ctx.path.clone(),
        }),
        Some(user) if user.role == role => Ok((ctx, user)),
        Some(_) => Err(PageError::Forbidden(ctx.tr)),
    }
}

macro_rules! role_page {
    ($(#[$doc:meta])* $name:ident, $role:expr) => {
        $(#[$doc])*
        pub struct $name {
            pub ctx: PageCtx,
            pub user: SessionUser,
        }

        impl FromRequest for $name {
            type Error = PageError;
            type Future = LocalBoxFuture<'static, Result<Self, PageError>>;

            fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
                let req = req.clone();
                Box::pin(async move {
                    with_role(&req, $role)
                        .await
                        .map(|(ctx, user)| $name { ctx, user })
                })
            }
        }
    };
}

role_page!(
    /// A page of the acceptor portal (`/acceptor…`).
    AcceptorPage,
    Role::Acceptor
);
role_page!(
    /// A page of the admin console (`/admin…`).
    AdminPage,
    Role::Admin
);
role_page!(
    /// A page of the merchant dashboard (`/merchant…`).
    MerchantPage,
    Role::Merchant
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flash_text_survives_the_cookie() {
        let text = "Saved: 7.18 CNY — 已保存";
        let encoded = urlencode(text);
        assert!(encoded.bytes().all(|b| b.is_ascii_graphic()));
        assert_eq!(String::from_utf8(percent_decode(&encoded)).unwrap(), text);
    }
}
