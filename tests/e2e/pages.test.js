'use strict';
// Every page, in English and Chinese, on a phone and a desktop: a screenshot under
// tests/e2e/screenshots/, no serious or critical accessibility violation, no catalogue
// key shown instead of a text, nothing wider than the phone's screen, and the language
// switch's two links.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');

const { startServer } = require('./lib/server');
const api = require('./lib/api');
const { launch, phone, desktop, shot, axe, named, visible } = require('./lib/browser');

let server;
let chromium;
let acceptor;
let order;

before(async () => {
  server = await startServer({ name: 'pages' });
  const admin = await api.adminLogin(server);
  await api.totpOn(server.base, admin);
  ({ acceptor } = await api.onlineAcceptor(server.base, admin));
  const merchant = await api.createMerchant(server.base, admin, { name: 'Pages Shop' });
  const shop = api.merchantClient(server.base, merchant.api_key);
  order = await shop.createAssignedOrder({ amount: '42.00' });
  chromium = await launch();
});

after(async () => {
  if (chromium) await chromium.close();
  if (server) await server.stop();
});

// A text the catalogue should have replaced: `table.key` in the visible text.
const RAW_KEY = /\b(nav|field|login|register|verify|forgot|reset|error|cashier|desk|order|quotes|history|security|method|mail|form)\.[a-z_]+\b/;

async function check(page, name) {
  const text = await page.locator('body').innerText();
  const raw = text.match(RAW_KEY);
  assert.equal(raw, null, `${name} shows a catalogue key: ${raw && raw[0]}`);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `${name} is ${overflow}px wider than the screen`);
  await visible(page.getByRole('link', { name: named('English') }), `${name}: language link English`);
  await visible(page.getByRole('link', { name: named('中文') }), `${name}: language link 中文`);
  await axe(page);
  await shot(page, name);
}

for (const [device, make] of [['phone', phone], ['desktop', desktop]]) {
  for (const locale of ['en-US', 'zh-CN']) {
    const lang = locale === 'zh-CN' ? 'zh' : 'en';
    test(`every page on a ${device} in ${lang}`, async () => {
      const context = await make(chromium, { locale, extraHTTPHeaders: { 'Accept-Language': locale } });
      const page = await context.newPage();
      try {
        for (const path of ['/login', '/register', '/forgot-password', '/reset-password?token=0', '/set-password?token=0', '/verify-email?token=0']) {
          await page.goto(server.base + path);
          await check(page, `${path.split('?')[0].slice(1)}-${device}-${lang}`);
        }
        await page.goto(order.cashier_url);
        await check(page, `cashier-${device}-${lang}`);

        await page.goto(server.base + '/login');
        await page.locator('#email').fill(acceptor.email);
        await page.locator('#password').fill(acceptor.password);
        await page.locator('form[action="/login"] button[type=submit]').click();
        await page.waitForURL(/\/acceptor$/);
        for (const path of ['/acceptor', '/acceptor/quotes', '/acceptor/history', '/acceptor/security', `/acceptor/orders/${order.id}`]) {
          const response = await page.goto(server.base + path);
          assert.equal(response.status(), 200, `${path} answers 200`);
          const name = path === '/acceptor' ? 'desk' : path.startsWith('/acceptor/orders/') ? 'acceptor-order' : path.slice(1).replace('/', '-');
          await check(page, `${name}-${device}-${lang}`);
        }
        const missing = await page.goto(server.base + '/acceptor/orders/ord_01M000000000000000000000000');
        assert.equal(missing.status(), 404);
        await check(page, `not-found-${device}-${lang}`);
      } finally {
        await context.close();
      }
    });
  }
}
