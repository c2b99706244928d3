'use strict';
// The acceptor's journey through the portal (PORTAL.md "Everyone", "Acceptor",
// "Customer"), by accessible names only: sign up, verify the mail, get approved, set a
// quote, a bank method and 2FA, go online, take an order live, release it with a code.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');

const { startServer } = require('./lib/server');
const { startMailCatcher, firstLink } = require('./lib/smtp');
const { freshCode } = require('./lib/totp');
const api = require('./lib/api');
const { launch, phone, desktop, shot, axe, named, visible } = require('./lib/browser');

let server;
let mail;
let hooks;
let chromium;
let admin;
let merchant;
let shop;

before(async () => {
  mail = await startMailCatcher();
  hooks = await api.startWebhookReceiver();
  server = await startServer({ name: 'portal', smtp: mail });
  admin = await api.adminLogin(server);
  await api.totpOn(server.base, admin);
  merchant = await api.createMerchant(server.base, admin, { name: 'Portal Shop', webhook_url: hooks.url });
  shop = api.merchantClient(server.base, merchant.api_key);
  chromium = await launch();
});

after(async () => {
  if (chromium) await chromium.close();
  if (server) await server.stop();
  if (hooks) await hooks.stop();
  if (mail) await mail.stop();
});

/** Fills a text field, or picks an option of a select by value or by label. */
async function enter(locator, value, labels = [value]) {
  const tag = await locator.evaluate((el) => el.tagName.toLowerCase());
  if (tag !== 'select') {
    await locator.fill(value);
    return;
  }
  const options = await locator.locator('option').evaluateAll((all) => all.map((o) => ({ value: o.value, label: o.textContent.trim() })));
  const wanted = [value, ...labels].map((v) => v.toLowerCase());
  const match = options.find((o) => wanted.includes(o.value.toLowerCase()) || wanted.includes(o.label.toLowerCase()));
  assert.ok(match, `no option ${wanted.join(' / ')} among ${JSON.stringify(options)}`);
  await locator.selectOption(match.value);
}

async function field(page, name, value, labels) {
  const locator = await visible(page.getByLabel(named(name)), `field "${name}" on ${new URL(page.url()).pathname}`);
  await enter(locator, value, labels);
}

async function press(scope, name, what = `button "${name}"`) {
  await (await visible(scope.getByRole('button', { name: named(name) }), what)).click();
}

/** The base32 secret shown as text after "Set up two-factor authentication". */
async function shownSecret(page) {
  return api.waitFor(
    async () => {
      const text = await page.locator('body').innerText();
      const groups = text.match(/\b(?:[A-Z2-7]{4}[ -]?){4,}[A-Z2-7]*\b/);
      return groups && groups[0].replace(/[ -]/g, '');
    },
    { what: 'the 2FA secret shown as text on /acceptor/security', timeoutMs: 5000 },
  );
}

test('an acceptor signs up, gets approved, goes online and releases an order on the desk', async () => {
  const email = `${api.uniqueName('desk')}@e2e.test`;
  const password = 'desk-password-e2e-1';
  const acceptorSite = await desktop(chromium);
  const customerSite = await phone(chromium);
  try {
    const page = await acceptorSite.newPage();

    // Sign up.
    await page.goto(`${server.base}/register`);
    await shot(page, 'portal-register');
    await field(page, 'Email', email);
    await field(page, 'Display name', 'Desk Tester');
    await field(page, 'Password', password);
    await press(page, 'Create account');
    await visible(page.getByText(/check your email/i), 'the text "Check your email" after Create account');

    // The verification mail: absolute link built from OTCPAY_PUBLIC_URL.
    const verification = await mail.nextMail(email);
    const link = firstLink(verification);
    assert.ok(link.startsWith(`${server.base}/verify-email?token=`), `verification link ${link}`);
    await page.goto(link);
    await visible(page.getByText(/email verified/i), 'the text "Email verified"');
    await shot(page, 'portal-email-verified');
    const loginLink = await visible(page.getByRole('link', { name: named('Log in') }), 'link "Log in" after verification');

    // The admin approves the pending acceptor.
    const pending = await api.call(server.base, 'GET', '/api/v1/admin/acceptors?status=pending&limit=100', 200, 'pending acceptors', { token: admin });
    const mine = pending.data.find((a) => a.email === email);
    assert.ok(mine, `${email} is among the pending acceptors: ${JSON.stringify(pending.data.map((a) => a.email))}`);
    await api.approveAcceptor(server.base, admin, mine.id);
    await api.deposit(server.base, admin, mine.id, { amount: '5000.00' });

    // Log in.
    await loginLink.click();
    await page.waitForURL(/\/login\b/);
    await field(page, 'Email', email);
    await field(page, 'Password', password);
    await press(page, 'Log in');
    await page.waitForURL(/\/acceptor\b/);
    const acceptorApi = await api.login(server.base, email, password); // to check what the pages did

    // A CNY quote and a bank method.
    await page.goto(`${server.base}/acceptor/quotes`);
    await field(page, 'Currency', 'CNY');
    await field(page, 'Rate', '7.18');
    await field(page, 'Min amount', '1.00');
    await field(page, 'Max amount', '5000.00');
    await press(page, 'Save quote');
    await api.waitFor(
      async () => {
        const quotes = await api.call(server.base, 'GET', '/api/v1/acceptor/quotes', 200, 'quotes', { token: acceptorApi });
        return (quotes.data || quotes).some((q) => (q.fiat || q.fiat_currency) === 'CNY' && Number(q.rate) === 7.18);
      },
      { what: 'the CNY quote saved by "Save quote"' },
    );
    await field(page, 'Method', 'bank_transfer', ['Bank transfer']);
    await field(page, 'Bank name', 'China Merchants Bank');
    await field(page, 'Account name', 'Desk Tester');
    await field(page, 'Account number', '6225880299990000');
    await press(page, 'Add payment method');
    await visible(page.getByText('6225880299990000'), 'the new payment method listed on /acceptor/quotes');
    await shot(page, 'portal-quotes');

    // Two-factor authentication.
    await page.goto(`${server.base}/acceptor/security`);
    await press(page, 'Set up two-factor authentication');
    const secret = await shownSecret(page);
    await shot(page, 'portal-security-setup');
    await field(page, 'Authentication code', await freshCode(secret));
    await press(page, 'Turn on');
    await visible(page.getByRole('button', { name: named('Turn off two-factor authentication') }), 'button "Turn off two-factor authentication" once 2FA is on');

    // The desk, online.
    await page.goto(`${server.base}/acceptor`);
    await visible(page.getByRole('heading', { name: named('Desk') }), 'heading "Desk"');
    const online = page.getByRole('checkbox', { name: named('Online') }).or(page.getByRole('switch', { name: named('Online') }));
    await (await visible(online, 'checkbox or switch "Online"')).check();
    await api.waitFor(
      async () => (await api.call(server.base, 'GET', '/api/v1/acceptor/profile', 200, 'profile', { token: acceptorApi })).online,
      { what: 'the acceptor online after ticking "Online"' },
    );
    const balance = page.getByRole('region', { name: named('Balance') });
    await visible(balance.getByText(/available/i), 'region "Balance" showing "Available"');
    await visible(balance.getByText(/reserved/i), 'region "Balance" showing "Reserved"');
    const table = await visible(page.getByRole('table', { name: named('Assigned orders') }), 'table "Assigned orders"');
    await shot(page, 'portal-desk-online');
    const reloads = [];
    page.on('framenavigated', (frame) => frame === page.mainFrame() && reloads.push(frame.url()));

    // A new order appears without a reload.
    const balanceBefore = await shop.balance();
    const order = await shop.createAssignedOrder({ amount: '100.00' });
    const reference = order.payment_details.reference;
    const row = table.getByRole('row').filter({ hasText: reference });
    await visible(row, `a row with reference ${reference} in "Assigned orders" without a reload`, { timeoutMs: 10000 });
    assert.deepEqual(reloads, [], 'the desk did not reload');
    await shot(page, 'portal-desk-assigned');

    // The customer pays.
    const customer = await customerSite.newPage();
    await customer.goto(order.cashier_url);
    await field(customer, 'Your name', 'Wang Fang');
    await press(customer, 'I have paid');
    await shop.waitForStatus(order.id, 'paid');
    await visible(row.filter({ hasText: 'Wang Fang' }), 'the payer name "Wang Fang" in the desk row, live', { timeoutMs: 10000 });
    await shot(page, 'portal-desk-paid');

    // Release with a code.
    await press(row, 'Confirm release', 'button "Confirm release" in the order row');
    const dialog = await visible(page.getByRole('dialog'), 'the confirmation dialog after "Confirm release"');
    await enter(await visible(dialog.getByLabel(named('Authentication code')), 'field "Authentication code" in the dialog'), await freshCode(secret));
    await shot(page, 'portal-desk-confirm-dialog');
    await press(dialog, 'Release');
    await visible(row.filter({ hasText: /completed/i }), 'the row shows "completed"', { timeoutMs: 10000 });
    await shot(page, 'portal-desk-completed');
    assert.deepEqual(reloads.filter((u) => !u.includes('/acceptor')), [], 'the desk stayed on the desk');

    // The customer sees it live; the merchant is paid and called back; the ledger balances.
    await visible(customer.getByRole('link', { name: named('Back to the shop') }), 'link "Back to the shop" on the cashier, live', { timeoutMs: 10000 });
    await shot(customer, 'portal-cashier-completed');
    const completed = await shop.waitForStatus(order.id, 'completed');
    const balanceAfter = await shop.balance();
    assert.equal((balanceAfter - balanceBefore).toFixed(6), Number(completed.net_amount).toFixed(6), 'merchant credited amount − fee');
    assert.ok(Number(completed.net_amount) < 100 && Number(completed.net_amount) > 0, `net ${completed.net_amount} is 100 less a fee`);
    const callback = await hooks.waitFor('order.completed', order.id);
    assert.ok(api.verifyWebhook(merchant.webhook_secret, callback.headers, callback.body), 'order.completed is signed');
    await api.ledgerCheck(server.base, admin);
  } finally {
    await acceptorSite.close();
    await customerSite.close();
  }
});

test('the public portal pages have no serious or critical accessibility violations', async () => {
  const context = await phone(chromium);
  try {
    const page = await context.newPage();
    for (const path of ['/login', '/register', '/forgot-password']) {
      const response = await page.goto(server.base + path);
      assert.equal(response.status(), 200, `${path} answers 200`);
      await shot(page, `portal-phone${path.replace(/\//g, '-')}`);
      await axe(page);
    }
  } finally {
    await context.close();
  }
});
