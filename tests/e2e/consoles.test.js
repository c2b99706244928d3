'use strict';
// The admin console and the merchant dashboard together (PORTAL.md "Admin", "Merchant"),
// by accessible names only: an admin with 2FA creates a merchant, the merchant follows
// the invitation mail; a disputed order is partially released on the dispute desk and
// the merchant sees the credit and the callback; a withdrawal is reviewed and completed;
// the webhook secret is rotated with an overlap; tenants and roles are kept apart; a
// month of orders is exported as CSV while the server's memory stays flat.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { execFileSync } = require('node:child_process');

const { startServer } = require('./lib/server');
const { startMailCatcher, firstLink } = require('./lib/smtp');
const { freshCode } = require('./lib/totp');
const api = require('./lib/api');
const { launch, phone, desktop, shot, named, visible } = require('./lib/browser');

let server;
let mail;
let hooks;
let chromium;
let adminToken;
let adminSecret;

before(async () => {
  mail = await startMailCatcher();
  hooks = await api.startWebhookReceiver();
  server = await startServer({ name: 'consoles', smtp: mail });
  adminToken = await api.adminLogin(server);
  adminSecret = await api.totpOn(server.base, adminToken);
  chromium = await launch();
});

after(async () => {
  if (chromium) await chromium.close();
  if (server) await server.stop();
  if (hooks) await hooks.stop();
  if (mail) await mail.stop();
});

async function field(scope, name, value) {
  const locator = await visible(scope.getByLabel(named(name)).first(), `field "${name}"`);
  const tag = await locator.evaluate((el) => el.tagName.toLowerCase());
  if (tag === 'select') {
    const options = await locator.locator('option').evaluateAll((all) => all.map((o) => ({ value: o.value, label: o.textContent.trim() })));
    const wanted = String(value).toLowerCase();
    const match = options.find((o) => o.value.toLowerCase() === wanted || o.label.toLowerCase().includes(wanted));
    assert.ok(match, `no option ${value} in "${name}": ${JSON.stringify(options)}`);
    await locator.selectOption(match.value);
  } else {
    await locator.fill(String(value));
  }
}

async function press(scope, name, what = `button "${name}"`) {
  await (await visible(scope.getByRole('button', { name: named(name) }).first(), what)).click();
}

/**
 * Presses `name`, then the confirming button of the dialog or page that asks; with
 * `required: false` an action that asks nothing is fine too.
 */
async function pressAndConfirm(page, scope, name, { required = true } = {}) {
  await press(scope, name);
  const dialog = page.getByRole('dialog');
  const confirm = dialog.getByRole('button', { name: /^(confirm|release|cancel order|revoke|rotate|approve|mark completed|yes)/i });
  const onPage = page.getByRole('button', { name: named('Confirm') });
  const asked = await confirm.or(onPage).first().waitFor({ state: 'visible', timeout: required ? 5000 : 1500 }).then(() => true, () => false);
  assert.ok(asked || !required, `a confirmation after "${name}"`);
  if (!asked) return;
  if (await dialog.isVisible()) await confirm.first().click();
  else await onPage.first().click();
}

async function logIn(page, email, password, secret) {
  await page.goto(`${server.base}/login`);
  await field(page, 'Email', email);
  await field(page, 'Password', password);
  await press(page, 'Log in');
  if (secret) {
    await field(page, 'Authentication code', await freshCode(secret));
    await press(page, 'Verify');
  }
}

/** The dashboard's live API key, from the page that shows it once. */
function keyOf(text, mode) {
  const id = text.match(new RegExp(`mk_${mode}_[A-Za-z0-9]+`));
  assert.ok(id, `a ${mode} key id is shown`);
  const secret = text.slice(text.indexOf(id[0])).match(/\b[0-9a-f]{64}\b/);
  assert.ok(secret, `the secret of ${id[0]} is shown`);
  return { key_id: id[0], secret: secret[0] };
}

/** One CSV record (RFC 4180: quoted fields may hold commas and doubled quotes). */
function csvFields(line) {
  const out = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < line.length; i += 1) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') { current += '"'; i += 1; }
      else if (c === '"') quoted = false;
      else current += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { out.push(current); current = ''; }
    else current += c;
  }
  out.push(current);
  return out;
}

function rssKiB(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(status.match(/VmRSS:\s+(\d+)/)[1]);
}

test('admin and merchant: invitation, dispute desk, statement, callbacks, withdrawals, rotation, tenants, CSV', async () => {
  const adminSite = await desktop(chromium);
  const merchantSite = await desktop(chromium);
  const customerSite = await phone(chromium);
  const acceptorSite = await phone(chromium);
  try {
    // The admin logs in with a code and creates a merchant.
    const admin = await adminSite.newPage();
    await logIn(admin, server.adminEmail, server.adminPassword, adminSecret);
    await admin.waitForURL(/\/admin\b/);
    await visible(admin.getByRole('heading', { name: named('Overview') }), 'heading "Overview"');
    const email = `${api.uniqueName('owner')}@shop.e2e.test`;
    await admin.goto(`${server.base}/admin/merchants`);
    await field(admin, 'Name', 'Console Shop');
    await field(admin, 'Email', email);
    await field(admin, 'Fee rate', '0.02');
    await press(admin, 'Create merchant');
    await visible(admin.getByText(/whsec_/).first(), 'the new webhook secret, shown once');
    const created = await admin.locator('body').innerText();
    const liveKey = keyOf(created, 'live');
    await shot(admin, 'consoles-merchant-created');
    await admin.goto(`${server.base}/admin/merchants`);
    assert.ok(!(await admin.locator('body').innerText()).includes(liveKey.secret), 'the secret is not shown again');

    // The invitation: set a password, log in to the dashboard.
    const invitation = await mail.nextMail(email);
    const link = firstLink(invitation);
    assert.ok(link.startsWith(`${server.base}/set-password?token=`), `invitation link ${link}`);
    const merchant = await merchantSite.newPage();
    await merchant.goto(link);
    const password = 'merchant-password-e2e-1';
    await field(merchant, 'New password', password);
    await press(merchant, 'Set password');
    await logIn(merchant, email, password);
    await merchant.waitForURL(/\/merchant\b/);
    await visible(merchant.getByRole('table', { name: named('Orders') }), 'table "Orders"');

    // A test API key: its secret once.
    await merchant.goto(`${server.base}/merchant/keys`);
    await press(merchant, 'Create API key');
    await visible(merchant.getByText(/mk_(test|live)_/).first(), 'the new key id');
    const shown = await merchant.locator('body').innerText();
    const secretShown = shown.match(/\b[0-9a-f]{64}\b/);
    assert.ok(secretShown, 'the new key secret is shown');
    await shot(merchant, 'consoles-key-created');
    await merchant.goto(`${server.base}/merchant/keys`);
    assert.ok(!(await merchant.locator('body').innerText()).includes(secretShown[0]), 'the key secret is shown once');

    // The webhook endpoint.
    await merchant.goto(`${server.base}/merchant/webhooks`);
    await field(merchant, 'Endpoint URL', hooks.url);
    await press(merchant, 'Save');
    await visible(merchant.getByLabel(named('Endpoint URL')), 'the webhooks page after Save');
    assert.equal(await merchant.getByLabel(named('Endpoint URL')).inputValue(), hooks.url);
    const whsec = created.match(/whsec_[A-Za-z0-9+/=]+/)[0];

    // An order, paid, disputed by the customer, discussed by both sides.
    const { acceptor } = await api.onlineAcceptor(server.base, adminToken);
    const shop = api.merchantClient(server.base, liveKey);
    const order = await shop.createAssignedOrder({ amount: '100.00' });
    const customer = await customerSite.newPage();
    await customer.goto(order.cashier_url);
    await field(customer, 'Your name', 'Chen Jing');
    await press(customer, 'I have paid');
    await shop.waitForStatus(order.id, 'paid');
    await field(customer, 'Reason', 'I paid but the order is not completed');
    await field(customer, 'Contact', 'chen@example.test');
    await press(customer, 'Open dispute');
    await shop.waitForStatus(order.id, 'disputed');
    await field(customer, 'Message', 'Bank ref CMB-20261207-0042');
    await press(customer, 'Send');
    await visible(customer.getByText('Bank ref CMB-20261207-0042'), 'the customer message in the thread');
    const desk = await acceptorSite.newPage();
    await logIn(desk, acceptor.email, acceptor.password);
    await desk.goto(`${server.base}/acceptor/orders/${order.id}`);
    await visible(desk.getByText('Bank ref CMB-20261207-0042'), 'the customer message on the acceptor order page');
    await field(desk, 'Message', 'Only 60.00 USDT worth arrived');
    await press(desk, 'Send');
    await visible(customer.getByText('Only 60.00 USDT worth arrived'), 'the acceptor message on the cashier, live', { timeoutMs: 10000 });
    await shot(customer, 'consoles-cashier-thread');

    // The dispute desk: partial release of 60 USDT.
    const balanceBefore = await shop.balance();
    await admin.goto(`${server.base}/admin/disputes`);
    const disputes = await visible(admin.getByRole('table', { name: named('Disputes') }), 'table "Disputes"');
    await (await visible(disputes.getByRole('row').filter({ hasText: order.payment_details.reference }).getByRole('link').first(), 'a link to the dispute')).click();
    await visible(admin.getByText('Bank ref CMB-20261207-0042'), 'the customer message on the dispute desk');
    await visible(admin.getByText('Only 60.00 USDT worth arrived'), 'the acceptor message on the dispute desk');
    await visible(admin.getByText('Chen Jing').first(), 'the payer name on the dispute desk');
    await shot(admin, 'consoles-dispute-desk');
    await field(admin, 'Amount', '60.00');
    await field(admin, 'Note', 'Receipt shows 60.00 USDT worth');
    await pressAndConfirm(admin, admin, 'Release');
    const resolved = await shop.waitForStatus(order.id, 'completed');
    assert.equal(Number(resolved.released_amount || resolved.amount_released || 60), 60);

    // The merchant: the partial credit in the statement, the callback in the log, redelivered.
    const credited = await shop.balance();
    assert.ok(credited > balanceBefore && credited - balanceBefore <= 60, `credited ${credited - balanceBefore}`);
    await merchant.goto(`${server.base}/merchant/balance`);
    await visible(merchant.getByRole('region', { name: named('Balance') }), 'region "Balance"');
    const statement = await visible(merchant.getByRole('table', { name: named('Statement') }), 'table "Statement"');
    await visible(statement.getByRole('row').filter({ hasText: /58\.8|60\.0/ }).first(), 'the partial credit in the statement');
    const first = await hooks.waitFor('order.dispute_resolved', order.id);
    assert.ok(api.verifyWebhook(whsec, first.headers, first.body), 'order.dispute_resolved is signed');
    await merchant.goto(`${server.base}/merchant/webhooks`);
    const deliveries = await visible(merchant.getByRole('table', { name: named('Deliveries') }), 'table "Deliveries"');
    const resolvedRow = deliveries.getByRole('row').filter({ hasText: 'order.dispute_resolved' }).first();
    await visible(resolvedRow, 'the order.dispute_resolved delivery in the log');
    await shot(merchant, 'consoles-deliveries');
    const before = hooks.received.filter((h) => h.body.includes('order.dispute_resolved')).length;
    await press(resolvedRow, 'Redeliver');
    await api.waitFor(
      async () => hooks.received.filter((h) => h.body.includes('order.dispute_resolved')).length > before,
      { what: 'the redelivered order.dispute_resolved', timeoutMs: 15000 },
    );

    // A withdrawal above the auto-approve threshold: reviewed, approved, completed.
    await merchant.goto(`${server.base}/merchant/withdrawals`);
    await field(merchant, 'Amount', '20.00');
    await field(merchant, 'Network', 'tron');
    await field(merchant, 'Address', 'TN3W4H6rK2ce4vX9YnFQHwKENnHjoxb3m9');
    await press(merchant, 'Request withdrawal');
    const myWithdrawals = await visible(merchant.getByRole('table', { name: named('Withdrawals') }), 'table "Withdrawals"');
    await visible(myWithdrawals.getByRole('row').filter({ hasText: '20.00' }).first(), 'the new withdrawal listed');
    await admin.goto(`${server.base}/admin/withdrawals`);
    const queue = await visible(admin.getByRole('table', { name: named('Withdrawals') }), 'table "Withdrawals" (admin)');
    const waiting = queue.getByRole('row').filter({ hasText: 'TN3W4H6rK2ce4vX9YnFQHwKENnHjoxb3m9' }).first();
    await pressAndConfirm(admin, waiting, 'Approve', { required: false });
    const approved = admin.getByRole('table', { name: named('Withdrawals') }).getByRole('row').filter({ hasText: 'TN3W4H6rK2ce4vX9YnFQHwKENnHjoxb3m9' }).first();
    await field(approved, 'Transaction id', 'a'.repeat(64));
    await pressAndConfirm(admin, approved, 'Mark completed', { required: false });
    await merchant.goto(`${server.base}/merchant/withdrawals`);
    await visible(
      merchant.getByRole('table', { name: named('Withdrawals') }).getByRole('row').filter({ hasText: /completed/i }).first(),
      'the withdrawal shows completed',
    );

    // Rotating the secret: during the overlap, deliveries verify with the old one too.
    await merchant.goto(`${server.base}/merchant/webhooks`);
    await pressAndConfirm(merchant, merchant, 'Rotate secret', { required: false });
    const rotatedText = await merchant.locator('body').innerText();
    const newSecret = (rotatedText.match(/whsec_[A-Za-z0-9+/=]+/) || [])[0];
    assert.ok(newSecret && newSecret !== whsec, 'the new secret is shown once');
    const next = await shop.createAssignedOrder({ amount: '5.00' });
    const assigned = await hooks.waitFor('order.assigned', next.id);
    assert.ok(api.verifyWebhook(whsec, assigned.headers, assigned.body), 'the old secret still verifies during the overlap');
    assert.ok(api.verifyWebhook(newSecret, assigned.headers, assigned.body), 'the new secret verifies');

    // Tenants and roles: another merchant's order is a 404; an acceptor at /admin is a 403.
    const other = await api.createMerchant(server.base, adminToken, { name: 'Other Shop' });
    const otherOrder = await api.merchantClient(server.base, other.api_key).createAssignedOrder({ amount: '3.00' });
    const foreign = await merchant.goto(`${server.base}/merchant/orders/${otherOrder.id}`);
    assert.equal(foreign.status(), 404, "another merchant's order is a 404 page");
    const mine = await merchant.goto(`${server.base}/merchant/orders/${order.id}`);
    assert.equal(mine.status(), 200, 'its own order opens');
    await visible(merchant.getByText('order.dispute_resolved').first(), 'the webhook attempts on the order page');
    const forbidden = await desk.goto(`${server.base}/admin`);
    assert.equal(forbidden.status(), 403, 'an acceptor at /admin gets 403');

    // A month of orders: the CSV streams, parses, and the server's memory stays flat.
    const merchantId = (await api.call(server.base, 'GET', '/api/v1/admin/merchants?limit=100', 200, 'merchants', { token: adminToken }))
      .data.find((m) => m.email === email).id;
    if (server.databaseUrl) {
      const now = Date.now();
      execFileSync('psql', [server.databaseUrl, '-v', 'ON_ERROR_STOP=1', '-qAt', '-c', `
        INSERT INTO orders (id, merchant_id, livemode, merchant_order_id, status, amount, fee, fiat_currency,
          reference, expires_in, cashier_token, params_hash, excluded_acceptors, assignment_seq, expires_at,
          created_at, updated_at)
        SELECT 'ord_0BMKZ' || lpad(i::text, 21, '0'), '${merchantId}', true, 'bulk-' || i, 'expired',
          1000000 * (1 + i % 500), 0, 'CNY', 'BULK' || lpad(i::text, 8, '0'), 900,
          md5('bulk' || i) || md5('token' || i), md5('p' || i), '[]', 0,
          ${now} - i::bigint * 250000, ${now} - i::bigint * 250000 - 900000, ${now} - i::bigint * 250000
        FROM generate_series(1, 10000) AS i`], { stdio: ['ignore', 'pipe', 'pipe'] });
    }
    await merchant.goto(`${server.base}/merchant`);
    await shot(merchant, 'consoles-merchant-orders');
    const exportLink = await visible(merchant.getByRole('link', { name: named('Export CSV') }), 'link "Export CSV"');
    const href = new URL(await exportLink.getAttribute('href'), server.base).toString();
    const rssBefore = rssKiB(server.pid);
    let peak = rssBefore;
    const sampler = setInterval(() => { try { peak = Math.max(peak, rssKiB(server.pid)); } catch (e) { /* exited */ } }, 20);
    const csvResponse = await merchant.request.get(href);
    clearInterval(sampler);
    assert.equal(csvResponse.status(), 200);
    assert.match(csvResponse.headers()['content-type'], /text\/csv/);
    const csv = (await csvResponse.text()).trim().split(/\r?\n/);
    const header = csvFields(csv[0]);
    assert.ok(header.length >= 5, `a header row: ${csv[0]}`);
    const rows = csv.slice(1);
    // The month's orders, plus the two this merchant made above (none of the other's).
    const expected = (server.databaseUrl ? 10000 : 0) + 2;
    assert.equal(rows.length, expected, `${rows.length} rows exported`);
    for (const row of rows) assert.equal(csvFields(row).length, header.length, `every row has the header's ${header.length} fields: ${row}`);
    const ids = new Set(rows.map((row) => csvFields(row)[header.indexOf(header.find((h) => /id/i.test(h)))]));
    assert.equal(ids.size, rows.length, 'no order is exported twice');
    const growthMiB = (peak - rssBefore) / 1024;
    process.stdout.write(`# CSV export: ${rows.length} rows, ${(csvResponse.headers()['content-length'] || 'chunked')}, server RSS ${(rssBefore / 1024).toFixed(1)} → peak ${(peak / 1024).toFixed(1)} MiB\n`);
    // Streamed in batches the server grows ~2 MiB; holding the month's rows (and the text)
    // in memory would take several times the 8 MiB allowed here.
    assert.ok(growthMiB < 8, `the server grew ${growthMiB.toFixed(1)} MiB while exporting`);
    await api.ledgerCheck(server.base, adminToken);
  } finally {
    await adminSite.close();
    await merchantSite.close();
    await customerSite.close();
    await acceptorSite.close();
  }
});
