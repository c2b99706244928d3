//! `GET /admin/chain`: the service of `GET /api/v1/admin/chain-transfers`, rendered.

use actix_web::{HttpRequest, HttpResponse, web};

use super::model::{ChainPage, ChainQuery, TransferRow};
use crate::chain::entity::{OwnerKind, TransferStatus};
use crate::chain::{Chains, store};
use crate::money::Usdt;
use crate::pages::admin::{Chrome, api, db};
use crate::pages::context::state_of;
use crate::pages::{AdminPage, PageCtx, PageError, render, shortened, time_pair};
use crate::values::networks::Network;

/// Transfers listed.
const LIMIT: u64 = 200;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/chain", web::get().to(show));
}

async fn show(
    AdminPage { ctx, user }: AdminPage,
    req: HttpRequest,
    query: web::Query<ChainQuery>,
) -> Result<HttpResponse, PageError> {
    let state = state_of(&req)?;
    let (tab, statuses): (&'static str, &[TransferStatus]) = match query.status.as_str() {
        "pending" => ("pending", &[TransferStatus::Pending]),
        "confirmed" => ("confirmed", &[TransferStatus::Confirmed]),
        _ => (
            "review",
            &[TransferStatus::Vanished, TransferStatus::Review],
        ),
    };
    let rows = store::transfers_in(&state.db, statuses, LIMIT)
        .await
        .map_err(db(&ctx))?;
    let off = Chains::of(&state).map_err(api(&ctx))?.networks().is_empty();
    let page = ChainPage {
        chrome: Chrome::of(&state, &user),
        tab,
        rows: rows.iter().map(|t| row(&ctx, t)).collect(),
        off,
        ctx: ctx.clone(),
    };
    render(&ctx, &page)
}

fn row(ctx: &PageCtx, t: &crate::chain::entity::transfer::Model) -> TransferRow {
    let (owner_key, owner_href) = match t.owner_kind {
        OwnerKind::Acceptor => (
            "admin_chain.owner_acceptor",
            Some(format!("/admin/acceptors/{}", t.owner_id)),
        ),
        OwnerKind::Merchant => (
            "admin_chain.owner_merchant",
            Some(format!("/admin/merchants/{}", t.owner_id)),
        ),
        OwnerKind::Order => ("admin_chain.owner_order", None),
    };
    let status = t.status.as_str();
    let txid_short = shortened(&t.txid, 10, 6);
    TransferRow {
        at: time_pair(t.seen_at),
        network_name: Network::find(&t.network).map_or("", |n| n.name),
        owner: ctx.t(owner_key).to_owned(),
        owner_id: t.owner_id.clone(),
        owner_href,
        txid: t.txid.clone(),
        txid_short,
        log_index: t.log_index,
        block: t.block_number,
        amount: Usdt::from_micros(t.amount).to_string(),
        status: t.status.as_str(),
        status_words: ctx
            .t(match status {
                "vanished" => "admin_chain.status_vanished",
                "review" => "admin_chain.status_review",
                "pending" => "admin_chain.status_pending",
                "confirmed" => "admin_chain.status_confirmed",
                _ => "admin_chain.status_dropped",
            })
            .to_owned(),
        reason: t.review_reason.clone(),
    }
}
