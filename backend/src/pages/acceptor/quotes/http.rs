//! The quotes page's handlers: parse the form into the API's request types (so the
//! validation is the API's), call the acceptor service, then post/redirect/get with a
//! flash message, or render the page again with the refusal beside the field.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use super::model::{FieldError, MethodForm, MethodRow, QuoteForm, QuoteRow, QuotesPage};
use crate::acceptors::acceptor;
use crate::acceptors::model::{AcceptorStatus, PaymentMethodRequest, QuoteRequest};
use crate::acceptors::service;
use crate::error::{ApiError, ErrorCode};
use crate::ids::UserId;
use crate::pages::context::{flash_cookie, state_of};
use crate::pages::{AcceptorPage, PageCtx, PageError, render};
use crate::state::AppState;
use crate::values::parse_fiat_code_any_case;

const PAGE: &str = "/acceptor/quotes";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(PAGE, web::get().to(show))
        .route(PAGE, web::post().to(save_quote))
        .route("/acceptor/quotes/methods", web::post().to(add_method))
        .route(
            "/acceptor/quotes/methods/{id}/delete",
            web::post().to(remove_method),
        )
        .route(
            "/acceptor/quotes/{fiat}/delete",
            web::post().to(remove_quote),
        );
}

/// The logged-in acceptor's row.
async fn acceptor_of(
    state: &AppState,
    ctx: &PageCtx,
    user_id: &UserId,
) -> Result<acceptor::Model, PageError> {
    service::acceptor_of_user(&state.db, user_id)
        .await
        .map_err(|err| PageError::from_api(ctx.tr, err))
}

/// Why this acceptor cannot change its quotes yet (pending) or now (frozen).
fn status_notice(ctx: &PageCtx, a: &acceptor::Model) -> Option<String> {
    match a.status {
        AcceptorStatus::Active => None,
        AcceptorStatus::Pending => Some(ctx.t("quotes.pending").to_owned()),
        AcceptorStatus::Frozen => Some(ctx.t("quotes.frozen").to_owned()),
    }
}

/// The page with the acceptor's current quotes and methods.
async fn page(
    state: &AppState,
    ctx: &PageCtx,
    a: &acceptor::Model,
    quote: QuoteForm,
    method: MethodForm,
) -> Result<QuotesPage, PageError> {
    let db_err = |err: sea_orm::DbErr| PageError::from_api(ctx.tr, ApiError::from(err));
    let quotes = service::quotes_of(&state.db, &a.id).await.map_err(db_err)?;
    let methods = service::payment_methods_of(&state.db, &a.id)
        .await
        .map_err(db_err)?;
    Ok(QuotesPage {
        ctx: ctx.clone(),
        quotes: quotes.iter().map(QuoteRow::from).collect(),
        methods: methods.iter().map(MethodRow::from).collect(),
        quote,
        method,
        errors: Vec::new(),
        notice: status_notice(ctx, a),
    })
}

async fn show(
    AcceptorPage { ctx, user }: AcceptorPage,
    req: HttpRequest,
) -> Result<HttpResponse, PageError> {
    let state = state_of(&req)?;
    let a = acceptor_of(&state, &ctx, &user.user_id).await?;
    let page = page(
        &state,
        &ctx,
        &a,
        QuoteForm::default(),
        MethodForm::default(),
    )
    .await?;
    render(&ctx, &page)
}

/// Back to the page with a flash message.
fn done(ctx: &PageCtx, text: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((actix_web::http::header::LOCATION, PAGE))
        .cookie(flash_cookie("success", text, ctx.secure))
        .finish()
}

/// A service's refusal as the page shows it: a field error (with its message in the
/// page's language), or the account's status at the top; anything else is an error page.
fn refusal(
    ctx: &PageCtx,
    a: &acceptor::Model,
    err: ApiError,
    field: impl Fn(&str) -> Option<(&'static str, Option<&'static str>)>,
) -> Result<(StatusCode, Vec<FieldError>, Option<String>), PageError> {
    match err.code {
        ErrorCode::InvalidAmount | ErrorCode::InvalidRequest | ErrorCode::UnsupportedCurrency => {
            let param = err.param.as_deref().unwrap_or_default();
            let Some((id, key)) = field(param) else {
                return Err(PageError::from_api(ctx.tr, err));
            };
            let message = key.map_or_else(|| err.message.to_string(), |k| ctx.t(k).to_owned());
            Ok((
                StatusCode::BAD_REQUEST,
                vec![FieldError { id, message }],
                None,
            ))
        }
        ErrorCode::Forbidden => Ok((
            StatusCode::FORBIDDEN,
            Vec::new(),
            Some(status_notice(ctx, a).unwrap_or_else(|| err.message.to_string())),
        )),
        _ => Err(PageError::from_api(ctx.tr, err)),
    }
}

async fn rerender(
    state: &AppState,
    ctx: &PageCtx,
    a: &acceptor::Model,
    quote: QuoteForm,
    method: MethodForm,
    (status, errors, notice): (StatusCode, Vec<FieldError>, Option<String>),
) -> Result<HttpResponse, PageError> {
    let mut page = page(state, ctx, a, quote, method).await?;
    page.errors = errors;
    if notice.is_some() {
        page.notice = notice;
    }
    let mut response = render(ctx, &page)?;
    *response.status_mut() = status;
    Ok(response)
}

async fn save_quote(
    AcceptorPage { ctx, user }: AcceptorPage,
    req: HttpRequest,
    form: web::Form<QuoteForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    ctx.check_csrf(&form.csrf_token)?;
    let state = state_of(&req)?;
    let a = acceptor_of(&state, &ctx, &user.user_id).await?;
    let request = QuoteRequest {
        rate: form.rate.clone(),
        min_amount: form.min_amount.clone(),
        max_amount: form.max_amount.clone(),
    };
    let outcome = match parse_fiat_code_any_case("fiat", &form.fiat)
        .and_then(|fiat| request.validate(fiat))
    {
        Ok(new) => service::put_quote(&state, &a, new).await,
        Err(err) => Err(err),
    };
    match outcome {
        Ok(saved) => Ok(done(
            &ctx,
            &ctx.fmt("quotes.saved", &[("fiat", &saved.fiat)]),
        )),
        Err(err) => {
            let shown = refusal(&ctx, &a, err, |param| match param {
                "fiat" => Some(("fiat", Some("quotes.error_fiat"))),
                "rate" => Some(("rate", Some("quotes.error_rate"))),
                "min_amount" => Some(("min_amount", Some("quotes.error_min"))),
                "max_amount" => Some(("max_amount", Some("quotes.error_max"))),
                _ => None,
            })?;
            rerender(&state, &ctx, &a, form, MethodForm::default(), shown).await
        }
    }
}

async fn remove_quote(
    AcceptorPage { ctx, user }: AcceptorPage,
    req: HttpRequest,
    path: web::Path<String>,
    form: web::Form<crate::pages::account::model::CsrfForm>,
) -> Result<HttpResponse, PageError> {
    ctx.check_csrf(&form.csrf_token)?;
    let state = state_of(&req)?;
    let a = acceptor_of(&state, &ctx, &user.user_id).await?;
    let fiat = parse_fiat_code_any_case("fiat", &path).map_err(|_| PageError::NotFound(ctx.tr))?;
    service::delete_quote(&state, &a, fiat)
        .await
        .map_err(|err| PageError::from_api(ctx.tr, err))?;
    Ok(done(
        &ctx,
        &ctx.fmt("quotes.deleted", &[("fiat", fiat.code)]),
    ))
}

async fn add_method(
    AcceptorPage { ctx, user }: AcceptorPage,
    req: HttpRequest,
    form: web::Form<MethodForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    ctx.check_csrf(&form.csrf_token)?;
    let state = state_of(&req)?;
    let a = acceptor_of(&state, &ctx, &user.user_id).await?;
    let request = PaymentMethodRequest {
        fiat: form.fiat.clone(),
        method: form.method.clone(),
        details: form.details(),
    };
    let outcome = match request.validate() {
        Ok(new) => service::add_payment_method(&state, &a, new).await,
        Err(err) => Err(err),
    };
    match outcome {
        Ok(_) => Ok(done(&ctx, ctx.t("quotes.method_added"))),
        Err(err) => {
            let blank = form.is_blank();
            let shown = refusal(&ctx, &a, err, |param| match param {
                "fiat" => Some(("pm_fiat", Some("quotes.error_fiat"))),
                "method" => Some(("method", Some("quotes.error_method"))),
                "details" if blank => Some(("account_number", Some("quotes.error_details"))),
                "details" => Some(("account_number", None)),
                _ => None,
            })?;
            rerender(&state, &ctx, &a, QuoteForm::default(), form, shown).await
        }
    }
}

async fn remove_method(
    AcceptorPage { ctx, user }: AcceptorPage,
    req: HttpRequest,
    path: web::Path<String>,
    form: web::Form<crate::pages::account::model::CsrfForm>,
) -> Result<HttpResponse, PageError> {
    ctx.check_csrf(&form.csrf_token)?;
    let state = state_of(&req)?;
    let a = acceptor_of(&state, &ctx, &user.user_id).await?;
    service::delete_payment_method(&state, &a, &path)
        .await
        .map_err(|err| PageError::from_api(ctx.tr, err))?;
    Ok(done(&ctx, ctx.t("quotes.method_deleted")))
}
