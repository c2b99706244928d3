//! `/login` (two steps when 2FA is on), `/logout`, `/lang/{code}` and `/`.

use actix_web::{HttpRequest, HttpResponse, web};

use super::model::{
    CsrfForm, ForgotForm, ForgotPage, LoginForm, LoginPage, MessagePage, NextQuery, RegisterForm,
    RegisterPage, ResetForm, ResetPage, TokenQuery, VerifyForm,
};
use crate::auth::Role;
use crate::auth::service::{self, LoginStep};
use crate::auth::session::{self, SESSION_COOKIE, Session};
use crate::client_addr::client_ip;
use crate::error::ErrorCode;
use crate::i18n::{LANG_COOKIE, Lang};
use crate::pages::context::{private_cookie, removal, state_of};
use crate::pages::{Page, PageCtx, PageError, local_path, redirect, render};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(home))
        .route("/login", web::get().to(login_page))
        .route("/login", web::post().to(login))
        .route("/login/verify", web::post().to(verify))
        .route("/logout", web::post().to(logout))
        .route("/lang/{code}", web::get().to(switch_language))
        .route("/register", web::get().to(register_page))
        .route("/register", web::post().to(register))
        .route("/verify-email", web::get().to(verify_email))
        .route("/forgot-password", web::get().to(forgot_page))
        .route("/forgot-password", web::post().to(forgot))
        .route("/reset-password", web::get().to(reset_page))
        .route("/reset-password", web::post().to(reset))
        .route("/set-password", web::get().to(reset_page))
        .route("/set-password", web::post().to(set_password));
}

/// Where each role lands after logging in.
pub fn home_of(role: Role) -> &'static str {
    match role {
        Role::Admin => "/admin",
        Role::Acceptor => "/acceptor",
        Role::Merchant => "/merchant",
    }
}

async fn home(Page(ctx): Page) -> HttpResponse {
    match &ctx.user {
        Some(user) => redirect(home_of(user.role)),
        None => redirect("/login"),
    }
}

fn login_form(ctx: PageCtx, email: String, next: String, error: Option<String>) -> LoginPage {
    LoginPage {
        ctx,
        email,
        next,
        pending: None,
        error,
    }
}

async fn login_page(
    Page(ctx): Page,
    query: web::Query<NextQuery>,
) -> Result<HttpResponse, PageError> {
    if let Some(user) = &ctx.user {
        return Ok(redirect(home_of(user.role)));
    }
    let next = local_path(query.next.as_deref(), "");
    let page = login_form(ctx.clone(), String::new(), next, None);
    render(&ctx, &page)
}

/// The session cookie of a new session, and the way to the page asked for.
fn logged_in(
    ctx: &PageCtx,
    session: Session,
    next: Option<&str>,
    ttl_seconds: u64,
) -> HttpResponse {
    let target = local_path(next.filter(|n| !n.is_empty()), home_of(session.role));
    let max_age = i64::try_from(ttl_seconds).unwrap_or(i64::MAX / 2);
    HttpResponse::SeeOther()
        .insert_header((actix_web::http::header::LOCATION, target))
        .cookie(private_cookie(
            SESSION_COOKIE,
            session.token,
            Some(max_age),
            ctx.secure,
        ))
        .cookie(removal(crate::pages::context::ANON_CSRF_COOKIE, ctx.secure))
        .finish()
}

/// The sentence a login form shows for a refusal; other failures are error pages.
fn login_refusal(ctx: &PageCtx, err: crate::error::ApiError) -> Result<String, PageError> {
    match err.code {
        ErrorCode::InvalidCredentials => Ok(ctx.t("login.invalid").to_owned()),
        ErrorCode::TooManyAttempts => Ok(ctx.t("login.too_many").to_owned()),
        ErrorCode::TotpRequired => Ok(ctx.t("login.code_invalid").to_owned()),
        _ => Err(PageError::from_api(ctx.tr, err)),
    }
}

async fn login(
    Page(ctx): Page,
    req: HttpRequest,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    ctx.check_csrf(&form.csrf_token)?;
    let state = state_of(&req)?;
    let next = local_path(form.next.as_deref(), "");
    match service::login_first_step(&state, &form.email, &form.password, &client_ip(&req)).await {
        Ok(LoginStep::Done(session)) => Ok(logged_in(
            &ctx,
            *session,
            Some(&next),
            state.settings.session_ttl_seconds,
        )),
        Ok(LoginStep::SecondFactor { pending }) => {
            let mut page = login_form(ctx.clone(), form.email, next, None);
            page.pending = Some(pending);
            render(&ctx, &page)
        }
        Err(err) => {
            let message = login_refusal(&ctx, err)?;
            let page = login_form(ctx.clone(), form.email, next, Some(message));
            render(&ctx, &page)
        }
    }
}

async fn verify(
    Page(ctx): Page,
    req: HttpRequest,
    form: web::Form<VerifyForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    ctx.check_csrf(&form.csrf_token)?;
    let state = state_of(&req)?;
    let next = local_path(form.next.as_deref(), "");
    match service::login_second_step(&state, &form.pending, &form.code).await {
        Ok(session) => Ok(logged_in(
            &ctx,
            session,
            Some(&next),
            state.settings.session_ttl_seconds,
        )),
        Err(err) if err.code == ErrorCode::InvalidCredentials => {
            // The pending step expired: start again.
            let message = login_refusal(&ctx, err)?;
            let page = login_form(ctx.clone(), String::new(), next, Some(message));
            render(&ctx, &page)
        }
        Err(err) => {
            let message = login_refusal(&ctx, err)?;
            let mut page = login_form(ctx.clone(), String::new(), next, Some(message));
            page.pending = Some(form.pending);
            render(&ctx, &page)
        }
    }
}

/// Revokes the session (every copy of its token stops working) and drops the cookie.
async fn logout(
    Page(ctx): Page,
    req: HttpRequest,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, PageError> {
    let Some(user) = ctx.user.clone() else {
        return Ok(redirect("/login"));
    };
    ctx.check_csrf(&form.csrf_token)?;
    let state = state_of(&req)?;
    session::end(&state, &user.session_id)
        .await
        .map_err(|err| PageError::from_api(ctx.tr, err))?;
    Ok(HttpResponse::SeeOther()
        .insert_header((actix_web::http::header::LOCATION, "/login"))
        .cookie(removal(SESSION_COOKIE, ctx.secure))
        .finish())
}

/// The language switch: a cookie that sticks for a year, then back to the page.
async fn switch_language(
    Page(ctx): Page,
    code: web::Path<String>,
    query: web::Query<NextQuery>,
) -> Result<HttpResponse, PageError> {
    let lang = Lang::parse(&code).ok_or(PageError::NotFound(ctx.tr))?;
    let target = local_path(query.next.as_deref(), "/");
    Ok(HttpResponse::SeeOther()
        .insert_header((actix_web::http::header::LOCATION, target))
        .cookie(private_cookie(
            LANG_COOKIE,
            lang.code().to_owned(),
            Some(365 * 24 * 3600),
            ctx.secure,
        ))
        .finish())
}

fn message(ctx: &PageCtx, heading: &str, text: &str, link: Option<(&str, &str)>) -> MessagePage {
    MessagePage {
        ctx: ctx.clone(),
        heading: ctx.t(heading).to_owned(),
        text: ctx.t(text).to_owned(),
        link: link.map(|(href, label)| (href.to_owned(), ctx.t(label).to_owned())),
    }
}

async fn register_page(Page(ctx): Page) -> Result<HttpResponse, PageError> {
    let page = RegisterPage {
        ctx: ctx.clone(),
        email: String::new(),
        display_name: String::new(),
        error: None,
    };
    render(&ctx, &page)
}

async fn register(
    Page(ctx): Page,
    req: HttpRequest,
    form: web::Form<RegisterForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    ctx.check_csrf(&form.csrf_token)?;
    let state = state_of(&req)?;
    let request = crate::acceptors::model::RegisterRequest {
        email: form.email.clone(),
        password: form.password,
        display_name: form.display_name.clone(),
    };
    let outcome = match request.validate() {
        Ok(new) => crate::acceptors::service::register(&state, new, ctx.tr.lang()).await,
        Err(err) => Err(err),
    };
    match outcome {
        Ok(_) => render(
            &ctx,
            &message(
                &ctx,
                "register.check_email",
                "register.check_email_text",
                None,
            ),
        ),
        Err(err) if matches!(err.code, ErrorCode::InvalidRequest | ErrorCode::EmailTaken) => {
            let field = err.param.as_deref().unwrap_or("email").to_owned();
            let page = RegisterPage {
                ctx: ctx.clone(),
                email: form.email,
                display_name: form.display_name,
                error: Some((field, err.message.into_owned())),
            };
            let mut response = render(&ctx, &page)?;
            *response.status_mut() = actix_web::http::StatusCode::BAD_REQUEST;
            Ok(response)
        }
        Err(err) => Err(PageError::from_api(ctx.tr, err)),
    }
}

/// The link of the verification mail.
async fn verify_email(
    Page(ctx): Page,
    req: HttpRequest,
    query: web::Query<TokenQuery>,
) -> Result<HttpResponse, PageError> {
    let state = state_of(&req)?;
    let page = match service::verify_email(&state, &query.token).await {
        Ok(_) => message(
            &ctx,
            "verify.done",
            "verify.done_text",
            Some(("/login", "verify.log_in")),
        ),
        Err(err) if err.code == ErrorCode::InvalidRequest => message(
            &ctx,
            "verify.failed",
            "verify.failed_text",
            Some(("/login", "verify.log_in")),
        ),
        Err(err) => return Err(PageError::from_api(ctx.tr, err)),
    };
    render(&ctx, &page)
}

async fn forgot_page(Page(ctx): Page) -> Result<HttpResponse, PageError> {
    render(&ctx, &ForgotPage { ctx: ctx.clone() })
}

/// The same answer whether the address is known or not.
async fn forgot(
    Page(ctx): Page,
    req: HttpRequest,
    form: web::Form<ForgotForm>,
) -> Result<HttpResponse, PageError> {
    ctx.check_csrf(&form.csrf_token)?;
    let state = state_of(&req)?;
    service::request_password_reset(&state, &form.email)
        .await
        .map_err(|err| PageError::from_api(ctx.tr, err))?;
    render(
        &ctx,
        &message(
            &ctx,
            "forgot.sent",
            "forgot.sent_text",
            Some(("/login", "forgot.back")),
        ),
    )
}

async fn reset_page(
    Page(ctx): Page,
    query: web::Query<TokenQuery>,
) -> Result<HttpResponse, PageError> {
    let page = ResetPage {
        ctx: ctx.clone(),
        token: query.into_inner().token,
        error: None,
    };
    render(&ctx, &page)
}

async fn reset(
    page: Page,
    req: HttpRequest,
    form: web::Form<ResetForm>,
) -> Result<HttpResponse, PageError> {
    choose_password(page, req, form, crate::auth::tokens::Purpose::ResetPassword).await
}

/// The link of an invitation mail (a merchant's first password).
async fn set_password(
    page: Page,
    req: HttpRequest,
    form: web::Form<ResetForm>,
) -> Result<HttpResponse, PageError> {
    choose_password(page, req, form, crate::auth::tokens::Purpose::SetPassword).await
}

/// `/reset-password` and `/set-password`: a new password with the mailed token.
async fn choose_password(
    Page(ctx): Page,
    req: HttpRequest,
    form: web::Form<ResetForm>,
    purpose: crate::auth::tokens::Purpose,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    ctx.check_csrf(&form.csrf_token)?;
    let state = state_of(&req)?;
    match service::reset_password(&state, &form.token, &form.new_password, purpose).await {
        Ok(_) => Ok(HttpResponse::SeeOther()
            .insert_header((actix_web::http::header::LOCATION, "/login"))
            .cookie(crate::pages::context::flash_cookie(
                "success",
                ctx.t("reset.done"),
                ctx.secure,
            ))
            .finish()),
        Err(err) if err.code == ErrorCode::InvalidRequest => {
            let page = ResetPage {
                ctx: ctx.clone(),
                token: form.token,
                error: Some(err.message.into_owned()),
            };
            let mut response = render(&ctx, &page)?;
            *response.status_mut() = actix_web::http::StatusCode::BAD_REQUEST;
            Ok(response)
        }
        Err(err) => Err(PageError::from_api(ctx.tr, err)),
    }
}
