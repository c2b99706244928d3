//! The dispute pages' handlers: the open disputes, one dispute, an admin's message, the
//! resolution (confirmed first; money rule of the JSON API).

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, web};

use super::model::{
    ConfirmPage, DisputePage, DisputeRow, DisputesPage, EventRow, MessageForm, MessageRow,
    OrderFacts, ResolveForm,
};
use crate::client_addr::client_ip;
use crate::disputes::service::{self, Author, ResolveInput};
use crate::ids::{DisputeId, OrderId};
use crate::money::format_usdt;
use crate::pages::admin::{Chrome, back_with, db, money_gate, refusal};
use crate::pages::context::{state_of, urlencode};
use crate::pages::{AdminPage, PageCtx, PageError, render, time_pair};
use crate::state::AppState;

const LIST: &str = "/admin/disputes";
const PAGE_SIZE: u64 = 50;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(LIST, web::get().to(list))
        .route("/admin/disputes/{id}", web::get().to(detail))
        .route("/admin/disputes/{id}/messages", web::post().to(message))
        .route("/admin/disputes/{id}/resolve", web::post().to(resolve));
}

#[derive(Debug, Default, serde::Deserialize)]
struct ListQuery {
    starting_after: Option<String>,
}

/// The dispute a path names; a wrong or unknown id is the 404 page.
async fn dispute_named(
    ctx: &PageCtx,
    state: &AppState,
    path: &str,
) -> Result<crate::orders::dispute::Model, PageError> {
    let id = ctx.named(DisputeId::named(path))?;
    service::find(&state.db, &id)
        .await
        .map_err(db(ctx))?
        .ok_or(PageError::NotFound(ctx.tr))
}

async fn list(
    page: AdminPage,
    req: HttpRequest,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, PageError> {
    let AdminPage { ctx, user } = page;
    let state = state_of(&req)?;
    let rows = service::list(
        &state.db,
        Some("open"),
        query.starting_after.as_deref(),
        PAGE_SIZE + 1,
    )
    .await
    .map_err(db(&ctx))?;
    let found = crate::pagination::Page::from_rows(rows, PAGE_SIZE);
    let order_ids: Vec<OrderId> = found.data.iter().map(|d| d.order_id.clone()).collect();
    let orders: HashMap<OrderId, _> = crate::orders::service::find_many(&state.db, &order_ids)
        .await
        .map_err(db(&ctx))?
        .into_iter()
        .map(|o| (o.id.clone(), o))
        .collect();
    let merchants = crate::merchants::service::names_of(
        &state.db,
        found.data.iter().map(|d| d.merchant_id.clone()),
    )
    .await
    .map_err(db(&ctx))?;
    let acceptors = crate::acceptors::service::names_of(
        &state.db,
        found.data.iter().filter_map(|d| d.acceptor_id.clone()),
    )
    .await
    .map_err(db(&ctx))?;
    let ids: Vec<DisputeId> = found.data.iter().map(|d| d.id.clone()).collect();
    let counts = service::message_counts(&state.db, &ids)
        .await
        .map_err(db(&ctx))?;
    let more = match (found.has_more, found.data.last()) {
        (true, Some(last)) => Some(format!("{LIST}?starting_after={}", urlencode(&last.id))),
        _ => None,
    };
    let rows = found
        .data
        .iter()
        .map(|d| {
            let o = orders.get(&d.order_id);
            DisputeRow {
                id: d.id.clone(),
                reference: o.map(|o| o.reference.clone()).unwrap_or_default(),
                amount: o.map(|o| format_usdt(o.amount)).unwrap_or_default(),
                merchant: merchants.get(&d.merchant_id).cloned().unwrap_or_default(),
                acceptor: d
                    .acceptor_id
                    .as_ref()
                    .and_then(|a| acceptors.get(a).cloned())
                    .unwrap_or_default(),
                opened_by: d.opened_by.clone(),
                reason: d.reason.clone(),
                messages: counts.get(&d.id).copied().unwrap_or(0),
                opened_at: time_pair(d.created_at),
            }
        })
        .collect();
    let shown = DisputesPage {
        chrome: Chrome::of(&state, &user),
        rows,
        more,
        ctx: ctx.clone(),
    };
    render(&ctx, &shown)
}

async fn detail(
    page: AdminPage,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let AdminPage { ctx, user } = page;
    let state = state_of(&req)?;
    let case = service::case_of(&state, &ctx.named(DisputeId::named(&path))?)
        .await
        .map_err(|e| PageError::from_api(ctx.tr, e))?;
    let events = case
        .events
        .into_iter()
        .map(|e| EventRow {
            to_status: e.to_status,
            actor: e.actor,
            note: e.note,
            at: time_pair(e.created_at),
        })
        .collect();
    let messages = case
        .messages
        .into_iter()
        .map(|m| MessageRow {
            author_role: m.author_role,
            body: m.body,
            at: time_pair(m.created_at),
        })
        .collect();
    let (d, o) = (case.dispute, case.order);
    let merchant = Some((case.merchant.id, case.merchant.name));
    let acceptor = case.acceptor.map(|a| (a.id, a.display_name));
    let shown = DisputePage {
        chrome: Chrome::of(&state, &user),
        order: OrderFacts::new(&o),
        dispute: d,
        merchant,
        acceptor,
        events,
        messages,
        ctx: ctx.clone(),
    };
    render(&ctx, &shown)
}

async fn message(
    page: AdminPage,
    req: HttpRequest,
    path: web::Path<String>,
    form: web::Form<MessageForm>,
) -> Result<HttpResponse, PageError> {
    let ctx = &page.ctx;
    ctx.check_csrf(&form.csrf_token)?;
    let state = state_of(&req)?;
    let back = format!("{LIST}/{path}");
    let d = dispute_named(ctx, &state, &path).await?;
    let ip = client_ip(&req);
    let author = Author::Admin {
        user_id: &page.user.user_id,
        ip: Some(&ip),
    };
    match service::post_message(&state, &d, author, Some(form.body.clone())).await {
        Ok(_) => Ok(back_with(
            ctx,
            Some(&back),
            LIST,
            "success",
            ctx.t("admin_disputes.message_sent"),
        )),
        Err(err) => refusal(ctx, Some(&back), LIST, err),
    }
}

async fn resolve(
    page: AdminPage,
    req: HttpRequest,
    path: web::Path<String>,
    form: web::Form<ResolveForm>,
) -> Result<HttpResponse, PageError> {
    let ctx = &page.ctx;
    ctx.check_csrf(&form.csrf_token)?;
    let state = state_of(&req)?;
    let back = format!("{LIST}/{path}");
    if let Some(refused) = money_gate(&state, &page, Some(&back), LIST) {
        return Ok(refused);
    }
    let release = match form.outcome.as_str() {
        "release" => true,
        "cancel" => false,
        _ => {
            return Ok(back_with(
                ctx,
                Some(&back),
                LIST,
                "error",
                ctx.t("admin_disputes.choose_outcome"),
            ));
        }
    };
    let amount = form.amount.trim();
    if form.confirmed != "1" {
        // Without JavaScript: say what will happen, then the confirming button.
        let d = dispute_named(ctx, &state, &path).await?;
        let o = crate::orders::service::find(&state.db, &d.order_id)
            .await
            .map_err(db(ctx))?
            .ok_or(PageError::NotFound(ctx.tr))?;
        let merchant = crate::merchants::service::name_of(&state.db, &o.merchant_id)
            .await
            .map_err(db(ctx))?;
        let shown_amount = if amount.is_empty() {
            format_usdt(o.amount)
        } else {
            amount.to_owned()
        };
        let (heading, question) = if release {
            (
                ctx.t("admin_disputes.release_heading").to_owned(),
                ctx.fmt(
                    "admin_disputes.release_question",
                    &[
                        ("amount", &shown_amount),
                        ("reference", &o.reference),
                        ("merchant", &merchant),
                    ],
                ),
            )
        } else {
            (
                ctx.t("admin_disputes.cancel_heading").to_owned(),
                ctx.fmt(
                    "admin_disputes.cancel_question",
                    &[("reference", &o.reference)],
                ),
            )
        };
        let shown = ConfirmPage {
            ctx: ctx.clone(),
            chrome: Chrome::of(&state, &page.user),
            heading,
            question,
            action: format!("{LIST}/{path}/resolve"),
            fields: vec![
                ("outcome".to_owned(), form.outcome.clone()),
                ("amount".to_owned(), amount.to_owned()),
                ("note".to_owned(), form.note.clone()),
                ("confirmed".to_owned(), "1".to_owned()),
            ],
            ask_reason: false,
            button: ctx.t("admin.confirm").to_owned(),
            button_class: if release { "btn-money" } else { "btn-danger" },
            back,
        };
        return render(ctx, &shown);
    }
    let input = ResolveInput {
        outcome: Some(form.outcome.clone()),
        amount: Some(amount)
            .filter(|a| !a.is_empty())
            .map(serde_json::Value::from),
        note: Some(form.note.clone()),
    };
    match service::resolve(
        &state,
        &ctx.named(DisputeId::named(&path))?,
        input,
        &page.user.user_id,
    )
    .await
    {
        Ok((o, resolved)) => {
            let text = if release {
                ctx.fmt(
                    "admin_disputes.released",
                    &[
                        (
                            "amount",
                            &resolved
                                .released_amount
                                .map(format_usdt)
                                .unwrap_or_default(),
                        ),
                        ("reference", &o.reference),
                    ],
                )
            } else {
                ctx.fmt("admin_disputes.cancelled", &[("reference", &o.reference)])
            };
            Ok(back_with(ctx, Some(&back), LIST, "success", &text))
        }
        Err(err) => refusal(ctx, Some(&back), LIST, err),
    }
}
