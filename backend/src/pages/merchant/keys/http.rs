//! `GET /merchant/keys`, `POST /merchant/keys` (a new live or test key: its secret is in
//! this response only, `no-store`, never in a URL or a flash) and
//! `POST /merchant/keys/{id}/revoke`. The services of the admin key routes, audited with
//! the merchant user as the actor.

use actix_web::{HttpRequest, HttpResponse, web};

use super::model::{CreateKeyForm, KeyRow, KeysPage, NewKey};
use crate::client_addr::client_ip;
use crate::merchants::merchant;
use crate::merchants::model::{KeyMode, NewApiKey};
use crate::merchants::service::{self, Actor, KeyRef};
use crate::pages::merchant::{CsrfForm, api, back_with, merchant_of};
use crate::pages::{MerchantPage, PageCtx, PageError, render};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/merchant/keys", web::get().to(show))
        .route("/merchant/keys", web::post().to(create))
        .route("/merchant/keys/{id}/revoke", web::post().to(revoke));
}

async fn keys_page(
    state: &AppState,
    ctx: &PageCtx,
    m: &merchant::Model,
    created: Option<NewKey>,
) -> Result<KeysPage, PageError> {
    let (_, mut keys) = service::get_merchant(&state.db, &m.id)
        .await
        .map_err(api(ctx))?;
    // Newest first; revoked keys after the active ones.
    keys.sort_by(|a, b| {
        (a.revoked_at.is_some(), std::cmp::Reverse(a.created_at))
            .cmp(&(b.revoked_at.is_some(), std::cmp::Reverse(b.created_at)))
    });
    Ok(KeysPage {
        ctx: ctx.clone(),
        keys: keys.iter().map(KeyRow::from).collect(),
        created,
    })
}

async fn show(p: MerchantPage, req: HttpRequest) -> Result<HttpResponse, PageError> {
    let (state, m) = merchant_of(&p, &req).await?;
    let page = keys_page(&state, &p.ctx, &m, None).await?;
    render(&p.ctx, &page)
}

async fn create(
    p: MerchantPage,
    req: HttpRequest,
    form: web::Form<CreateKeyForm>,
) -> Result<HttpResponse, PageError> {
    p.ctx.check_csrf(&form.csrf_token)?;
    let (state, m) = merchant_of(&p, &req).await?;
    let ctx = &p.ctx;
    let mode = KeyMode::parse(&form.mode)
        .ok_or_else(|| PageError::BadRequest(ctx.tr, ctx.t("merchant_keys.bad_mode").to_owned()))?;
    let ip = client_ip(&req);
    let actor = Actor {
        user_id: &p.user.user_id,
        ip: &ip,
    };
    let issued = service::create_api_key_as(
        &state,
        actor,
        "merchant",
        &m.id,
        NewApiKey {
            mode,
            public_key_pem: None,
        },
    )
    .await
    .map_err(api(ctx))?;
    let created = issued.secret.map(|secret| NewKey {
        key_id: issued.key_id,
        secret,
        livemode: mode.livemode(),
    });
    let page = keys_page(&state, ctx, &m, created).await?;
    // `render` answers `no-store`: the secret is in this response only.
    let mut response = render(ctx, &page)?;
    *response.status_mut() = actix_web::http::StatusCode::CREATED;
    Ok(response)
}

async fn revoke(
    p: MerchantPage,
    req: HttpRequest,
    path: web::Path<String>,
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
    service::revoke_api_key_as(&state, actor, "merchant", &m.id, KeyRef::Row(&path))
        .await
        .map_err(api(ctx))?;
    Ok(back_with(
        ctx,
        "/merchant/keys",
        "success",
        ctx.t("merchant_keys.revoked_flash"),
    ))
}
