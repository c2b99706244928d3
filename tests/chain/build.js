#!/usr/bin/env node
// Compiles TestUSDT.sol with solc-js (pinned in package.json) and writes
// build/TestUSDT.json = {"abi": [...], "bytecode": "0x..."} (creation bytecode).
// Optimizer on (200 runs), evmVersion "paris" so anvil's default hardfork runs it.
// Exits non-zero on any compiler error.
'use strict';

const fs = require('node:fs');
const path = require('node:path');

const SOURCE = 'TestUSDT.sol';
const CONTRACT = 'TestUSDT';
const here = __dirname;
const outDir = path.join(here, 'build');
const outFile = path.join(outDir, `${CONTRACT}.json`);

function die(msg) {
  process.stderr.write(`\nFATAL (chain build): ${msg}\n`);
  process.exit(1);
}

let solc;
try {
  solc = require('solc');
} catch (err) {
  die(`cannot load solc (run npm ci in tests/chain first): ${err.message}`);
}

const input = {
  language: 'Solidity',
  sources: { [SOURCE]: { content: fs.readFileSync(path.join(here, SOURCE), 'utf8') } },
  settings: {
    optimizer: { enabled: true, runs: 200 },
    evmVersion: 'paris',
    outputSelection: { [SOURCE]: { [CONTRACT]: ['abi', 'evm.bytecode.object'] } },
  },
};

let output;
try {
  output = JSON.parse(solc.compile(JSON.stringify(input)));
} catch (err) {
  die(`solc ${solc.version()} failed: ${err.message}`);
}

const diagnostics = output.errors || [];
for (const d of diagnostics) {
  process.stderr.write(`${d.formattedMessage || d.message}\n`);
}
const errors = diagnostics.filter((d) => d.severity === 'error');
if (errors.length > 0) {
  die(`${errors.length} compiler error(s) in ${SOURCE} (solc ${solc.version()})`);
}

const contract = output.contracts && output.contracts[SOURCE] && output.contracts[SOURCE][CONTRACT];
if (!contract || !contract.evm || !contract.evm.bytecode || !contract.evm.bytecode.object) {
  die(`solc produced no bytecode for ${CONTRACT}`);
}

fs.mkdirSync(outDir, { recursive: true });
const artifact = { abi: contract.abi, bytecode: `0x${contract.evm.bytecode.object}` };
// Write then rename so a crashed build never leaves a half-written artifact behind.
fs.writeFileSync(`${outFile}.tmp`, `${JSON.stringify(artifact, null, 2)}\n`);
fs.renameSync(`${outFile}.tmp`, outFile);
console.log(`wrote ${path.relative(process.cwd(), outFile) || outFile} (solc ${solc.version()}, ${(artifact.bytecode.length - 2) / 2} bytes)`);
