//! The chain settings of each network.
//!
//! In `otcpay.toml`:
//!
//! ```toml
//! [chain.ethereum]
//! rpc_url = "http://127.0.0.1:8545"
//! usdt_contract = "0xdAC17F958D2ee523a2206206994597C13D831ec7"
//! usdt_decimals = 6      # BSC's USDT has 18
//! confirmations = 12     # defaults: ethereum 12, bsc 15, tron 20
//! xpub = "xpub6…"        # the account key, m/44'/60'/0' (TRON: m/44'/195'/0')
//! start_block = 19000000 # where the watcher starts when it has no cursor yet
//! poll_ms = 3000
//! ```
//!
//! or in the environment, `OTCPAY_CHAIN_<NET>_<FIELD>` with `<NET>` one of `ETHEREUM`,
//! `BSC`, `TRON` (e.g. `OTCPAY_CHAIN_BSC_USDT_DECIMALS=18`). A network is on when its
//! RPC URL, USDT contract and extended public key are all set; a network with only some
//! of them is a configuration error at start, not a silently disabled network.

use super::hd::DepositKey;
use crate::config::{ChainSettings, Secret};
use crate::values::networks::{NETWORKS, Network};

/// A network that is on: everything the watcher and the address book need.
#[derive(Debug, Clone)]
pub struct ChainNetwork {
    pub network: Network,
    pub rpc_url: Secret,
    /// The USDT contract, as the network writes addresses (normalized).
    pub usdt_contract: String,
    pub usdt_decimals: u8,
    pub confirmations: u32,
    pub deposit_key: DepositKey,
    /// Where the watcher starts without a cursor; `None`: at the head when it first runs.
    pub start_block: Option<u64>,
    pub poll_ms: u64,
}

/// Confirmations when none are configured.
pub fn default_confirmations(network_id: &str) -> u32 {
    match network_id {
        "ethereum" => 12,
        "bsc" => 15,
        _ => 20,
    }
}

/// The decimals of USDT when none are configured.
pub const DEFAULT_USDT_DECIMALS: u8 = 6;
/// The watcher's poll interval when none is configured.
pub const DEFAULT_POLL_MS: u64 = 3_000;
/// More decimals than this cannot be converted into micro-USDT within `u128`.
pub const MAX_USDT_DECIMALS: u8 = 30;

/// The networks that are on, in the order of the network table; an error names the
/// first network whose settings are incomplete or wrong.
pub fn enabled(settings: &ChainSettings) -> Result<Vec<ChainNetwork>, String> {
    let mut on = Vec::new();
    for network in NETWORKS {
        if let Some(chain) = network_of(settings, *network)? {
            on.push(chain);
        }
    }
    Ok(on)
}

/// The settings of `network` when it is on; `None` when none of its required fields
/// is set.
pub fn network_of(
    settings: &ChainSettings,
    network: Network,
) -> Result<Option<ChainNetwork>, String> {
    let id = network.id;
    let s = settings.of(id);
    if s.rpc_url.is_none() && s.usdt_contract.is_none() && s.xpub.is_none() {
        return Ok(None);
    }
    let missing = |field: &str| format!("chain.{id}: `{field}` is not set");
    let rpc_url = s.rpc_url.clone().ok_or_else(|| missing("rpc_url"))?;
    let contract = s
        .usdt_contract
        .as_deref()
        .ok_or_else(|| missing("usdt_contract"))?;
    let xpub = s.xpub.as_deref().ok_or_else(|| missing("xpub"))?;
    let usdt_contract = crate::addresses::validate(network, contract).map_err(|e| {
        format!(
            "chain.{id}: `usdt_contract` is not an address: {}",
            e.reason()
        )
    })?;
    let usdt_decimals = s.usdt_decimals.unwrap_or(DEFAULT_USDT_DECIMALS);
    if usdt_decimals > MAX_USDT_DECIMALS {
        return Err(format!(
            "chain.{id}: `usdt_decimals` is over {MAX_USDT_DECIMALS}"
        ));
    }
    let deposit_key = DepositKey::parse(xpub).map_err(|e| format!("chain.{id}: `xpub`: {e}"))?;
    Ok(Some(ChainNetwork {
        network,
        rpc_url,
        usdt_contract,
        usdt_decimals,
        confirmations: s.confirmations.unwrap_or_else(|| default_confirmations(id)),
        deposit_key,
        start_block: s.start_block,
        poll_ms: s.poll_ms.unwrap_or(DEFAULT_POLL_MS),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ChainNetworkSettings;

    const XPUB: &str = super::super::hd::tests::ACCOUNT_XPUB;

    #[test]
    fn nothing_configured_is_off() {
        assert!(enabled(&ChainSettings::default()).unwrap().is_empty());
    }

    #[test]
    fn a_complete_network_is_on_with_its_defaults() {
        let settings = ChainSettings {
            bsc: ChainNetworkSettings {
                rpc_url: Some(Secret::new("http://127.0.0.1:8545")),
                usdt_contract: Some("0x55d398326f99059ff775485246999027b3197955".into()),
                usdt_decimals: Some(18),
                xpub: Some(XPUB.into()),
                ..Default::default()
            },
            ..Default::default()
        };
        let on = enabled(&settings).unwrap();
        assert_eq!(on.len(), 1);
        assert_eq!(on[0].network.id, "bsc");
        assert_eq!(on[0].confirmations, 15);
        assert_eq!(on[0].usdt_decimals, 18);
        assert_eq!(
            on[0].usdt_contract,
            "0x55d398326f99059fF775485246999027B3197955"
        );
        assert!(
            network_of(&settings, Network::find("tron").unwrap())
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn an_incomplete_or_wrong_network_is_an_error() {
        let mut settings = ChainSettings::default();
        settings.tron.rpc_url = Some(Secret::new("http://127.0.0.1:8090/jsonrpc"));
        let err = enabled(&settings).unwrap_err();
        assert!(
            err.contains("chain.tron") && err.contains("usdt_contract"),
            "{err}"
        );

        settings.tron.usdt_contract = Some("0xnot-tron".into());
        settings.tron.xpub = Some(XPUB.into());
        let err = enabled(&settings).unwrap_err();
        assert!(err.contains("not an address"), "{err}");

        settings.tron.usdt_contract = Some("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t".into());
        settings.tron.xpub = Some("xpub-nonsense".into());
        assert!(enabled(&settings).unwrap_err().contains("xpub"));
    }
}
