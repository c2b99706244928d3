//! The sandbox acceptor: test-mode orders (`mk_test_` keys) never reach real acceptors.
//! A built-in simulated acceptor takes each one at once, at a fixed rate, and confirms
//! it `sandbox_confirm_after` seconds later (`OTCPAY_SANDBOX_CONFIRM_AFTER`, default 3),
//! so a merchant can integrate end to end — callbacks included — before going live.
//!
//! Its money lives in `livemode = false` ledger accounts only: each order is funded by
//! a transfer from the test custody account right before the reservation, so the
//! sandbox never needs a deposit and never touches live balances.

use serde_json::{Value, json};

use crate::ids::AcceptorId;
use crate::ledger::{AccountKey, TransferRequest};
use crate::money::Rate;

/// The simulated acceptor's id (no row in `acceptors`; never registered in the engine).
pub const SANDBOX_ACCEPTOR: &str = "acc_sandbox";

/// [`SANDBOX_ACCEPTOR`] as an id.
pub fn acceptor_id() -> AcceptorId {
    AcceptorId::parse(SANDBOX_ACCEPTOR)
        .unwrap_or_else(|| unreachable!("AcceptorId accepts the sandbox's id"))
}

pub fn is_sandbox_acceptor(acceptor_id: &str) -> bool {
    acceptor_id == SANDBOX_ACCEPTOR
}

/// The fixed quote of the sandbox in each fiat (fiat per USDT).
pub fn rate_for(fiat: &str) -> Rate {
    let text = match fiat {
        "CNY" => "7.20",
        "USD" => "1.00",
        "EUR" => "0.92",
        "GBP" => "0.79",
        "HKD" => "7.80",
        "INR" => "83.50",
        "PHP" => "56.00",
        "THB" => "36.00",
        "BRL" => "5.00",
        "JPY" => "150",
        "KRW" => "1350",
        "VND" => "25000",
        "IDR" => "15500",
        _ => "1.00",
    };
    Rate::parse(text).unwrap_or(Rate::from_decimal(rust_decimal::Decimal::ONE))
}

/// What the cashier page shows for a sandbox order.
pub fn payment_details(reference: &str) -> Value {
    json!({
        "method": "bank_transfer",
        "bank_name": "OTCPay Sandbox Bank",
        "account_name": "Sandbox Acceptor",
        "account_number": "0000 0000 0000",
        "reference": reference,
    })
}

/// Funds the sandbox acceptor's test account with exactly the order amount.
pub fn funding(order_id: &str, amount: i64) -> TransferRequest {
    TransferRequest::posted(
        format!("{order_id}:sandbox_funding"),
        AccountKey::custody(false),
        AccountKey::acceptor(SANDBOX_ACCEPTOR, false),
        amount,
    )
    .with_kind("sandbox_funding")
    .with_reference(order_id.to_owned())
}
