//! The withdrawal state machine, the merchant's request, and the JSON views.
//!
//! ```text
//! review ──admin approve (or automatic, below the merchant's threshold)──▶ approved
//!    │                                                                       │
//!    └──admin reject──▶ rejected              approved ──admin complete {txid}──▶ completed
//!                                             approved ──admin fail {reason}────▶ failed
//! ```
//! [`WithdrawalStatus::can_become`] is the whole transition table. Money (DESIGN.md
//! "Ledger"): creation holds `amount + fee` with one pending transfer
//! `merchant → withdrawals`; `rejected` and `failed` void it (the funds are back);
//! `completed` posts it, then moves `amount` `withdrawals → custody` (paid out on chain)
//! and `fee` `withdrawals → revenue`.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::entity::withdrawal;
use crate::addresses::{self, Txid};
use crate::db::rfc3339;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::money::{Usdt, format_usdt};
use crate::values::networks::Network;
use crate::values::networks::NetworkId;
use crate::values::parse_network;
use crate::values::{parse_merchant_ref, parse_usdt, required_string};

pub use super::status::WithdrawalStatus;

/// The webhook event types of withdrawals (API.md "Webhooks").
pub mod events {
    /// Approved (by an admin or automatically) or rejected.
    pub const REVIEWED: &str = "withdrawal.reviewed";
    pub const COMPLETED: &str = "withdrawal.completed";
    pub const FAILED: &str = "withdrawal.failed";
}

/// Who approves a withdrawal automatically (`reviewed_by`).
pub const SYSTEM_REVIEWER: &str = "system";

/// Ledger transfer ids of a withdrawal: deterministic, so a transition applied twice
/// collides with itself in the ledger instead of moving money twice.
pub mod transfer_ids {
    /// The pending `merchant → withdrawals` hold of amount + fee.
    pub fn hold(withdrawal: &str) -> String {
        format!("{withdrawal}:hold")
    }
    /// Releases the hold (rejected or failed).
    pub fn void(withdrawal: &str) -> String {
        format!("{withdrawal}:void")
    }
    /// Posts the hold (completed): the merchant's statement line.
    pub fn post(withdrawal: &str) -> String {
        format!("{withdrawal}:post")
    }
    /// `withdrawals → custody`: the amount paid out on chain.
    pub fn payout(withdrawal: &str) -> String {
        format!("{withdrawal}:payout")
    }
    /// `withdrawals → revenue`: the network fee.
    pub fn fee(withdrawal: &str) -> String {
        format!("{withdrawal}:fee")
    }
}

/// Ledger `kind`s of the withdrawal transfers.
pub mod transfer_kinds {
    pub const HOLD: &str = "withdrawal_hold";
    pub const VOID: &str = "withdrawal_void";
    /// The merchant's statement line of a completed withdrawal (amount + fee).
    pub const POST: &str = "withdrawal";
    pub const PAYOUT: &str = "withdrawal_payout";
    pub const FEE: &str = "withdrawal_fee";
}

// ---------------------------------------------------------------------------------------
// The merchant's request

// `POST /api/v1/withdrawals` as sent. Fields are JSON values so that a wrong type is
// reported with the field's own error code and `param`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"merchant_withdrawal_id": "w-1", "network": "tron", "address": "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "amount": "50.00"}))]
pub struct CreateWithdrawalRequest {
    /// Your id: 1–64 of `A-Za-z0-9._:-`; the idempotency key.
    #[schema(value_type = String, pattern = "^[A-Za-z0-9._:-]{1,64}$")]
    pub merchant_withdrawal_id: Option<Value>,
    #[schema(value_type = NetworkId)]
    pub network: Option<Value>,
    /// A valid address on `network` (stored normalized).
    #[schema(value_type = String, min_length = 1)]
    pub address: Option<Value>,
    /// USDT to send, at least the network's `min_withdrawal`; the network fee is
    /// charged on top.
    #[schema(
        value_type = String,
        format = "decimal",
        min_length = 1,
        pattern = "^[0-9]{1,18}(\\.[0-9]{1,6})?$"
    )]
    pub amount: Option<Value>,
}

/// A request that passed every check.
#[derive(Debug, Clone)]
pub struct WithdrawalParams {
    pub merchant_withdrawal_id: String,
    pub network: Network,
    /// Normalized by [`addresses::validate`].
    pub address: String,
    pub amount: Usdt,
}

/// `address` on `network`, normalized; a bad one is `400 invalid_address`.
pub fn parse_address(network: Network, value: Option<Value>) -> ApiResult<String> {
    let address = required_string("address", value)?;
    addresses::validate(network, &address).map_err(|e| {
        ApiError::new(
            ErrorCode::InvalidAddress,
            format!("The address is not a valid {} address: {e}.", network.name),
        )
        .with_param("address")
    })
}

impl CreateWithdrawalRequest {
    /// Checks every field, in the order of the body: id, network, address, amount (a
    /// valid USDT amount, then at least the network's minimum).
    pub fn parse(self) -> ApiResult<WithdrawalParams> {
        let merchant_withdrawal_id =
            parse_merchant_ref("merchant_withdrawal_id", self.merchant_withdrawal_id)?;
        let network = parse_network("network", self.network.as_ref())?;
        let address = parse_address(network, self.address)?;
        let amount = parse_usdt(self.amount, "amount")?;
        if amount.micros() < network.min_withdrawal {
            return Err(ApiError::new(
                ErrorCode::InvalidAmount,
                format!(
                    "The smallest withdrawal on {} is {} USDT.",
                    network.id,
                    format_usdt(network.min_withdrawal)
                ),
            )
            .with_param("amount"));
        }
        Ok(WithdrawalParams {
            merchant_withdrawal_id,
            network,
            address,
            amount,
        })
    }
}

impl WithdrawalParams {
    /// A fingerprint of the parameters: a replay of `merchant_withdrawal_id` is the same
    /// request only when it is equal. Built from the parsed values, so `"50"` and
    /// `"50.00"`, or an EVM address in lower case and in EIP-55, are the same request.
    pub fn fingerprint(&self) -> String {
        let canonical = serde_json::json!([
            self.merchant_withdrawal_id,
            self.network.id,
            self.address,
            self.amount.micros(),
        ]);
        hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
    }

    /// The fee charged on top of the amount: the network's withdrawal fee.
    pub fn fee(&self) -> i64 {
        self.network.withdrawal_fee
    }
}

/// `txid` of `POST …/complete` (see [`Txid`]).
pub fn parse_txid(value: Option<Value>) -> ApiResult<Txid> {
    Txid::parse(&required_string("txid", value)?)
}

// ---------------------------------------------------------------------------------------
// Views

/// A withdrawal (merchant API and `withdrawal.*` webhooks).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = Withdrawal, example = json!({"id": "wd_01JD3Q4ZK8M6W2X9V7T5R3P1NB", "merchant_withdrawal_id": "w-1", "status": "review", "amount": "50.00", "fee": "1.00", "currency": "USDT", "network": "tron", "address": "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "txid": null, "reason": null, "reviewed_at": null, "completed_at": null, "created_at": "2026-11-21T10:15:00Z", "updated_at": "2026-11-21T10:15:00Z", "livemode": true}))]
pub struct WithdrawalView {
    #[schema(example = "wd_01JD3Q4ZK8M6W2X9V7T5R3P1NB")]
    pub id: crate::ids::WithdrawalId,
    pub merchant_withdrawal_id: String,
    #[schema(value_type = WithdrawalStatus)]
    pub status: String,
    #[schema(format = "decimal")]
    pub amount: String,
    /// The network fee, charged on top of `amount`.
    #[schema(format = "decimal")]
    pub fee: String,
    #[schema(value_type = String, example = "USDT")]
    pub currency: &'static str,
    #[schema(value_type = NetworkId)]
    pub network: String,
    pub address: String,
    /// The on-chain transaction id once completed.
    #[schema(required = true)]
    pub txid: Option<String>,
    /// Why it was rejected or failed.
    #[schema(required = true)]
    pub reason: Option<String>,
    #[schema(required = true, format = DateTime)]
    pub reviewed_at: Option<String>,
    #[schema(required = true, format = DateTime)]
    pub completed_at: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    pub livemode: bool,
}

crate::page_schema!(
    /// A page of withdrawals.
    WithdrawalList,
    WithdrawalView
);

impl From<&withdrawal::Model> for WithdrawalView {
    fn from(w: &withdrawal::Model) -> Self {
        Self {
            id: w.id.clone(),
            merchant_withdrawal_id: w.merchant_withdrawal_id.clone(),
            status: w.status.as_str().to_owned(),
            amount: format_usdt(w.amount),
            fee: format_usdt(w.fee),
            currency: "USDT",
            network: w.network.clone(),
            address: w.address.clone(),
            txid: w.txid.clone(),
            reason: w.reason.clone(),
            reviewed_at: w.reviewed_at.map(rfc3339),
            completed_at: w.completed_at.map(rfc3339),
            created_at: rfc3339(w.created_at),
            updated_at: rfc3339(w.updated_at),
            livemode: w.livemode,
        }
    }
}

/// The admin's view of a withdrawal: the merchant's plus its owner and reviewer.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = AdminWithdrawal)]
pub struct AdminWithdrawalView {
    #[serde(flatten)]
    pub withdrawal: WithdrawalView,
    #[schema(example = "mch_01JD3Q4ZK8M6W2X9V7T5R3P1NB")]
    pub merchant_id: crate::ids::MerchantId,
    /// The admin user who approved or rejected it; `"system"` for automatic approval,
    /// `null` while under review.
    #[schema(required = true)]
    pub reviewed_by: Option<String>,
}

crate::page_schema!(
    /// A page of withdrawals (admin view).
    AdminWithdrawalList,
    AdminWithdrawalView
);

impl From<&withdrawal::Model> for AdminWithdrawalView {
    fn from(w: &withdrawal::Model) -> Self {
        Self {
            withdrawal: WithdrawalView::from(w),
            merchant_id: w.merchant_id.clone(),
            reviewed_by: w.reviewed_by.clone(),
        }
    }
}

/// One posted movement of the merchant's balance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = LedgerEntry, example = json!({"id": "ord_01JD3Q4ZK8M6W2X9V7T5R3P1NB:credit", "kind": "order_credit", "amount": "99.00", "balance_after": "1520.50", "reference": "ord_01JD3Q4ZK8M6W2X9V7T5R3P1NB", "created_at": "2026-11-21T10:20:00Z"}))]
pub struct StatementEntry {
    /// The ledger transfer id (also the `starting_after` cursor).
    pub id: String,
    /// What moved the money: `order_credit`, `withdrawal`, …
    pub kind: String,
    /// Signed: positive credits, negative debits.
    #[schema(format = "decimal")]
    pub amount: String,
    /// The posted balance right after this entry.
    #[schema(format = "decimal")]
    pub balance_after: String,
    /// The business object (an order id, a withdrawal id, …).
    pub reference: String,
    #[schema(format = DateTime)]
    pub created_at: String,
}

crate::page_schema!(
    /// A page of the statement.
    LedgerEntryList,
    StatementEntry
);

// The bodies of `POST /api/v1/admin/withdrawals/{id}/reject | fail` and `…/complete`
// as the document shows them; `http::admin_action` reads these fields from the object.

#[derive(utoipa::ToSchema)]
#[schema(example = json!({"reason": "The address belongs to a sanctioned service."}))]
#[allow(dead_code)]
pub struct ReasonRequest {
    /// 1–2000 characters, not blank.
    #[schema(min_length = 1, max_length = 2000, pattern = "\\S")]
    pub reason: String,
}

#[derive(utoipa::ToSchema)]
#[schema(example = json!({"txid": "3f1c2a…"}))]
#[allow(dead_code)]
pub struct CompleteWithdrawalRequest {
    /// The on-chain transaction id: 1–128 visible characters, no spaces (surrounding
    /// spaces are trimmed).
    #[schema(
        min_length = 1,
        pattern = "^\\s*[^\\s\\x00-\\x1f\\x7f-\\x9f]{1,128}\\s*$"
    )]
    pub txid: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const TRON: &str = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t";
    const ETH: &str = "0xdAC17F958D2ee523a2206206994597C13D831ec7";

    fn request(v: Value) -> CreateWithdrawalRequest {
        serde_json::from_value(v).unwrap()
    }

    fn err(v: Value) -> ApiError {
        request(v).parse().unwrap_err()
    }

    fn base(k: &str, v: Value) -> Value {
        let mut body = json!({"merchant_withdrawal_id": "w-1", "network": "tron", "address": TRON, "amount": "50.00"});
        body[k] = v;
        body
    }

    #[test]
    fn a_valid_request_parses() {
        let p = request(base("amount", json!("50"))).parse().unwrap();
        assert_eq!(p.amount.micros(), 50_000_000);
        assert_eq!(p.fee(), 1_000_000);
        assert_eq!(p.address, TRON);
        let evm = request(
            json!({"merchant_withdrawal_id": "w-2", "network": "ethereum",
                                 "address": ETH.to_lowercase(), "amount": "20"}),
        )
        .parse()
        .unwrap();
        assert_eq!(evm.address, ETH, "normalized to EIP-55");
    }

    #[test]
    fn every_field_is_checked_with_its_code_and_param() {
        let cases = [
            (
                base("merchant_withdrawal_id", Value::Null),
                ErrorCode::InvalidRequest,
                "merchant_withdrawal_id",
            ),
            (
                base("merchant_withdrawal_id", json!("has space")),
                ErrorCode::InvalidRequest,
                "merchant_withdrawal_id",
            ),
            (
                base("merchant_withdrawal_id", json!("x".repeat(65))),
                ErrorCode::InvalidRequest,
                "merchant_withdrawal_id",
            ),
            (
                base("network", json!("btc")),
                ErrorCode::UnsupportedNetwork,
                "network",
            ),
            (
                base("network", Value::Null),
                ErrorCode::UnsupportedNetwork,
                "network",
            ),
            (
                base("address", json!("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6u")),
                ErrorCode::InvalidAddress,
                "address",
            ),
            (
                base("address", json!(ETH)),
                ErrorCode::InvalidAddress,
                "address",
            ),
            (
                base("address", Value::Null),
                ErrorCode::InvalidRequest,
                "address",
            ),
            (
                base("amount", json!(50)),
                ErrorCode::InvalidAmount,
                "amount",
            ),
            (
                base("amount", json!("1e3")),
                ErrorCode::InvalidAmount,
                "amount",
            ),
            (
                base("amount", json!("-50")),
                ErrorCode::InvalidAmount,
                "amount",
            ),
            (
                base("amount", json!("0")),
                ErrorCode::InvalidAmount,
                "amount",
            ),
            (
                base("amount", json!("50.0000001")),
                ErrorCode::InvalidAmount,
                "amount",
            ),
            (
                base("amount", json!("9.999999")),
                ErrorCode::InvalidAmount,
                "amount",
            ),
        ];
        for (body, code, param) in cases {
            let e = err(body.clone());
            assert_eq!((e.code, e.param.as_deref()), (code, Some(param)), "{body}");
        }
        assert!(
            request(base("amount", json!("10"))).parse().is_ok(),
            "the minimum itself is allowed"
        );
    }

    #[test]
    fn fingerprints_ignore_spelling_but_not_values() {
        let a = request(base("amount", json!("50.00"))).parse().unwrap();
        let b = request(base("amount", json!("50"))).parse().unwrap();
        let c = request(base("amount", json!("51"))).parse().unwrap();
        assert_eq!(a.fingerprint(), b.fingerprint());
        assert_ne!(a.fingerprint(), c.fingerprint());
    }

    #[test]
    fn the_transition_table() {
        use WithdrawalStatus::*;
        assert!(Review.can_become(Approved) && Review.can_become(Rejected));
        assert!(Approved.can_become(Completed) && Approved.can_become(Failed));
        assert!(!Review.can_become(Completed) && !Review.can_become(Failed));
        assert!(!Approved.can_become(Rejected) && !Approved.can_become(Approved));
        for from in [Completed, Rejected, Failed] {
            for to in WithdrawalStatus::ALL {
                assert!(!from.can_become(to), "{from} -> {to}");
            }
        }
        for s in WithdrawalStatus::ALL {
            assert_eq!(WithdrawalStatus::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn txids_are_checked() {
        assert_eq!(
            parse_txid(Some(json!(" 0xabc "))).unwrap().as_str(),
            "0xabc"
        );
        for bad in [
            json!(""),
            json!("a b"),
            json!(1),
            Value::Null,
            json!("x".repeat(129)),
        ] {
            assert_eq!(
                parse_txid(Some(bad)).unwrap_err().param.as_deref(),
                Some("txid")
            );
        }
    }
}
