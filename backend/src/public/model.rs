//! Shapes of the public endpoints and the pure parts of their use cases.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::money::{FIATS, Rate, USDT_SCALE, format_usdt};
use crate::values::networks::{NETWORKS, Network, NetworkId};

/// `GET /api/v1/public/time`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ServerTime, example = json!({"server_time": 1763719200000_i64}))]
pub struct TimeView {
    /// The server's clock, Unix milliseconds (use it for `Request-Time`).
    pub server_time: i64,
}

/// `GET /api/v1/public/currencies`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Currencies)]
pub struct CurrenciesView {
    pub assets: Vec<AssetView>,
    pub fiats: Vec<FiatView>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Asset)]
pub struct AssetView {
    #[schema(example = "USDT")]
    pub code: &'static str,
    /// Decimal places (USDT: 6).
    #[schema(example = 6)]
    pub scale: u32,
    pub networks: Vec<NetworkView>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Network)]
pub struct NetworkView {
    #[schema(value_type = NetworkId)]
    pub id: &'static str,
    #[schema(example = "TRON (TRC-20)")]
    pub name: &'static str,
    /// The EVM chain id; `null` for TRON.
    #[schema(required = true, example = json!(null))]
    pub chain_id: Option<u64>,
    /// USDT charged on top of a withdrawal on this network.
    #[schema(format = "decimal", example = "1.00")]
    pub withdrawal_fee: String,
    /// The smallest withdrawal amount on this network.
    #[schema(format = "decimal", example = "10.00")]
    pub min_withdrawal: String,
    /// On-chain deposits are followed on this network (top-up addresses and on-chain
    /// payments are offered).
    #[schema(example = false)]
    pub onchain_deposits: bool,
}

impl NetworkView {
    fn of(network: &Network, onchain: &[&str]) -> Self {
        Self {
            id: network.id,
            name: network.name,
            chain_id: network.chain_id,
            withdrawal_fee: format_usdt(network.withdrawal_fee),
            min_withdrawal: format_usdt(network.min_withdrawal),
            onchain_deposits: onchain.contains(&network.id),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Fiat)]
pub struct FiatView {
    /// ISO 4217 code.
    #[schema(example = "CNY")]
    pub code: &'static str,
    /// Decimal places of the currency (CNY 2, JPY 0, …).
    #[schema(example = 2)]
    pub scale: u32,
}

/// The currency table: USDT on every network of [`NETWORKS`] (`onchain`: the ids of
/// the networks whose deposits are followed), and [`FIATS`].
pub fn currencies(onchain: &[&str]) -> CurrenciesView {
    CurrenciesView {
        assets: vec![AssetView {
            code: "USDT",
            scale: USDT_SCALE,
            networks: NETWORKS
                .iter()
                .map(|n| NetworkView::of(n, onchain))
                .collect(),
        }],
        fiats: FIATS
            .iter()
            .map(|fiat| FiatView {
                code: fiat.code,
                scale: fiat.scale,
            })
            .collect(),
    }
}

/// `GET /api/v1/public/rates?fiat=…`.
#[derive(Debug, Deserialize)]
pub struct RatesQuery {
    pub fiat: Option<String>,
}

/// The aggregated order book of one fiat (no acceptor ids).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Rates, example = json!({"fiat": "CNY", "best_rate": "7.18", "depth": [{"rate": "7.18", "liquidity": "50000.00"}, {"rate": "7.20", "liquidity": "1200.00"}]}))]
pub struct RatesView {
    pub fiat: &'static str,
    /// The best (lowest) rate offered, the first depth level's; `null` without liquidity.
    #[schema(required = true, format = "decimal")]
    pub best_rate: Option<String>,
    /// Rates ascending: the best rate for the customer first.
    pub depth: Vec<DepthLevelView>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = DepthLevel)]
pub struct DepthLevelView {
    /// Fiat per USDT.
    #[schema(format = "decimal", example = "7.18")]
    pub rate: String,
    /// USDT that can still be bought at this rate.
    #[schema(format = "decimal", example = "50000.00")]
    pub liquidity: String,
}

/// One level of the book: a rate and the micro-USDT offered at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DepthLevel {
    pub rate: Rate,
    pub liquidity: i64,
}

/// Aggregates `(rate, available micro-USDT)` offers, one per acceptor: sums the
/// liquidity of equal rates (compared numerically), leaves out offers with nothing
/// available, and sorts by rate ascending — the best rate for the customer (the least
/// fiat per USDT) first.
pub fn aggregate_depth(offers: impl IntoIterator<Item = (Rate, i64)>) -> Vec<DepthLevel> {
    let mut levels: BTreeMap<Rate, i64> = BTreeMap::new();
    for (rate, available) in offers {
        if available > 0 {
            let level = levels.entry(rate).or_insert(0);
            *level = level.saturating_add(available);
        }
    }
    levels
        .into_iter()
        .map(|(rate, liquidity)| DepthLevel { rate, liquidity })
        .collect()
}

impl RatesView {
    pub fn new(fiat: &'static str, depth: &[DepthLevel]) -> Self {
        let depth: Vec<DepthLevelView> = depth
            .iter()
            .map(|level| DepthLevelView {
                rate: level.rate.to_string(),
                liquidity: format_usdt(level.liquidity),
            })
            .collect();
        Self {
            fiat,
            best_rate: depth.first().map(|level| level.rate.clone()),
            depth,
        }
    }
}

/// `POST /api/v1/public/addresses/validate`. Fields are raw JSON values so that a
/// missing or mistyped field is reported with its name.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"network": "tron", "address": "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"}))]
pub struct ValidateAddressRequest {
    /// A missing or unknown network → `400 unsupported_network`.
    #[schema(value_type = NetworkId, required = true)]
    pub network: Option<Value>,
    /// A missing or non-string address → `400 invalid_request`.
    #[schema(value_type = String, required = true)]
    pub address: Option<Value>,
}

/// `valid: true` with the normalized address (EIP-55 on EVM networks), or `valid:
/// false` with the reason.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
#[schema(as = AddressValidation)]
pub enum ValidateAddressView {
    #[schema(title = "ValidAddress")]
    Valid {
        /// Always `true`.
        valid: bool,
        #[schema(value_type = NetworkId)]
        network: &'static str,
        /// The normalized address.
        #[schema(example = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t")]
        address: String,
    },
    #[schema(title = "InvalidAddress")]
    Invalid {
        /// Always `false`.
        valid: bool,
        #[schema(value_type = crate::addresses::AddressError)]
        reason: &'static str,
    },
}

impl ValidateAddressView {
    pub fn from_result(
        network: Network,
        result: Result<String, crate::addresses::AddressError>,
    ) -> Self {
        match result {
            Ok(address) => Self::Valid {
                valid: true,
                network: network.id,
                address,
            },
            Err(error) => Self::Invalid {
                valid: false,
                reason: error.reason(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rate(text: &str) -> Rate {
        Rate::parse(text).unwrap()
    }

    #[test]
    fn depth_sums_equal_rates_sorts_ascending_and_drops_empty_offers() {
        let depth = aggregate_depth([
            (rate("7.20"), 5_000_000),
            (rate("7.18"), 10_000_000),
            (rate("7.180"), 2_500_000),
            (rate("7.1"), 0),
            (rate("7.19"), 1),
            (rate("7.25"), -3),
        ]);
        assert_eq!(
            depth,
            vec![
                DepthLevel {
                    rate: rate("7.18"),
                    liquidity: 12_500_000
                },
                DepthLevel {
                    rate: rate("7.19"),
                    liquidity: 1
                },
                DepthLevel {
                    rate: rate("7.2"),
                    liquidity: 5_000_000
                },
            ]
        );
        let view = serde_json::to_value(RatesView::new("CNY", &depth)).unwrap();
        assert_eq!(
            view,
            json!({"fiat": "CNY", "best_rate": "7.18", "depth": [
                {"rate": "7.18", "liquidity": "12.50"},
                {"rate": "7.19", "liquidity": "0.000001"},
                {"rate": "7.20", "liquidity": "5.00"},
            ]})
        );
        let empty = serde_json::to_value(RatesView::new("JPY", &[])).unwrap();
        assert_eq!(
            empty,
            json!({"fiat": "JPY", "best_rate": null, "depth": []})
        );
    }

    #[test]
    fn depth_liquidity_saturates_instead_of_overflowing() {
        let depth = aggregate_depth([(rate("1"), i64::MAX), (rate("1"), i64::MAX)]);
        assert_eq!(depth[0].liquidity, i64::MAX);
    }

    #[test]
    fn currencies_lists_usdt_networks_and_fiats() {
        let view = serde_json::to_value(currencies(&["bsc"])).unwrap();
        assert_eq!(view["assets"][0]["code"], "USDT");
        assert_eq!(view["assets"][0]["scale"], 6);
        assert_eq!(
            view["assets"][0]["networks"][0],
            json!({"id": "tron", "name": "TRON (TRC-20)", "chain_id": null,
                   "withdrawal_fee": "1.00", "min_withdrawal": "10.00",
                   "onchain_deposits": false})
        );
        assert_eq!(view["assets"][0]["networks"][2]["onchain_deposits"], true);
        assert_eq!(view["assets"][0]["networks"][2]["withdrawal_fee"], "0.50");
        assert_eq!(view["fiats"][0], json!({"code": "CNY", "scale": 2}));
        assert_eq!(view["fiats"].as_array().unwrap().len(), FIATS.len());
    }

    #[test]
    fn validation_views_have_the_contract_shape() {
        let valid = ValidateAddressView::from_result(Network::TRON, Ok("T…".to_owned()));
        assert_eq!(
            serde_json::to_value(valid).unwrap(),
            json!({"valid": true, "network": "tron", "address": "T…"})
        );
        let invalid = ValidateAddressView::from_result(
            Network::BSC,
            Err(crate::addresses::AddressError::BadLength),
        );
        assert_eq!(
            serde_json::to_value(invalid).unwrap(),
            json!({"valid": false, "reason": "bad_length"})
        );
    }
}
