//! Signed merchant routes: orders, balance, statement, withdrawals, webhook deliveries.

use crate::acceptors::model::DisputeRequest;
use crate::disputes::model::DisputeView;
use crate::error::ErrorCode as E;
use crate::merchants::model::BalanceResponse;
use crate::openapi::errors::OpErrors;
use crate::orders::model::OrderStatus;
use crate::orders::request::CreateOrderRequest;
use crate::orders::view::{OrderList, OrderView};
use crate::pagination::PageQuery;
use crate::webhooks::model::{AttemptFilter, RedeliverView, WebhookDeliveryList, WebhookEvent};
use crate::withdrawals::model::{
    CreateWithdrawalRequest, LedgerEntryList, WithdrawalList, WithdrawalStatus, WithdrawalView,
};

pub const ERRORS: &[OpErrors] = &[
    (
        "createOrder",
        &[
            (
                E::InvalidRequest,
                "the body is not a JSON object, or a field is missing or invalid (`param`: `merchant_order_id`)",
            ),
            (
                E::InvalidAmount,
                "`amount` is not a positive USDT decimal string of at most 6 decimals (`param`: `amount`)",
            ),
            (
                E::UnsupportedCurrency,
                "`currency` is not `USDT`, or `fiat_currency` is not supported (`param`: `fiat_currency`)",
            ),
            (
                E::UnsupportedNetwork,
                "`\"rail\": \"onchain\"` without a `network` whose on-chain payments are on (`param`: `network`)",
            ),
            (
                E::DuplicateMerchantOrderId,
                "the `merchant_order_id` exists with different parameters",
            ),
        ],
    ),
    (
        "listOrders",
        &[(
            E::InvalidRequest,
            "`limit` out of range, `status` unknown, or `created_gte` / `created_lt` not RFC 3339 (`param`: `status`)",
        )],
    ),
    (
        "getOrder",
        &[(
            E::NotFound,
            "no such order of this merchant in the key's mode",
        )],
    ),
    (
        "cancelOrder",
        &[
            (
                E::NotFound,
                "no such order of this merchant in the key's mode",
            ),
            (E::InvalidState, "the order is not `matching` or `assigned`"),
        ],
    ),
    (
        "openOrderDispute",
        &[
            (
                E::InvalidRequest,
                "`reason` is missing or longer than 2000 characters (`param`: `reason`)",
            ),
            (
                E::NotFound,
                "no such order of this merchant in the key's mode",
            ),
            (
                E::InvalidState,
                "the order is not `paid`, nor `expired` within the appeal window",
            ),
        ],
    ),
    ("getBalance", &[]),
    (
        "listLedgerEntries",
        &[(E::InvalidRequest, "`limit` out of range (`param`: `limit`)")],
    ),
    (
        "createWithdrawal",
        &[
            (
                E::InvalidRequest,
                "the body is not a JSON object, or `merchant_withdrawal_id` / `address` is missing or malformed (`param`: `merchant_withdrawal_id`)",
            ),
            (
                E::InvalidAmount,
                "`amount` is not a valid USDT amount or is below the network's minimum (`param`: `amount`)",
            ),
            (
                E::InvalidAddress,
                "`address` is not valid on `network` (`param`: `address`)",
            ),
            (
                E::UnsupportedNetwork,
                "`network` is missing or unknown (`param`: `network`)",
            ),
            (
                E::DuplicateMerchantWithdrawalId,
                "the `merchant_withdrawal_id` exists with different parameters",
            ),
            (
                E::InsufficientBalance,
                "`amount` + fee is more than the available balance",
            ),
        ],
    ),
    (
        "listWithdrawals",
        &[(
            E::InvalidRequest,
            "`limit` out of range or `status` unknown (`param`: `status`)",
        )],
    ),
    (
        "getWithdrawal",
        &[(
            E::NotFound,
            "no such withdrawal of this merchant in the key's mode",
        )],
    ),
    (
        "listWebhookDeliveries",
        &[(
            E::InvalidRequest,
            "`limit` out of range or `status` not `succeeded` / `failed` (`param`: `status`)",
        )],
    ),
    (
        "redeliverWebhookEvent",
        &[(
            E::NotFound,
            "no such event of this merchant in the key's mode",
        )],
    ),
];

/// Create an order
///
/// Starts a payment: the matching engine assigns an acceptor whose quote covers the
/// amount (the order is then `assigned` with the rate, fiat amount and payment
/// details), else the order waits in `matching`. Send the customer to `cashier_url`
/// (or show `qr_code`).
///
/// Idempotent on `merchant_order_id`: the same id with the same parameters answers
/// `200` with the existing order and `Idempotent-Replayed: true`; with other
/// parameters `409 duplicate_merchant_order_id`. Sandbox keys (`mk_test_…`) create
/// sandbox orders (`livemode: false`) that a simulated acceptor takes at once and
/// confirms a few seconds later.
///
/// On-chain orders (`"rail": "onchain"`, `"network"`; live keys, where the network's
/// on-chain payments are on): the order is `assigned` at once to an address of its own;
/// `payment_details` is `{"method": "onchain", "network", "address", "token_contract",
/// "amount", "uri"}` (`uri`: EIP-681 on EVM networks). It becomes `paid` when the
/// transfers seen there cover the amount, and `completed` once they are confirmed; the
/// order adds `txid`, `paid_amount` and `confirmations`.
#[utoipa::path(
    post,
    path = "/api/v1/orders",
    operation_id = "createOrder",
    tag = "Orders",
    security(("merchantSignature" = [])),
    request_body = CreateOrderRequest,
    responses(
        (status = 201, description = "The order was created.", body = OrderView),
        (
            status = 200,
            description = "A replay of an earlier identical request: the existing order.",
            body = OrderView,
            headers(("Idempotent-Replayed" = String, description = "`true` on a replay."))
        )
    )
)]
pub fn create_order() {}

/// List orders
///
/// The merchant's orders in the key's mode, newest first, optionally filtered.
#[utoipa::path(
    get,
    path = "/api/v1/orders",
    operation_id = "listOrders",
    tag = "Orders",
    security(("merchantSignature" = [])),
    params(
        ("merchant_order_id" = Option<String>, Query, description = "Only the order with this merchant order id."),
        ("status" = Option<OrderStatus>, Query, description = "Only orders in this status."),
        ("created_gte" = Option<String>, Query, format = DateTime, description = "Created at or after (RFC 3339)."),
        ("created_lt" = Option<String>, Query, format = DateTime, description = "Created before (RFC 3339)."),
        PageQuery
    ),
    responses((status = 200, description = "A page of orders.", body = OrderList))
)]
pub fn list_orders() {}

/// Get an order
#[utoipa::path(
    get,
    path = "/api/v1/orders/{id}",
    operation_id = "getOrder",
    tag = "Orders",
    security(("merchantSignature" = [])),
    params(("id" = String, Path, description = "The order id (`ord_…`).")),
    responses((status = 200, description = "The order.", body = OrderView))
)]
pub fn get_order() {}

/// Cancel an order
///
/// Allowed while the order is `matching` or `assigned`; the acceptor's reservation is
/// released.
#[utoipa::path(
    post,
    path = "/api/v1/orders/{id}/cancel",
    operation_id = "cancelOrder",
    tag = "Orders",
    security(("merchantSignature" = [])),
    params(("id" = String, Path, description = "The order id (`ord_…`).")),
    responses((status = 200, description = "The order, now `cancelled`.", body = OrderView))
)]
pub fn cancel_order() {}

/// Dispute an order
///
/// Allowed when the order is `paid`, or `expired` within the appeal window. The order
/// becomes `disputed` until an admin resolves it.
#[utoipa::path(
    post,
    path = "/api/v1/orders/{id}/disputes",
    operation_id = "openOrderDispute",
    tag = "Orders",
    security(("merchantSignature" = [])),
    params(("id" = String, Path, description = "The order id (`ord_…`).")),
    request_body = DisputeRequest,
    responses((status = 201, description = "The dispute was opened.", body = DisputeView))
)]
pub fn open_order_dispute() {}

/// Balance
///
/// The merchant's USDT balance in the key's mode (live or sandbox).
#[utoipa::path(
    get,
    path = "/api/v1/balance",
    operation_id = "getBalance",
    tag = "Balance",
    security(("merchantSignature" = [])),
    responses((status = 200, description = "The balances.", body = BalanceResponse))
)]
pub fn balance() {}

/// Statement
///
/// The posted movements of the merchant's balance in the key's mode, newest first,
/// each with the balance after it.
#[utoipa::path(
    get,
    path = "/api/v1/ledger/entries",
    operation_id = "listLedgerEntries",
    tag = "Balance",
    security(("merchantSignature" = [])),
    params(PageQuery),
    responses((status = 200, description = "A page of entries.", body = LedgerEntryList))
)]
pub fn ledger_entries() {}

/// Request a withdrawal
///
/// Holds `amount + fee` on the balance and creates the withdrawal in `review` (or
/// `approved` at once below the merchant's automatic-approval threshold). An admin then
/// approves or rejects it and records the on-chain payout (`completed`) or its failure
/// (`failed`); `rejected` and `failed` return the funds. Webhooks:
/// `withdrawal.reviewed`, then `withdrawal.completed` or `withdrawal.failed`.
///
/// Idempotent on `merchant_withdrawal_id` like orders (`200` +
/// `Idempotent-Replayed: true`, or `409 duplicate_merchant_withdrawal_id`).
#[utoipa::path(
    post,
    path = "/api/v1/withdrawals",
    operation_id = "createWithdrawal",
    tag = "Withdrawals",
    security(("merchantSignature" = [])),
    request_body = CreateWithdrawalRequest,
    responses(
        (status = 201, description = "The withdrawal was created.", body = WithdrawalView),
        (
            status = 200,
            description = "A replay of an earlier identical request: the existing withdrawal.",
            body = WithdrawalView,
            headers(("Idempotent-Replayed" = String, description = "`true` on a replay."))
        )
    )
)]
pub fn create_withdrawal() {}

/// List withdrawals
#[utoipa::path(
    get,
    path = "/api/v1/withdrawals",
    operation_id = "listWithdrawals",
    tag = "Withdrawals",
    security(("merchantSignature" = [])),
    params(
        ("status" = Option<WithdrawalStatus>, Query, description = "Only withdrawals in this status."),
        PageQuery
    ),
    responses((status = 200, description = "A page of withdrawals.", body = WithdrawalList))
)]
pub fn list_withdrawals() {}

/// Get a withdrawal
#[utoipa::path(
    get,
    path = "/api/v1/withdrawals/{id}",
    operation_id = "getWithdrawal",
    tag = "Withdrawals",
    security(("merchantSignature" = [])),
    params(("id" = String, Path, description = "The withdrawal id (`wd_…`).")),
    responses((status = 200, description = "The withdrawal.", body = WithdrawalView))
)]
pub fn get_withdrawal() {}

/// Webhook delivery log
///
/// Every delivery attempt of the merchant's webhooks in the key's mode, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/webhooks/deliveries",
    operation_id = "listWebhookDeliveries",
    tag = "Webhooks",
    security(("merchantSignature" = [])),
    params(
        ("event_id" = Option<String>, Query, description = "Only attempts of this event (`evt_…`)."),
        ("status" = Option<AttemptFilter>, Query, description = "Only successful or failed attempts."),
        PageQuery
    ),
    responses((status = 200, description = "A page of attempts.", body = WebhookDeliveryList))
)]
pub fn webhook_deliveries() {}

/// Redeliver a webhook event
///
/// Schedules one more immediate attempt of the event, whatever its state.
#[utoipa::path(
    post,
    path = "/api/v1/webhooks/events/{id}/redeliver",
    operation_id = "redeliverWebhookEvent",
    tag = "Webhooks",
    security(("merchantSignature" = [])),
    params(("id" = String, Path, description = "The event id (`evt_…`).")),
    responses((status = 202, description = "An attempt is due now.", body = RedeliverView))
)]
pub fn redeliver_webhook() {}

/// A webhook to your endpoint
///
/// `POST` to the order's `callback_url`, else the merchant's `webhook_url`, with the
/// Standard Webhooks headers. Verify `webhook-signature` before trusting the body:
/// `v1,` + base64 of HMAC-SHA256 under the base64-decoded part of your `whsec_…`
/// secret, over `{webhook-id}.{webhook-timestamp}.{raw body}`; refuse old timestamps.
/// Answer any `2xx` to acknowledge; anything else (or no answer in time) is retried
/// immediately, then after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h (±20 %).
/// Events may arrive more than once and out of order: deduplicate on `id`, order by
/// the object's `updated_at`.
#[utoipa::path(
    post,
    path = "merchantWebhook",
    operation_id = "merchantWebhook",
    tag = "Webhooks",
    params(
        ("webhook-id" = String, Header, description = "The event id (`evt_…`), the same on every attempt."),
        ("webhook-timestamp" = String, Header, description = "Unix seconds of this attempt."),
        ("webhook-signature" = String, Header, description = "`v1,<base64 of HMAC-SHA256(key, \"{id}.{timestamp}.{body}\")>`.")
    ),
    request_body = WebhookEvent,
    responses((status = 200, description = "Any 2xx acknowledges the event."))
)]
pub fn merchant_webhook() {}
