#!/usr/bin/env python3
"""Fuzzes the HTTP API with schemathesis against the server's own OpenAPI document.

Starts the `otcpay` binary (embedded SQLite in a temp dir, like readme_examples.py),
prepares two portal sessions:
  - an admin with two-factor authentication on (`POST /api/v1/auth/totp/setup`, then
    `POST /api/v1/auth/totp/enable` with an RFC 6238 code computed here; the session
    that enabled it counts as having passed the second factor),
  - an acceptor created by that admin and logged in,
then runs schemathesis three times on `/api/v1/openapi.json`: unauthenticated (every
operation), as the admin (admin and portal-authentication routes) and as the acceptor
(acceptor and portal-authentication routes). Merchant signed routes are fuzzed
unauthenticated only.

Required checks (the run fails when any of them fails): `not_a_server_error`,
`response_schema_conformance`, `status_code_conformance`, `content_type_conformance`.
Every other check runs too; its failures are listed with the reason the document
cannot express the rule, and do not fail the run.

Environment: OTCPAY_BIN (default target/debug/otcpay), SCHEMATHESIS (default
`schemathesis` on PATH), FUZZ_SECONDS (time budget of each of the three runs, default
60), FUZZ_SEED (default random; printed for reproduction), FUZZ_REPORT_DIR (where the
JSON reports go, default a temp dir).
"""

import base64
import hashlib
import hmac
import json
import os
import random
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BINARY = os.environ.get("OTCPAY_BIN", os.path.join(ROOT, "target", "debug", "otcpay"))
SCHEMATHESIS = os.environ.get("SCHEMATHESIS", "schemathesis")
SECONDS = int(os.environ.get("FUZZ_SECONDS", "60"))
ADMIN_EMAIL, ADMIN_PASSWORD = "admin@fuzz.test", "fuzz-admin-password"
ACCEPTOR_EMAIL, ACCEPTOR_PASSWORD = "acceptor@fuzz.test", "fuzz-acceptor-password"

REQUIRED_CHECKS = (
    "not_a_server_error",
    "response_schema_conformance",
    "status_code_conformance",
    "content_type_conformance",
)

# Why a failure of a non-required check is a rule the document cannot express.
REASONS = {
    "positive_data_acceptance": (
        "the server refuses some schema-valid values on purpose, by rules JSON Schema cannot "
        "state: an amount of zero or above the maximum, more decimals than the currency's "
        "scale, min_amount > max_amount, a fiat code that is not in the configured list, a "
        "TOTP code that does not match the secret, a PEM that is not a P-256 key, an email "
        "that does not normalize, control characters or Unicode blanks in free text"
    ),
    "negative_data_rejection": (
        "where the server is more lenient than the schema on purpose: a password reset "
        "answers 202 for any email (it must not tell which addresses exist), fiat codes "
        "are case-insensitive, surrounding spaces are trimmed"
    ),
    "missing_required_header": (
        "the document declares the signed-request headers as required parameters; the "
        "server answers a missing one with 401 missing_credentials, which schemathesis "
        "expects as 406/400-style rejection"
    ),
    "unsupported_method": (
        "a known path requested with another method answers 405 with Allow (documented "
        "once, as components.responses.MethodNotAllowed, not on every operation)"
    ),
    "allow_header_conformance": (
        "the Allow header of a 405 lists the methods the server mounts on the path, which "
        "may include routes the fuzzed subset of the document leaves out"
    ),
    "ignored_auth": (
        "routes without credentials in the document (public, cashier) are fuzzed with "
        "credentials too; a 2xx there is correct"
    ),
    "use_after_free": "object lifecycles (a revoked key, a deleted quote) are not linked in the document",
    "ensure_resource_availability": "the document has no links between a create and its read",
    "response_headers_conformance": (
        "response headers such as X-Request-Id are documented; a header schema cannot say "
        "when an intermediary adds or drops one"
    ),
    "max_response_time": "response time is not part of the contract",
}


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
        with urllib.request.urlopen(req, timeout=15) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        raw = error.read()
        try:
            return error.code, json.loads(raw or b"null")
        except ValueError:
            return error.code, raw.decode(errors="replace")


def expect(status, body, wanted, what):
    if status != wanted:
        sys.exit(f"fuzz set-up: {what}: expected HTTP {wanted}, got {status}: {body}")
    return body


def totp(secret, at=None):
    """The RFC 6238 code (HMAC-SHA1, 6 digits, 30 s steps) of a base32 secret."""
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    counter = int((time.time() if at is None else at) // 30)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF
    return f"{number % 1_000_000:06d}"


def prepare_sessions(base):
    admin = expect(*request(base, "POST", "/api/v1/auth/login",
                            {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}), 200, "admin login")["token"]
    setup = expect(*request(base, "POST", "/api/v1/auth/totp/setup", token=admin), 200, "totp setup")
    if not setup["otpauth_url"].startswith("otpauth://totp/"):
        sys.exit(f"fuzz set-up: unexpected otpauth_url {setup['otpauth_url']!r}")
    # Not the code of a step that is about to end: the server may see the next step.
    if time.time() % 30 > 27:
        time.sleep(31 - time.time() % 30)
    enabled = expect(*request(base, "POST", "/api/v1/auth/totp/enable",
                              {"code": totp(setup["secret"])}, admin), 200, "totp enable")
    if enabled != {"totp_enabled": True}:
        sys.exit(f"fuzz set-up: unexpected totp enable answer {enabled}")
    acceptor = expect(*request(base, "POST", "/api/v1/admin/acceptors",
                               {"email": ACCEPTOR_EMAIL, "password": ACCEPTOR_PASSWORD,
                                "display_name": "Fuzz Acceptor"}, admin), 201, "create acceptor")
    # A money action: fails with 403 totp_setup_required if the session did not count as
    # having passed the second factor.
    expect(*request(base, "POST", f"/api/v1/admin/acceptors/{acceptor['id']}/deposits",
                    {"amount": "1000.00", "network": "tron", "txid": "fuzz-deposit-1"}, admin),
           201, "deposit as a 2FA admin")
    acc = expect(*request(base, "POST", "/api/v1/auth/login",
                          {"email": ACCEPTOR_EMAIL, "password": ACCEPTOR_PASSWORD}), 200, "acceptor login")["token"]
    expect(*request(base, "GET", "/api/v1/acceptor/profile", token=acc), 200, "acceptor profile")
    return admin, acc


# Operations left out of the authenticated runs: logging out would end the session the
# run uses, and the acceptor's event stream never ends.
SESSION_EXCLUDES = ["--exclude-operation-id", "logout", "--exclude-operation-id", "acceptorEvents"]
RUNS = [
    # (name, bearer token key, extra arguments)
    ("unauthenticated", None, ["--exclude-operation-id", "acceptorEvents",
                               "--exclude-operation-id", "cashierEvents"]),
    ("admin (2FA on)", "admin",
     ["--include-path-regex", "^/api/v1/(admin|auth)/", *SESSION_EXCLUDES]),
    ("acceptor", "acceptor",
     ["--include-path-regex", "^/api/v1/(acceptor|auth)/", *SESSION_EXCLUDES]),
]


def run_schemathesis(base, name, token, extra, seed, report_dir, index):
    report = os.path.join(report_dir, f"run{index}.ndjson")
    command = [
        SCHEMATHESIS, "run", f"{base}/api/v1/openapi.json",
        "--checks", "all",
        "--phases", "examples,coverage,fuzzing",
        "--max-time", str(SECONDS),
        "--max-examples", "40",
        # One worker: hypothesis is not thread-safe everywhere (it crashed in its AST
        # cache under two), and the server shares the machine.
        "--workers", "1",
        "--seed", str(seed),
        "--request-timeout", "15",
        "--continue-on-failure",
        "--suppress-health-check", "all",
        "--generation-database", "none",
        "--report", "ndjson",
        "--report-ndjson-path", report,
        "--no-color",
        "--output-truncate", "true",
        *extra,
    ]
    if token:
        command += ["-H", f"Authorization: Bearer {token}"]
    shown = " ".join("Authorization: Bearer <token>" if a.startswith("Authorization:") else a for a in command)
    print(f"\n--- schemathesis run {index}: {name}\n$ {shown}", flush=True)
    started = time.time()
    # In the report dir: schemathesis keeps a cache under the working directory.
    result = subprocess.run(command, capture_output=True, text=True, cwd=report_dir,
                            timeout=SECONDS * 4 + 120)
    took = time.time() - started
    if result.returncode not in (0, 1):
        sys.exit(f"schemathesis did not run ({result.returncode}):\n{result.stdout[-6000:]}\n{result.stderr[-4000:]}")
    log_path = os.path.join(report_dir, f"run{index}.log")
    with open(log_path, "w", encoding="utf-8") as log:
        log.write(result.stdout)
        log.write(result.stderr)
    tail = [line for line in result.stdout.splitlines() if line.strip()][-6:]
    print("\n".join(tail))
    if "=== ERRORS ===" in result.stdout or " error" in (tail[-1] if tail else ""):
        # Errors of the tool itself (not of the server): shown, not failing the run.
        print(f"note: schemathesis reported errors of its own; see {log_path}")
    print(f"({took:.0f} s; output in {log_path})", flush=True)
    return failures_of(report, result.stdout, name)


def failures_of(report, stdout, run_name):
    """Failed checks from the NDJSON events, one per (check, operation, status, title):
    [(run, check, operation, status, title, example)]."""
    if not os.path.exists(report):
        sys.exit(f"schemathesis wrote no report {report}:\n{stdout[-4000:]}")
    found = {}
    with open(report, encoding="utf-8") as events:
        for line in events:
            if '"failure"' not in line:
                continue
            event = json.loads(line).get("ScenarioFinished")
            if not event:
                continue
            recorder = event.get("recorder") or {}
            label = recorder.get("label", "?")
            interactions = recorder.get("interactions") or {}
            for case_id, checks in (recorder.get("checks") or {}).items():
                for check in checks:
                    if check.get("status") != "failure":
                        continue
                    failure = (check.get("failure_info") or {}).get("failure") or {}
                    response = (interactions.get(case_id) or {}).get("response") or {}
                    status = response.get("status_code")
                    key = (check["name"], label, status, failure.get("title", "?"))
                    if key not in found:
                        found[key] = example_of(interactions.get(case_id) or {}, failure)
    return [(run_name, *key, example) for key, example in found.items()]


def decode(body):
    if isinstance(body, dict) and "$base64" in body:
        return base64.b64decode(body["$base64"]).decode(errors="replace")
    return "" if body is None else str(body)


def example_of(interaction, failure):
    request = interaction.get("request") or {}
    response = interaction.get("response") or {}
    headers = {k: v for k, v in (request.get("headers") or {}).items() if k.lower() != "authorization"}
    return (f"{request.get('method')} {request.get('uri')} {json.dumps(headers)} "
            f"body={decode(request.get('body'))[:300]!r} -> {response.get('status_code')} "
            f"{decode(response.get('content'))[:300]!r}; {failure.get('message', '')[:400]}")


def main():
    if not os.path.exists(BINARY):
        sys.exit(f"{BINARY} does not exist: build it first")
    version = subprocess.run([SCHEMATHESIS, "--version"], capture_output=True, text=True)
    if version.returncode != 0:
        sys.exit(f"{SCHEMATHESIS} does not run: {version.stderr}")
    print(version.stdout.strip())
    seed = int(os.environ.get("FUZZ_SEED") or random.randrange(1, 2**31))
    print(f"seed {seed} (FUZZ_SEED={seed} reproduces the inputs)")
    report_dir = os.environ.get("FUZZ_REPORT_DIR") or tempfile.mkdtemp(prefix="otcpay-fuzz-report-")
    os.makedirs(report_dir, exist_ok=True)

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    data_dir = tempfile.mkdtemp(prefix="otcpay-fuzz-")
    server_env = dict(os.environ, OTCPAY_LISTEN=f"127.0.0.1:{port}", OTCPAY_DATA_DIR=data_dir,
                      OTCPAY_ADMIN_EMAIL=ADMIN_EMAIL, OTCPAY_ADMIN_PASSWORD=ADMIN_PASSWORD,
                      OTCPAY_ARGON2_MEMORY_KIB="4096", OTCPAY_ARGON2_ITERATIONS="1",
                      RUST_LOG="error")
    for name in ("DATABASE_URL", "REDIS_URL", "SMTP_URL"):
        server_env.pop(name, None)
    # FUZZ_DATABASE_URL / FUZZ_REDIS_URL: fuzz the PostgreSQL + Redis configuration.
    if os.environ.get("FUZZ_DATABASE_URL"):
        server_env.update(DATABASE_URL=os.environ["FUZZ_DATABASE_URL"],
                          OTCPAY_MASTER_KEY="66757a7a696e672d6d61737465722d6b65792d30303030303030303030303030")
    if os.environ.get("FUZZ_REDIS_URL"):
        server_env.update(REDIS_URL=os.environ["FUZZ_REDIS_URL"],
                          OTCPAY_REDIS_PREFIX=f"otcpay-fuzz-{os.getpid()}:")
    server_log = open(os.path.join(report_dir, "server.log"), "w", encoding="utf-8")
    server = subprocess.Popen([BINARY], env=server_env, cwd=data_dir, stdout=server_log,
                              stderr=subprocess.STDOUT)
    started = time.time()
    failures = []
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
        admin, acc = prepare_sessions(base)
        tokens = {"admin": admin, "acceptor": acc}
        for index, (name, who, extra) in enumerate(RUNS, 1):
            failures += run_schemathesis(base, name, tokens.get(who), extra, seed, report_dir, index)
            if server.poll() is not None:
                sys.exit(f"the server died during the {name} run (log: {server_log.name})")
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        server_log.close()
        shutil.rmtree(data_dir, ignore_errors=True)

    required = [f for f in failures if f[1] in REQUIRED_CHECKS]
    other = [f for f in failures if f[1] not in REQUIRED_CHECKS]
    print(f"\n=== fuzzing took {time.time() - started:.0f} s; reports in {report_dir}")
    if other:
        print(f"\n{len(other)} finding(s) of non-required checks (reported, not failing):")
        for check in sorted({f[1] for f in other}):
            rows = {}
            for f in other:
                if f[1] == check:
                    rows.setdefault((f[2], str(f[3])), []).append(f[0])
            print(f"\n[{check}] {len(rows)} operation(s): {REASONS.get(check, 'not a rule of the contract')}")
            for (label, status), runs in sorted(rows.items())[:12]:
                print(f"  - {label} -> {status} ({', '.join(sorted(set(runs)))})")
            if len(rows) > 12:
                print(f"  - … and {len(rows) - 12} more (FUZZ_VERBOSE=1 shows every request)")
            if os.environ.get("FUZZ_VERBOSE"):
                for f in other:
                    if f[1] == check:
                        print(f"      {f[2]}: {f[5]}")
    if required:
        print(f"\nFAILED: {len(required)} failure(s) of required checks:")
        for run, check, label, status, title, example in sorted(required, key=lambda f: (f[1], f[2])):
            print(f"  - [{check}] {label} -> {status}: {title} ({run})\n      {example}")
        print(f"details: {report_dir}/run*.log")
        sys.exit(1)
    print(f"\nfuzzing: required checks ({', '.join(REQUIRED_CHECKS)}) passed")


if __name__ == "__main__":
    main()
