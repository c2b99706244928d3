'use strict';
// Self-test of the harness pieces that can fail on their own: TOTP, the SMTP listener,
// the signed merchant client, the webhook signature check, Chromium and axe.

const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');

const { totp, hotp, base32Encode, base32Decode } = require('./lib/totp');
const { startMailCatcher, firstLink } = require('./lib/smtp');
const { startServer } = require('./lib/server');
const api = require('./lib/api');
const browser = require('./lib/browser');

describe('TOTP helper', () => {
  // RFC 6238 appendix B, SHA-1 rows; the seed is the ASCII string below.
  const secret = base32Encode(Buffer.from('12345678901234567890', 'ascii'));
  const vectors = [
    [59, '94287082'],
    [1111111109, '07081804'],
    [1111111111, '14050471'],
    [1234567890, '89005924'],
    [2000000000, '69279037'],
    [20000000000, '65353130'],
  ];

  test('base32 round trip of the RFC seed', () => {
    assert.equal(secret, 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ');
    assert.equal(base32Decode(secret).toString('ascii'), '12345678901234567890');
  });

  test('RFC 6238 SHA-1 vectors, 8 and 6 digits', () => {
    for (const [seconds, code] of vectors) {
      assert.equal(totp(secret, { atMs: seconds * 1000, digits: 8 }), code, `T=${seconds}`);
      assert.equal(totp(secret, { atMs: seconds * 1000 }), code.slice(2), `T=${seconds}, 6 digits`);
    }
    assert.equal(totp(secret, { atMs: 59 * 1000 }), '287082');
  });

  test('RFC 4226 HOTP vectors', () => {
    const expected = ['755224', '287082', '359152', '969429', '338314'];
    expected.forEach((code, counter) => assert.equal(hotp(Buffer.from('12345678901234567890'), counter), code));
  });
});

/** Speaks SMTP by hand (no mail library), as a minimal client would. */
function rawSmtpSend(port, { from, to, data }) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const script = [`EHLO harness.test`, `MAIL FROM:<${from}>`, `RCPT TO:<${to}>`, 'DATA', `${data}\r\n.`, 'QUIT'];
    const replies = [];
    let buffer = '';
    socket.setEncoding('utf8');
    socket.setTimeout(5000, () => reject(new Error(`SMTP timeout; replies: ${replies.join(' | ')}`)));
    socket.on('error', reject);
    socket.on('data', (chunk) => {
      buffer += chunk;
      // A reply ends with a line "NNN text" (a space after the code, not a dash).
      let match;
      while ((match = buffer.match(/^(?:\d{3}-[^\r\n]*\r\n)*(\d{3}) [^\r\n]*\r\n/))) {
        const code = Number(match[1]);
        replies.push(match[0].trim());
        buffer = buffer.slice(match[0].length);
        if (code >= 400) {
          socket.destroy();
          reject(new Error(`SMTP error: ${match[0].trim()}`));
          return;
        }
        const next = script.shift();
        if (next === undefined) {
          socket.end();
          resolve(replies);
          return;
        }
        socket.write(`${next}\r\n`);
      }
    });
  });
}

describe('SMTP listener', () => {
  let mail;
  before(async () => {
    mail = await startMailCatcher();
  });
  after(() => mail.stop());

  test('catches a message sent with raw SMTP and finds its first link', async () => {
    const waiting = mail.nextMail('Someone@Example.test', { timeoutMs: 5000 });
    const data = [
      'From: OTCPay <no-reply@otcpay.test>',
      'To: someone@example.test',
      'Subject: Verify your email',
      'MIME-Version: 1.0',
      'Content-Type: multipart/alternative; boundary="b1"',
      '',
      '--b1',
      'Content-Type: text/plain; charset=utf-8',
      '',
      'Open http://127.0.0.1:1/verify-email?token=abc_123 to verify.',
      'Or http://127.0.0.1:1/other',
      '--b1',
      'Content-Type: text/html; charset=utf-8',
      '',
      '<p><a href="http://127.0.0.1:1/verify-email?token=abc_123">Verify</a></p>',
      '--b1--',
    ].join('\r\n');
    await rawSmtpSend(mail.port, { from: 'no-reply@otcpay.test', to: 'someone@example.test', data });
    const message = await waiting;
    assert.equal(message.subject, 'Verify your email');
    assert.equal(firstLink(message), 'http://127.0.0.1:1/verify-email?token=abc_123');
    // Taken once: the next mail to the same address is a new one.
    await assert.rejects(mail.nextMail('someone@example.test', { timeoutMs: 300 }), /no mail to/);
  });
});

describe('signed merchant client and webhooks against a real server', () => {
  let server;
  let mail;
  let admin;
  let merchant;
  before(async () => {
    mail = await startMailCatcher();
    server = await startServer({ name: 'harness', smtp: mail });
    admin = await api.adminLogin(server);
    merchant = await api.createMerchant(server.base, admin);
  });
  after(async () => {
    if (server) await server.stop();
    if (mail) await mail.stop();
  });

  test('GET /api/v1/balance answers 200 to a signed request', async () => {
    const client = api.merchantClient(server.base, merchant.api_key);
    const response = await client.request('GET', '/api/v1/balance');
    assert.equal(response.status, 200, response.text);
    assert.ok(Array.isArray(response.body.balances), response.text);
    // Back to back: two requests within a millisecond must not look like a replay.
    const again = await Promise.all([client.request('GET', '/api/v1/balance'), client.request('GET', '/api/v1/balance')]);
    assert.deepEqual(
      again.map((r) => r.status),
      [200, 200],
    );
  });

  test('the server checks the signature (a wrong secret is refused)', async () => {
    const forged = api.merchantClient(server.base, { key_id: merchant.api_key.key_id, secret: 'not-the-secret' });
    const response = await forged.request('GET', '/api/v1/balance');
    assert.equal(response.status, 401, response.text);
    assert.equal(response.body.error.code, 'invalid_signature');
  });

  test('admin 2FA on, then a money action and the ledger check', async () => {
    await api.totpOn(server.base, admin);
    const acceptor = await api.createAcceptor(server.base, admin);
    await api.deposit(server.base, admin, acceptor.id, { amount: '10.00' });
    await api.ledgerCheck(server.base, admin);
  });

  test('the webhook receiver records callbacks and verifies Standard Webhooks signatures', async () => {
    const hooks = await api.startWebhookReceiver();
    try {
      const secret = `whsec_${Buffer.from('harness webhook secret 32 bytes!').toString('base64')}`;
      const body = JSON.stringify({ id: 'evt_1', type: 'order.completed', data: { id: 'ord_1' } });
      const timestamp = String(Math.floor(Date.now() / 1000));
      const signature = require('node:crypto')
        .createHmac('sha256', Buffer.from(secret.slice(6), 'base64'))
        .update(`evt_1.${timestamp}.${body}`)
        .digest('base64');
      await fetch(hooks.url, {
        method: 'POST',
        headers: { 'webhook-id': 'evt_1', 'webhook-timestamp': timestamp, 'webhook-signature': `v1,${signature}` },
        body,
      });
      const got = await hooks.waitFor('order.completed', 'ord_1', { timeoutMs: 2000 });
      assert.equal(api.verifyWebhook(secret, got.headers, got.body), true);
      assert.equal(api.verifyWebhook(`whsec_${Buffer.from('another key').toString('base64')}`, got.headers, got.body), false);
    } finally {
      await hooks.stop();
    }
  });
});

describe('Chromium and axe', () => {
  let chromium;
  before(async () => {
    chromium = await browser.launch();
  });
  after(() => chromium && chromium.close());

  test('a phone page renders, is photographed, and axe flags a field without a label', async () => {
    const context = await browser.phone(chromium);
    try {
      const page = await context.newPage();
      await page.setContent('<!doctype html><html lang="en"><meta name="viewport" content="width=device-width, initial-scale=1"><title>t</title><main><h1>Harness</h1><label for="n">Your name</label><input id="n"><button>I have paid</button></main></html>');
      assert.equal(await page.evaluate(() => window.innerWidth), 390, 'a 390 px wide layout viewport');
      await browser.visible(page.getByLabel(browser.named('your name')), 'field "Your name"');
      await browser.visible(page.getByRole('button', { name: browser.named('I HAVE PAID') }), 'button "I have paid"');
      assert.equal(await page.getByLabel(browser.named('your')).count(), 0, 'named() matches whole names only');
      await browser.shot(page, 'harness-phone');
      await browser.axe(page);
      await page.setContent('<!doctype html><html lang="en"><title>t</title><main><input id="n"></main></html>');
      await assert.rejects(browser.axe(page), /critical\] label/);
    } finally {
      await context.close();
    }
  });
});
