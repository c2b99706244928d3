//! Doc-only types: the JSON bodies of the API as the document shows them.
//!
//! They mirror the real serializers and parsers of the features (the `*View` structs and
//! the request parsers) and API.md; nothing constructs them. Conventions: amounts and
//! rates are decimal strings (`format: decimal`), timestamps RFC 3339 UTC strings
//! (`format: date-time`); a field that is always present but may be `null` is marked
//! required and nullable, a field that may be absent is not required.

use std::collections::BTreeMap;

use serde_json::Value;
use utoipa::ToSchema;

pub use crate::acceptors::model::{
    AcceptorList, AcceptorStatus, AcceptorView as Acceptor, BalanceView as AcceptorBalance,
    ConfirmRequest, CreateAcceptorRequest, DepositRequest, DepositView as Deposit, DisputeRequest,
    OnlineRequest, PaymentMethodList, PaymentMethodRequest, PaymentMethodView as PaymentMethod,
    QuoteList, QuoteRequest, QuoteView as Quote, RegisterRequest, RejectRequest,
    StatsView as AcceptorStats, UpdateAcceptorRequest,
};
pub use crate::auth::model::{
    Accepted, EmailVerified, LoginRequest, LoginResponse, PasswordResetConfirm, PasswordResetDone,
    PasswordResetRequest, Role, TokenRequest, TotpDisableRequest, TotpEnableRequest, TotpEnabled,
    TotpSetupResponse, UserView as PortalUser,
};
pub use crate::disputes::model::{
    DisputeAcceptor, DisputeDetail, DisputeList, DisputeMerchant, DisputeOutcome, DisputeParties,
    DisputeResolution, DisputeStatusSchema as DisputeStatus, DisputeView as Dispute,
    MessageRequest as DisputeMessageRequest, MessageView as DisputeMessage,
    OrderEventView as OrderEvent, ResolveRequest as ResolveDisputeRequest,
};
pub use crate::merchants::model::{
    ApiKeyView as ApiKeySummary, BalanceResponse, IssuedKeyView as IssuedApiKey, KeyKind, KeyMode,
    MerchantBalance, MerchantCreated, MerchantList, MerchantPatch as UpdateMerchantRequest,
    MerchantStatus, MerchantView as Merchant, NewApiKey as CreateApiKeyRequest,
    NewMerchant as CreateMerchantRequest,
};
pub use crate::ops::http::{Health, Readiness};
pub use crate::orders::model::OrderStatus;
pub use crate::orders::request::CreateOrderRequest;
pub use crate::orders::view::OrderView as Order;
pub use crate::pagination::PageQuery as Pagination;
pub use crate::public::model::NetworkId;
pub use crate::webhooks::model::{
    AttemptFilter as DeliveryOutcome, DeliveryView as WebhookDelivery, RedeliverView as Redelivery,
    WebhookData, WebhookDeliveryList, WebhookEvent, WebhookEventType,
};
pub use crate::withdrawals::model::{
    AdminWithdrawalList, AdminWithdrawalView as AdminWithdrawal, CreateWithdrawalRequest,
    LedgerEntryList, StatementEntry as LedgerEntry, WithdrawalList, WithdrawalStatus,
    WithdrawalView as Withdrawal,
};

/// A list page: `data` newest first, and whether older items exist.
macro_rules! list_schema {
    ($(#[$meta:meta])* $name:ident, $item:ty) => {
        $(#[$meta])*
        #[derive(ToSchema)]
        pub struct $name {
            /// The page, newest first.
            pub data: Vec<$item>,
            /// `true` when older items exist: pass the last `id` as `starting_after`.
            pub has_more: bool,
        }
    };
}

// ---------------------------------------------------------------------------------------
// Shared enums

// ---------------------------------------------------------------------------------------
// Operations

// ---------------------------------------------------------------------------------------
// Portal authentication

// ---------------------------------------------------------------------------------------
// Orders

list_schema!(
    /// A page of orders.
    OrderList,
    Order
);

// ---------------------------------------------------------------------------------------
// Balance and statement

// ---------------------------------------------------------------------------------------
// Withdrawals

#[derive(ToSchema)]
#[schema(example = json!({"reason": "The address belongs to a sanctioned service."}))]
pub struct ReasonRequest {
    /// 1–2000 characters, not blank.
    #[schema(min_length = 1, max_length = 2000, pattern = "\\S")]
    pub reason: String,
}

#[derive(ToSchema)]
#[schema(example = json!({"txid": "3f1c2a…"}))]
pub struct CompleteWithdrawalRequest {
    /// The on-chain transaction id: 1–128 visible characters, no spaces (surrounding
    /// spaces are trimmed).
    #[schema(
        min_length = 1,
        pattern = "^\\s*[^\\s\\x00-\\x1f\\x7f-\\x9f]{1,128}\\s*$"
    )]
    pub txid: String,
}

// ---------------------------------------------------------------------------------------
// Webhooks

// ---------------------------------------------------------------------------------------
// Admin: merchants

// ---------------------------------------------------------------------------------------
// Admin and portal: acceptors

// ---------------------------------------------------------------------------------------
// Admin: disputes

// ---------------------------------------------------------------------------------------
// Admin: ledger and audit

#[derive(ToSchema)]
#[schema(example = json!({"ok": true, "accounts": 42, "transfers": 1337, "violations": []}))]
pub struct LedgerCheck {
    /// `true` when no invariant is violated.
    pub ok: bool,
    pub accounts: u64,
    pub transfers: u64,
    pub violations: Vec<LedgerViolation>,
}

#[derive(ToSchema)]
pub struct LedgerViolation {
    /// What is wrong, e.g. `balance_mismatch` or `order_not_credited`.
    pub kind: String,
    pub account: Option<String>,
    pub transfer: Option<String>,
    pub detail: String,
}

/// One audited action.
#[derive(ToSchema)]
pub struct AuditEntry {
    pub id: String,
    #[schema(required = true)]
    pub actor_id: Option<String>,
    /// `admin`, `acceptor`, `system`, …
    pub actor_role: String,
    /// e.g. `merchant.create`, `acceptor.approve`, `withdrawal.approve`.
    pub action: String,
    pub target_type: String,
    #[schema(required = true)]
    pub target_id: Option<String>,
    /// Action-specific details (never secrets).
    #[schema(value_type = Object)]
    pub details: Value,
    #[schema(required = true)]
    pub ip: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
}

list_schema!(
    /// A page of the audit log.
    AuditEntryList,
    AuditEntry
);

// ---------------------------------------------------------------------------------------
// Cashier

/// What the customer's page shows.
#[derive(ToSchema)]
#[schema(example = json!({"status": "assigned", "amount": "100.00", "fiat_amount": "718.00", "fiat_currency": "CNY", "payment_details": {"method": "bank_transfer", "bank_name": "Example Bank", "account_name": "Li Wei", "account_number": "6222 0000 0000 0000", "reference": "R7K2Q9"}, "reference": "R7K2Q9", "expires_at": "2026-11-21T10:30:00Z"}))]
pub struct CashierStatus {
    pub status: OrderStatus,
    #[schema(format = "decimal")]
    pub amount: String,
    #[schema(required = true, format = "decimal")]
    pub fiat_amount: Option<String>,
    pub fiat_currency: String,
    #[schema(required = true)]
    pub payment_details: Option<BTreeMap<String, String>>,
    /// Put it in the transfer memo.
    pub reference: String,
    #[schema(format = DateTime)]
    pub expires_at: String,
}

/// JSON, or the page's form (`application/x-www-form-urlencoded`); the body is optional.
#[derive(ToSchema)]
#[schema(example = json!({"payer_name": "Li Wei"}))]
pub struct PaidRequest {
    /// The name on the customer's account (trimmed to 100 characters).
    pub payer_name: Option<String>,
}

#[derive(ToSchema)]
#[schema(example = json!({"reason": "I paid 718.00 CNY at 10:20 but the order expired.", "contact": "li.wei@mail.example"}))]
pub struct CashierDisputeRequest {
    /// 1–2000 characters, not blank.
    #[schema(min_length = 1, max_length = 2000, pattern = "\\S")]
    pub reason: String,
    /// How to reach the customer (trimmed to 200 characters).
    pub contact: Option<String>,
}

// ---------------------------------------------------------------------------------------
// Query parameters
