//! The acceptor pages' handlers: each action calls the same `acceptors::service`
//! function as its JSON route and comes back with a flash message.

use actix_web::{HttpRequest, HttpResponse, web};

use super::model::{
    AcceptorPage, AcceptorsPage, DepositForm, EditForm, ListQuery, OrderRow, networks,
};
use crate::acceptors::deposits::{self, DepositOutcome};
use crate::acceptors::model::{
    AcceptorListQuery, DepositRequest, StatusAction, UpdateAcceptorRequest,
};
use crate::acceptors::service::{self, AdminContext};
use crate::client_addr::client_ip;
use crate::ids::AcceptorId;
use crate::pages::admin::{ActionForm, Chrome, api, back_with, db, money_gate, refusal};
use crate::pages::context::{state_of, urlencode};
use crate::pages::{AdminPage, PageError, render};

const LIST: &str = "/admin/acceptors";
/// Acceptors per page, and orders on an acceptor's page.
const PAGE_SIZE: u64 = 20;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(LIST, web::get().to(list))
        .route("/admin/acceptors/{id}", web::get().to(detail))
        .route("/admin/acceptors/{id}/approve", web::post().to(approve))
        .route("/admin/acceptors/{id}/freeze", web::post().to(freeze))
        .route("/admin/acceptors/{id}/unfreeze", web::post().to(unfreeze))
        .route("/admin/acceptors/{id}/edit", web::post().to(edit))
        .route("/admin/acceptors/{id}/deposits", web::post().to(deposit));
}

async fn list(
    page: AdminPage,
    req: HttpRequest,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, PageError> {
    let AdminPage { ctx, user } = page;
    let state = state_of(&req)?;
    let query = query.into_inner();
    let (status, status_error) = match (AcceptorListQuery {
        status: Some(query.status.clone()).filter(|s| !s.is_empty()),
        ..Default::default()
    })
    .status()
    {
        Ok(status) => (status, None),
        Err(_) => (
            None,
            Some(ctx.t("admin_acceptors.status_invalid").to_owned()),
        ),
    };
    let found = service::list(
        &state.db,
        status,
        query.starting_after.as_deref(),
        PAGE_SIZE,
    )
    .await
    .map_err(api(&ctx))?;
    let more = match (found.has_more, found.data.last()) {
        (true, Some(last)) => Some(format!(
            "{LIST}?status={}&starting_after={}",
            urlencode(&query.status),
            urlencode(&last.id)
        )),
        _ => None,
    };
    let page = AcceptorsPage {
        chrome: Chrome::of(&state, &user),
        rows: found.data,
        status: query.status,
        status_error,
        more,
        ctx: ctx.clone(),
    };
    render(&ctx, &page)
}

async fn detail(
    page: AdminPage,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let AdminPage { ctx, user } = page;
    let state = state_of(&req)?;
    let a = service::get(&state.db, &ctx.named(AcceptorId::named(&path))?)
        .await
        .map_err(api(&ctx))?;
    let view = service::view(&state.db, &a).await.map_err(api(&ctx))?;
    let orders = crate::acceptors::history::orders_of(&state.db, &a.id, None, None, PAGE_SIZE)
        .await
        .map_err(db(&ctx))?;
    let page = AcceptorPage {
        chrome: Chrome::of(&state, &user),
        acceptor: view,
        orders: orders.iter().map(OrderRow::new).collect(),
        networks: networks(),
        ctx: ctx.clone(),
    };
    render(&ctx, &page)
}

async fn change_status(
    page: AdminPage,
    req: HttpRequest,
    id: &str,
    form: &ActionForm,
    action: StatusAction,
) -> Result<HttpResponse, PageError> {
    let ctx = &page.ctx;
    ctx.check_csrf(&form.csrf_token)?;
    let state = state_of(&req)?;
    let ip = client_ip(&req);
    let admin = AdminContext {
        admin_id: &page.user.user_id,
        ip: Some(&ip),
    };
    let back = form.back.as_deref();
    match service::change_status(&state, admin, &ctx.named(AcceptorId::named(id))?, action).await {
        Ok(a) => {
            let key = match action {
                StatusAction::Approve => "admin_acceptors.approved",
                StatusAction::Freeze => "admin_acceptors.frozen",
                StatusAction::Unfreeze => "admin_acceptors.unfrozen",
            };
            let text = ctx.fmt(key, &[("name", &a.display_name)]);
            Ok(back_with(ctx, back, LIST, "success", &text))
        }
        Err(err) => refusal(ctx, back, LIST, err),
    }
}

async fn approve(
    page: AdminPage,
    req: HttpRequest,
    path: web::Path<String>,
    form: web::Form<ActionForm>,
) -> Result<HttpResponse, PageError> {
    change_status(page, req, &path, &form, StatusAction::Approve).await
}

async fn freeze(
    page: AdminPage,
    req: HttpRequest,
    path: web::Path<String>,
    form: web::Form<ActionForm>,
) -> Result<HttpResponse, PageError> {
    change_status(page, req, &path, &form, StatusAction::Freeze).await
}

async fn unfreeze(
    page: AdminPage,
    req: HttpRequest,
    path: web::Path<String>,
    form: web::Form<ActionForm>,
) -> Result<HttpResponse, PageError> {
    change_status(page, req, &path, &form, StatusAction::Unfreeze).await
}

async fn edit(
    page: AdminPage,
    req: HttpRequest,
    path: web::Path<String>,
    form: web::Form<EditForm>,
) -> Result<HttpResponse, PageError> {
    let ctx = &page.ctx;
    ctx.check_csrf(&form.csrf_token)?;
    let state = state_of(&req)?;
    let back = format!("{LIST}/{path}");
    let max = form.max_concurrent_orders.trim();
    let max_concurrent_orders = if max.is_empty() {
        None
    } else {
        match max.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                return Ok(back_with(
                    ctx,
                    Some(&back),
                    LIST,
                    "error",
                    ctx.t("admin_acceptors.limit_invalid"),
                ));
            }
        }
    };
    let request = UpdateAcceptorRequest {
        display_name: None,
        commission_rate: Some(form.commission_rate.trim().to_owned()).filter(|r| !r.is_empty()),
        max_concurrent_orders,
    };
    let ip = client_ip(&req);
    let admin = AdminContext {
        admin_id: &page.user.user_id,
        ip: Some(&ip),
    };
    let outcome = match request.validate() {
        Ok(patch) => {
            service::update(&state, admin, &ctx.named(AcceptorId::named(&path))?, patch).await
        }
        Err(err) => Err(err),
    };
    match outcome {
        Ok(_) => Ok(back_with(
            ctx,
            Some(&back),
            LIST,
            "success",
            ctx.t("admin_acceptors.saved"),
        )),
        Err(err) => refusal(ctx, Some(&back), LIST, err),
    }
}

async fn deposit(
    page: AdminPage,
    req: HttpRequest,
    path: web::Path<String>,
    form: web::Form<DepositForm>,
) -> Result<HttpResponse, PageError> {
    let ctx = &page.ctx;
    ctx.check_csrf(&form.csrf_token)?;
    let state = state_of(&req)?;
    let back = format!("{LIST}/{path}");
    if let Some(refused) = money_gate(&state, &page, Some(&back), LIST) {
        return Ok(refused);
    }
    let request = DepositRequest {
        amount: form.amount.trim().to_owned(),
        network: form.network.trim().to_owned(),
        txid: form.txid.trim().to_owned(),
        note: None,
    };
    let ip = client_ip(&req);
    let admin = AdminContext {
        admin_id: &page.user.user_id,
        ip: Some(&ip),
    };
    let outcome = match request.validate() {
        Ok(new) => {
            deposits::deposit(&state, admin, &ctx.named(AcceptorId::named(&path))?, new).await
        }
        Err(err) => Err(err),
    };
    match outcome {
        Ok(DepositOutcome::Created(d)) => {
            let text = ctx.fmt(
                "admin_acceptors.deposited",
                &[("amount", &crate::money::format_usdt(d.amount))],
            );
            Ok(back_with(ctx, Some(&back), LIST, "success", &text))
        }
        Ok(DepositOutcome::Replayed(_)) => Ok(back_with(
            ctx,
            Some(&back),
            LIST,
            "info",
            ctx.t("admin_acceptors.deposit_replayed"),
        )),
        Err(err) => refusal(ctx, Some(&back), LIST, err),
    }
}
