//! On-chain money in: top-up addresses, the deposits seen to them, and the admins'
//! review list.

use crate::chain::entity::TransferStatus;
use crate::chain::service::DepositAddressList;
use crate::chain_watcher::http::{ChainDepositList, ChainTransferList};
use crate::error::ErrorCode as E;
use crate::openapi::errors::OpErrors;

const NOT_ACTIVE: (E, &str) = (
    E::Forbidden,
    "no acceptor profile is linked to the account, or it is not `active`",
);

pub const ERRORS: &[OpErrors] = &[
    ("getDepositAddresses", &[]),
    ("listDeposits", &[]),
    ("getAcceptorDepositAddresses", &[NOT_ACTIVE]),
    (
        "listAcceptorDeposits",
        &[(E::Forbidden, "no acceptor profile is linked to the account")],
    ),
    (
        "listChainTransfers",
        &[(E::InvalidRequest, "`status` is not a transfer status")],
    ),
];

/// Balance top-up addresses
///
/// The merchant's USDT address on each network whose deposits are followed (see
/// `onchain_deposits` in `GET /api/v1/public/currencies`); empty when none is. A
/// transfer to one is credited to the merchant's live balance once it has the
/// network's confirmations (`deposit.pending` and `deposit.confirmed` webhooks).
/// Addresses are derived watch-only (BIP-32) and kept: the same address every time.
#[utoipa::path(
    get,
    path = "/api/v1/deposit-addresses",
    operation_id = "getDepositAddresses",
    tag = "Balance",
    security(("merchantSignature" = [])),
    responses((status = 200, description = "The addresses.", body = DepositAddressList))
)]
pub fn deposit_addresses() {}

/// On-chain top-ups
///
/// The latest 50 transfers to the merchant's top-up addresses, newest first: `pending`
/// with `confirmations` of `required_confirmations`, `confirmed` (credited),
/// `vanished` or `review` (an admin looks at it).
#[utoipa::path(
    get,
    path = "/api/v1/deposits",
    operation_id = "listDeposits",
    tag = "Balance",
    security(("merchantSignature" = [])),
    responses((status = 200, description = "The deposits.", body = ChainDepositList))
)]
pub fn deposits() {}

/// Liquidity top-up addresses
///
/// The acceptor's USDT address on each network whose deposits are followed; a transfer
/// to one is credited to the acceptor's float once confirmed.
#[utoipa::path(
    get,
    path = "/api/v1/acceptor/deposit-addresses",
    operation_id = "getAcceptorDepositAddresses",
    tag = "Acceptor portal",
    security(("bearerAuth" = [])),
    responses((status = 200, description = "The addresses.", body = DepositAddressList))
)]
pub fn acceptor_deposit_addresses() {}

/// On-chain liquidity top-ups
///
/// The latest 50 transfers to the acceptor's top-up addresses, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/acceptor/deposits",
    operation_id = "listAcceptorDeposits",
    tag = "Acceptor portal",
    security(("bearerAuth" = [])),
    responses((status = 200, description = "The deposits.", body = ChainDepositList))
)]
pub fn acceptor_deposits() {}

/// On-chain transfers to review
///
/// Transfers an admin must look at: `vanished` (credited, then a reorganisation
/// deeper than the confirmations removed its block — the credit stands until resolved)
/// and `review` (confirmed but not credited, e.g. the transaction was already credited
/// by hand). Newest first, at most 200.
#[utoipa::path(
    get,
    path = "/api/v1/admin/chain-transfers",
    operation_id = "listChainTransfers",
    tag = "Admin: acceptors",
    security(("bearerAuth" = [])),
    params(("status" = Option<TransferStatus>, Query, description = "Only transfers in this status (default: `vanished` and `review`).")),
    responses((status = 200, description = "The transfers.", body = ChainTransferList))
)]
pub fn chain_transfers() {}
