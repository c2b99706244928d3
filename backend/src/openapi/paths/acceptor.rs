//! The acceptor's own API (Bearer, role `acceptor`; trading calls need status
//! `active`).

use crate::acceptors::model::{
    AcceptorView, ConfirmRequest, DisputeRequest, OnlineRequest, PaymentMethodList,
    PaymentMethodRequest, PaymentMethodView, QuoteList, QuoteRequest, QuoteView, RejectRequest,
};
use crate::error::ErrorCode as E;
use crate::openapi::errors::OpErrors;
use crate::orders::model::OrderStatus;
use crate::orders::view::{OrderList, OrderView};
use crate::pagination::PageQuery;

const NO_PROFILE: (E, &str) = (E::Forbidden, "no acceptor profile is linked to the account");
const NOT_ACTIVE: (E, &str) = (
    E::Forbidden,
    "the acceptor is `pending` or `frozen`: trading is not allowed",
);
const NO_ORDER: (E, &str) = (E::NotFound, "no such order assigned to this acceptor");
const BAD_FIAT: (E, &str) = (
    E::UnsupportedCurrency,
    "the fiat is not supported (`param`: `fiat`)",
);

pub const ERRORS: &[OpErrors] = &[
    ("getAcceptorProfile", &[NO_PROFILE]),
    (
        "setAcceptorOnline",
        &[
            (E::InvalidRequest, "the body is not `{\"online\": bool}`"),
            NO_PROFILE,
            NOT_ACTIVE,
        ],
    ),
    ("listQuotes", &[NO_PROFILE]),
    (
        "putQuote",
        &[
            (E::InvalidRequest, "the body is not valid JSON"),
            (
                E::InvalidAmount,
                "`rate`, `min_amount` or `max_amount` is not a valid decimal, or `min_amount` > `max_amount` (`param`: `rate`)",
            ),
            BAD_FIAT,
            NO_PROFILE,
            NOT_ACTIVE,
        ],
    ),
    (
        "deleteQuote",
        &[
            BAD_FIAT,
            (E::NotFound, "no quote in this fiat"),
            NO_PROFILE,
            NOT_ACTIVE,
        ],
    ),
    ("listPaymentMethods", &[NO_PROFILE]),
    (
        "addPaymentMethod",
        &[
            (
                E::InvalidRequest,
                "invalid JSON, `method` or `details` (`param`: `details`)",
            ),
            BAD_FIAT,
            NO_PROFILE,
            NOT_ACTIVE,
        ],
    ),
    (
        "deletePaymentMethod",
        &[
            (E::NotFound, "no such payment method of this acceptor"),
            NO_PROFILE,
            NOT_ACTIVE,
        ],
    ),
    (
        "listAcceptorOrders",
        &[
            (
                E::InvalidRequest,
                "`limit` out of range or `status` unknown (`param`: `status`)",
            ),
            NO_PROFILE,
        ],
    ),
    ("getAcceptorOrder", &[NO_ORDER, NO_PROFILE]),
    (
        "confirmOrder",
        &[
            (E::InvalidRequest, "the body is not valid JSON"),
            NO_ORDER,
            (
                E::InvalidState,
                "the order is not `assigned` or `paid` (e.g. disputed: an admin resolves it)",
            ),
            (
                E::TotpRequired,
                "two-factor authentication is enabled and `totp_code` is missing or wrong (`param`: `totp_code`)",
            ),
            (
                E::TooManyAttempts,
                "too many failed second-factor checks of this user (`Retry-After`)",
            ),
            (
                E::InsufficientBalance,
                "the acceptor's balance does not cover the release",
            ),
            NO_PROFILE,
            NOT_ACTIVE,
        ],
    ),
    (
        "rejectOrder",
        &[
            (
                E::InvalidRequest,
                "the body is not valid JSON, or `reason` is too long (`param`: `reason`)",
            ),
            NO_ORDER,
            (E::InvalidState, "the order is not `assigned`"),
            NO_PROFILE,
            NOT_ACTIVE,
        ],
    ),
    (
        "disputeAcceptorOrder",
        &[
            (
                E::InvalidRequest,
                "the body is not valid JSON, or `reason` is missing or too long (`param`: `reason`)",
            ),
            NO_ORDER,
            (E::InvalidState, "the order is not `paid`"),
            NO_PROFILE,
            NOT_ACTIVE,
        ],
    ),
    ("acceptorEvents", &[NO_PROFILE]),
];

/// The acceptor's profile
///
/// Status, presence, balance and statistics.
#[utoipa::path(
    get,
    path = "/api/v1/acceptor/profile",
    operation_id = "getAcceptorProfile",
    tag = "Acceptor portal",
    security(("bearerAuth" = [])),
    responses((status = 200, description = "The profile.", body = AcceptorView))
)]
pub fn profile() {}

/// Go online or offline
///
/// Online (active acceptors only): the engine may assign orders. Offline (always
/// allowed): no new orders, and assigned-but-unpaid orders go to other acceptors.
#[utoipa::path(
    put,
    path = "/api/v1/acceptor/online",
    operation_id = "setAcceptorOnline",
    tag = "Acceptor portal",
    security(("bearerAuth" = [])),
    request_body = OnlineRequest,
    responses((status = 200, description = "The profile.", body = AcceptorView))
)]
pub fn online() {}

/// List quotes
#[utoipa::path(
    get,
    path = "/api/v1/acceptor/quotes",
    operation_id = "listQuotes",
    tag = "Acceptor portal",
    security(("bearerAuth" = [])),
    responses((status = 200, description = "Every quote of the acceptor.", body = QuoteList))
)]
pub fn quotes() {}

/// Set a quote
///
/// Creates or replaces the acceptor's quote in a fiat: the rate and the order sizes it
/// takes.
#[utoipa::path(
    put,
    path = "/api/v1/acceptor/quotes/{fiat}",
    operation_id = "putQuote",
    tag = "Acceptor portal",
    security(("bearerAuth" = [])),
    params(("fiat" = String, Path, description = "The fiat code (case-insensitive), e.g. `CNY`.")),
    request_body = QuoteRequest,
    responses((status = 200, description = "The quote.", body = QuoteView))
)]
pub fn put_quote() {}

/// Delete a quote
#[utoipa::path(
    delete,
    path = "/api/v1/acceptor/quotes/{fiat}",
    operation_id = "deleteQuote",
    tag = "Acceptor portal",
    security(("bearerAuth" = [])),
    params(("fiat" = String, Path, description = "The fiat code, e.g. `CNY`.")),
    responses((status = 204, description = "Deleted."))
)]
pub fn delete_quote() {}

/// List payment methods
#[utoipa::path(
    get,
    path = "/api/v1/acceptor/payment-methods",
    operation_id = "listPaymentMethods",
    tag = "Acceptor portal",
    security(("bearerAuth" = [])),
    responses((status = 200, description = "Every payment method of the acceptor.", body = PaymentMethodList))
)]
pub fn payment_methods() {}

/// Add a payment method
///
/// Where customers pay the acceptor in a fiat; shown to the customer of each assigned
/// order with `method` and the order's `reference` added.
#[utoipa::path(
    post,
    path = "/api/v1/acceptor/payment-methods",
    operation_id = "addPaymentMethod",
    tag = "Acceptor portal",
    security(("bearerAuth" = [])),
    request_body = PaymentMethodRequest,
    responses((status = 201, description = "The payment method.", body = PaymentMethodView))
)]
pub fn add_payment_method() {}

/// Delete a payment method
#[utoipa::path(
    delete,
    path = "/api/v1/acceptor/payment-methods/{id}",
    operation_id = "deletePaymentMethod",
    tag = "Acceptor portal",
    security(("bearerAuth" = [])),
    params(("id" = String, Path, description = "The payment method id.")),
    responses((status = 204, description = "Deleted."))
)]
pub fn delete_payment_method() {}

/// List the acceptor's orders
///
/// Only orders assigned to this acceptor, newest first (without `qr_code`).
#[utoipa::path(
    get,
    path = "/api/v1/acceptor/orders",
    operation_id = "listAcceptorOrders",
    tag = "Acceptor portal",
    security(("bearerAuth" = [])),
    params(
        ("status" = Option<OrderStatus>, Query, description = "Only orders in this status."),
        PageQuery
    ),
    responses((status = 200, description = "A page of orders.", body = OrderList))
)]
pub fn orders() {}

/// Get one of the acceptor's orders
#[utoipa::path(
    get,
    path = "/api/v1/acceptor/orders/{id}",
    operation_id = "getAcceptorOrder",
    tag = "Acceptor portal",
    security(("bearerAuth" = [])),
    params(("id" = String, Path, description = "The order id (`ord_…`).")),
    responses((status = 200, description = "The order.", body = OrderView))
)]
pub fn order() {}

/// Confirm the payment (release)
///
/// The acceptor received the fiat: the order completes (from `assigned` or `paid`), the
/// reserved USDT goes to the merchant. With two-factor authentication enabled,
/// `totp_code` is required. The body is optional.
#[utoipa::path(
    post,
    path = "/api/v1/acceptor/orders/{id}/confirm",
    operation_id = "confirmOrder",
    tag = "Acceptor portal",
    security(("bearerAuth" = [])),
    params(("id" = String, Path, description = "The order id (`ord_…`).")),
    request_body(content = ConfirmRequest, description = "Optional."),
    responses((status = 200, description = "The order, now `completed`.", body = OrderView))
)]
pub fn confirm() {}

/// Reject an order
///
/// Only from `assigned`: the order goes back to matching without this acceptor. The
/// body is optional.
#[utoipa::path(
    post,
    path = "/api/v1/acceptor/orders/{id}/reject",
    operation_id = "rejectOrder",
    tag = "Acceptor portal",
    security(("bearerAuth" = [])),
    params(("id" = String, Path, description = "The order id (`ord_…`).")),
    request_body(content = RejectRequest, description = "Optional."),
    responses((status = 200, description = "The order, back in matching.", body = OrderView))
)]
pub fn reject() {}

/// Dispute an order
///
/// From `paid` (e.g. the fiat did not arrive): the order becomes `disputed`.
#[utoipa::path(
    post,
    path = "/api/v1/acceptor/orders/{id}/dispute",
    operation_id = "disputeAcceptorOrder",
    tag = "Acceptor portal",
    security(("bearerAuth" = [])),
    params(("id" = String, Path, description = "The order id (`ord_…`).")),
    request_body = DisputeRequest,
    responses((status = 200, description = "The order, now `disputed`.", body = OrderView))
)]
pub fn dispute() {}

/// Live events (Server-Sent Events)
///
/// A `text/event-stream` of the acceptor's orders. Each event is `event: <type>` and
/// `data: <order JSON>` (the order object without `qr_code`); types `order.assigned`,
/// `order.paid`, `order.cancelled`, `order.expired`, `order.disputed`,
/// `order.dispute_resolved` (and the order's other transitions). The stream opens with
/// a `: connected` comment and sends a `: keepalive` comment every 15 s; a client that
/// fell behind gets `event: lagged` and should re-read its orders. Each event has an
/// `id:` (server time, Unix ms); reconnecting with the `Last-Event-ID` header (browsers
/// send it by themselves) first replays the current state (`order.<status>`) of every
/// order of the acceptor that changed since, so apply events by order id.
#[utoipa::path(
    get,
    path = "/api/v1/acceptor/events",
    operation_id = "acceptorEvents",
    tag = "Acceptor portal",
    security(("bearerAuth" = [])),
    responses((
        status = 200,
        description = "The event stream (never ends by itself).",
        body = String,
        content_type = "text/event-stream",
        example = ": connected\n\nid: 1796638500000\nevent: order.assigned\ndata: {\"id\":\"ord_01JD3Q4ZK8M6W2X9V7T5R3P1NB\",\"status\":\"assigned\"}\n\n"
    ))
)]
pub fn events() {}
