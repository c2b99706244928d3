//! The `disputes` table: an order's dispute, opened and resolved by the order
//! transitions (`transitions/dispute.rs`, `transitions/resolve.rs`) in the transaction
//! of the order's change. The `disputes` feature reads it and keeps its message thread.

use sea_orm::entity::prelude::*;
use serde::Serialize;

use crate::ids::{AcceptorId, DisputeId, MerchantId, OrderId};

/// One dispute of an order.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "disputes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: DisputeId,
    pub order_id: OrderId,
    pub merchant_id: MerchantId,
    pub acceptor_id: Option<AcceptorId>,
    pub livemode: bool,
    pub status: DisputeStatus,
    /// `acceptor` | `merchant` | `customer` | `system`.
    pub opened_by: String,
    pub reason: String,
    pub contact: Option<String>,
    /// `release` | `cancel` once resolved.
    pub outcome: Option<String>,
    pub released_amount: Option<i64>,
    pub resolution_note: Option<String>,
    pub resolved_by: Option<String>,
    pub created_at: i64,
    pub resolved_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// A dispute is `open` until an admin resolves it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, sea_orm::DeriveValueType, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
// Stored as its lower-case name; a stored value that is none of these fails the read.
#[sea_orm(value_type = "String")]
pub enum DisputeStatus {
    Open,
    Resolved,
}

crate::db::stored_as_text!(DisputeStatus {
    Open => "open",
    Resolved => "resolved",
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in DisputeStatus::ALL {
            assert_eq!(s.as_str().parse::<DisputeStatus>().ok(), Some(s));
        }
        assert!("closed".parse::<DisputeStatus>().is_err());
    }
}
