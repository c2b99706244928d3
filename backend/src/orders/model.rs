//! The order state machine (DESIGN.md "Order lifecycle").
//!
//! ```text
//! matching ──assign──▶ assigned ──customer "paid"──▶ paid ──acceptor confirm──▶ completed
//!    │ no acceptor            │ reject / acceptor offline ─▶ matching (acceptor excluded)
//!    ▼ before deadline        │ payment window over ─▶ expired
//!  expired                    └ merchant cancel ─▶ cancelled  (also from matching)
//!  paid ──acceptor "not received" / release window over──▶ disputed
//!  expired ──customer or merchant appeal within the appeal window──▶ disputed
//!  disputed ──admin──▶ completed (release, full or partial amount) | cancelled
//! ```
//! [`OrderStatus::can_become`] is the whole transition table and [`Actor::may_cause`]
//! says who may take each edge; the transition runner (`transition.rs`) checks both under
//! a row lock before writing, so a transition that does not apply is a
//! `409 invalid_state` and concurrent transitions resolve to exactly one outcome.

use serde::Serialize;

/// The state of an order: `matching → assigned → paid → completed`, or `expired`,
/// `cancelled`, `disputed` (an admin resolves a dispute to `completed` or `cancelled`).
// Stored as its lower-case name (`orders.status`); a stored value that is none of these
// fails the read (a database type error), never becomes a default.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, sea_orm::DeriveValueType, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
#[sea_orm(value_type = "String")]
pub enum OrderStatus {
    Matching,
    Assigned,
    Paid,
    Completed,
    Expired,
    Cancelled,
    Disputed,
}

crate::db::stored_as_text!(OrderStatus {
    Matching => "matching",
    Assigned => "assigned",
    Paid => "paid",
    Completed => "completed",
    Expired => "expired",
    Cancelled => "cancelled",
    Disputed => "disputed",
});

/// How the customer pays: fiat to an acceptor (`otc`, the default), or USDT to the
/// order's own address on a chain (`onchain`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, sea_orm::DeriveValueType, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
#[sea_orm(value_type = "String")]
pub enum Rail {
    Otc,
    Onchain,
}

crate::db::stored_as_text!(Rail {
    Otc => "otc",
    Onchain => "onchain",
});

impl OrderStatus {
    /// Orders the matching engine holds (queued, or reserving liquidity). A disputed
    /// order holds its reservation only when it came from `paid`.
    pub const HOLDING_ENGINE: [OrderStatus; 4] =
        [Self::Matching, Self::Assigned, Self::Paid, Self::Disputed];

    pub fn is_final(self) -> bool {
        matches!(self, Self::Completed | Self::Cancelled)
    }

    /// The transition table.
    pub fn can_become(self, next: OrderStatus) -> bool {
        use OrderStatus::*;
        matches!(
            (self, next),
            (Matching, Assigned)
                | (Matching, Expired)
                | (Matching, Cancelled)
                | (Assigned, Matching)
                | (Assigned, Paid)
                | (Assigned, Completed)
                | (Assigned, Expired)
                | (Assigned, Cancelled)
                | (Paid, Completed)
                | (Paid, Disputed)
                | (Expired, Disputed)
                | (Disputed, Completed)
                | (Disputed, Cancelled)
        )
    }
}

/// Who caused a transition (recorded in the order's history).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    Merchant,
    Acceptor,
    Customer,
    Admin,
    System,
    /// The chain watcher: an on-chain order's payment seen, then confirmed.
    Chain,
}

impl Actor {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Merchant => "merchant",
            Self::Acceptor => "acceptor",
            Self::Customer => "customer",
            Self::Admin => "admin",
            Self::System => "system",
            Self::Chain => "chain",
        }
    }
}

/// Why an actor may not take an edge of the table it otherwise could.
const DISPUTED: &str = "The order is disputed; an admin resolves it.";
const APPEAL_OVER: &str = "The appeal window of this expired order is over.";

impl Actor {
    /// The actor rule: which actor may cause which transition of the table. Checked with
    /// [`OrderStatus::can_become`] by every transition; `Err` is the refusal's message.
    pub fn may_cause(self, from: OrderStatus, to: OrderStatus) -> Result<(), &'static str> {
        use OrderStatus::*;
        let allowed = match self {
            Self::Customer => matches!((from, to), (Assigned, Paid) | (Paid | Expired, Disputed)),
            Self::Merchant => matches!(
                (from, to),
                (Matching | Assigned, Cancelled) | (Paid | Expired, Disputed)
            ),
            Self::Acceptor => matches!(
                (from, to),
                (Assigned | Paid, Completed) | (Assigned, Matching) | (Paid, Disputed)
            ),
            Self::Admin => matches!((from, to), (Disputed, Completed | Cancelled)),
            Self::System => matches!(
                (from, to),
                (Matching, Assigned) | (Matching | Assigned, Expired) | (Paid, Disputed)
            ),
            Self::Chain => matches!((from, to), (Assigned, Paid) | (Assigned | Paid, Completed)),
        };
        match (allowed, from) {
            (true, _) => Ok(()),
            (false, Disputed) => Err(DISPUTED),
            // An acceptor never appeals an expiry: for it the window is always over.
            (false, Expired) => Err(APPEAL_OVER),
            (false, _) => Err("This party cannot make that change to the order."),
        }
    }
}

/// Ledger transfer ids of an order. They are deterministic, so a transition applied
/// twice collides with itself in the ledger instead of moving money twice.
pub mod transfer_ids {
    pub fn reserve(order: &str, seq: i32) -> String {
        format!("{order}:reserve:{seq}")
    }
    pub fn void(order: &str, seq: i32) -> String {
        format!("{order}:void:{seq}")
    }
    pub fn post(order: &str, seq: i32) -> String {
        format!("{order}:post:{seq}")
    }
    /// A release after the reservation was already voided (appeal of an expired order).
    pub fn capture(order: &str) -> String {
        format!("{order}:capture")
    }
    pub fn credit(order: &str) -> String {
        format!("{order}:credit")
    }
    pub fn fee(order: &str) -> String {
        format!("{order}:fee")
    }
    pub fn commission(order: &str) -> String {
        format!("{order}:commission")
    }
    /// What an on-chain order received beyond its amount, credited to the merchant.
    pub fn excess(order: &str) -> String {
        format!("{order}:excess")
    }
}

/// What the merchant is credited for an order: the amount released (the whole amount
/// unless an admin released part of it) less the fee. The ledger check
/// (`settlement::check_credited_once`) states the same rule in SQL.
pub fn net_amount(amount: i64, released: Option<i64>, fee: i64) -> i64 {
    released.unwrap_or(amount) - fee
}

/// How a released amount is split (micro-USDT): the merchant gets `net`, the acceptor
/// `commission`, the platform `revenue`; they add up to `released`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settlement {
    pub released: i64,
    pub fee: i64,
    pub net: i64,
    pub commission: i64,
    pub revenue: i64,
}

impl Settlement {
    /// `fee` is the order's fee for its full `amount`; a partial release pays the fee
    /// pro rata (rounded half up). The acceptor's commission comes out of the fee and
    /// never exceeds it.
    pub fn compute(
        amount: i64,
        fee: i64,
        released: i64,
        commission_for: impl Fn(i64) -> i64,
    ) -> Self {
        debug_assert!(released > 0 && released <= amount && fee >= 0 && fee <= amount);
        let fee = if released == amount {
            fee
        } else {
            let num = i128::from(fee) * i128::from(released) * 2 + i128::from(amount);
            i64::try_from(num / (2 * i128::from(amount))).unwrap_or(fee)
        };
        let commission = commission_for(released).clamp(0, fee);
        let settlement = Self {
            released,
            fee,
            net: released - fee,
            commission,
            revenue: fee - commission,
        };
        debug_assert_eq!(
            settlement.net + settlement.commission + settlement.revenue,
            released
        );
        settlement
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn final_states_have_no_way_out() {
        for from in [OrderStatus::Completed, OrderStatus::Cancelled] {
            for to in OrderStatus::ALL {
                assert!(!from.can_become(to), "{from} -> {to}");
            }
        }
    }

    #[test]
    fn the_lifecycle_edges() {
        use OrderStatus::*;
        assert!(Matching.can_become(Assigned));
        assert!(Assigned.can_become(Matching));
        assert!(Paid.can_become(Disputed));
        assert!(
            !Paid.can_become(Cancelled),
            "a paid order is not cancelled by the merchant"
        );
        assert!(
            !Paid.can_become(Expired),
            "a paid order goes to dispute, never expires"
        );
        assert!(Expired.can_become(Disputed));
        assert!(!Expired.can_become(Completed));
        assert!(Disputed.can_become(Completed) && Disputed.can_become(Cancelled));
    }

    #[test]
    fn every_edge_an_actor_may_take_is_in_the_table() {
        let actors = [
            Actor::Merchant,
            Actor::Acceptor,
            Actor::Customer,
            Actor::Admin,
            Actor::System,
        ];
        for from in OrderStatus::ALL {
            for to in OrderStatus::ALL {
                let someone = actors.iter().any(|a| a.may_cause(from, to).is_ok());
                assert_eq!(someone, from.can_become(to), "{from} -> {to}");
            }
        }
        use OrderStatus::*;
        assert_eq!(
            Actor::Acceptor.may_cause(Disputed, Completed),
            Err(DISPUTED)
        );
        assert_eq!(
            Actor::Merchant.may_cause(Disputed, Cancelled),
            Err(DISPUTED)
        );
        assert_eq!(
            Actor::Acceptor.may_cause(Expired, Disputed),
            Err(APPEAL_OVER)
        );
    }

    #[test]
    fn statuses_round_trip() {
        for s in OrderStatus::ALL {
            assert_eq!(OrderStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(OrderStatus::parse("nope"), None);
    }

    #[test]
    fn full_release_splits_the_fee() {
        let s = Settlement::compute(100_000_000, 1_000_000, 100_000_000, |r| r * 4 / 1000);
        assert_eq!(s.net, 99_000_000);
        assert_eq!(s.commission, 400_000);
        assert_eq!(s.revenue, 600_000);
    }

    proptest! {
        #[test]
        fn settlements_always_add_up(
            amount in 1i64..=1_000_000_000_000,
            fee_bps in 0i64..=500,
            released_part in 1i64..=1000,
            commission_bps in 0i64..=1000,
        ) {
            let fee = amount * fee_bps / 10_000;
            let released = (amount * released_part / 1000).max(1);
            let s = Settlement::compute(amount, fee, released, |r| r * commission_bps / 10_000);
            prop_assert_eq!(s.net + s.commission + s.revenue, released);
            prop_assert!(s.fee <= fee && s.commission <= s.fee && s.net >= 0);
        }
    }
}
