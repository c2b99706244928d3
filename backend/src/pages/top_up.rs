//! The on-chain top-up section of the acceptor's `Top up` page and the merchant's
//! balance page: each network's address with a QR code of its payment URI (EIP-681 on
//! EVM networks), and the latest deposits with their confirmations (`2 of 3`).

use crate::chain::entity::{OwnerKind, TransferStatus};
use crate::chain::service::{self as chain, ChainDepositView, Chains};
use crate::error::ApiResult;
use crate::orders::view::qr_data_uri;
use crate::pages::{PageCtx, shortened, time_pair};
use crate::state::AppState;
use crate::values::networks::Network;

/// Deposits listed.
const RECENT: u64 = 20;

pub struct AddressCard {
    pub network_name: &'static str,
    pub address: String,
    pub uri: String,
    /// A PNG data URI of a QR code of `uri`.
    pub qr: Option<String>,
}

pub struct DepositRow {
    pub network_name: &'static str,
    pub txid: String,
    /// `0x1234…cdef`, for narrow screens.
    pub txid_short: String,
    pub amount: String,
    pub status: &'static str,
    /// `2 of 3 confirmations`, `Credited`, …, in the page's language.
    pub progress: String,
    pub pending: bool,
    pub at: String,
    pub at_text: String,
}

pub struct TopUp {
    pub addresses: Vec<AddressCard>,
    pub deposits: Vec<DepositRow>,
    /// Some deposit is still confirming (the page refreshes itself).
    pub confirming: bool,
    pub confirmations_note: String,
}

/// The section for an owner; `None` when no network's deposits are followed.
pub async fn top_up(
    state: &AppState,
    ctx: &PageCtx,
    owner_kind: OwnerKind,
    owner_id: &str,
) -> ApiResult<Option<TopUp>> {
    let chains = Chains::of(state)?;
    if chains.networks().is_empty() {
        return Ok(None);
    }
    let addresses = chain::deposit_addresses(state, owner_kind, owner_id)
        .await?
        .into_iter()
        .map(|a| AddressCard {
            network_name: network_name(&a.network),
            qr: qr_data_uri(&a.uri),
            address: a.address,
            uri: a.uri,
        })
        .collect();
    let deposits: Vec<DepositRow> = chain::recent_deposits(state, owner_kind, owner_id, RECENT)
        .await?
        .iter()
        .map(|d| row(ctx, d))
        .collect();
    let confirmations_note = chains
        .networks()
        .iter()
        .map(|c| {
            ctx.fmt(
                "top_up.confirmations_needed",
                &[
                    ("network", c.network.name),
                    ("n", &c.confirmations.to_string()),
                ],
            )
        })
        .collect::<Vec<_>>()
        .join(" ");
    Ok(Some(TopUp {
        addresses,
        confirming: deposits.iter().any(|d| d.pending),
        deposits,
        confirmations_note,
    }))
}

fn network_name(id: &str) -> &'static str {
    Network::find(id).map_or("", |n| n.name)
}

fn row(ctx: &PageCtx, d: &ChainDepositView) -> DepositRow {
    let (status, progress) = match d.status {
        TransferStatus::Pending => (
            "pending",
            ctx.fmt(
                "top_up.progress",
                &[
                    ("n", &d.confirmations.to_string()),
                    ("m", &d.required_confirmations.to_string()),
                ],
            ),
        ),
        TransferStatus::Confirmed => ("confirmed", ctx.t("top_up.credited").to_owned()),
        TransferStatus::Dropped => ("dropped", ctx.t("top_up.dropped").to_owned()),
        TransferStatus::Vanished | TransferStatus::Review => {
            ("review", ctx.t("top_up.in_review").to_owned())
        }
    };
    let (at, at_text) = time_pair(d.seen_at);
    let txid_short = shortened(&d.txid, 6, 4);
    DepositRow {
        network_name: network_name(&d.network),
        txid: d.txid.clone(),
        txid_short,
        amount: d.amount.clone(),
        status,
        progress,
        pending: d.status == TransferStatus::Pending,
        at,
        at_text,
    }
}
