'use strict';
// RFC 6238 time-based one-time passwords (HMAC-SHA1, 30 s steps), as an authenticator
// app computes them, and a helper for servers that accept each code only once.

const crypto = require('node:crypto');

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const STEP_SECONDS = 30;

function base32Decode(text) {
  const clean = text.toUpperCase().replace(/[\s=-]/g, '');
  let bits = 0;
  let value = 0;
  const out = [];
  for (const char of clean) {
    const index = ALPHABET.indexOf(char);
    if (index < 0) throw new Error(`not base32: ${JSON.stringify(char)} in the secret`);
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

function base32Encode(bytes) {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

/** RFC 4226 HOTP of a key (Buffer) at a counter. */
function hotp(key, counter, digits = 6) {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const digest = crypto.createHmac('sha1', key).update(message).digest();
  const offset = digest[digest.length - 1] & 0x0f;
  const number = digest.readUInt32BE(offset) & 0x7fffffff;
  return String(number % 10 ** digits).padStart(digits, '0');
}

function step(atMs = Date.now()) {
  return Math.floor(atMs / 1000 / STEP_SECONDS);
}

/** The code of a base32 secret at a time (ms since the epoch; now by default). */
function totp(secret, { atMs = Date.now(), digits = 6 } = {}) {
  const key = Buffer.isBuffer(secret) ? secret : base32Decode(secret);
  return hotp(key, step(atMs), digits);
}

const usedSteps = new Map(); // secret → last step whose code was handed out

/**
 * A code the server has not seen yet: the current step's, unless that step's code was
 * already handed out for this secret or the step ends within `marginMs` (the server could
 * then be in the next step); in those cases it waits for the next step first.
 */
async function freshCode(secret, { marginMs = 3000 } = {}) {
  for (;;) {
    const now = Date.now();
    const current = step(now);
    const leftMs = (current + 1) * STEP_SECONDS * 1000 - now;
    if (usedSteps.get(secret) !== current && leftMs > marginMs) {
      usedSteps.set(secret, current);
      return totp(secret, { atMs: now });
    }
    await new Promise((resolve) => setTimeout(resolve, leftMs + 50));
  }
}

/** Resolves at the start of the next 30 s step. */
async function nextStep() {
  const now = Date.now();
  await new Promise((resolve) => setTimeout(resolve, (step(now) + 1) * STEP_SECONDS * 1000 - now + 50));
}

module.exports = { totp, hotp, freshCode, nextStep, base32Decode, base32Encode, STEP_SECONDS };
