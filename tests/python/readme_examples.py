#!/usr/bin/env python3
"""Runs the integration examples of README.md against a real server.

Starts the `otcpay` binary (embedded SQLite in a temp dir), sets up a merchant whose
webhook endpoint is a listener in this process and an online acceptor, then executes
the README's code blocks exactly as written:
  - `client` + `create_order` with a test key (the sandbox completes the order itself),
  - `client` + `create_order` with a live key while this script plays the customer and
    the acceptor,
  - `verify_webhook` on every callback received,
  - `curl` for the balance,
  - `client` + `onchain_order` against a local EVM node (anvil, from tests/chain) with
    the test USDT token, while this script sends the customer's transfer and mines.
Exits non-zero on the first failure. Standard library only.
"""

import base64
import decimal
import hashlib
import hmac
import http.server
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BINARY = os.environ.get("OTCPAY_BIN", os.path.join(ROOT, "target", "debug", "otcpay"))
ADMIN_EMAIL, ADMIN_PASSWORD = "admin@readme.test", "readme-admin-password"


def examples():
    text = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    found = {}
    for match in re.finditer(r"<!-- example: (\w+) -->\n```(\w+)\n(.*?)```", text, re.S):
        found[match.group(1)] = match.group(3)
    for name in ("client", "create_order", "verify_webhook", "curl", "onchain_order"):
        if name not in found:
            sys.exit(f"README.md has no example named {name!r}")
    return found


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(base, method, path, body=None, token=None):
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    req = urllib.request.Request(base + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def totp_code(secret):
    """The code an authenticator app shows now (RFC 6238: HMAC-SHA1, 30 s, 6 digits)."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    digest = hmac.new(key, (int(time.time()) // 30).to_bytes(8, "big"), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    code = (int.from_bytes(digest[offset:offset + 4], "big") & 0x7FFFFFFF) % 1_000_000
    return f"{code:06d}"


def expect(status, body, wanted, what):
    if status != wanted:
        sys.exit(f"{what}: expected HTTP {wanted}, got {status}: {body}")
    return body


class Webhooks:
    def __init__(self):
        self.received = []
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                with outer.lock:
                    outer.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, event_type, order_id, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                for headers, body in self.received:
                    event = json.loads(body)
                    if event["type"] == event_type and event["data"]["id"] == order_id:
                        return headers, body
            time.sleep(0.1)
        sys.exit(f"no {event_type} webhook for {order_id}")


ANVIL = os.environ.get("OTCPAY_TEST_ANVIL", os.path.join(
    ROOT, "tests", "chain", "node_modules", "@foundry-rs", "anvil-linux-amd64", "bin", "anvil"))
# BIP-32 test vector 1 (m/0'/1/2'/2): public test material.
TEST_XPUB = ("xpub6FHa3pjLCk84BayeJxFW2SP4XRrFd1JYnxeLeU8EqN3vDfZmbqBqaGJAyiLjTAwm6ZLRQUMv1Z"
             "ACTj37sR62cfN7fe5JnJ7dh8zL4fiyLHV")


def rpc(url, method, params):
    req = urllib.request.Request(url, data=json.dumps(
        {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode(),
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as response:
        body = json.load(response)
    if "error" in body:
        sys.exit(f"{method}: {body['error']}")
    return body["result"]


def start_chain():
    """A local node and the test token: (process, rpc url, token address)."""
    if not os.path.exists(ANVIL):
        sys.exit(f"anvil is not installed at {ANVIL}: run bash tests/chain/setup.sh")
    url = f"http://127.0.0.1:{free_port()}"
    node = subprocess.Popen([ANVIL, "--port", url.rsplit(":", 1)[1], "--silent"])
    for _ in range(200):
        try:
            rpc(url, "eth_blockNumber", [])
            break
        except OSError:
            time.sleep(0.05)
    else:
        sys.exit("anvil did not start")
    deployed = subprocess.run(["node", os.path.join(ROOT, "tests", "chain", "deploy.js"), url],
                              capture_output=True, text=True, timeout=60)
    if deployed.returncode != 0:
        sys.exit(f"the test token was not deployed: {deployed.stderr}")
    return node, url, deployed.stdout.split()[-1]


def run_python(code, env, timeout=60):
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                            text=True, timeout=timeout)
    if result.returncode != 0:
        sys.exit(f"README example failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def main():
    code = examples()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    data_dir = tempfile.mkdtemp(prefix="otcpay-readme-")
    server_env = dict(os.environ, OTCPAY_LISTEN=f"127.0.0.1:{port}", OTCPAY_DATA_DIR=data_dir,
                      OTCPAY_ADMIN_EMAIL=ADMIN_EMAIL, OTCPAY_ADMIN_PASSWORD=ADMIN_PASSWORD,
                      OTCPAY_SANDBOX_CONFIRM_AFTER="1", OTCPAY_SCHEDULER_INTERVAL_MS="100",
                      OTCPAY_ARGON2_MEMORY_KIB="4096", OTCPAY_ARGON2_ITERATIONS="1",
                      RUST_LOG="warn")
    for name in ("DATABASE_URL", "REDIS_URL", "SMTP_URL"):
        server_env.pop(name, None)
    node, chain_url, usdt = start_chain()
    server_env.update(OTCPAY_CHAIN_ETHEREUM_RPC_URL=chain_url, OTCPAY_CHAIN_ETHEREUM_USDT_CONTRACT=usdt,
                      OTCPAY_CHAIN_ETHEREUM_XPUB=TEST_XPUB, OTCPAY_CHAIN_ETHEREUM_CONFIRMATIONS="2",
                      OTCPAY_CHAIN_ETHEREUM_START_BLOCK="0", OTCPAY_CHAIN_ETHEREUM_POLL_MS="100")
    server = subprocess.Popen([BINARY], env=server_env, cwd=data_dir)
    try:
        for _ in range(300):
            try:
                if request(base, "GET", "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            if server.poll() is not None:
                sys.exit("the server exited during start")
            time.sleep(0.1)
        else:
            sys.exit("the server did not become healthy")
        exercise(base, code, chain_url, usdt)
    finally:
        server.terminate()
        server.wait(timeout=20)
        node.terminate()
        node.wait(timeout=20)
        shutil.rmtree(data_dir, ignore_errors=True)
    print("README examples: 5 passed, 0 failed")


def exercise(base, code, chain_url, usdt):
    hooks = Webhooks()
    admin = expect(*request(base, "POST", "/api/v1/auth/login",
                            {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}), 200, "admin login")["token"]
    # Admin actions that move money (the deposit below) need 2FA on and a session that
    # passed a code; turning it on in this session does both.
    secret = expect(*request(base, "POST", "/api/v1/auth/totp/setup", {}, admin), 200,
                    "admin TOTP set-up")["secret"]
    expect(*request(base, "POST", "/api/v1/auth/totp/enable", {"code": totp_code(secret)}, admin),
           200, "admin TOTP enabled")
    merchant = expect(*request(base, "POST", "/api/v1/admin/merchants",
                               {"name": "README Shop", "email": "shop@readme.test", "fee_rate": "0.01",
                                "webhook_url": hooks.url}, admin), 201, "create merchant")
    acceptor = expect(*request(base, "POST", "/api/v1/admin/acceptors",
                               {"email": "acceptor@readme.test", "password": "acceptor-password",
                                "display_name": "README Acceptor"}, admin), 201, "create acceptor")
    expect(*request(base, "POST", f"/api/v1/admin/acceptors/{acceptor['id']}/deposits",
                    {"amount": "5000.00", "network": "tron", "txid": "readme-deposit-1"}, admin), 201, "deposit")
    acc = expect(*request(base, "POST", "/api/v1/auth/login",
                          {"email": "acceptor@readme.test", "password": "acceptor-password"}), 200, "acceptor login")["token"]
    expect(*request(base, "PUT", "/api/v1/acceptor/quotes/CNY",
                    {"rate": "7.18", "min_amount": "1.00", "max_amount": "1000.00"}, acc), 200, "quote")
    expect(*request(base, "POST", "/api/v1/acceptor/payment-methods",
                    {"fiat": "CNY", "method": "bank_transfer",
                     "details": {"bank_name": "Bank", "account_name": "Acceptor", "account_number": "1"}}, acc),
           201, "payment method")
    expect(*request(base, "PUT", "/api/v1/acceptor/online", {"online": True}, acc), 200, "online")

    def env_for(key):
        return dict(os.environ, OTCPAY_URL=base, OTCPAY_KEY_ID=key["key_id"], OTCPAY_SECRET=key["secret"],
                    OTCPAY_WEBHOOK_SECRET=merchant["webhook_secret"])

    program = code["client"] + "\n" + code["create_order"]

    # 1. Sandbox: the test key's order completes by itself.
    out = run_python(program, env_for(merchant["test_api_key"]))
    sandbox_order = out.split()[0]
    if "final status: completed" not in out:
        sys.exit(f"sandbox order did not complete:\n{out}")

    # 2. Live: this script is the customer and the acceptor while the example polls.
    live = subprocess.Popen([sys.executable, "-c", program], env=env_for(merchant["api_key"]),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    order = None
    for _ in range(100):
        listing = expect(*request(base, "GET", "/api/v1/acceptor/orders?status=assigned", token=acc), 200, "orders")
        if listing["data"]:
            order = listing["data"][0]
            break
        time.sleep(0.1)
    if order is None:
        sys.exit("the live order never reached the acceptor")
    token = order["cashier_url"].rsplit("/", 1)[1]
    expect(*request(base, "POST", f"/pay/{token}/paid", {"payer_name": "Customer"}), 200, "customer paid")
    expect(*request(base, "POST", f"/api/v1/acceptor/orders/{order['id']}/confirm", {}, acc), 200, "confirm")
    out, err = live.communicate(timeout=60)
    if live.returncode != 0 or "final status: completed" not in out:
        sys.exit(f"live example failed:\n{out}\n{err}")

    # 3. Every callback verifies with the README's function.
    namespace = {}
    exec(code["verify_webhook"], namespace)
    verify = namespace["verify_webhook"]
    for order_id in (sandbox_order, order["id"]):
        for event_type in ("order.paid", "order.completed"):
            headers, body = hooks.wait_for(event_type, order_id)
            if not verify(merchant["webhook_secret"], headers, body):
                sys.exit(f"{event_type} for {order_id} did not verify")
            if verify("whsec_" + base64.b64encode(b"wrong key " * 3).decode(), headers, body):
                sys.exit("a webhook verified with the wrong secret")

    # 4. curl: the live balance is 100 − 1 % fee.
    result = subprocess.run(["bash", "-c", code["curl"]], env=env_for(merchant["api_key"]),
                            capture_output=True, text=True, timeout=30)
    balance = json.loads(result.stdout)
    if balance["balances"][0]["available"] != "99.00":
        sys.exit(f"unexpected balance from the curl example: {result.stdout} {result.stderr}")

    # 5. On chain: this script is the customer's wallet and the chain while the example polls.
    onchain = subprocess.Popen([sys.executable, "-c", code["client"] + "\n" + code["onchain_order"]],
                               env=env_for(merchant["api_key"]), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    first = onchain.stdout.readline().split()
    if len(first) < 3:
        sys.exit(f"the on-chain example printed no order: {first} {onchain.stderr.read()}")
    order_id, address, amount = first[0], first[1], first[2]
    minted = subprocess.run(
        ["node", "-e", f"require('{ROOT}/tests/chain/deploy.js').mint('{chain_url}', '{usdt}', "
                       f"'{address}', '{int(decimal.Decimal(amount) * 1_000_000)}')"],
        capture_output=True, text=True, timeout=60)
    if minted.returncode != 0:
        sys.exit(f"the customer's transfer failed: {minted.stderr}")
    rpc(chain_url, "anvil_mine", ["0x2"])
    out, err = onchain.communicate(timeout=90)
    if onchain.returncode != 0 or "final status: completed 0x" not in out or " 25.00 2" not in out:
        sys.exit(f"on-chain example failed:\n{out}\n{err}")
    headers, body = hooks.wait_for("order.completed", order_id)
    if not verify(merchant["webhook_secret"], headers, body) or not json.loads(body)["data"]["txid"]:
        sys.exit("the on-chain order.completed callback did not verify or has no txid")


if __name__ == "__main__":
    main()
