'use strict';
// The merchant dashboard in a real browser: the merchant logs in, walks every page on a
// phone and a desktop in English and Chinese (screenshots, no serious or critical
// accessibility violation, no catalogue key shown, nothing wider than the screen, the
// names of PORTAL.md "Merchant"), and the orders list shows a status change live,
// without a reload.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const { startServer } = require('./lib/server');
const api = require('./lib/api');
const { launch, phone, desktop, shot, axe, named, visible } = require('./lib/browser');

let server;
let chromium;
let admin;
let acceptor;
let shop;
let receiver;
let order;
let login;

const PASSWORD = 'merchant-password-e2e';

/**
 * The merchant's login: its invitation (no SMTP here, so the mail is an `.eml` file in the
 * server's data directory) is followed through the set-password page, as a person would.
 */
async function merchantLogin(email) {
  const link = await api.waitFor(
    () => {
      const dir = path.join(server.dataDir, 'mail');
      if (!fs.existsSync(dir)) return null;
      for (const file of fs.readdirSync(dir)) {
        const text = fs.readFileSync(path.join(dir, file), 'utf8').replace(/=\r?\n/g, '').replace(/=3D/g, '=');
        if (!text.includes(email)) continue;
        const found = text.match(/https?:\/\/[^\s"<]+\/set-password\?token=[0-9a-f]+/);
        if (found) return found[0];
      }
      return null;
    },
    { what: `the invitation mail to ${email}` },
  );
  const form = await fetch(link);
  const html = await form.text();
  const csrf = html.match(/name="csrf_token" value="([^"]+)"/)[1];
  const cookie = (form.headers.getSetCookie() || []).map((c) => c.split(';')[0]).join('; ');
  const token = new URL(link).searchParams.get('token');
  const set = await fetch(`${server.base}/set-password`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
    body: new URLSearchParams({ token, new_password: PASSWORD, csrf_token: csrf }).toString(),
  });
  assert.equal(set.status, 303, 'the invitation sets the password');
  return { email, password: PASSWORD };
}

before(async () => {
  server = await startServer({ name: 'merchant' });
  admin = await api.adminLogin(server);
  await api.totpOn(server.base, admin);
  ({ token: acceptor } = await api.onlineAcceptor(server.base, admin));
  receiver = await api.startWebhookReceiver();
  const merchant = await api.createMerchant(server.base, admin, { name: 'Dashboard Shop', webhook_url: receiver.url });
  shop = { id: merchant.merchant.id, client: api.merchantClient(server.base, merchant.api_key) };
  login = await merchantLogin(merchant.merchant.email);
  // A completed order (balance, statement, webhook deliveries) and one waiting.
  const paid = await shop.client.createAssignedOrder({ amount: '120.00' });
  await api.call(server.base, 'POST', `/api/v1/acceptor/orders/${paid.id}/confirm`, 200, 'release', { token: acceptor, body: {} });
  await receiver.waitFor('order.completed', paid.id);
  order = await shop.client.createAssignedOrder({ amount: '42.00' });
  chromium = await launch();
});

after(async () => {
  if (chromium) await chromium.close();
  if (receiver) await receiver.stop();
  if (server) await server.stop();
});

const RAW_KEY = /\b(nav|field|history|desk|security|form|merchant|merchant_[a-z]+)\.[a-z_]+\b/;

async function check(page, name) {
  const text = await page.locator('body').innerText();
  const raw = text.match(RAW_KEY);
  assert.equal(raw, null, `${name} shows a catalogue key: ${raw && raw[0]}`);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `${name} is ${overflow}px wider than the screen`);
  await axe(page);
  await shot(page, name);
}

async function logIn(page) {
  await page.goto(server.base + '/login');
  await page.locator('#email').fill(login.email);
  await page.locator('#password').fill(login.password);
  await page.locator('form[action="/login"] button[type=submit]').click();
  await page.waitForURL(/\/merchant$/);
}

for (const [device, make] of [['phone', phone], ['desktop', desktop]]) {
  for (const locale of ['en-US', 'zh-CN']) {
    const lang = locale === 'zh-CN' ? 'zh' : 'en';
    test(`every merchant page on a ${device} in ${lang}`, async () => {
      const context = await make(chromium, { locale, extraHTTPHeaders: { 'Accept-Language': locale } });
      const page = await context.newPage();
      try {
        await logIn(page);
        const pages = [
          ['/merchant', 'merchant-orders'],
          [`/merchant/orders/${order.id}`, 'merchant-order'],
          ['/merchant/balance', 'merchant-balance'],
          ['/merchant/withdrawals', 'merchant-withdrawals'],
          ['/merchant/keys', 'merchant-keys'],
          ['/merchant/webhooks', 'merchant-webhooks'],
        ];
        for (const [path, name] of pages) {
          const response = await page.goto(server.base + path);
          assert.equal(response.status(), 200, `${path} answers 200`);
          if (lang === 'en') await names(page, path);
          await check(page, `${name}-${device}-${lang}`);
        }
        const missing = await page.goto(server.base + '/merchant/orders/ord_01M000000000000000000000000');
        assert.equal(missing.status(), 404);
      } finally {
        await context.close();
      }
    });
  }
}

/** The accessible names PORTAL.md promises on each page (English). */
async function names(page, path) {
  const role = (r, n) => visible(page.getByRole(r, { name: named(n) }), `${path}: ${r} ${n}`);
  switch (path) {
    case '/merchant':
      await role('table', 'Orders');
      await role('link', 'Export CSV');
      break;
    case '/merchant/balance':
      await role('region', 'Balance');
      await role('table', 'Statement');
      break;
    case '/merchant/withdrawals':
      for (const label of ['Amount', 'Network', 'Address']) await visible(page.getByLabel(named(label)), `${path}: field ${label}`);
      await role('button', 'Request withdrawal');
      await role('table', 'Withdrawals');
      break;
    case '/merchant/keys':
      await role('button', 'Create API key');
      await role('button', 'Revoke');
      break;
    case '/merchant/webhooks':
      await visible(page.getByLabel(named('Endpoint URL')), `${path}: field Endpoint URL`);
      await role('button', 'Save');
      await role('button', 'Rotate secret');
      await role('table', 'Deliveries');
      await role('button', 'Redeliver');
      break;
    default:
  }
}

test('the orders list shows a status change live, without a reload', async () => {
  const context = await desktop(chromium);
  const page = await context.newPage();
  try {
    const fresh = await shop.client.createAssignedOrder({ amount: '33.00' });
    await logIn(page);
    const table = page.getByRole('table', { name: named('Orders') });
    const row = table.locator(`tr[data-row-id="${fresh.id}"]`);
    await visible(row.getByText(named('Waiting for payment')), 'the new order waiting');
    await visible(page.locator('[data-live-indicator]:not([hidden])'), 'the live indicator');
    await page.evaluate(() => { window.__notReloaded = true; });
    await api.call(server.base, 'POST', `/api/v1/acceptor/orders/${fresh.id}/confirm`, 200, 'release', { token: acceptor, body: {} });
    await visible(row.getByText(named('Released')), 'the row says Released', { timeoutMs: 10000 });
    assert.equal(await page.evaluate(() => window.__notReloaded), true, 'the page was not reloaded');
    // A new order slides in at the top, live too.
    const next = await shop.client.createAssignedOrder({ amount: '34.00' });
    await visible(table.locator(`tr[data-row-id="${next.id}"]`), 'the new order appears', { timeoutMs: 10000 });
    assert.equal(await page.evaluate(() => window.__notReloaded), true, 'still not reloaded');
    await shot(page, 'merchant-orders-live-desktop-en');
    await api.ledgerCheck(server.base, admin);
  } finally {
    await context.close();
  }
});
