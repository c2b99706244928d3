//! The acceptor side of an order, chosen once per order: a real acceptor found by the
//! matching engine (live orders), or the sandbox's simulated acceptor (test orders, see
//! `sandbox.rs`). Creation, assignment, settlement, deadlines and the engine's commands
//! ask the side what to do instead of branching on `livemode` themselves. It decides;
//! it does not write.

use matching_engine::Command;
use sea_orm::ConnectionTrait;
use serde_json::Value;

use super::sandbox;
use super::store::order;
use super::writer::handle::EngineAssignment;
use crate::acceptor_directory;
use crate::error::{ApiError, ApiResult};
use crate::ids::AcceptorId;
use crate::ledger::{AccountKey, TransferRequest};
use crate::money::{FiatCurrency, Rate};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AcceptorSide {
    /// Registered acceptors, matched by the engine; commission and mail apply.
    Real,
    /// The built-in simulated acceptor of test mode: takes every order at once at a
    /// fixed rate, is funded per order, and confirms by itself.
    Sandbox,
}

impl AcceptorSide {
    /// Test orders never reach real acceptors, and live orders never the sandbox.
    pub fn of_mode(livemode: bool) -> Self {
        if livemode { Self::Real } else { Self::Sandbox }
    }

    pub fn of(o: &order::Model) -> Self {
        Self::of_mode(o.livemode)
    }

    /// The sandbox's assignment of a new order (it takes every one); `None` for a real
    /// side, whose assignment the engine decides.
    pub fn fixed_assignment(self, fiat: FiatCurrency, amount: i64) -> Option<EngineAssignment> {
        (self == Self::Sandbox).then(|| {
            let rate = sandbox::rate_for(fiat.code);
            EngineAssignment {
                acceptor: sandbox::acceptor_id(),
                fiat_amount: rate.fiat_for(amount, fiat),
                rate,
            }
        })
    }

    /// The engine holds live orders only: the commands of a sandbox order are dropped.
    pub fn engine_commands(self, commands: Vec<Command>) -> Vec<Command> {
        match self {
            Self::Real => commands,
            Self::Sandbox => Vec::new(),
        }
    }

    /// Whether the acceptor confirms by itself at the order's release deadline.
    pub fn confirms_by_itself(self) -> bool {
        self == Self::Sandbox
    }

    /// Whether the acceptor's payment methods are read (the sandbox has none).
    pub fn has_payment_methods(self) -> bool {
        self == Self::Real
    }

    /// Whether the acceptor may be mailed about new orders.
    pub fn mails_new_orders(self) -> bool {
        self == Self::Real
    }

    /// The payment method and details shown to the customer when the acceptor has no
    /// method of its own for the order.
    pub fn default_payment(self, o: &order::Model) -> (Option<String>, Option<String>) {
        match self {
            Self::Sandbox => (
                Some("bank_transfer".to_owned()),
                Some(sandbox::payment_details(&o.reference).to_string()),
            ),
            Self::Real => (o.payment_method.clone(), None),
        }
    }

    /// Transfers that must precede the reservation, with the accounts they touch: the
    /// sandbox is funded from the test custody account per order.
    pub fn funding(self, o: &order::Model) -> Option<(AccountKey, TransferRequest)> {
        (self == Self::Sandbox).then(|| {
            (
                AccountKey::custody(false),
                sandbox::funding(&o.id, o.amount),
            )
        })
    }

    /// The acceptor's commission rate on a release. A stored rate that does not parse is
    /// corruption: an error (logged), never a silent zero.
    pub async fn commission_rate(
        self,
        conn: &impl ConnectionTrait,
        acceptor_id: &AcceptorId,
    ) -> ApiResult<Rate> {
        if self == Self::Sandbox {
            return Ok(Rate::from_decimal(rust_decimal::Decimal::ZERO));
        }
        let acceptor = acceptor_directory::find_acceptor(conn, acceptor_id)
            .await?
            .ok_or_else(|| ApiError::internal("order's acceptor is missing"))?;
        Rate::parse_fraction(&acceptor.commission_rate).map_err(|err| {
            tracing::error!(acceptor = %acceptor_id, stored = %acceptor.commission_rate, error = %err, "unreadable stored commission rate");
            ApiError::internal(format!("acceptor {acceptor_id} has an unreadable commission rate"))
        })
    }
}

/// The payment details of an acceptor's method as the customer sees them: the stored
/// details with the method and the order's reference. Unreadable stored details are
/// corruption: an error (logged).
pub fn method_details(
    m: &crate::acceptor_directory::payment_method::Model,
    reference: &str,
) -> ApiResult<String> {
    let mut details: Value = serde_json::from_str(&m.details).map_err(|err| {
        tracing::error!(method = %m.id, error = %err, "unreadable stored payment details");
        ApiError::internal(format!("payment method {} has unreadable details", m.id))
    })?;
    if let Value::Object(map) = &mut details {
        map.insert("method".to_owned(), Value::String(m.method.clone()));
        map.insert("reference".to_owned(), Value::String(reference.to_owned()));
    }
    Ok(details.to_string())
}
