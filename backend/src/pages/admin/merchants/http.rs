//! The merchant pages' handlers. The creation answers with the secrets directly (never
//! a redirect, a URL or a cookie: they exist only in that response, which is
//! `no-store` like every page).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::model::{
    CreateForm, CreatedPage, EditForm, KeyRow, ListQuery, MerchantPage, MerchantsPage, ShownKey,
    StatusForm,
};
use crate::client_addr::client_ip;
use crate::error::{ApiError, ErrorCode};
use crate::ids::MerchantId;
use crate::merchants::model::{MerchantPatch, MerchantView, NewMerchant};
use crate::merchants::service::{self, Actor, IssuedKey};
use crate::pages::admin::{ActionForm, Chrome, api, back_with, refusal};
use crate::pages::context::{state_of, urlencode};
use crate::pages::{AdminPage, PageCtx, PageError, render};
use crate::state::AppState;

const LIST: &str = "/admin/merchants";
const PAGE_SIZE: u64 = 20;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(LIST, web::get().to(list))
        .route(LIST, web::post().to(create))
        .route("/admin/merchants/{id}", web::get().to(detail))
        .route("/admin/merchants/{id}/edit", web::post().to(edit))
        .route("/admin/merchants/{id}/status", web::post().to(status))
        .route(
            "/admin/merchants/{id}/keys/{key}/revoke",
            web::post().to(revoke),
        );
}

async fn list_page(
    state: &AppState,
    page: &AdminPage,
    starting_after: Option<&str>,
    form: CreateForm,
    error: Option<(String, String)>,
) -> Result<MerchantsPage, PageError> {
    let ctx = &page.ctx;
    let (merchants, keys) = service::list_merchants(&state.db, starting_after, PAGE_SIZE + 1)
        .await
        .map_err(api(ctx))?;
    let found = crate::pagination::Page::from_rows(merchants, PAGE_SIZE);
    let more = match (found.has_more, found.data.last()) {
        (true, Some(last)) => Some(format!("{LIST}?starting_after={}", urlencode(&last.id))),
        _ => None,
    };
    Ok(MerchantsPage {
        ctx: ctx.clone(),
        chrome: Chrome::of(state, &page.user),
        rows: found
            .data
            .iter()
            .map(|m| MerchantView::new(m, &keys))
            .collect(),
        more,
        form,
        error,
    })
}

async fn list(
    page: AdminPage,
    req: HttpRequest,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, PageError> {
    let state = state_of(&req)?;
    let shown = list_page(
        &state,
        &page,
        query.starting_after.as_deref(),
        CreateForm::default(),
        None,
    )
    .await?;
    render(&page.ctx, &shown)
}

fn shown(key: IssuedKey) -> ShownKey {
    ShownKey {
        key_id: key.key_id,
        secret: key.secret.unwrap_or_default(),
    }
}

/// The field a refusal is about, as the form names it.
fn field_of(err: &ApiError) -> String {
    match err.param.as_deref() {
        Some("name") => "name",
        Some("email") => "email",
        _ => "fee_rate",
    }
    .to_owned()
}

async fn create(
    page: AdminPage,
    req: HttpRequest,
    form: web::Form<CreateForm>,
) -> Result<HttpResponse, PageError> {
    let ctx = &page.ctx;
    ctx.check_csrf(&form.csrf_token)?;
    let state = state_of(&req)?;
    let form = form.into_inner();
    let body = json!({
        "name": form.name,
        "email": form.email,
        "fee_rate": form.fee_rate.trim(),
    });
    let ip = client_ip(&req);
    let actor = Actor {
        user_id: &page.user.user_id,
        ip: &ip,
    };
    let outcome = match NewMerchant::from_json(body) {
        Ok(input) => service::create_merchant(&state, actor, input).await,
        Err(err) => Err(err),
    };
    match outcome {
        Ok(created) => {
            let merchant = MerchantView::new(&created.merchant, &created.keys());
            let shown = CreatedPage {
                ctx: ctx.clone(),
                chrome: Chrome::of(&state, &page.user),
                merchant,
                live: shown(created.live_key),
                test: shown(created.test_key),
                webhook_secret: created.webhook_secret,
            };
            let mut response = render(ctx, &shown)?;
            *response.status_mut() = StatusCode::CREATED;
            Ok(response)
        }
        Err(err)
            if matches!(
                err.code,
                ErrorCode::InternalError | ErrorCode::ServiceUnavailable | ErrorCode::Forbidden
            ) =>
        {
            Err(PageError::from_api(ctx.tr, err))
        }
        Err(err) => {
            let status = err.code.status();
            let error = Some((field_of(&err), err.message.to_string()));
            let shown = list_page(&state, &page, None, form, error).await?;
            let mut response = render(ctx, &shown)?;
            *response.status_mut() = status;
            Ok(response)
        }
    }
}

async fn detail(
    page: AdminPage,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let AdminPage { ctx, user } = page;
    let state = state_of(&req)?;
    let (merchant, keys) = service::get_merchant(&state.db, &ctx.named(MerchantId::named(&path))?)
        .await
        .map_err(api(&ctx))?;
    let shown = MerchantPage {
        chrome: Chrome::of(&state, &user),
        merchant: MerchantView::new(&merchant, &keys),
        keys: keys.iter().map(KeyRow::new).collect(),
        ctx: ctx.clone(),
    };
    render(&ctx, &shown)
}

async fn patch(
    page: &AdminPage,
    req: &HttpRequest,
    id: &str,
    body: Value,
    done_key: &str,
) -> Result<HttpResponse, PageError> {
    let ctx: &PageCtx = &page.ctx;
    let state = state_of(req)?;
    let back = format!("{LIST}/{id}");
    let ip = client_ip(req);
    let actor = Actor {
        user_id: &page.user.user_id,
        ip: &ip,
    };
    let outcome = match MerchantPatch::from_json(body) {
        Ok(patch) => {
            service::update_merchant(&state, actor, &ctx.named(MerchantId::named(id))?, patch).await
        }
        Err(err) => Err(err),
    };
    match outcome {
        Ok((m, _)) => {
            let text = ctx.fmt(done_key, &[("name", &m.name)]);
            Ok(back_with(ctx, Some(&back), LIST, "success", &text))
        }
        Err(err) => refusal(ctx, Some(&back), LIST, err),
    }
}

async fn edit(
    page: AdminPage,
    req: HttpRequest,
    path: web::Path<String>,
    form: web::Form<EditForm>,
) -> Result<HttpResponse, PageError> {
    page.ctx.check_csrf(&form.csrf_token)?;
    let limit = form.rate_limit_per_minute.trim();
    let limit = limit
        .parse::<i64>()
        .map(Value::from)
        .unwrap_or_else(|_| Value::from(limit));
    let threshold = form.auto_approve_withdrawals_below.trim();
    let threshold = if threshold.is_empty() {
        Value::Null
    } else {
        Value::from(threshold)
    };
    let body = json!({
        "fee_rate": form.fee_rate.trim(),
        "rate_limit_per_minute": limit,
        "auto_approve_withdrawals_below": threshold,
    });
    patch(&page, &req, &path, body, "admin_merchants.saved").await
}

async fn status(
    page: AdminPage,
    req: HttpRequest,
    path: web::Path<String>,
    form: web::Form<StatusForm>,
) -> Result<HttpResponse, PageError> {
    page.ctx.check_csrf(&form.csrf_token)?;
    let key = if form.status == "suspended" {
        "admin_merchants.suspended"
    } else {
        "admin_merchants.reactivated"
    };
    patch(&page, &req, &path, json!({"status": form.status}), key).await
}

async fn revoke(
    page: AdminPage,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    form: web::Form<ActionForm>,
) -> Result<HttpResponse, PageError> {
    let ctx = &page.ctx;
    ctx.check_csrf(&form.csrf_token)?;
    let state = state_of(&req)?;
    let (id, key) = path.into_inner();
    let back = format!("{LIST}/{id}");
    let ip = client_ip(&req);
    let actor = Actor {
        user_id: &page.user.user_id,
        ip: &ip,
    };
    match service::revoke_api_key_as(
        &state,
        actor,
        "admin",
        &ctx.named(MerchantId::named(&id))?,
        service::KeyRef::Row(&key),
    )
    .await
    {
        Ok(()) => Ok(back_with(
            ctx,
            Some(&back),
            LIST,
            "success",
            ctx.t("admin_merchants.revoked"),
        )),
        Err(err) => refusal(ctx, Some(&back), LIST, err),
    }
}
