'use strict';
// Starts the real `otcpay serve` binary for one test file and stops it afterwards.
//
// Embedded SQLite in a temp data dir by default; PostgreSQL + Redis when the runner sets
// E2E_DATABASE_URL (a database it created: each server gets its own fresh database
// `<that name>_<pid>_<n>` on the same PostgreSQL, dropped at stop) and E2E_REDIS_URL (each
// server gets its own key prefix under E2E_REDIS_PREFIX). Mail goes to the SMTP listener
// the test passes (lib/smtp.js). The server's output goes to tests/e2e/logs/<name>.log.

const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..', '..');
const E2E_DIR = path.resolve(__dirname, '..');
const LOG_DIR = path.join(E2E_DIR, 'logs');
const BINARY = process.env.OTCPAY_BIN || path.join(ROOT, 'target', 'debug', 'otcpay');
// Fixed so that a failed run can be replayed against the same data; never a real key.
const MASTER_KEY = '6f7463706179206532652074657374206d6173746572206b6579202d20303031';
const ADMIN_EMAIL = 'admin@e2e.test';
const ADMIN_PASSWORD = 'e2e-admin-password';

let serial = 0;
const running = new Set();
process.on('exit', () => {
  // A test process that dies must not leave servers behind.
  for (const child of running) child.kill('SIGKILL');
});

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.unref();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

function psql(adminUrl, sql) {
  execFileSync('psql', [adminUrl, '-v', 'ON_ERROR_STOP=1', '-qAt', '-c', sql], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** A fresh database next to the runner's one: {url, drop()}. */
function freshDatabase(runUrl) {
  const url = new URL(runUrl);
  const base = decodeURIComponent(url.pathname.replace(/^\//, '')) || 'otcpay_e2e';
  const name = `${base}_${process.pid}_${++serial}`.replace(/[^a-zA-Z0-9_]/g, '_').slice(0, 63);
  const admin = new URL(runUrl);
  admin.pathname = '/postgres';
  admin.search = '';
  try {
    psql(admin.toString(), `CREATE DATABASE "${name}"`);
  } catch (error) {
    throw new Error(`cannot create database ${name} on ${admin.host}: ${error.stderr || error.message}`);
  }
  const own = new URL(runUrl);
  own.pathname = `/${name}`;
  return {
    url: own.toString(),
    drop() {
      try {
        psql(admin.toString(), `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } catch (error) {
        process.stderr.write(`warning: could not drop database ${name}: ${error.stderr || error.message}\n`);
      }
    },
  };
}

async function waitHealthy(base, child, logPath, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`otcpay exited during start (${child.exitCode ?? child.signalCode}); log:\n${tail(logPath)}`);
    }
    try {
      const response = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(2000) });
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`otcpay did not answer /healthz within ${timeoutMs} ms; log:\n${tail(logPath)}`);
}

function tail(file, lines = 40) {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * Starts a server. Options: name (log file name), smtp (a MailCatcher, or null for the
 * .eml files under the data dir), env (extra variables, win over the defaults).
 * Returns {base, port, dataDir, logPath, adminEmail, adminPassword, backend, databaseUrl, stop()}.
 */
async function startServer({ name = 'server', smtp = null, env = {}, startTimeoutMs = 60000 } = {}) {
  if (!fs.existsSync(BINARY)) {
    throw new Error(`${BINARY} does not exist: build it (cargo build -p otcpay) or set OTCPAY_BIN`);
  }
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'otcpay-e2e-'));
  fs.mkdirSync(LOG_DIR, { recursive: true });
  const logPath = path.join(LOG_DIR, `${name}-${port}.log`);

  // Only what this harness chooses reaches the server: no OTCPAY_* or service URLs of
  // the shell that started the tests.
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !k.startsWith('OTCPAY_') && !['DATABASE_URL', 'REDIS_URL', 'SMTP_URL'].includes(k),
    ),
  );
  const serverEnv = {
    ...inherited,
    OTCPAY_LISTEN: `127.0.0.1:${port}`,
    OTCPAY_PUBLIC_URL: base,
    OTCPAY_DATA_DIR: dataDir,
    OTCPAY_MASTER_KEY: MASTER_KEY,
    OTCPAY_ADMIN_EMAIL: ADMIN_EMAIL,
    OTCPAY_ADMIN_PASSWORD: ADMIN_PASSWORD,
    // The webhook receiver and the SMTP listener live on 127.0.0.1; with an external
    // database the server refuses private webhook targets unless told otherwise.
    OTCPAY_ALLOW_PRIVATE_WEBHOOKS: 'true',
    // Cheap password hashing and a quick scheduler: these tests log in a lot.
    OTCPAY_ARGON2_MEMORY_KIB: '4096',
    OTCPAY_ARGON2_ITERATIONS: '1',
    OTCPAY_SCHEDULER_INTERVAL_MS: '100',
    OTCPAY_HTTP_WORKERS: '2',
    RUST_LOG: process.env.E2E_RUST_LOG || 'info',
    NO_COLOR: '1',
  };
  let database = null;
  if (process.env.E2E_DATABASE_URL) {
    database = freshDatabase(process.env.E2E_DATABASE_URL);
    serverEnv.DATABASE_URL = database.url;
  }
  if (process.env.E2E_REDIS_URL) {
    serverEnv.REDIS_URL = process.env.E2E_REDIS_URL;
    serverEnv.OTCPAY_REDIS_PREFIX = `${process.env.E2E_REDIS_PREFIX || 'otcpay-e2e:'}${process.pid}-${serial}:`;
  }
  if (smtp) serverEnv.SMTP_URL = smtp.url;
  Object.assign(serverEnv, env);

  const log = fs.openSync(logPath, 'w');
  const child = spawn(BINARY, ['serve'], { cwd: dataDir, env: serverEnv, stdio: ['ignore', log, log] });
  fs.closeSync(log);
  running.add(child);
  const exited = new Promise((resolve) => child.once('exit', resolve));

  let stopped = false;
  async function stop() {
    if (stopped) return;
    stopped = true;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20000);
      await exited;
      clearTimeout(timer);
    }
    running.delete(child);
    if (database) database.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }

  try {
    await waitHealthy(base, child, logPath, startTimeoutMs);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    base,
    port,
    dataDir,
    logPath,
    adminEmail: ADMIN_EMAIL,
    adminPassword: ADMIN_PASSWORD,
    backend: database ? 'postgres' : 'sqlite',
    // The server process (its memory can be read in /proc).
    pid: child.pid,
    // The server's own PostgreSQL database (null on SQLite), for set-up a test cannot do
    // through the API.
    databaseUrl: database ? database.url : null,
    stop,
  };
}

module.exports = { startServer, freePort, BINARY, ROOT, E2E_DIR, ADMIN_EMAIL, ADMIN_PASSWORD };
