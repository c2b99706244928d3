//! The deposit address book: one address per acceptor and per merchant on each network
//! that is on, derived from the network's extended public key at the next unused index
//! when first asked for, and kept.

use sea_orm::{ActiveValue::Set, ConnectionTrait};
use serde::Serialize;

use super::config::ChainNetwork;
use super::entity::{OwnerKind, TransferStatus, deposit_address, transfer};
use super::store;
use crate::addresses::format_account;
use crate::db::{is_unique_violation, now_ms};
use crate::error::{ApiError, ApiResult};
use crate::money::Usdt;
use crate::state::AppState;
use crate::values::networks::AddressFormat;

/// The networks that are on (inserted into `AppState::handles` at start).
#[derive(Debug, Clone, Default)]
pub struct Chains(Vec<ChainNetwork>);

impl Chains {
    pub fn new(networks: Vec<ChainNetwork>) -> Self {
        Self(networks)
    }

    pub fn of(state: &AppState) -> ApiResult<&Self> {
        state
            .handles
            .get::<Self>()
            .ok_or_else(|| ApiError::internal("the chain settings were not loaded"))
    }

    pub fn networks(&self) -> &[ChainNetwork] {
        &self.0
    }

    pub fn get(&self, network_id: &str) -> Option<&ChainNetwork> {
        self.0.iter().find(|c| c.network.id == network_id)
    }
}

/// A deposit address as the portals and the API show it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(example = json!({
    "network": "ethereum",
    "address": "0x9858EfFD232B4033E47d90003D41EC34EcaEda94",
    "uri": "ethereum:0xdAC17F958D2ee523a2206206994597C13D831ec7@1/transfer?address=0x9858EfFD232B4033E47d90003D41EC34EcaEda94"
}))]
pub struct DepositAddressView {
    /// `ethereum`, `bsc` or `tron`.
    pub network: String,
    /// As the network writes it (EIP-55 case on EVM networks, base58check on TRON).
    pub address: String,
    /// A payment URI for wallets: EIP-681 (`ethereum:<token>@<chain id>/transfer?address=…`)
    /// on EVM networks, `tron:<address>?token=<contract>` on TRON.
    pub uri: String,
}

/// `{"data": [...]}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DepositAddressList {
    pub data: Vec<DepositAddressView>,
}

/// A USDT transfer to one of an owner's addresses, as the portals and webhooks show it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ChainDepositView {
    pub id: String,
    pub network: String,
    pub address: String,
    pub txid: String,
    pub log_index: i64,
    pub block_number: i64,
    /// USDT credited (or to be credited), e.g. `"25.000000"`.
    #[schema(format = "decimal")]
    pub amount: String,
    pub status: TransferStatus,
    pub confirmations: i64,
    pub required_confirmations: i64,
    /// Unix milliseconds when the watcher first saw it.
    pub seen_at: i64,
    pub confirmed_at: Option<i64>,
}

impl ChainDepositView {
    pub fn of(t: &transfer::Model, address: &str) -> Self {
        Self {
            id: t.id.clone(),
            network: t.network.clone(),
            address: address.to_owned(),
            txid: t.txid.clone(),
            log_index: t.log_index,
            block_number: t.block_number,
            amount: Usdt::from_micros(t.amount).to_string(),
            status: t.status,
            confirmations: t.confirmations.min(t.required_confirmations),
            required_confirmations: t.required_confirmations,
            seen_at: t.seen_at,
            confirmed_at: t.confirmed_at,
        }
    }
}

/// The owner's top-up address on every network that is on, assigned when first asked.
pub async fn deposit_addresses(
    state: &AppState,
    owner_kind: OwnerKind,
    owner_id: &str,
) -> ApiResult<Vec<DepositAddressView>> {
    let mut views = Vec::new();
    for chain in Chains::of(state)?.networks() {
        let row = address_for(&state.db, chain, owner_kind, owner_id).await?;
        views.push(DepositAddressView {
            network: chain.network.id.to_owned(),
            uri: payment_uri(chain, &row.address, None),
            address: row.address,
        });
    }
    Ok(views)
}

/// The owner's address on `chain`, derived at the next unused index when it has none.
/// Two nodes assigning at once: one insert wins each index (unique index), the other
/// tries again.
pub async fn address_for(
    db: &impl ConnectionTrait,
    chain: &ChainNetwork,
    owner_kind: OwnerKind,
    owner_id: &str,
) -> ApiResult<deposit_address::Model> {
    let network = chain.network.id;
    for _ in 0..8 {
        if let Some(row) = store::address_of(db, network, owner_kind, owner_id).await? {
            return Ok(row);
        }
        let index = store::next_index(db, network).await?;
        let child = u32::try_from(index)
            .ok()
            .filter(|i| *i < 0x8000_0000)
            .ok_or_else(|| ApiError::internal("the network's deposit addresses are used up"))?;
        let account = chain
            .deposit_key
            .account_at(child)
            .map_err(|e| ApiError::internal(format!("deriving a deposit address: {e}")))?;
        let row = deposit_address::ActiveModel {
            id: Set(crate::ids::new("dad")),
            network: Set(network.to_owned()),
            derivation_index: Set(index),
            account: Set(account_hex(&account)),
            address: Set(format_account(chain.network, &account)),
            owner_kind: Set(owner_kind),
            owner_id: Set(owner_id.to_owned()),
            created_at: Set(now_ms()),
        };
        match store::insert_address(db, row).await {
            Ok(row) => return Ok(row),
            Err(err) if is_unique_violation(&err) => continue,
            Err(err) => return Err(err.into()),
        }
    }
    Err(ApiError::internal(
        "could not assign a deposit address (too many concurrent assignments)",
    ))
}

/// `0x` + 40 lower-case hex digits: how the address book keys an account.
pub fn account_hex(account: &[u8; 20]) -> String {
    format!("0x{}", hex::encode(account))
}

/// The account an address-book key names.
pub fn account_bytes(key: &str) -> Option<[u8; 20]> {
    let bytes = hex::decode(key.strip_prefix("0x")?).ok()?;
    bytes.try_into().ok()
}

/// A wallet's payment URI for `address`, with an amount in token base units when one is
/// asked for: EIP-681 on EVM networks; on TRON, `tron:<address>?token=<contract>`.
pub fn payment_uri(chain: &ChainNetwork, address: &str, amount_base: Option<u128>) -> String {
    match chain.network.address_format {
        AddressFormat::Evm => {
            let chain_id = chain.network.chain_id.unwrap_or(1);
            let mut uri = format!(
                "ethereum:{}@{chain_id}/transfer?address={address}",
                chain.usdt_contract
            );
            if let Some(amount) = amount_base {
                uri.push_str(&format!("&uint256={amount}"));
            }
            uri
        }
        AddressFormat::Tron => {
            let mut uri = format!("tron:{address}?token={}", chain.usdt_contract);
            if let Some(amount) = amount_base {
                uri.push_str(&format!("&amount={amount}"));
            }
            uri
        }
    }
}

/// The latest deposits to the owner's addresses (pending, credited, under review).
pub async fn recent_deposits(
    state: &AppState,
    owner_kind: OwnerKind,
    owner_id: &str,
    limit: u64,
) -> ApiResult<Vec<ChainDepositView>> {
    let rows = store::transfers_of_owner(&state.db, owner_kind, owner_id, limit).await?;
    let addresses = owner_addresses(state, owner_kind, owner_id).await?;
    Ok(rows
        .iter()
        .map(|t| {
            let address = addresses
                .iter()
                .find(|a| a.id == t.address_id)
                .map_or("", |a| a.address.as_str());
            ChainDepositView::of(t, address)
        })
        .collect())
}

async fn owner_addresses(
    state: &AppState,
    owner_kind: OwnerKind,
    owner_id: &str,
) -> ApiResult<Vec<deposit_address::Model>> {
    let mut rows = Vec::new();
    for chain in Chains::of(state)?.networks() {
        if let Some(row) =
            store::address_of(&state.db, chain.network.id, owner_kind, owner_id).await?
        {
            rows.push(row);
        }
    }
    Ok(rows)
}
