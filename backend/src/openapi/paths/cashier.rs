//! The customer's cashier. No authentication: the unguessable token in the path (48 hex
//! characters, from the order's `cashier_url`) is the capability.

use crate::cashier::http::{CashierStatus, PaidRequest};
use crate::disputes::model::{DisputeView, MessageRequest, MessageView};
use crate::error::ErrorCode as E;
use crate::openapi::errors::OpErrors;

const NO_ORDER: (E, &str) = (
    E::NotFound,
    "no order has this token (a malformed token too)",
);

pub const ERRORS: &[OpErrors] = &[
    ("cashierPage", &[NO_ORDER]),
    ("cashierStatus", &[NO_ORDER]),
    (
        "cashierMarkPaid",
        &[
            (E::InvalidRequest, "the JSON or form body cannot be read"),
            NO_ORDER,
            (E::InvalidState, "the order is not `assigned`"),
        ],
    ),
    (
        "cashierDispute",
        &[
            (
                E::InvalidRequest,
                "the body is not valid JSON, or `reason` is missing or too long (`param`: `reason`)",
            ),
            NO_ORDER,
            (
                E::InvalidState,
                "the order is not `paid`, nor `expired` within the appeal window",
            ),
        ],
    ),
    (
        "cashierMessage",
        &[
            (
                E::InvalidRequest,
                "the body is not valid JSON, or `body` is missing, blank or longer than 5000 characters (`param`: `body`)",
            ),
            NO_ORDER,
            (E::InvalidState, "the order has no open dispute"),
        ],
    ),
    ("cashierEvents", &[NO_ORDER]),
];

/// The payment page
///
/// A server-rendered HTML page that works without JavaScript: amount, payment details,
/// reference, deadline, and an "I have paid" form while the order is `assigned`.
/// Sent with `Cache-Control: no-store` and `Referrer-Policy: no-referrer`.
#[utoipa::path(
    get,
    path = "/pay/{token}",
    operation_id = "cashierPage",
    tag = "Cashier",
    params(("token" = String, Path, description = "The cashier token (48 hex characters, from the order's `cashier_url`). The token in the path is the capability: no other credential is needed.")),
    responses((status = 200, description = "The page.", body = String, content_type = "text/html; charset=utf-8"))
)]
pub fn page() {}

/// Payment status
#[utoipa::path(
    get,
    path = "/pay/{token}/status",
    operation_id = "cashierStatus",
    tag = "Cashier",
    params(("token" = String, Path, description = "The cashier token (48 hex characters, from the order's `cashier_url`). The token in the path is the capability: no other credential is needed.")),
    responses((status = 200, description = "What the customer must pay and the order's status.", body = CashierStatus))
)]
pub fn status() {}

/// Mark the order paid
///
/// The customer says the fiat transfer is done: `assigned → paid`; the acceptor is told
/// and must confirm. Accepts JSON (answered with the status) or the page's form
/// (answered with a `303` redirect back to the page).
#[utoipa::path(
    post,
    path = "/pay/{token}/paid",
    operation_id = "cashierMarkPaid",
    tag = "Cashier",
    params(("token" = String, Path, description = "The cashier token (48 hex characters, from the order's `cashier_url`). The token in the path is the capability: no other credential is needed.")),
    request_body(
        description = "Optional.",
        content(
            (PaidRequest = "application/json"),
            (PaidRequest = "application/x-www-form-urlencoded")
        )
    ),
    responses(
        (status = 200, description = "JSON request: the order, now `paid`.", body = CashierStatus),
        (
            status = 303,
            description = "Form request: back to the page.",
            headers(("Location" = String, description = "`/pay/{token}`."))
        )
    )
)]
pub fn paid() {}

/// Dispute as the customer
///
/// When the order is `paid`, or `expired` within the appeal window (e.g. the customer
/// paid late).
#[utoipa::path(
    post,
    path = "/pay/{token}/dispute",
    operation_id = "cashierDispute",
    tag = "Cashier",
    params(("token" = String, Path, description = "The cashier token (48 hex characters, from the order's `cashier_url`). The token in the path is the capability: no other credential is needed.")),
    request_body = crate::cashier::http::DisputeRequest,
    responses((status = 201, description = "The dispute was opened.", body = DisputeView))
)]
pub fn dispute() {}

/// Write in the dispute as the customer
///
/// A message in the order's open dispute (text evidence such as the bank transaction
/// reference). The acceptor is told by mail, and the cashier page, the acceptor's pages
/// and the admins' dispute desk get a `dispute.message` event. Accepts JSON (answered
/// with the message) or the page's form (answered with a `303` back to the page).
#[utoipa::path(
    post,
    path = "/pay/{token}/messages",
    operation_id = "cashierMessage",
    tag = "Cashier",
    params(("token" = String, Path, description = "The cashier token (48 hex characters, from the order's `cashier_url`). The token in the path is the capability: no other credential is needed.")),
    request_body(
        content(
            (MessageRequest = "application/json"),
            (MessageRequest = "application/x-www-form-urlencoded")
        )
    ),
    responses(
        (status = 201, description = "JSON request: the message; `author_role` is `customer`.", body = MessageView),
        (
            status = 303,
            description = "Form request: back to the page.",
            headers(("Location" = String, description = "`/pay/{token}`."))
        )
    )
)]
pub fn message() {}

/// Live status (Server-Sent Events)
///
/// A `text/event-stream` of this order: `event: <type>` and `data: <order JSON>` on
/// each transition (`order.assigned`, `order.paid`, `order.completed`, …) and
/// `dispute.message` (`{"order_id", "dispute_id", "message"}`) on a new message; a
/// `: connected` comment first, `: keepalive` every 15 s, `event: lagged` when the
/// client fell behind (re-read `/status`). Events have an `id:`; reconnecting with
/// `Last-Event-ID` first replays the order's current state if it changed since.
#[utoipa::path(
    get,
    path = "/pay/{token}/events",
    operation_id = "cashierEvents",
    tag = "Cashier",
    params(("token" = String, Path, description = "The cashier token (48 hex characters, from the order's `cashier_url`). The token in the path is the capability: no other credential is needed.")),
    responses((
        status = 200,
        description = "The event stream (never ends by itself).",
        body = String,
        content_type = "text/event-stream"
    ))
)]
pub fn events() {}
