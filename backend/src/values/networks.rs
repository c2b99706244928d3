//! The blockchain networks USDT moves on: the one table of network ids, display names,
//! chain ids, address formats, withdrawal fees and minimums.
//!
//! `GET /api/v1/public/currencies` lists it; the withdrawals feature takes its fee and
//! minimum from it ([`Network::withdrawal_fee`], [`Network::min_withdrawal`]) and checks
//! destination addresses with [`crate::addresses::validate`], which dispatches on
//! [`Network::address_format`]. Amounts are micro-USDT (`i64`, scale 6) like every
//! amount inside the server.

/// How a network writes its addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddressFormat {
    /// TRON: base58check of 25 bytes (version byte `0x41`, 20-byte account, 4-byte
    /// double-SHA-256 checksum), e.g. `TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t`.
    Tron,
    /// EVM chains (Ethereum, BNB Smart Chain): `0x` + 40 hex digits, EIP-55 mixed-case
    /// checksum, e.g. `0xdAC17F958D2ee523a2206206994597C13D831ec7`.
    Evm,
}

/// A network USDT can be withdrawn on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Network {
    /// Stable id of the API (`tron`, `ethereum`, `bsc`).
    pub id: &'static str,
    /// Display name, e.g. `TRON (TRC-20)`.
    pub name: &'static str,
    /// The EVM chain id (EIP-155); `None` for non-EVM networks.
    pub chain_id: Option<u64>,
    pub address_format: AddressFormat,
    /// The fee charged on a withdrawal to this network, in micro-USDT. It is paid on top
    /// of the amount withdrawn (amount + fee must be available).
    pub withdrawal_fee: i64,
    /// The smallest amount accepted for a withdrawal to this network, in micro-USDT.
    pub min_withdrawal: i64,
}

const USDT: i64 = 1_000_000;

impl Network {
    pub const TRON: Self = Self {
        id: "tron",
        name: "TRON (TRC-20)",
        chain_id: None,
        address_format: AddressFormat::Tron,
        withdrawal_fee: USDT,
        min_withdrawal: 10 * USDT,
    };

    pub const ETHEREUM: Self = Self {
        id: "ethereum",
        name: "Ethereum (ERC-20)",
        chain_id: Some(1),
        address_format: AddressFormat::Evm,
        withdrawal_fee: 5 * USDT,
        min_withdrawal: 20 * USDT,
    };

    pub const BSC: Self = Self {
        id: "bsc",
        name: "BNB Smart Chain (BEP-20)",
        chain_id: Some(56),
        address_format: AddressFormat::Evm,
        withdrawal_fee: USDT / 2,
        min_withdrawal: 10 * USDT,
    };

    /// Looks a network up by its API id (case-sensitive, lower case as listed).
    pub fn find(id: &str) -> Option<Self> {
        NETWORKS.iter().copied().find(|network| network.id == id)
    }
}

/// Every supported network, in the order the API lists them.
pub const NETWORKS: &[Network] = &[Network::TRON, Network::ETHEREUM, Network::BSC];

/// The id of a network of [`NETWORKS`] (`tron`, `ethereum`, `bsc`): its schema is the
/// table's ids.
pub struct NetworkId;

impl utoipa::PartialSchema for NetworkId {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{Object, Schema, Type};
        let mut schema = Object::with_type(Type::String);
        schema.description = Some("A blockchain network of USDT.".to_owned());
        schema.enum_values = Some(
            NETWORKS
                .iter()
                .map(|n| serde_json::Value::from(n.id))
                .collect(),
        );
        utoipa::openapi::RefOr::T(Schema::Object(schema))
    }
}

impl utoipa::ToSchema for NetworkId {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_knows_the_three_networks_and_nothing_else() {
        assert_eq!(Network::find("tron"), Some(Network::TRON));
        assert_eq!(Network::find("ethereum"), Some(Network::ETHEREUM));
        assert_eq!(Network::find("bsc"), Some(Network::BSC));
        for unknown in ["", "TRON", "Tron", "eth", "btc", "polygon", " tron"] {
            assert_eq!(Network::find(unknown), None, "{unknown:?}");
        }
    }

    #[test]
    fn ids_are_unique_and_amounts_sane() {
        for (i, a) in NETWORKS.iter().enumerate() {
            assert!(a.withdrawal_fee > 0 && a.min_withdrawal > a.withdrawal_fee);
            for b in &NETWORKS[i + 1..] {
                assert_ne!(a.id, b.id);
            }
        }
        assert_eq!(Network::BSC.withdrawal_fee, 500_000);
        assert_eq!(Network::ETHEREUM.min_withdrawal, 20_000_000);
    }
}
