//! A network's node, through alloy: the head, block headers and the USDT `Transfer`
//! logs to our addresses.
//!
//! Headers are read as raw `eth_getBlockByNumber` (number, hash, parent hash only):
//! TRON's Ethereum-compatible JSON-RPC answers blocks that a full Ethereum header type
//! would refuse, and the watcher needs no more.

use alloy::primitives::{Address, B256};
use alloy::providers::{Provider, RootProvider};
use alloy::rpc::client::RpcClient;
use alloy::rpc::types::{Filter, Log};
use alloy::sol_types::SolEvent;

use super::follow::{Block, Hash, Transfer};

/// The token's ABI as far as the watcher reads it.
pub mod erc20 {
    alloy::sol! {
        /// The ERC-20 transfer event; TRC-20 tokens log it the same way.
        #[derive(Debug)]
        event Transfer(address indexed from, address indexed to, uint256 value);
    }
}

/// Addresses per `eth_getLogs` filter: nodes limit the size of a request.
const ACCOUNTS_PER_FILTER: usize = 500;

#[derive(Debug, thiserror::Error)]
pub enum RpcError {
    #[error("the node's URL is not a URL")]
    BadUrl,
    #[error("node: {0}")]
    Transport(#[from] alloy::transports::TransportError),
    #[error("the node has no block {0} (yet)")]
    NoBlock(u64),
    #[error("the node answered a malformed log: {0}")]
    BadLog(String),
}

/// The header fields the watcher reads.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Header {
    hash: B256,
    parent_hash: B256,
}

/// One network's node and USDT contract.
#[derive(Debug, Clone)]
pub struct ChainRpc {
    provider: RootProvider,
    contract: Address,
}

impl ChainRpc {
    /// `http_client` carries the timeouts; the URL may hold an API key (never logged:
    /// errors are reported without it).
    pub fn new(
        http_client: reqwest::Client,
        url: &str,
        contract: [u8; 20],
    ) -> Result<Self, RpcError> {
        let url = url.parse().map_err(|_| RpcError::BadUrl)?;
        let client = RpcClient::new_http_with_client(http_client, url);
        Ok(Self {
            provider: RootProvider::new(client),
            contract: Address::from(contract),
        })
    }

    pub async fn head(&self) -> Result<u64, RpcError> {
        Ok(self.provider.get_block_number().await?)
    }

    pub async fn chain_id(&self) -> Result<u64, RpcError> {
        Ok(self.provider.get_chain_id().await?)
    }

    /// The canonical block at `number` now, with our transfers in it (read by its hash,
    /// so the logs are of exactly that block).
    pub async fn block(&self, number: u64, accounts: &[[u8; 20]]) -> Result<Block, RpcError> {
        let header: Option<Header> = self
            .provider
            .raw_request(
                "eth_getBlockByNumber".into(),
                (format!("{number:#x}"), false),
            )
            .await?;
        let header = header.ok_or(RpcError::NoBlock(number))?;
        let mut transfers = Vec::new();
        for chunk in accounts.chunks(ACCOUNTS_PER_FILTER) {
            let filter = self.filter(chunk).at_block_hash(header.hash);
            transfers.extend(self.transfers(&filter).await?);
        }
        transfers.sort_by_key(|t| (t.txid, t.log_index));
        Ok(Block {
            number,
            hash: header.hash.0,
            parent: header.parent_hash.0,
            transfers,
        })
    }

    /// Our transfers in blocks `from..=to`, with the block each is in.
    pub async fn transfers_between(
        &self,
        from: u64,
        to: u64,
        accounts: &[[u8; 20]],
    ) -> Result<Vec<(u64, Hash, Transfer)>, RpcError> {
        let mut found = Vec::new();
        for chunk in accounts.chunks(ACCOUNTS_PER_FILTER) {
            let filter = self.filter(chunk).from_block(from).to_block(to);
            for log in self.provider.get_logs(&filter).await? {
                let (Some(number), Some(hash)) = (log.block_number, log.block_hash) else {
                    return Err(RpcError::BadLog("a log without its block".to_owned()));
                };
                found.push((number, hash.0, transfer_of(&log)?));
            }
        }
        found.sort_by_key(|(n, _, t)| (*n, t.txid, t.log_index));
        Ok(found)
    }

    fn filter(&self, accounts: &[[u8; 20]]) -> Filter {
        let to: Vec<B256> = accounts
            .iter()
            .map(|a| Address::from(*a).into_word())
            .collect();
        Filter::new()
            .address(self.contract)
            .event_signature(erc20::Transfer::SIGNATURE_HASH)
            .topic2(to)
    }

    async fn transfers(&self, filter: &Filter) -> Result<Vec<Transfer>, RpcError> {
        self.provider
            .get_logs(filter)
            .await?
            .iter()
            .map(transfer_of)
            .collect()
    }
}

fn transfer_of(log: &Log) -> Result<Transfer, RpcError> {
    let decoded =
        erc20::Transfer::decode_log(&log.inner).map_err(|e| RpcError::BadLog(e.to_string()))?;
    let (Some(txid), Some(log_index)) = (log.transaction_hash, log.log_index) else {
        return Err(RpcError::BadLog(
            "a log without its transaction or index".to_owned(),
        ));
    };
    let value = u128::try_from(decoded.value)
        .map_err(|_| RpcError::BadLog("a value beyond 128 bits".to_owned()))?;
    Ok(Transfer {
        txid: txid.0,
        log_index,
        from: decoded.from.0.0,
        to: decoded.to.0.0,
        value,
    })
}
