'use strict';
// An in-process SMTP listener (no AUTH, no TLS) that keeps every message, parsed.
// The server under test sends to it through SMTP_URL=smtp://127.0.0.1:<port>.

const { SMTPServer } = require('smtp-server');
const { simpleParser } = require('mailparser');

const LINK = /https?:\/\/[^\s<>"'()[\]]+/;

class MailCatcher {
  constructor() {
    this.messages = []; // {to: [addresses], from, subject, text, html, raw, taken}
    this.waiters = [];
    this.server = new SMTPServer({
      secure: false,
      authOptional: true,
      disabledCommands: ['AUTH', 'STARTTLS'],
      logger: false,
      banner: 'otcpay e2e mail catcher',
      size: 10 * 1024 * 1024,
      onData: (stream, session, callback) => this.#receive(stream, session).then(() => callback(), callback),
    });
    this.server.on('error', (error) => process.stderr.write(`smtp listener: ${error.message}\n`));
  }

  /** Starts listening on a free port of 127.0.0.1; `url` is then the SMTP_URL. */
  start() {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => {
        this.port = this.server.server.address().port;
        this.url = `smtp://127.0.0.1:${this.port}`;
        resolve(this);
      });
    });
  }

  stop() {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  async #receive(stream, session) {
    const parsed = await simpleParser(stream);
    const headerTo = (parsed.to ? [].concat(parsed.to) : []).flatMap((group) => group.value.map((v) => v.address));
    const envelopeTo = session.envelope.rcptTo.map((r) => r.address);
    const message = {
      to: [...new Set([...envelopeTo, ...headerTo].map((a) => a.toLowerCase()))],
      from: parsed.from ? parsed.from.text : session.envelope.mailFrom && session.envelope.mailFrom.address,
      subject: parsed.subject || '',
      text: parsed.text || '',
      html: typeof parsed.html === 'string' ? parsed.html : '',
      parsed,
      taken: false,
    };
    this.messages.push(message);
    this.#wake();
  }

  #wake() {
    for (const waiter of [...this.waiters]) {
      const found = this.#take(waiter.to);
      if (found) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        clearTimeout(waiter.timer);
        waiter.resolve(found);
      }
    }
  }

  #take(to) {
    const address = to.toLowerCase();
    const found = this.messages.find((m) => !m.taken && m.to.includes(address));
    if (found) found.taken = true;
    return found;
  }

  /** The next message to `to` not returned before (waits up to timeoutMs for it). */
  nextMail(to, { timeoutMs = 15000 } = {}) {
    const found = this.#take(to);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const waiter = { to, resolve };
      waiter.timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        const seen = this.messages.map((m) => `${m.to.join(',')}: ${m.subject}`).join('; ') || 'none';
        reject(new Error(`no mail to ${to} within ${timeoutMs} ms (caught so far: ${seen})`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }
}

/** The first absolute link of a message: from the plain text part, else from the HTML. */
function firstLink(message) {
  const inText = message.text && message.text.match(LINK);
  if (inText) return inText[0];
  const href = message.html && message.html.match(/href\s*=\s*"(https?:[^"]+)"/i);
  if (href) return href[1].replace(/&amp;/g, '&');
  throw new Error(`no link in the mail "${message.subject}":\n${message.text || message.html}`);
}

async function startMailCatcher() {
  return new MailCatcher().start();
}

module.exports = { MailCatcher, startMailCatcher, firstLink };
