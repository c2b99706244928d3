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

impl WithdrawalStatus {
    pub const ALL: [WithdrawalStatus; 5] = [
        Self::Review,
        Self::Approved,
        Self::Completed,
        Self::Rejected,
        Self::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Review => "review",
            Self::Approved => "approved",
            Self::Completed => "completed",
            Self::Rejected => "rejected",
            Self::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

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

impl std::str::FromStr for WithdrawalStatus {
    type Err = sea_orm::sea_query::ValueTypeErr;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text).ok_or(sea_orm::sea_query::ValueTypeErr)
    }
}

impl std::fmt::Display for WithdrawalStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
