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

crate::db::stored_as_text!(MerchantStatus {
    Active => "active",
    Suspended => "suspended",
});

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

crate::db::stored_as_text!(KeyKind {
    Hmac => "hmac",
    EcdsaP256 => "ecdsa_p256",
});
