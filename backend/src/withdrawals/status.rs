//! `withdrawals.status`, apart from `model.rs` (whose views read the records) so that
//! the record can name it without the two files importing each other.

use serde::Serialize;

/// `review → approved → completed`, or `rejected` (from review), or `failed` (from
/// approved).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
// Stored as its lower-case name; a stored value that is none of these fails the read.
#[derive(sea_orm::DeriveValueType)]
#[sea_orm(value_type = "String")]
pub enum WithdrawalStatus {
    Review,
    Approved,
    Completed,
    Rejected,
    Failed,
}

crate::db::stored_as_text!(WithdrawalStatus {
    Review => "review",
    Approved => "approved",
    Completed => "completed",
    Rejected => "rejected",
    Failed => "failed",
});

impl WithdrawalStatus {
    /// True when the hold is still on the merchant's balance.
    pub fn holds_funds(self) -> bool {
        matches!(self, Self::Review | Self::Approved)
    }

    /// The transition table.
    pub fn can_become(self, next: WithdrawalStatus) -> bool {
        use WithdrawalStatus::*;
        matches!(
            (self, next),
            (Review, Approved) | (Review, Rejected) | (Approved, Completed) | (Approved, Failed)
        )
    }
}
