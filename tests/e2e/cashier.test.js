'use strict';
// The customer's cashier page (PORTAL.md "Customer"), driven in Chromium by its accessible
// names only, with the merchant, the acceptor and the admin played through the JSON API.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');

const { startServer } = require('./lib/server');
const { startMailCatcher } = require('./lib/smtp');
const api = require('./lib/api');
const { launch, phone, desktop, shot, axe, named, visible, gone } = require('./lib/browser');

let server;
let mail;
let hooks;
let chromium;
let admin;
let merchant;
let shop;
let acceptorToken;

before(async () => {
  mail = await startMailCatcher();
  hooks = await api.startWebhookReceiver();
  server = await startServer({ name: 'cashier', smtp: mail });
  admin = await api.adminLogin(server);
  await api.totpOn(server.base, admin); // deposits are money actions
  merchant = await api.createMerchant(server.base, admin, { name: 'Cashier Shop', webhook_url: hooks.url });
  shop = api.merchantClient(server.base, merchant.api_key);
  ({ token: acceptorToken } = await api.onlineAcceptor(server.base, admin, { fiat: 'CNY', rate: '7.18' }));
  chromium = await launch();
});

after(async () => {
  if (chromium) await chromium.close();
  if (server) await server.stop();
  if (hooks) await hooks.stop();
  if (mail) await mail.stop();
});

async function confirmByAcceptor(orderId) {
  const order = await api.call(server.base, 'POST', `/api/v1/acceptor/orders/${orderId}/confirm`, 200, 'acceptor confirms', {
    token: acceptorToken,
    body: {},
  });
  assert.equal(order.status, 'completed');
  return order;
}

function tokenOf(order) {
  return new URL(order.cashier_url).pathname.split('/').pop();
}

test('a customer pays on a phone; the acceptor confirms; the merchant is called back; the ledger balances', async () => {
  const balanceBefore = await shop.balance();
  const order = await shop.createAssignedOrder({ amount: '100.00' });
  assert.equal(order.fiat_amount !== null, true, 'assigned order has a fiat amount');
  assert.ok(order.cashier_url.startsWith(`${server.base}/pay/`), `cashier_url ${order.cashier_url} is built from OTCPAY_PUBLIC_URL`);

  const context = await phone(chromium);
  try {
    const page = await context.newPage();
    const response = await page.goto(order.cashier_url);
    assert.equal(response.status(), 200);
    // The amount to pay and the reference are on the page.
    await visible(page.getByText(order.fiat_amount), `the fiat amount ${order.fiat_amount}`);
    await visible(page.getByText(order.payment_details.reference), `the reference ${order.payment_details.reference}`);
    await shot(page, 'cashier-phone-assigned');

    await (await visible(page.getByLabel(named('Your name')), 'field "Your name" (PORTAL.md /pay/{token})')).fill('Wang Fang');
    await (await visible(page.getByRole('button', { name: named('I have paid') }), 'button "I have paid"')).click();

    await shop.waitForStatus(order.id, 'paid');
    await gone(page.getByRole('button', { name: named('I have paid') }), 'button "I have paid" once the order is paid');
    await shot(page, 'cashier-phone-paid');
  } finally {
    await context.close();
  }

  await confirmByAcceptor(order.id);
  const completed = await shop.waitForStatus(order.id, 'completed');
  const callback = await hooks.waitFor('order.completed', order.id);
  assert.ok(api.verifyWebhook(merchant.webhook_secret, callback.headers, callback.body), 'order.completed is signed with the webhook secret');
  assert.equal(callback.event.data.status, 'completed');

  const balanceAfter = await shop.balance();
  assert.equal((balanceAfter - balanceBefore).toFixed(6), Number(completed.net_amount).toFixed(6), 'the merchant is credited amount − fee');
  await api.ledgerCheck(server.base, admin);
});

test('on a desktop every payment detail has a Copy button', async () => {
  const order = await shop.createAssignedOrder({ amount: '25.00' });
  const context = await desktop(chromium);
  try {
    const page = await context.newPage();
    await page.goto(order.cashier_url);
    await visible(page.getByText(order.fiat_amount), `the fiat amount ${order.fiat_amount}`);
    await shot(page, 'cashier-desktop-assigned');
    const details = order.payment_details;
    for (const value of [details.bank_name, details.account_name, details.account_number]) {
      await visible(page.getByText(value), `payment detail ${value}`);
    }
    // bank name, account name, account number (and perhaps the reference): one Copy each.
    await visible(page.getByRole('button', { name: named('Copy') }), 'a "Copy" button beside each payment detail');
    const copies = await page.getByRole('button', { name: named('Copy') }).count();
    assert.ok(copies >= 3, `expected a "Copy" button for each of the 3 payment details, found ${copies}`);
  } finally {
    await context.close();
  }
});

test('while paid the cashier offers a dispute: Reason, Contact, Open dispute', async () => {
  const order = await shop.createAssignedOrder({ amount: '30.00' });
  await api.call(server.base, 'POST', `/pay/${tokenOf(order)}/paid`, 200, 'customer paid (JSON)', { body: { payer_name: 'Li Lei' } });
  const context = await phone(chromium);
  try {
    const page = await context.newPage();
    await page.goto(order.cashier_url);
    await shot(page, 'cashier-phone-paid-dispute-form');
    await visible(page.getByLabel(named('Reason')), 'field "Reason" while paid');
    await visible(page.getByLabel(named('Contact')), 'field "Contact" while paid');
    await visible(page.getByRole('button', { name: named('Open dispute') }), 'button "Open dispute" while paid');
  } finally {
    await context.close();
  }
});

test('the cashier shows completion live, with a link Back to the shop to the return_url', async () => {
  const order = await shop.createAssignedOrder({ amount: '40.00' });
  await api.call(server.base, 'POST', `/pay/${tokenOf(order)}/paid`, 200, 'customer paid (JSON)', { body: { payer_name: 'Li Lei' } });
  const context = await phone(chromium);
  try {
    const page = await context.newPage();
    await page.goto(order.cashier_url);
    const navigations = [];
    page.on('framenavigated', (frame) => frame === page.mainFrame() && navigations.push(frame.url()));
    await confirmByAcceptor(order.id);
    try {
      const back = await visible(page.getByRole('link', { name: named('Back to the shop') }), 'link "Back to the shop" after completion, without a reload', {
        timeoutMs: 10000,
      });
      assert.equal(await back.getAttribute('href'), order.return_url ?? `https://shop.example/done?order=${order.merchant_order_id}`);
      assert.deepEqual(navigations, [], 'the page updated in place (no reload)');
    } finally {
      await shot(page, 'cashier-phone-completed');
    }
  } finally {
    await context.close();
  }
});

test('the cashier has no serious or critical accessibility violations (phone)', async () => {
  const order = await shop.createAssignedOrder({ amount: '12.00' });
  const context = await phone(chromium);
  try {
    const page = await context.newPage();
    await page.goto(order.cashier_url);
    await visible(page.getByText(order.fiat_amount), `the fiat amount ${order.fiat_amount}`);
    await axe(page);
  } finally {
    await context.close();
  }
});
