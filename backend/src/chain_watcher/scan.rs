//! The watcher: one task per network that is on. Each scan reads the node's head, the
//! blocks after the network's cursor and the USDT `Transfer` logs to our addresses in
//! them, feeds them to the network's [`Follower`] (confirmations and reorgs), and writes
//! what follows — transfer rows, credits, the follower's new state and the cursor — in
//! one database transaction.
//!
//! Cursor rule: the cursor row (`chain_cursors`) holds the first block not yet taken in,
//! the follower's state and a version. A scan reads them, does its RPC work outside any
//! transaction, then commits only if its `UPDATE … WHERE version = <read>` matches: the
//! update locks the row, so a second node's commit over the same version waits, then
//! matches nothing and is dropped. A crash before the commit leaves the cursor where it
//! was and the next scan (on any node) does the work again; the unique
//! (network, txid, log index) of the transfer rows and deposits is the last guard.
//!
//! Far behind (no follower state, the cursor more than the follower's window below the
//! head) the watcher catches up with `eth_getLogs` over block ranges: those blocks are
//! deeper than any reorg it could follow, so their transfers are confirmed at once.
//! Near the head it reads block by block, comparing parent hashes.

use std::collections::HashMap;
use std::time::Duration;

use actix_web::web;
use matching_engine::Command;
use sea_orm::TransactionTrait;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::credit::{self, AfterCommit, Owners, Scan, as_i64};
use crate::chain::config::ChainNetwork;
use crate::chain::follow::{FollowError, Follower, Step};
use crate::chain::rpc::{ChainRpc, RpcError};
use crate::chain::service::{Chains, account_bytes};
use crate::chain::store::{self, CursorUpdate};
use crate::db::now_ms;
use crate::error::ApiError;
use crate::state::AppState;

/// Blocks per `eth_getLogs` while catching up (public nodes cap a request's range).
const LOG_RANGE: u64 = 500;
/// Ranges per scan while catching up.
const RANGES_PER_SCAN: u64 = 4;
/// Blocks read one by one per scan near the head (a reorg's walk down counts too).
const BLOCKS_PER_SCAN: u64 = 200;

#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error(transparent)]
    Rpc(#[from] RpcError),
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
    #[error("{0}")]
    Api(ApiError),
    #[error("the stored follower state is unreadable: {0}")]
    State(#[from] serde_json::Error),
}

impl From<ApiError> for ScanError {
    fn from(err: ApiError) -> Self {
        Self::Api(err)
    }
}

/// Blocks of history the follower keeps: room for a reorg twice as deep as the
/// confirmations to be recognised as one.
pub fn window(chain: &ChainNetwork) -> usize {
    usize::try_from(chain.confirmations)
        .unwrap_or(usize::MAX / 4)
        .saturating_mul(2)
        .saturating_add(16)
}

/// Starts following every network that is on; a no-op without one.
pub fn spawn(state: web::Data<AppState>, shutdown: watch::Receiver<bool>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let chains = Chains::of(&state)
            .map(|c| c.networks().to_vec())
            .unwrap_or_default();
        let followers = chains
            .into_iter()
            .map(|chain| follow_network(state.clone(), chain, shutdown.clone()));
        futures_util::future::join_all(followers).await;
    })
}

async fn follow_network(
    state: web::Data<AppState>,
    chain: ChainNetwork,
    mut shutdown: watch::Receiver<bool>,
) {
    let network = chain.network.id;
    let rpc = match connect(&chain) {
        Ok(rpc) => rpc,
        Err(err) => {
            tracing::error!(network, error = %redact(&err.to_string(), &chain), "cannot reach the chain: deposits on this network are not followed");
            return;
        }
    };
    tracing::info!(
        network,
        confirmations = chain.confirmations,
        "following USDT transfers"
    );
    let mut checked_chain_id = false;
    loop {
        if !checked_chain_id {
            checked_chain_id = check_chain_id(&rpc, &chain).await;
        }
        let behind = match scan(&state, &chain, &rpc).await {
            Ok(behind) => behind,
            Err(err) => {
                state.metrics.chain_rpc_error(network);
                tracing::warn!(network, error = %redact(&err.to_string(), &chain), "chain scan failed; retrying");
                false
            }
        };
        let wait = if behind {
            Duration::ZERO
        } else {
            Duration::from_millis(chain.poll_ms.max(50))
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = shutdown.changed() => return,
        }
    }
}

fn connect(chain: &ChainNetwork) -> Result<ChainRpc, RpcError> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .connect_timeout(Duration::from_secs(10))
        .user_agent(concat!("OTCPay-Watcher/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|_| RpcError::BadUrl)?;
    let contract = crate::addresses::account_of(chain.network, &chain.usdt_contract)
        .ok_or(RpcError::BadUrl)?;
    ChainRpc::new(client, chain.rpc_url.expose(), contract)
}

/// Warns once when the node serves another chain than the network's (a test node, a
/// fork — or a misconfiguration). `true` once asked.
async fn check_chain_id(rpc: &ChainRpc, chain: &ChainNetwork) -> bool {
    let Some(expected) = chain.network.chain_id else {
        return true;
    };
    match rpc.chain_id().await {
        Ok(id) if id != expected => {
            tracing::warn!(
                network = chain.network.id,
                node_chain_id = id,
                expected,
                "the node serves another chain than this network's"
            );
            true
        }
        Ok(_) => true,
        Err(_) => false,
    }
}

/// A node URL may carry an API key: never in a log line.
fn redact(message: &str, chain: &ChainNetwork) -> String {
    message.replace(chain.rpc_url.expose(), "<rpc_url>")
}

/// One scan; `true` when more blocks are waiting (scan again at once).
pub async fn scan(
    state: &AppState,
    chain: &ChainNetwork,
    rpc: &ChainRpc,
) -> Result<bool, ScanError> {
    let network = chain.network.id;
    let window = window(chain);
    // The head first, then the addresses: every block read was mined before the scan
    // began, so an address shown after that is in the list before a transfer to it can
    // be in a block read.
    let head = rpc.head().await?;
    let cursor = match store::cursor(&state.db, network).await? {
        Some(cursor) => cursor,
        None => {
            let start = chain.start_block.unwrap_or(head);
            let empty = Follower::new(chain.confirmations, window).to_json()?;
            store::create_cursor(&state.db, network, as_i64(start), empty, now_ms()).await?;
            store::cursor(&state.db, network)
                .await?
                .ok_or_else(|| ApiError::internal("the chain cursor vanished"))?
        }
    };
    let next = u64::try_from(cursor.next_block).unwrap_or(0);
    if cursor.halted.is_some() {
        state
            .metrics
            .chain_scanned(network, head, next.saturating_sub(1), true);
        return Ok(false);
    }
    let owners: Owners = store::addresses_of_network(&state.db, network)
        .await?
        .into_iter()
        .filter_map(|a| Some((account_bytes(&a.account)?, a)))
        .collect();
    let accounts: Vec<[u8; 20]> = owners.keys().copied().collect();
    let mut follower = Follower::from_json(chain.confirmations, window, &cursor.follower)?;
    let mut read = Read::default();
    let window_blocks = u64::try_from(window).unwrap_or(u64::MAX);
    let next_block = if follower.tip().is_none() && next.saturating_add(window_blocks) <= head {
        catch_up(rpc, &accounts, next, head - window_blocks, &mut read).await?
    } else {
        follow(rpc, &accounts, &mut follower, next, head, &mut read).await?
    };
    let update = CursorUpdate {
        next_block: as_i64(next_block),
        follower: follower.to_json()?,
        head: as_i64(head),
        halted: read.halted.clone(),
    };
    let now = now_ms();
    let txn = state.db.begin().await?;
    if !store::advance_cursor(&txn, network, cursor.version, update, now).await? {
        txn.rollback().await?;
        return Ok(false); // another node took these blocks in first
    }
    let mut after = AfterCommit::default();
    let scan = Scan {
        chain,
        owners: &owners,
        block_hashes: &read.hashes,
        now,
    };
    credit::apply(&txn, &scan, read.steps, &mut after).await?;
    txn.commit().await?;
    let last = next_block.saturating_sub(1);
    state
        .metrics
        .chain_scanned(network, head, last, read.halted.is_some());
    after_commit(state, network, after, read.halted).await;
    super::orders::settle(state, network, chain.confirmations).await?;
    Ok(next_block <= head)
}

/// What a scan read from the node.
#[derive(Default)]
struct Read {
    steps: Vec<Step>,
    hashes: HashMap<u64, [u8; 32]>,
    halted: Option<String>,
}

/// Transfers in `from..=deep` (all deeper than any reorg followed): confirmed at once.
/// Returns the next block to read.
async fn catch_up(
    rpc: &ChainRpc,
    accounts: &[[u8; 20]],
    from: u64,
    deep: u64,
    read: &mut Read,
) -> Result<u64, ScanError> {
    let mut start = from;
    for _ in 0..RANGES_PER_SCAN {
        if start > deep {
            break;
        }
        let end = start.saturating_add(LOG_RANGE - 1).min(deep);
        if !accounts.is_empty() {
            for (block, hash, transfer) in rpc.transfers_between(start, end, accounts).await? {
                read.hashes.insert(block, hash);
                read.steps.push(Step::Confirmed { transfer, block });
            }
        }
        start = end + 1;
    }
    Ok(start)
}

/// Blocks `next..=head` one by one (at most [`BLOCKS_PER_SCAN`] reads), walking down
/// to the fork when a parent hash does not match. Returns the next block to read.
async fn follow(
    rpc: &ChainRpc,
    accounts: &[[u8; 20]],
    follower: &mut Follower,
    next: u64,
    head: u64,
    read: &mut Read,
) -> Result<u64, ScanError> {
    let mut number = next;
    let mut reads = 0;
    while number <= head && reads < BLOCKS_PER_SCAN {
        reads += 1;
        let block = rpc.block(number, accounts).await?;
        read.hashes.insert(number, block.hash);
        match follower.on_block(block) {
            Ok(steps) => {
                read.steps.extend(steps);
                number += 1;
            }
            Err(FollowError::ParentMismatch { height }) => number = height,
            Err(FollowError::Gap { tip, .. }) => number = tip + 1,
            Err(err @ FollowError::TooDeep { .. }) => {
                read.halted = Some(err.to_string());
                break;
            }
        }
    }
    Ok(follower.tip().map_or(number, |tip| tip + 1))
}

async fn after_commit(
    state: &AppState,
    network: &'static str,
    after: AfterCommit,
    halted: Option<String>,
) {
    state
        .metrics
        .chain_applied(network, after.credited, after.vanished.len() as u64);
    for (acceptor, delta) in after.liquidity {
        state
            .notify_engine(Command::AdjustLiquidity {
                acceptor: acceptor.to_string(),
                delta,
            })
            .await;
    }
    if let Err(err) = state.infra.event_bus.publish_all(&after.events).await {
        tracing::warn!(error = %err, "deposit live events not published");
    }
    if after.webhooks {
        state.webhook_wakeup.notify_one();
    }
    for details in after.vanished {
        crate::live::announce_to_admins(state, "chain.transfer_vanished", details).await;
    }
    if let Some(reason) = halted {
        tracing::error!(network, %reason, "the deposit watcher stopped on this network; an operator must look");
        crate::live::announce_to_admins(
            state,
            "chain.halted",
            serde_json::json!({"network": network, "reason": reason}),
        )
        .await;
    }
}
