//! The stored states of acceptors, apart from `model.rs` (whose views read the records)
//! so that the records can name them without the two files importing each other.

use serde::Serialize;

/// `acceptors.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(description = "The state of an acceptor.")]
// Stored as its lower-case name; a stored value that is none of these fails the read.
#[derive(sea_orm::DeriveValueType)]
#[sea_orm(value_type = "String")]
pub enum AcceptorStatus {
    /// Registered, waiting for an admin's approval.
    Pending,
    /// May trade.
    Active,
    /// Stopped by an admin: keeps its balance, gets no new orders, cannot trade.
    Frozen,
}

crate::db::stored_as_text!(AcceptorStatus {
    Pending => "pending",
    Active => "active",
    Frozen => "frozen",
});

impl AcceptorStatus {
    /// The matching engine's status: only an active acceptor trades; a pending one is
    /// held like a frozen one.
    pub fn in_engine(self) -> matching_engine::AcceptorStatus {
        use matching_engine::AcceptorStatus as Engine;
        match self {
            Self::Active => Engine::Active,
            Self::Pending | Self::Frozen => Engine::Frozen,
        }
    }
}
