//! A real local EVM node for the chain tests: anvil (the `@foundry-rs/anvil` npm
//! package, pinned and installed by `tests/chain/setup.sh`, which `tests/run.sh` runs)
//! on a free port, with the test USDT token (6 decimals) compiled from
//! `tests/chain/TestUSDT.sol`. The node is killed when the handle drops.
//!
//! `OTCPAY_TEST_ANVIL` names the binary; by default the one `setup.sh` installs. A
//! missing binary fails the test with the command to run: nothing is skipped.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use alloy::primitives::{Address, U256};
use alloy::sol;
use alloy::sol_types::SolCall;
use serde_json::{Value, json};

sol! {
    function mint(address to, uint256 value);
    function transfer(address to, uint256 value) returns (bool);
}

/// An extended public key for tests (BIP-32 test vector 1, `m/0'/1/2'/2`).
pub const TEST_XPUB: &str = "xpub6FHa3pjLCk84BayeJxFW2SP4XRrFd1JYnxeLeU8EqN3vDfZmbqBqaGJAyiLjTAwm6ZLRQUMv1ZACTj37sR62cfN7fe5JnJ7dh8zL4fiyLHV";

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default()
}

fn anvil_binary() -> PathBuf {
    if let Ok(path) = std::env::var("OTCPAY_TEST_ANVIL") {
        return PathBuf::from(path);
    }
    let path = repo_root().join("tests/chain/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil");
    assert!(
        path.exists(),
        "anvil is not installed at {}: run `bash tests/chain/setup.sh` (tests/run.sh does)",
        path.display()
    );
    path
}

fn token_bytecode() -> String {
    let path = repo_root().join("tests/chain/build/TestUSDT.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{} is missing ({e}): run `bash tests/chain/setup.sh` (tests/run.sh does)",
            path.display()
        )
    });
    let json: Value = serde_json::from_str(&text).expect("TestUSDT.json is JSON");
    json["bytecode"]
        .as_str()
        .expect("TestUSDT.json has its bytecode")
        .to_owned()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A running anvil node.
pub struct Anvil {
    child: Child,
    pub url: String,
    client: reqwest::Client,
    /// The first unlocked account (deploys the token, sends transfers).
    pub account: String,
}

impl Anvil {
    /// Starts a node that mines a block per transaction (and on `anvil_mine`).
    pub async fn start() -> Self {
        otcpay::telemetry::install_crypto_provider();
        // Everything that can fail comes before the spawn: once the node runs, only the
        // handle (whose drop kills it) may panic.
        let client = reqwest::Client::new();
        let binary = anvil_binary();
        let port = free_port();
        let child = Command::new(binary)
            .args(["--port", &port.to_string(), "--silent"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("anvil starts");
        let mut node = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
            client,
            account: String::new(),
        };
        for _ in 0..200 {
            if let Ok(accounts) = node.try_rpc("eth_accounts", json!([])).await {
                node.account = accounts[0].as_str().expect("an account").to_owned();
                return node;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("anvil did not answer on {}", node.url);
    }

    async fn try_rpc(&self, method: &str, params: Value) -> Result<Value, String> {
        let response = self
            .client
            .post(&self.url)
            .json(&json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let body: Value = response.json().await.map_err(|e| e.to_string())?;
        match body.get("error") {
            Some(err) => Err(format!("{method}: {err}")),
            None => Ok(body["result"].clone()),
        }
    }

    pub async fn rpc(&self, method: &str, params: Value) -> Value {
        self.try_rpc(method, params)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    pub async fn block_number(&self) -> u64 {
        let hex = self.rpc("eth_blockNumber", json!([])).await;
        u64::from_str_radix(hex.as_str().unwrap_or("0x0").trim_start_matches("0x"), 16)
            .expect("a block number")
    }

    /// Mines `blocks` empty blocks.
    pub async fn mine(&self, blocks: u64) {
        self.rpc("anvil_mine", json!([format!("{blocks:#x}")]))
            .await;
    }

    /// Replaces the last `depth` blocks with as many empty ones: their transactions are
    /// gone from the chain.
    pub async fn reorg(&self, depth: u64) {
        self.rpc("anvil_reorg", json!([depth, []])).await;
    }

    /// Sends a transaction from the unlocked account and waits for its receipt; returns
    /// (txid, receipt).
    async fn send(&self, to: Option<&str>, data: String) -> (String, Value) {
        let mut tx = json!({"from": self.account, "data": data, "gas": "0x200000"});
        if let Some(to) = to {
            tx["to"] = json!(to);
        }
        let txid = self.rpc("eth_sendTransaction", json!([tx])).await;
        let txid = txid.as_str().expect("a txid").to_owned();
        for _ in 0..200 {
            let receipt = self.rpc("eth_getTransactionReceipt", json!([txid])).await;
            if !receipt.is_null() {
                assert_eq!(receipt["status"], "0x1", "transaction {txid} reverted");
                return (txid, receipt);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("no receipt for {txid}");
    }

    /// Deploys the test USDT; returns its address.
    pub async fn deploy_token(&self) -> String {
        let (_, receipt) = self.send(None, token_bytecode()).await;
        receipt["contractAddress"]
            .as_str()
            .expect("a contract address")
            .to_owned()
    }

    /// Mints `amount` base units of the token to `to` (a `Transfer` from the zero
    /// address); returns the txid.
    pub async fn mint(&self, token: &str, to: &str, amount: u64) -> String {
        let call = mintCall {
            to: to.parse::<Address>().expect("an EVM address"),
            value: U256::from(amount),
        };
        let data = format!("0x{}", hex::encode(call.abi_encode()));
        self.send(Some(token), data).await.0
    }

    /// The block a transaction is in.
    pub async fn block_of(&self, txid: &str) -> Option<u64> {
        let receipt = self.rpc("eth_getTransactionReceipt", json!([txid])).await;
        let hex = receipt["blockNumber"].as_str()?;
        u64::from_str_radix(hex.trim_start_matches("0x"), 16).ok()
    }
}

impl Drop for Anvil {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
