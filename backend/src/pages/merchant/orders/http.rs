//! `GET /merchant`: reads the filter, asks the order store for a page of the merchant's
//! orders, renders. `GET /merchant/orders.csv`: the same filter, every matching order,
//! streamed in keyset batches. `GET /merchant/events`: the merchant's live stream.
//! `GET /merchant/orders/{id}`: one order, its history and its webhook attempts.

use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::stream;
use sea_orm::DatabaseConnection;

use super::csv;
use super::model::{AttemptRow, EventRow, OrderPage, OrderRow, OrdersPage, OrdersQuery};
use crate::error::ApiError;
use crate::ids::{EventId, MerchantId, OrderId};
use crate::money::format_usdt;
use crate::orders::OrderFilter;
use crate::orders::model::OrderStatus;
use crate::orders::service as orders;
use crate::pages::context::urlencode;
use crate::pages::filters::{date_of, day_range};
use crate::pages::merchant::merchant_of;
use crate::pages::{MerchantPage, PageCtx, PageError, render, time_pair};

/// Orders per page.
pub const PAGE_SIZE: u64 = 25;
/// Orders read per database round trip of the export.
pub const EXPORT_BATCH: u64 = 500;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/merchant", web::get().to(list))
        .route("/merchant/orders.csv", web::get().to(export))
        .route("/merchant/events", web::get().to(events))
        .route("/merchant/orders/{id}", web::get().to(order));
}

/// The store filter of a query, or the fields that could not be read.
fn filter_of(ctx: &PageCtx, query: &OrdersQuery) -> (OrderFilter, Vec<(&'static str, String)>) {
    let mut errors = Vec::new();
    let status = match query.status.trim() {
        "" => None,
        text => OrderStatus::parse(text).or_else(|| {
            errors.push(("status", ctx.t("history.error_status").to_owned()));
            None
        }),
    };
    let (created_gte, created_lt) = day_range(
        &query.from,
        &query.to,
        ctx.t("history.error_date"),
        &mut errors,
    );
    let filter = OrderFilter {
        merchant_order_id: None,
        status,
        created_gte,
        created_lt,
        starting_after: query.starting_after.clone().filter(|c| !c.is_empty()),
    };
    (filter, errors)
}

fn search_of(query: &OrdersQuery) -> Option<String> {
    Some(query.q.trim().to_owned()).filter(|q| !q.is_empty())
}

async fn list(
    page: MerchantPage,
    req: HttpRequest,
    query: web::Query<OrdersQuery>,
) -> Result<HttpResponse, PageError> {
    let (state, m) = merchant_of(&page, &req).await?;
    let ctx = page.ctx;
    let query = query.into_inner();
    let (filter, errors) = filter_of(&ctx, &query);
    let rows = orders::search_by_merchant(
        &state.db,
        &m.id,
        query.livemode(),
        &filter,
        search_of(&query).as_deref(),
        PAGE_SIZE + 1,
    )
    .await
    .map_err(|e| PageError::from_api(ctx.tr, e.into()))?;
    let has_more = rows.len() as u64 > PAGE_SIZE;
    let rows: Vec<_> = rows.into_iter().take(PAGE_SIZE as usize).collect();
    let next_href = match (has_more, rows.last()) {
        (true, Some(last)) => {
            let filter_query = query.filter_query();
            let sep = if filter_query.is_empty() { "" } else { "&" };
            Some(format!(
                "/merchant?{filter_query}{sep}starting_after={}",
                urlencode(&last.id)
            ))
        }
        _ => None,
    };
    let page = OrdersPage {
        ctx: ctx.clone(),
        orders: rows.iter().map(OrderRow::from).collect(),
        next_href,
        errors,
        query,
    };
    render(&ctx, &page)
}

/// Where the export is in its walk over the orders.
struct Export {
    db: DatabaseConnection,
    merchant_id: MerchantId,
    livemode: bool,
    filter: OrderFilter,
    search: Option<String>,
    header_sent: bool,
    done: bool,
}

impl Export {
    /// The next chunk of the body: the header, then one batch of lines per database
    /// read (the cursor moves to the batch's last id), until a short batch.
    async fn next(mut self) -> Option<(Result<Bytes, actix_web::Error>, Self)> {
        if !self.header_sent {
            self.header_sent = true;
            return Some((Ok(Bytes::from_static(csv::HEADER.as_bytes())), self));
        }
        if self.done {
            return None;
        }
        let batch = orders::search_by_merchant(
            &self.db,
            &self.merchant_id,
            self.livemode,
            &self.filter,
            self.search.as_deref(),
            EXPORT_BATCH,
        )
        .await;
        match batch {
            Ok(rows) => {
                self.done = (rows.len() as u64) < EXPORT_BATCH;
                let last = rows.last()?.id.to_string();
                self.filter.starting_after = Some(last);
                let mut text = String::with_capacity(rows.len() * 160);
                for o in &rows {
                    text.push_str(&csv::line(o));
                }
                Some((Ok(Bytes::from(text)), self))
            }
            Err(err) => {
                // The response is already under way: end it short (the client sees
                // a broken download, never a silently incomplete one that looks whole).
                tracing::error!(error = %err, "orders export failed");
                self.done = true;
                Some((
                    Err(actix_web::error::ErrorInternalServerError("export failed")),
                    self,
                ))
            }
        }
    }
}

async fn export(
    page: MerchantPage,
    req: HttpRequest,
    query: web::Query<OrdersQuery>,
) -> Result<HttpResponse, PageError> {
    let (state, m) = merchant_of(&page, &req).await?;
    let ctx = page.ctx;
    let query = query.into_inner();
    let (mut filter, errors) = filter_of(&ctx, &query);
    if let Some((_, message)) = errors.into_iter().next() {
        return Err(PageError::BadRequest(ctx.tr, message));
    }
    filter.starting_after = None;
    let mode = if query.livemode() { "live" } else { "test" };
    let filename = format!("orders-{mode}-{}.csv", date_of(crate::db::now_ms()));
    let export = Export {
        db: state.db.clone(),
        merchant_id: m.id,
        livemode: query.livemode(),
        filter,
        search: search_of(&query),
        header_sent: false,
        done: false,
    };
    let body = stream::unfold(export, Export::next);
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"{filename}\""),
        ))
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .streaming(body))
}

/// The merchant's live stream: the `order.*` changes of its orders, both modes.
async fn events(page: MerchantPage, req: HttpRequest) -> Result<HttpResponse, PageError> {
    let (state, m) = merchant_of(&page, &req).await?;
    let receiver = state.infra.event_bus.subscribe();
    Ok(crate::live::sse_response(
        receiver,
        crate::orders::service::merchant_topic(&m.id),
    ))
}

async fn order(
    page: MerchantPage,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let (state, m) = merchant_of(&page, &req).await?;
    let ctx = page.ctx;
    let db_err = |e: sea_orm::DbErr| PageError::from_api(ctx.tr, ApiError::from(e));
    let o = orders::find_of_merchant(&state.db, &m.id, &ctx.named(OrderId::named(&path))?)
        .await
        .map_err(db_err)?
        .ok_or(PageError::NotFound(ctx.tr))?;
    let events = orders::events_of(&state.db, &o.id)
        .await
        .map_err(db_err)?
        .into_iter()
        .map(|e| EventRow {
            at: time_pair(e.created_at),
            status: e.to_status,
            actor: e.actor,
            note: e.note,
        })
        .collect();
    let webhook_events = crate::webhooks::service::events_of_object(
        &state.db,
        &m.id,
        o.livemode,
        &o.id,
        o.created_at,
    )
    .await
    .map_err(db_err)?;
    let ids: Vec<EventId> = webhook_events.iter().map(|e| e.id.clone()).collect();
    let deliveries = crate::webhooks::service::deliveries_of_events(&state.db, &ids)
        .await
        .map_err(db_err)?;
    let type_of = |event_id: &str| {
        webhook_events
            .iter()
            .find(|e| e.id == event_id)
            .map(|e| e.event_type.clone())
            .unwrap_or_default()
    };
    let attempts = deliveries
        .into_iter()
        .map(|d| AttemptRow {
            event_type: type_of(&d.event_id),
            attempt: d.attempt,
            success: d.success,
            status_code: d.status_code,
            duration_ms: d.duration_ms,
            excerpt: d.response_excerpt,
            error: d.error,
            at: time_pair(d.created_at),
        })
        .collect();
    let pending = webhook_events
        .iter()
        .filter(|e| e.attempts == 0)
        .map(|e| (e.event_type.clone(), e.status.as_str().to_owned()))
        .collect();
    let net = crate::orders::model::net_amount(o.amount, o.released_amount, o.fee);
    let page = OrderPage {
        ctx: ctx.clone(),
        row: OrderRow::from(&o),
        livemode: o.livemode,
        fee: format_usdt(o.fee),
        net: format_usdt(net),
        cashier_url: crate::orders::view::cashier_url(&state.public_url, &o.cashier_token),
        callback_url: o.callback_url.clone(),
        expires_at: time_pair(o.expires_at),
        events,
        attempts,
        pending,
    };
    render(&ctx, &page)
}
