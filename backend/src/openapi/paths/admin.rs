//! The admin API (Bearer, role `admin`): merchants, acceptors, disputes, withdrawals,
//! ledger check, audit log. Every change is recorded in the audit log.

use crate::acceptors::model::{
    AcceptorList, AcceptorStatus, AcceptorView, CreateAcceptorRequest, DepositRequest, DepositView,
    UpdateAcceptorRequest,
};
use crate::disputes::model::{
    DisputeDetail, DisputeList, DisputeResolution, MessageRequest, MessageView, ResolveRequest,
};
use crate::error::ErrorCode as E;
use crate::ledger::model::LedgerReport;
use crate::merchants::model::{
    IssuedKeyView, MerchantCreated, MerchantList, MerchantPatch, MerchantView, NewApiKey,
    NewMerchant,
};
use crate::openapi::errors::OpErrors;
use crate::ops::audit_log::AuditEntryList;
use crate::pagination::PageQuery;
use crate::withdrawals::model::{
    AdminWithdrawalList, AdminWithdrawalView, CompleteWithdrawalRequest, ReasonRequest,
    WithdrawalStatus,
};

const LIMIT: (E, &str) = (E::InvalidRequest, "`limit` out of range (`param`: `limit`)");
const NO_MERCHANT: (E, &str) = (E::NotFound, "no such merchant");
const NO_ACCEPTOR: (E, &str) = (E::NotFound, "no such acceptor");
const NO_DISPUTE: (E, &str) = (E::NotFound, "no such dispute");
const NO_WITHDRAWAL: (E, &str) = (E::NotFound, "no such withdrawal");
const NEEDS_2FA: (E, &str) = (
    E::TotpSetupRequired,
    "this action moves money: the admin has no two-factor authentication on, or the session did not pass the code (unless the operator switched the rule off)",
);
const BAD_JSON: (E, &str) = (
    E::InvalidRequest,
    "the body is not valid JSON or a field has the wrong type",
);

pub const ERRORS: &[OpErrors] = &[
    (
        "createMerchant",
        &[
            (
                E::InvalidRequest,
                "not a JSON object, an unknown field, or `name`, `email`, `webhook_url` (also: its host is not public), `rate_limit_per_minute` invalid (`param`: `email`)",
            ),
            (
                E::InvalidAmount,
                "`fee_rate` or `auto_approve_withdrawals_below` is not a valid decimal (`param`: `fee_rate`)",
            ),
            (
                E::UnsupportedCurrency,
                "`default_fiat` is not supported (`param`: `default_fiat`)",
            ),
            (
                E::EmailTaken,
                "the email address already belongs to a merchant or a portal user (`param`: `email`)",
            ),
        ],
    ),
    ("listMerchants", &[LIMIT]),
    ("getMerchant", &[NO_MERCHANT]),
    (
        "updateMerchant",
        &[
            (
                E::InvalidRequest,
                "not a JSON object, an unknown field, a `null` where not allowed, or an invalid value, e.g. a `webhook_url` whose host is not public (`param`: `status`)",
            ),
            (
                E::InvalidAmount,
                "`fee_rate` or `auto_approve_withdrawals_below` is not a valid decimal (`param`: `fee_rate`)",
            ),
            (
                E::UnsupportedCurrency,
                "`default_fiat` is not supported (`param`: `default_fiat`)",
            ),
            NO_MERCHANT,
        ],
    ),
    (
        "createMerchantApiKey",
        &[
            (
                E::InvalidRequest,
                "`mode` is not `live` / `test`, or `public_key_pem` is not a P-256 public key (`param`: `public_key_pem`)",
            ),
            NO_MERCHANT,
        ],
    ),
    (
        "revokeMerchantApiKey",
        &[(E::NotFound, "no such merchant, or no such key of it")],
    ),
    (
        "createAcceptor",
        &[
            (
                E::InvalidRequest,
                "invalid JSON, email, password (at least 10 characters), `display_name` or `max_concurrent_orders` (`param`: `password`)",
            ),
            (
                E::InvalidAmount,
                "`commission_rate` is not a fraction from 0 to below 1 (`param`: `commission_rate`)",
            ),
            (
                E::EmailTaken,
                "the email address already belongs to an account (`param`: `email`)",
            ),
        ],
    ),
    (
        "listAcceptors",
        &[(
            E::InvalidRequest,
            "`limit` out of range or `status` unknown (`param`: `status`)",
        )],
    ),
    ("getAcceptor", &[NO_ACCEPTOR]),
    (
        "updateAcceptor",
        &[
            (
                E::InvalidRequest,
                "invalid JSON, an unknown field, or an invalid `display_name` / `max_concurrent_orders`",
            ),
            (
                E::InvalidAmount,
                "`commission_rate` is not a fraction from 0 to below 1 (`param`: `commission_rate`)",
            ),
            NO_ACCEPTOR,
        ],
    ),
    (
        "approveAcceptor",
        &[
            NO_ACCEPTOR,
            (E::InvalidState, "the acceptor is not `pending`"),
        ],
    ),
    (
        "freezeAcceptor",
        &[
            NO_ACCEPTOR,
            (E::InvalidState, "the acceptor is not `active`"),
        ],
    ),
    (
        "unfreezeAcceptor",
        &[
            NO_ACCEPTOR,
            (E::InvalidState, "the acceptor is not `frozen`"),
        ],
    ),
    (
        "createAcceptorDeposit",
        &[
            NEEDS_2FA,
            (
                E::InvalidRequest,
                "invalid JSON, `txid` or `note` (`param`: `txid`)",
            ),
            (
                E::InvalidAmount,
                "`amount` is not a positive USDT decimal (`param`: `amount`)",
            ),
            (
                E::UnsupportedNetwork,
                "`network` is unknown (`param`: `network`)",
            ),
            NO_ACCEPTOR,
            (
                E::Conflict,
                "this `network` + `txid` was already credited to another acceptor or with another amount",
            ),
        ],
    ),
    (
        "listDisputes",
        &[(
            E::InvalidRequest,
            "`limit` out of range or `status` not `open` / `resolved` (`param`: `status`)",
        )],
    ),
    ("getDispute", &[NO_DISPUTE]),
    (
        "addDisputeMessage",
        &[
            BAD_JSON,
            (
                E::InvalidRequest,
                "`body` is missing or longer than 5000 characters (`param`: `body`)",
            ),
            NO_DISPUTE,
        ],
    ),
    (
        "resolveDispute",
        &[
            NEEDS_2FA,
            (
                E::InvalidRequest,
                "`outcome` is not `release` / `cancel`, or `note` is missing or too long (`param`: `outcome`)",
            ),
            (
                E::InvalidAmount,
                "`amount` is not a valid USDT amount (`param`: `amount`)",
            ),
            NO_DISPUTE,
            (
                E::InvalidState,
                "the dispute is already resolved, or the order cannot take this outcome",
            ),
            (
                E::InsufficientBalance,
                "the acceptor's balance does not cover the release",
            ),
        ],
    ),
    (
        "adminListWithdrawals",
        &[(
            E::InvalidRequest,
            "`limit` out of range, `status` unknown or `livemode` not a boolean (`param`: `status`)",
        )],
    ),
    ("adminGetWithdrawal", &[NO_WITHDRAWAL]),
    (
        "approveWithdrawal",
        &[
            NEEDS_2FA,
            (E::InvalidRequest, "the body is not a JSON object"),
            NO_WITHDRAWAL,
            (E::InvalidState, "the withdrawal is not in `review`"),
        ],
    ),
    (
        "rejectWithdrawal",
        &[
            (
                E::InvalidRequest,
                "the body is not a JSON object, or `reason` is missing or too long (`param`: `reason`)",
            ),
            NO_WITHDRAWAL,
            (E::InvalidState, "the withdrawal is not in `review`"),
        ],
    ),
    (
        "completeWithdrawal",
        &[
            NEEDS_2FA,
            (
                E::InvalidRequest,
                "the body is not a JSON object, or `txid` is missing or malformed (`param`: `txid`)",
            ),
            NO_WITHDRAWAL,
            (E::InvalidState, "the withdrawal is not `approved`"),
        ],
    ),
    (
        "failWithdrawal",
        &[
            NEEDS_2FA,
            (
                E::InvalidRequest,
                "the body is not a JSON object, or `reason` is missing or too long (`param`: `reason`)",
            ),
            NO_WITHDRAWAL,
            (E::InvalidState, "the withdrawal is not `approved`"),
        ],
    ),
    ("checkLedger", &[]),
    ("listAuditLog", &[LIMIT]),
];

// ---------------------------------------------------------------------------------------
// Merchants

/// Create a merchant
///
/// Creates the merchant with a live key, a sandbox key and a webhook secret. The
/// secrets are in this response only. The merchant's email becomes its dashboard login:
/// an invitation mail with a set-password link (single-use, valid 7 days) goes to it.
#[utoipa::path(
    post,
    path = "/api/v1/admin/merchants",
    operation_id = "createMerchant",
    tag = "Admin: merchants",
    security(("bearerAuth" = [])),
    request_body = NewMerchant,
    responses((status = 201, description = "The merchant and its secrets.", body = MerchantCreated))
)]
pub fn create_merchant() {}

/// List merchants
#[utoipa::path(
    get,
    path = "/api/v1/admin/merchants",
    operation_id = "listMerchants",
    tag = "Admin: merchants",
    security(("bearerAuth" = [])),
    params(PageQuery),
    responses((status = 200, description = "A page of merchants.", body = MerchantList))
)]
pub fn list_merchants() {}

/// Get a merchant
#[utoipa::path(
    get,
    path = "/api/v1/admin/merchants/{id}",
    operation_id = "getMerchant",
    tag = "Admin: merchants",
    security(("bearerAuth" = [])),
    params(("id" = String, Path, description = "The merchant id (`mch_…`).")),
    responses((status = 200, description = "The merchant.", body = MerchantView))
)]
pub fn get_merchant() {}

/// Update a merchant
///
/// Partial update: absent fields are left alone. Suspending a merchant makes every one
/// of its keys fail with `401 invalid_api_key`.
#[utoipa::path(
    patch,
    path = "/api/v1/admin/merchants/{id}",
    operation_id = "updateMerchant",
    tag = "Admin: merchants",
    security(("bearerAuth" = [])),
    params(("id" = String, Path, description = "The merchant id (`mch_…`).")),
    request_body = MerchantPatch,
    responses((status = 200, description = "The updated merchant.", body = MerchantView))
)]
pub fn update_merchant() {}

/// Issue an API key
///
/// A new live or sandbox key: HMAC (the secret is in this response only) or, with
/// `public_key_pem`, ECDSA P-256 (the merchant keeps the private key).
#[utoipa::path(
    post,
    path = "/api/v1/admin/merchants/{id}/api-keys",
    operation_id = "createMerchantApiKey",
    tag = "Admin: merchants",
    security(("bearerAuth" = [])),
    params(("id" = String, Path, description = "The merchant id (`mch_…`).")),
    request_body = NewApiKey,
    responses((status = 201, description = "The new key.", body = IssuedKeyView))
)]
pub fn create_api_key() {}

/// Revoke an API key
///
/// Requests signed with the key fail with `401 invalid_api_key` from now on. Revoking a
/// revoked key again succeeds and changes nothing.
#[utoipa::path(
    delete,
    path = "/api/v1/admin/merchants/{id}/api-keys/{key_id}",
    operation_id = "revokeMerchantApiKey",
    tag = "Admin: merchants",
    security(("bearerAuth" = [])),
    params(
        ("id" = String, Path, description = "The merchant id (`mch_…`)."),
        ("key_id" = String, Path, description = "The full key id (`mk_live_…` or `mk_test_…`).")
    ),
    responses((status = 204, description = "Revoked."))
)]
pub fn revoke_api_key() {}

// ---------------------------------------------------------------------------------------
// Acceptors

/// Create an acceptor
///
/// Creates the acceptor's portal login (role `acceptor`) and the acceptor, `active`.
#[utoipa::path(
    post,
    path = "/api/v1/admin/acceptors",
    operation_id = "createAcceptor",
    tag = "Admin: acceptors",
    security(("bearerAuth" = [])),
    request_body = CreateAcceptorRequest,
    responses((status = 201, description = "The acceptor.", body = AcceptorView))
)]
pub fn create_acceptor() {}

/// List acceptors
#[utoipa::path(
    get,
    path = "/api/v1/admin/acceptors",
    operation_id = "listAcceptors",
    tag = "Admin: acceptors",
    security(("bearerAuth" = [])),
    params(
        ("status" = Option<AcceptorStatus>, Query, description = "Only acceptors in this status."),
        PageQuery
    ),
    responses((status = 200, description = "A page of acceptors.", body = AcceptorList))
)]
pub fn list_acceptors() {}

/// Get an acceptor
#[utoipa::path(
    get,
    path = "/api/v1/admin/acceptors/{id}",
    operation_id = "getAcceptor",
    tag = "Admin: acceptors",
    security(("bearerAuth" = [])),
    params(("id" = String, Path, description = "The acceptor id (`acc_…`).")),
    responses((status = 200, description = "The acceptor.", body = AcceptorView))
)]
pub fn get_acceptor() {}

/// Update an acceptor
#[utoipa::path(
    patch,
    path = "/api/v1/admin/acceptors/{id}",
    operation_id = "updateAcceptor",
    tag = "Admin: acceptors",
    security(("bearerAuth" = [])),
    params(("id" = String, Path, description = "The acceptor id (`acc_…`).")),
    request_body = UpdateAcceptorRequest,
    responses((status = 200, description = "The updated acceptor.", body = AcceptorView))
)]
pub fn update_acceptor() {}

/// Approve an acceptor
///
/// `pending → active`: the acceptor may trade.
#[utoipa::path(
    post,
    path = "/api/v1/admin/acceptors/{id}/approve",
    operation_id = "approveAcceptor",
    tag = "Admin: acceptors",
    security(("bearerAuth" = [])),
    params(("id" = String, Path, description = "The acceptor id (`acc_…`).")),
    responses((status = 200, description = "The acceptor, now `active`.", body = AcceptorView))
)]
pub fn approve_acceptor() {}

/// Freeze an acceptor
///
/// `active → frozen`: no new orders, no trading; the balance stays. Unpaid orders go
/// back to matching.
#[utoipa::path(
    post,
    path = "/api/v1/admin/acceptors/{id}/freeze",
    operation_id = "freezeAcceptor",
    tag = "Admin: acceptors",
    security(("bearerAuth" = [])),
    params(("id" = String, Path, description = "The acceptor id (`acc_…`).")),
    responses((status = 200, description = "The acceptor, now `frozen`.", body = AcceptorView))
)]
pub fn freeze_acceptor() {}

/// Unfreeze an acceptor
///
/// `frozen → active`.
#[utoipa::path(
    post,
    path = "/api/v1/admin/acceptors/{id}/unfreeze",
    operation_id = "unfreezeAcceptor",
    tag = "Admin: acceptors",
    security(("bearerAuth" = [])),
    params(("id" = String, Path, description = "The acceptor id (`acc_…`).")),
    responses((status = 200, description = "The acceptor, now `active`.", body = AcceptorView))
)]
pub fn unfreeze_acceptor() {}

/// Record a deposit
///
/// Credits the acceptor's liquidity with an on-chain USDT deposit. Idempotent on
/// `network` + `txid`: the same deposit again answers `200` with
/// `Idempotent-Replayed: true`.
#[utoipa::path(
    post,
    path = "/api/v1/admin/acceptors/{id}/deposits",
    operation_id = "createAcceptorDeposit",
    tag = "Admin: acceptors",
    security(("bearerAuth" = [])),
    params(("id" = String, Path, description = "The acceptor id (`acc_…`).")),
    request_body = DepositRequest,
    responses(
        (status = 201, description = "The deposit was credited.", body = DepositView),
        (
            status = 200,
            description = "The same deposit was already credited.",
            body = DepositView,
            headers(("Idempotent-Replayed" = String, description = "`true` on a replay."))
        )
    )
)]
pub fn create_deposit() {}

// ---------------------------------------------------------------------------------------
// Disputes

/// List disputes
#[utoipa::path(
    get,
    path = "/api/v1/admin/disputes",
    operation_id = "listDisputes",
    tag = "Admin: disputes",
    security(("bearerAuth" = [])),
    params(
        ("status" = Option<crate::orders::dispute::DisputeStatus>, Query, description = "Only disputes in this status."),
        PageQuery
    ),
    responses((status = 200, description = "A page of disputes.", body = DisputeList))
)]
pub fn list_disputes() {}

/// Get a dispute
///
/// The dispute with its order, the parties, the messages and the order's history.
#[utoipa::path(
    get,
    path = "/api/v1/admin/disputes/{id}",
    operation_id = "getDispute",
    tag = "Admin: disputes",
    security(("bearerAuth" = [])),
    params(("id" = String, Path, description = "The dispute id (`dsp_…`).")),
    responses((status = 200, description = "The dispute and its context.", body = DisputeDetail))
)]
pub fn get_dispute() {}

/// Add a message to a dispute
#[utoipa::path(
    post,
    path = "/api/v1/admin/disputes/{id}/messages",
    operation_id = "addDisputeMessage",
    tag = "Admin: disputes",
    security(("bearerAuth" = [])),
    params(("id" = String, Path, description = "The dispute id (`dsp_…`).")),
    request_body = MessageRequest,
    responses((status = 201, description = "The message.", body = MessageView))
)]
pub fn add_dispute_message() {}

/// Resolve a dispute
///
/// `release` completes the order and credits the merchant (`amount` below the order
/// amount is a partial release); `cancel` cancels it and returns the acceptor's
/// reservation. Webhook `order.dispute_resolved`.
#[utoipa::path(
    post,
    path = "/api/v1/admin/disputes/{id}/resolve",
    operation_id = "resolveDispute",
    tag = "Admin: disputes",
    security(("bearerAuth" = [])),
    params(("id" = String, Path, description = "The dispute id (`dsp_…`).")),
    request_body = ResolveRequest,
    responses((status = 200, description = "The resolved dispute and the order.", body = DisputeResolution))
)]
pub fn resolve_dispute() {}

// ---------------------------------------------------------------------------------------
// Withdrawals

/// List withdrawals (all merchants)
#[utoipa::path(
    get,
    path = "/api/v1/admin/withdrawals",
    operation_id = "adminListWithdrawals",
    tag = "Admin: withdrawals",
    security(("bearerAuth" = [])),
    params(
        ("status" = Option<WithdrawalStatus>, Query, description = "Only withdrawals in this status, e.g. `review`."),
        ("livemode" = Option<bool>, Query, description = "Only live (`true`) or sandbox (`false`) withdrawals."),
        PageQuery
    ),
    responses((status = 200, description = "A page of withdrawals.", body = AdminWithdrawalList))
)]
pub fn admin_list_withdrawals() {}

/// Get a withdrawal
#[utoipa::path(
    get,
    path = "/api/v1/admin/withdrawals/{id}",
    operation_id = "adminGetWithdrawal",
    tag = "Admin: withdrawals",
    security(("bearerAuth" = [])),
    params(("id" = String, Path, description = "The withdrawal id (`wd_…`).")),
    responses((status = 200, description = "The withdrawal.", body = AdminWithdrawalView))
)]
pub fn admin_get_withdrawal() {}

/// Approve a withdrawal
///
/// `review → approved`; webhook `withdrawal.reviewed`. The body is optional.
#[utoipa::path(
    post,
    path = "/api/v1/admin/withdrawals/{id}/approve",
    operation_id = "approveWithdrawal",
    tag = "Admin: withdrawals",
    security(("bearerAuth" = [])),
    params(("id" = String, Path, description = "The withdrawal id (`wd_…`).")),
    responses((status = 200, description = "The withdrawal, now `approved`.", body = AdminWithdrawalView))
)]
pub fn approve_withdrawal() {}

/// Reject a withdrawal
///
/// `review → rejected`: the hold is released; webhook `withdrawal.reviewed`.
#[utoipa::path(
    post,
    path = "/api/v1/admin/withdrawals/{id}/reject",
    operation_id = "rejectWithdrawal",
    tag = "Admin: withdrawals",
    security(("bearerAuth" = [])),
    params(("id" = String, Path, description = "The withdrawal id (`wd_…`).")),
    request_body = ReasonRequest,
    responses((status = 200, description = "The withdrawal, now `rejected`.", body = AdminWithdrawalView))
)]
pub fn reject_withdrawal() {}

/// Complete a withdrawal
///
/// `approved → completed` with the payout's transaction id: the hold is posted;
/// webhook `withdrawal.completed`.
#[utoipa::path(
    post,
    path = "/api/v1/admin/withdrawals/{id}/complete",
    operation_id = "completeWithdrawal",
    tag = "Admin: withdrawals",
    security(("bearerAuth" = [])),
    params(("id" = String, Path, description = "The withdrawal id (`wd_…`).")),
    request_body = CompleteWithdrawalRequest,
    responses((status = 200, description = "The withdrawal, now `completed`.", body = AdminWithdrawalView))
)]
pub fn complete_withdrawal() {}

/// Fail a withdrawal
///
/// `approved → failed`: the payout did not happen; the hold is released; webhook
/// `withdrawal.failed`.
#[utoipa::path(
    post,
    path = "/api/v1/admin/withdrawals/{id}/fail",
    operation_id = "failWithdrawal",
    tag = "Admin: withdrawals",
    security(("bearerAuth" = [])),
    params(("id" = String, Path, description = "The withdrawal id (`wd_…`).")),
    request_body = ReasonRequest,
    responses((status = 200, description = "The withdrawal, now `failed`.", body = AdminWithdrawalView))
)]
pub fn fail_withdrawal() {}

// ---------------------------------------------------------------------------------------
// Ledger and audit

/// Check the ledger
///
/// Runs the ledger's invariant checks (debits equal credits, no overdraft, cached
/// balances equal a replay of the transfers, pending transfers resolved at most once,
/// and the features' own invariants) and sets the `ledger_check_ok` metric.
#[utoipa::path(
    get,
    path = "/api/v1/admin/ledger/check",
    operation_id = "checkLedger",
    tag = "Admin: ledger and audit",
    security(("bearerAuth" = [])),
    responses((status = 200, description = "The report.", body = LedgerReport))
)]
pub fn check_ledger() {}

/// Audit log
///
/// Every admin action and security-relevant event, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/admin/audit-log",
    operation_id = "listAuditLog",
    tag = "Admin: ledger and audit",
    security(("bearerAuth" = [])),
    params(PageQuery),
    responses((status = 200, description = "A page of the audit log.", body = AuditEntryList))
)]
pub fn audit_log() {}
