'use strict';
// The JSON API as a client written from API.md uses it: portal logins, the admin's
// set-up calls, a signed merchant client, a webhook receiver, the ledger check.

const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const http = require('node:http');
const { freshCode } = require('./totp');

/** One JSON request: {status, headers, body (parsed or null), text}. */
async function request(base, method, path, { body, token, headers = {}, rawBody } = {}) {
  const sent = rawBody !== undefined ? rawBody : body === undefined ? undefined : JSON.stringify(body);
  const response = await fetch(base + path, {
    method,
    headers: {
      ...(sent !== undefined ? { 'Content-Type': 'application/json' } : {}),
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body: sent,
    redirect: 'manual',
    signal: AbortSignal.timeout(20000),
  });
  const text = await response.text();
  let parsed = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  return { status: response.status, headers: response.headers, body: parsed, text };
}

/** Asserts the status and returns the parsed body. */
function expectStatus(response, wanted, what) {
  assert.equal(
    response.status,
    wanted,
    `${what}: expected HTTP ${wanted}, got ${response.status}: ${response.text.slice(0, 500)}`,
  );
  return response.body;
}

async function call(base, method, path, wanted, what, options) {
  return expectStatus(await request(base, method, path, options), wanted, what);
}

/** Logs in through POST /api/v1/auth/login; returns the bearer token. */
async function login(base, email, password, totpCode) {
  const body = { email, password, ...(totpCode ? { totp_code: totpCode } : {}) };
  return (await call(base, 'POST', '/api/v1/auth/login', 200, `log in ${email}`, { body })).token;
}

async function adminLogin(server) {
  return login(server.base, server.adminEmail, server.adminPassword);
}

/**
 * Turns 2FA on for the session's user (setup, then enable with a fresh code); the same
 * session then counts as having passed the second factor. Returns the base32 secret.
 */
async function totpOn(base, token) {
  const setup = await call(base, 'POST', '/api/v1/auth/totp/setup', 200, 'totp setup', { token });
  assert.match(setup.otpauth_url, /^otpauth:\/\/totp\//, 'otpauth_url');
  const code = await freshCode(setup.secret);
  await call(base, 'POST', '/api/v1/auth/totp/enable', 200, 'totp enable', { token, body: { code } });
  return setup.secret;
}

let unique = 0;
/** A name unique within the run: `${prefix}-<time>-<n>`. */
function uniqueName(prefix) {
  return `${prefix}-${Date.now().toString(36)}-${++unique}`;
}

/** POST /api/v1/admin/merchants → {merchant, api_key, test_api_key, webhook_secret}. */
async function createMerchant(base, adminToken, fields = {}) {
  const body = {
    name: 'E2E Shop',
    email: `${uniqueName('shop')}@e2e.test`,
    fee_rate: '0.01',
    // Tests poll; the default of 100 signed requests a minute is too tight for that.
    rate_limit_per_minute: 6000,
    ...fields,
  };
  return call(base, 'POST', '/api/v1/admin/merchants', 201, 'create merchant', { token: adminToken, body });
}

/** POST /api/v1/admin/acceptors → the acceptor (active), plus its password. */
async function createAcceptor(base, adminToken, fields = {}) {
  const body = {
    email: `${uniqueName('acceptor')}@e2e.test`,
    password: 'acceptor-password-e2e',
    display_name: 'E2E Acceptor',
    max_concurrent_orders: 20,
    ...fields,
  };
  const acceptor = await call(base, 'POST', '/api/v1/admin/acceptors', 201, 'create acceptor', {
    token: adminToken,
    body,
  });
  return { ...acceptor, email: body.email, password: body.password };
}

async function approveAcceptor(base, adminToken, id) {
  return call(base, 'POST', `/api/v1/admin/acceptors/${id}/approve`, 200, `approve ${id}`, { token: adminToken });
}

/** POST /api/v1/admin/acceptors/{id}/deposits (needs an admin session that passed 2FA). */
async function deposit(base, adminToken, acceptorId, { amount = '5000.00', network = 'tron', txid } = {}) {
  const body = { amount, network, txid: txid || uniqueName('deposit') };
  return call(base, 'POST', `/api/v1/admin/acceptors/${acceptorId}/deposits`, 201, 'deposit', {
    token: adminToken,
    body,
  });
}

/**
 * An active, funded, online acceptor with a quote and a bank_transfer method, all through
 * the JSON API: {acceptor, token}.
 */
async function onlineAcceptor(base, adminToken, { fiat = 'CNY', rate = '7.18', bank = {} } = {}) {
  const acceptor = await createAcceptor(base, adminToken);
  await deposit(base, adminToken, acceptor.id);
  const token = await login(base, acceptor.email, acceptor.password);
  await call(base, 'PUT', `/api/v1/acceptor/quotes/${fiat}`, 200, 'quote', {
    token,
    body: { rate, min_amount: '1.00', max_amount: '5000.00' },
  });
  await call(base, 'POST', '/api/v1/acceptor/payment-methods', 201, 'payment method', {
    token,
    body: {
      fiat,
      method: 'bank_transfer',
      details: {
        bank_name: 'China Merchants Bank',
        account_name: 'Zhang Wei',
        account_number: '6225880212345678',
        ...bank,
      },
    },
  });
  await call(base, 'PUT', '/api/v1/acceptor/online', 200, 'online', { token, body: { online: true } });
  return { acceptor, token };
}

/**
 * A merchant API client that signs each request: HMAC-SHA256 hex of
 * `Request-Time + METHOD + path_and_query + body` with the key's secret.
 */
function merchantClient(base, { key_id: keyId, secret }) {
  let lastTime = 0;
  async function signed(method, pathAndQuery, body) {
    const raw = body === undefined ? '' : JSON.stringify(body);
    // Strictly increasing: two identical requests in one millisecond would be a replay.
    const time = String((lastTime = Math.max(Date.now(), lastTime + 1)));
    const signature = crypto
      .createHmac('sha256', secret)
      .update(time + method.toUpperCase() + pathAndQuery + raw)
      .digest('hex');
    return request(base, method.toUpperCase(), pathAndQuery, {
      rawBody: raw === '' ? undefined : raw,
      headers: {
        'API-Key': keyId,
        'Request-Time': time,
        'Signature-V1': signature,
        'Content-Type': 'application/json',
      },
    });
  }
  return {
    request: signed,
    async call(method, pathAndQuery, wanted, what, body) {
      return expectStatus(await signed(method, pathAndQuery, body), wanted, what);
    },
    async balance() {
      const body = expectStatus(await signed('GET', '/api/v1/balance'), 200, 'balance');
      const usdt = body.balances.find((b) => b.currency === 'USDT');
      return usdt ? Number(usdt.available) : 0;
    },
    /** POST /api/v1/orders, then waits until the order is assigned to an acceptor. */
    async createAssignedOrder(fields = {}) {
      const merchantOrderId = uniqueName('inv');
      const body = {
        merchant_order_id: merchantOrderId,
        amount: '100.00',
        currency: 'USDT',
        fiat_currency: 'CNY',
        payment_method: 'bank_transfer',
        return_url: `https://shop.example/done?order=${merchantOrderId}`,
        ...fields,
      };
      let order = expectStatus(await signed('POST', '/api/v1/orders', body), 201, 'create order');
      order = await waitFor(
        async () => {
          const now = expectStatus(await signed('GET', `/api/v1/orders/${order.id}`), 200, 'get order');
          return now.status === 'assigned' ? now : null;
        },
        { what: `order ${order.id} assigned`, timeoutMs: 15000 },
      );
      return order;
    },
    async waitForStatus(orderId, status, timeoutMs = 15000) {
      let last;
      try {
        return await waitFor(
          async () => {
            last = expectStatus(await signed('GET', `/api/v1/orders/${orderId}`), 200, 'get order');
            return last.status === status ? last : null;
          },
          { what: `order ${orderId} ${status}`, timeoutMs },
        );
      } catch (error) {
        throw new Error(`order ${orderId} did not become ${status}; it is ${last && last.status}: ${error.message}`);
      }
    },
  };
}

/** Polls `probe` until it returns something truthy. */
async function waitFor(probe, { timeoutMs = 10000, intervalMs = 200, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let lastError;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${lastError.message}` : ''}`);
}

/**
 * Standard Webhooks: `webhook-signature: v1,<base64 HMAC-SHA256(key, "{id}.{ts}.{body}")>`
 * with key = base64-decoded part of `whsec_…`.
 */
function verifyWebhook(secret, headers, body) {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const expected = crypto
    .createHmac('sha256', key)
    .update(`${headers['webhook-id']}.${headers['webhook-timestamp']}.${body}`)
    .digest('base64');
  return String(headers['webhook-signature'] || '')
    .split(' ')
    .some((part) => {
      const [version, signature] = part.split(',');
      return (
        version === 'v1' &&
        signature &&
        signature.length === expected.length &&
        crypto.timingSafeEqual(Buffer.from(signature), Buffer.from(expected))
      );
    });
}

/** Records every POST it gets ({headers, body, event}) and answers 200. */
class WebhookReceiver {
  constructor() {
    this.received = [];
    this.server = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        let event = null;
        try {
          event = JSON.parse(body);
        } catch {
          event = null;
        }
        this.received.push({ method: req.method, path: req.url, headers: req.headers, body, event });
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.end('ok');
      });
    });
  }

  start() {
    return new Promise((resolve) => {
      this.server.listen(0, '127.0.0.1', () => {
        this.url = `http://127.0.0.1:${this.server.address().port}/webhook`;
        resolve(this);
      });
    });
  }

  stop() {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** The first callback of `type` whose data.id is `objectId`. */
  async waitFor(type, objectId, { timeoutMs = 20000 } = {}) {
    return waitFor(
      () => this.received.find((r) => r.event && r.event.type === type && r.event.data && r.event.data.id === objectId),
      {
        timeoutMs,
        intervalMs: 100,
        what: `webhook ${type} for ${objectId} (got: ${this.received.map((r) => r.event && r.event.type).join(', ') || 'none'})`,
      },
    );
  }
}

async function startWebhookReceiver() {
  return new WebhookReceiver().start();
}

/** GET /api/v1/admin/ledger/check must answer {"ok": true}. */
async function ledgerCheck(base, adminToken) {
  const result = await call(base, 'GET', '/api/v1/admin/ledger/check', 200, 'ledger check', { token: adminToken });
  assert.equal(result.ok, true, `ledger check: ${JSON.stringify(result)}`);
  return result;
}

module.exports = {
  request,
  call,
  expectStatus,
  login,
  adminLogin,
  totpOn,
  createMerchant,
  createAcceptor,
  approveAcceptor,
  deposit,
  onlineAcceptor,
  merchantClient,
  startWebhookReceiver,
  WebhookReceiver,
  verifyWebhook,
  ledgerCheck,
  waitFor,
  uniqueName,
};
