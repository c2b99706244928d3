//! The stored states of merchants, apart from `model.rs` (whose views read the records)
//! so that the records can name them without the two files importing each other.

/// `merchants.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, utoipa::ToSchema)]
#[schema(rename_all = "snake_case", description = "The state of a merchant.")]
// Stored as its lower-case name; a stored value that is none of these fails the read.
#[derive(sea_orm::DeriveValueType)]
#[sea_orm(value_type = "String")]
pub enum MerchantStatus {
    Active,
    /// Every API key of the merchant is refused (`401 invalid_api_key`).
    Suspended,
}

impl MerchantStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Suspended => "suspended",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "active" => Some(Self::Active),
            "suspended" => Some(Self::Suspended),
            _ => None,
        }
    }
}

impl std::str::FromStr for MerchantStatus {
    type Err = sea_orm::sea_query::ValueTypeErr;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text).ok_or(sea_orm::sea_query::ValueTypeErr)
    }
}

impl std::fmt::Display for MerchantStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `api_keys.kind`: how requests made with the key are signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, utoipa::ToSchema)]
#[schema(
    rename_all = "snake_case",
    description = "How requests of the key are signed."
)]
// Stored as its name; a stored value that is none of these fails the read.
#[derive(sea_orm::DeriveValueType)]
#[sea_orm(value_type = "String")]
pub enum KeyKind {
    /// HMAC-SHA256 with a shared secret (sealed at rest).
    Hmac,
    /// ECDSA P-256 / SHA-256 with the merchant's private key; we keep the public key.
    EcdsaP256,
}

impl KeyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hmac => "hmac",
            Self::EcdsaP256 => "ecdsa_p256",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "hmac" => Some(Self::Hmac),
            "ecdsa_p256" => Some(Self::EcdsaP256),
            _ => None,
        }
    }
}

impl std::str::FromStr for KeyKind {
    type Err = sea_orm::sea_query::ValueTypeErr;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text).ok_or(sea_orm::sea_query::ValueTypeErr)
    }
}

impl std::fmt::Display for KeyKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
