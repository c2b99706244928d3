//! `/merchant/webhooks`: the endpoint (`POST …/endpoint`, the URL rule of the admin API
//! and the SSRF rules of the dispatcher), the secret rotation (`POST …/rotate`: the new
//! secret in this response only; the old one keeps signing for the overlap window), a
//! test event (`POST …/test`, through the outbox) and the delivery log with redelivery
//! (`POST …/events/{id}/redeliver`, the service of the signed API).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::model::{DeliveryRow, EndpointForm, WebhooksPage};
use crate::client_addr::client_ip;
use crate::error::ErrorCode;
use crate::ids::EventId;
use crate::merchants::merchant;
use crate::merchants::service::{self, Actor};
use crate::pages::context::urlencode;
use crate::pages::merchant::{CsrfForm, api, back_with, merchant_of};
use crate::pages::{MerchantPage, PageCtx, PageError, render, time_pair};
use crate::pagination::PageQuery;
use crate::state::AppState;

/// Attempts per page of the log.
pub const PAGE_SIZE: u64 = 25;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/merchant/webhooks", web::get().to(show))
        .route("/merchant/webhooks/endpoint", web::post().to(save_endpoint))
        .route("/merchant/webhooks/rotate", web::post().to(rotate))
        .route("/merchant/webhooks/test", web::post().to(send_test))
        .route(
            "/merchant/webhooks/events/{id}/redeliver",
            web::post().to(redeliver),
        );
}

#[derive(Debug, Default, Deserialize)]
struct LogQuery {
    #[serde(default)]
    mode: String,
    #[serde(default)]
    starting_after: Option<String>,
}

fn page_path(livemode: bool) -> &'static str {
    if livemode {
        "/merchant/webhooks"
    } else {
        "/merchant/webhooks?mode=test"
    }
}

async fn webhooks_page(
    state: &AppState,
    ctx: &PageCtx,
    m: &merchant::Model,
    livemode: bool,
    starting_after: Option<String>,
) -> Result<WebhooksPage, PageError> {
    let log = crate::webhooks::service::list_deliveries(
        &state.db,
        &m.id,
        livemode,
        None,
        None,
        &PageQuery {
            limit: Some(PAGE_SIZE),
            starting_after: starting_after.filter(|c| !c.is_empty()),
        },
    )
    .await
    .map_err(api(ctx))?;
    let next_href = match (log.has_more, log.data.last()) {
        (true, Some(last)) => Some(format!(
            "/merchant/webhooks?{}starting_after={}",
            if livemode { "" } else { "mode=test&" },
            urlencode(&last.id)
        )),
        _ => None,
    };
    let previous_until = m
        .webhook_secret_prev_expires_at
        .filter(|until| *until > crate::db::now_ms())
        .map(time_pair);
    Ok(WebhooksPage {
        ctx: ctx.clone(),
        livemode,
        webhook_url: m.webhook_url.clone().unwrap_or_default(),
        url_error: None,
        new_secret: None,
        previous_until,
        deliveries: log.data.into_iter().map(DeliveryRow::from).collect(),
        next_href,
    })
}

async fn show(
    p: MerchantPage,
    req: HttpRequest,
    query: web::Query<LogQuery>,
) -> Result<HttpResponse, PageError> {
    let (state, m) = merchant_of(&p, &req).await?;
    let query = query.into_inner();
    let page = webhooks_page(
        &state,
        &p.ctx,
        &m,
        query.mode != "test",
        query.starting_after,
    )
    .await?;
    render(&p.ctx, &page)
}

async fn save_endpoint(
    p: MerchantPage,
    req: HttpRequest,
    form: web::Form<EndpointForm>,
) -> Result<HttpResponse, PageError> {
    p.ctx.check_csrf(&form.csrf_token)?;
    let (state, m) = merchant_of(&p, &req).await?;
    let ctx = &p.ctx;
    let ip = client_ip(&req);
    let actor = Actor {
        user_id: &p.user.user_id,
        ip: &ip,
    };
    let outcome =
        service::set_webhook_url(&state, actor, "merchant", &m.id, Some(&form.webhook_url)).await;
    match outcome {
        Ok(saved) => {
            let key = if saved.webhook_url.is_some() {
                "merchant_webhooks.saved"
            } else {
                "merchant_webhooks.cleared"
            };
            Ok(back_with(ctx, "/merchant/webhooks", "success", ctx.t(key)))
        }
        Err(err) if err.code == ErrorCode::InvalidRequest => {
            let mut page = webhooks_page(&state, ctx, &m, true, None).await?;
            page.webhook_url = form.webhook_url.clone();
            page.url_error = Some(err.message.into_owned());
            let mut response = render(ctx, &page)?;
            *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(response)
        }
        Err(err) => Err(api(ctx)(err)),
    }
}

async fn rotate(
    p: MerchantPage,
    req: HttpRequest,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, PageError> {
    p.ctx.check_csrf(&form.csrf_token)?;
    let (state, m) = merchant_of(&p, &req).await?;
    let ctx = &p.ctx;
    let ip = client_ip(&req);
    let actor = Actor {
        user_id: &p.user.user_id,
        ip: &ip,
    };
    let secret = service::rotate_webhook_secret(&state, actor, "merchant", &m.id)
        .await
        .map_err(api(ctx))?;
    let m = crate::merchants::service::merchant_of_user(&state.db, &p.user.user_id)
        .await
        .map_err(api(ctx))?;
    let mut page = webhooks_page(&state, ctx, &m, true, None).await?;
    page.new_secret = Some(secret);
    // `render` answers `no-store`: the secret is in this response only.
    render(ctx, &page)
}

async fn send_test(
    p: MerchantPage,
    req: HttpRequest,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, PageError> {
    p.ctx.check_csrf(&form.csrf_token)?;
    let (state, m) = merchant_of(&p, &req).await?;
    let ctx = &p.ctx;
    crate::webhooks::service::send_test_event(&state, &m.id, form.livemode())
        .await
        .map_err(api(ctx))?;
    Ok(back_with(
        ctx,
        page_path(form.livemode()),
        "success",
        ctx.t("merchant_webhooks.test_sent"),
    ))
}

async fn redeliver(
    p: MerchantPage,
    req: HttpRequest,
    path: web::Path<String>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, PageError> {
    p.ctx.check_csrf(&form.csrf_token)?;
    let (state, m) = merchant_of(&p, &req).await?;
    let ctx = &p.ctx;
    let event = ctx.named(EventId::named(&path))?;
    crate::webhooks::service::redeliver(&state.db, &m.id, form.livemode(), &event)
        .await
        .map_err(api(ctx))?;
    state.webhook_wakeup.notify_one();
    Ok(back_with(
        ctx,
        page_path(form.livemode()),
        "success",
        ctx.t("merchant_webhooks.redelivered"),
    ))
}
