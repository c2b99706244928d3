//! `disputes.status`, apart from `model.rs` (whose views read the records) so that the
//! record can name it without the two files importing each other.

use serde::Serialize;

/// A dispute is `open` until an admin resolves it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, sea_orm::DeriveValueType)]
#[serde(rename_all = "lowercase")]
// Stored as its lower-case name; a stored value that is none of these fails the read.
#[sea_orm(value_type = "String")]
pub enum DisputeStatus {
    Open,
    Resolved,
}

impl DisputeStatus {
    pub const ALL: [Self; 2] = [Self::Open, Self::Resolved];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Resolved => "resolved",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

impl std::str::FromStr for DisputeStatus {
    type Err = sea_orm::sea_query::ValueTypeErr;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text).ok_or(sea_orm::sea_query::ValueTypeErr)
    }
}

impl std::fmt::Display for DisputeStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

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
