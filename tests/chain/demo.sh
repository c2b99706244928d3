#!/usr/bin/env bash
# One-command local demo of on-chain deposits: a local EVM node (anvil), the test USDT
# token (6 decimals) and an OTCPay server that follows it, with the `--demo` data
# (acceptors, a merchant). Ctrl-C stops everything.
#
#   bash tests/chain/demo.sh
#
# Then, in another terminal, pay 25 test USDT to a top-up address (an acceptor's from
# `GET /api/v1/acceptor/deposit-addresses`, a merchant's from the signed
# `GET /api/v1/deposit-addresses`) and watch it confirm (`GET /api/v1/acceptor/deposits`,
# `GET /api/v1/deposits`):
#   bash tests/chain/demo.sh pay <address> 25
#   bash tests/chain/demo.sh mine 3
set -euo pipefail
cd "$(dirname "$0")"
CHAIN_DIR=$PWD
ROOT=$(cd ../.. && pwd)
RPC=${DEMO_RPC:-http://127.0.0.1:8545}
STATE=$CHAIN_DIR/build/demo.env

# BIP-32 test vector 1 (m/0'/1/2'/2): public test material, never for real money.
DEMO_XPUB=xpub6FHa3pjLCk84BayeJxFW2SP4XRrFd1JYnxeLeU8EqN3vDfZmbqBqaGJAyiLjTAwm6ZLRQUMv1ZACTj37sR62cfN7fe5JnJ7dh8zL4fiyLHV

case "${1:-run}" in
  pay)
    [ -f "$STATE" ] || { echo "start the demo first: bash tests/chain/demo.sh" >&2; exit 1; }
    # shellcheck disable=SC1090
    . "$STATE"
    amount=$(( ${3:?amount in USDT} * 1000000 ))
    node -e "require('./deploy.js').mint('$RPC', '$DEMO_TOKEN', '${2:?address}', '$amount').then(() => console.log('sent ${3} USDT to ${2}'))"
    exit 0 ;;
  mine)
    curl -s -X POST "$RPC" -H 'content-type: application/json' \
      -d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"anvil_mine\",\"params\":[\"$(printf '0x%x' "${2:-1}")\"]}" >/dev/null
    echo "mined ${2:-1} block(s)"
    exit 0 ;;
esac

ANVIL=$(bash setup.sh | tail -1)
"$ANVIL" --port "${RPC##*:}" --silent &
ANVIL_PID=$!
trap 'kill $ANVIL_PID 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  curl -s -X POST "$RPC" -H 'content-type: application/json' \
    -d '{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}' >/dev/null && break
  sleep 0.1
done
TOKEN=$(node deploy.js "$RPC" | tail -1)
echo "DEMO_TOKEN=$TOKEN" > "$STATE"
echo "==> test USDT at $TOKEN on $RPC (blocks are mined per transaction; 'demo.sh mine N' mines more)"

cd "$ROOT"
OTCPAY_ADMIN_EMAIL=${OTCPAY_ADMIN_EMAIL:-admin@example.com} \
OTCPAY_ADMIN_PASSWORD=${OTCPAY_ADMIN_PASSWORD:-change-me-now} \
OTCPAY_DATA_DIR=${OTCPAY_DATA_DIR:-./data-chain-demo} \
OTCPAY_CHAIN_ETHEREUM_RPC_URL=$RPC \
OTCPAY_CHAIN_ETHEREUM_USDT_CONTRACT=$TOKEN \
OTCPAY_CHAIN_ETHEREUM_XPUB=$DEMO_XPUB \
OTCPAY_CHAIN_ETHEREUM_CONFIRMATIONS=${DEMO_CONFIRMATIONS:-3} \
OTCPAY_CHAIN_ETHEREUM_START_BLOCK=0 \
OTCPAY_CHAIN_ETHEREUM_POLL_MS=500 \
  ${OTCPAY_BIN:-cargo run --release --} serve --demo
