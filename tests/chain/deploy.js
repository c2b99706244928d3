#!/usr/bin/env node
// Deploys build/TestUSDT.json to a dev node (anvil) from its first unlocked account.
//
//   node deploy.js <rpc_url> [mint_to_address] [amount_base_units]
//
// Mints `amount_base_units` (default 1000 USDT = 1000000000) to `mint_to_address` when it
// is given, and prints the contract address as the last line on stdout.
//
// Also a module for other Node scripts (Node 20, built-in fetch only):
//   const { deploy, mint, transfer, rpc } = require('./deploy.js');
'use strict';

const fs = require('node:fs');
const path = require('node:path');

const ARTIFACT = path.join(__dirname, 'build', 'TestUSDT.json');
// First 4 bytes of keccak256 of the signatures (fixed, so no hashing library is needed).
const SELECTOR = {
  transfer: 'a9059cbb', // transfer(address,uint256)
  mint: '40c10f19', // mint(address,uint256)
};
const RECEIPT_TIMEOUT_MS = 30_000;

let nextId = 1;

/** Calls JSON-RPC `method` on `url`; returns `result` or throws with the node's error. */
async function rpc(url, method, params = []) {
  let res;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method, params }),
    });
  } catch (err) {
    throw new Error(`${method}: cannot reach ${url}: ${(err.cause && err.cause.message) || err.message}`);
  }
  const text = await res.text();
  if (!res.ok) throw new Error(`${method}: HTTP ${res.status} from ${url}: ${text.slice(0, 300)}`);
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`${method}: not JSON from ${url}: ${text.slice(0, 300)}`);
  }
  if (body.error) throw new Error(`${method}: ${body.error.message || JSON.stringify(body.error)}`);
  return body.result;
}

async function firstAccount(url) {
  const accounts = await rpc(url, 'eth_accounts');
  if (!Array.isArray(accounts) || accounts.length === 0) {
    throw new Error(`eth_accounts on ${url} returned no unlocked account`);
  }
  return accounts[0];
}

/** Polls eth_getTransactionReceipt until the tx is mined; throws if it reverted. */
async function waitForReceipt(url, txHash, timeoutMs = RECEIPT_TIMEOUT_MS) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const receipt = await rpc(url, 'eth_getTransactionReceipt', [txHash]);
    if (receipt) {
      if (receipt.status !== '0x1') throw new Error(`transaction ${txHash} reverted (status ${receipt.status})`);
      return receipt;
    }
    if (Date.now() > deadline) throw new Error(`no receipt for ${txHash} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Sends `tx` (from the node's first account unless tx.from is set) and waits for the receipt. */
async function sendTransaction(url, tx) {
  const from = tx.from || (await firstAccount(url));
  const hash = await rpc(url, 'eth_sendTransaction', [{ ...tx, from }]);
  return waitForReceipt(url, hash);
}

function hexAddress(address) {
  if (typeof address !== 'string' || !/^0x[0-9a-fA-F]{40}$/.test(address)) {
    throw new Error(`not an address: ${address}`);
  }
  return address.toLowerCase();
}

function word(value) {
  return BigInt(value).toString(16).padStart(64, '0');
}

function encodeAddressAmount(selector, to, amount) {
  const amt = BigInt(amount);
  if (amt < 0n) throw new Error(`negative amount: ${amount}`);
  return `0x${selector}${hexAddress(to).slice(2).padStart(64, '0')}${word(amt)}`;
}

/**
 * Deploys TestUSDT from the node's first account (or opts.from).
 * Returns { address, txHash, blockNumber, deployer }.
 */
async function deploy(url, opts = {}) {
  const artifact = JSON.parse(fs.readFileSync(opts.artifact || ARTIFACT, 'utf8'));
  if (!/^0x[0-9a-fA-F]+$/.test(artifact.bytecode || '')) throw new Error(`no bytecode in ${opts.artifact || ARTIFACT}`);
  const from = opts.from || (await firstAccount(url));
  const receipt = await sendTransaction(url, { from, data: artifact.bytecode });
  if (!receipt.contractAddress) throw new Error(`deploy tx ${receipt.transactionHash} created no contract`);
  return {
    address: receipt.contractAddress,
    txHash: receipt.transactionHash,
    blockNumber: Number(receipt.blockNumber),
    deployer: from,
  };
}

/** mint(to, amount) from the deployer (the node's first account unless opts.from). Returns the receipt. */
async function mint(url, token, to, amount, opts = {}) {
  return sendTransaction(url, { from: opts.from, to: hexAddress(token), data: encodeAddressAmount(SELECTOR.mint, to, amount) });
}

/** transfer(to, amount) from opts.from (default: the node's first account). Returns the receipt. */
async function transfer(url, token, to, amount, opts = {}) {
  return sendTransaction(url, { from: opts.from, to: hexAddress(token), data: encodeAddressAmount(SELECTOR.transfer, to, amount) });
}

module.exports = { rpc, deploy, mint, transfer, sendTransaction, waitForReceipt, firstAccount, ARTIFACT };

async function main(argv) {
  const [url, mintTo, amount = '1000000000'] = argv;
  if (!url || argv.length > 3) {
    process.stderr.write('usage: node deploy.js <rpc_url> [mint_to_address] [amount_base_units]\n');
    process.exit(2);
  }
  if (!fs.existsSync(ARTIFACT)) throw new Error(`${ARTIFACT} is missing: run tests/chain/setup.sh first`);
  const token = await deploy(url);
  process.stderr.write(`deployed TestUSDT at ${token.address} (block ${token.blockNumber}, from ${token.deployer})\n`);
  if (mintTo) {
    const r = await mint(url, token.address, mintTo, amount);
    process.stderr.write(`minted ${amount} base units to ${mintTo} (tx ${r.transactionHash}, block ${Number(r.blockNumber)})\n`);
  }
  console.log(token.address);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err) => {
    process.stderr.write(`\nFATAL (chain deploy): ${err.message}\n`);
    process.exit(1);
  });
}
