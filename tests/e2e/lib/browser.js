'use strict';
// Debian's Chromium driven by playwright-core (Playwright cannot download its own browsers
// here), phone and desktop contexts, screenshots, accessibility checks, and waits that
// say which PORTAL.md name was missing.

const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { chromium } = require('playwright-core');
const { AxeBuilder } = require('@axe-core/playwright');

const CHROMIUM = process.env.E2E_CHROMIUM || '/usr/bin/chromium';
const SCREENSHOTS = path.resolve(__dirname, '..', 'screenshots');
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

async function launch() {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing (apt-get install chromium)`);
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
}

/** A 390×844 touch phone (iPhone 12-14 size). locale: 'en-US' or 'zh-CN'. */
async function phone(browser, { locale = 'en-US', ...options } = {}) {
  return browser.newContext({
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
    locale,
    ...options,
  });
}

/** A 1280×900 desktop window. */
async function desktop(browser, { locale = 'en-US', ...options } = {}) {
  return browser.newContext({ viewport: { width: 1280, height: 900 }, locale, ...options });
}

/** A whole-page PNG under tests/e2e/screenshots/<name>.png; returns its path. */
async function shot(page, name) {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name.replace(/[^a-zA-Z0-9._-]/g, '_')}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Runs axe-core on the page; fails listing every serious or critical violation. */
async function axe(page, { exclude = [] } = {}) {
  let builder = new AxeBuilder({ page });
  for (const selector of exclude) builder = builder.exclude(selector);
  const results = await builder.analyze();
  const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const described = bad
    .map(
      (v) =>
        `- [${v.impact}] ${v.id}: ${v.help} (${v.helpUrl})\n` +
        v.nodes
          .slice(0, 5)
          .map((n) => `    ${n.target.join(' ')}: ${n.failureSummary.replace(/\s+/g, ' ')}`)
          .join('\n'),
    )
    .join('\n');
  assert.equal(bad.length, 0, `axe: ${bad.length} serious/critical violation(s) on ${page.url()}:\n${described}`);
  return results;
}

/** A RegExp matching an accessible name exactly, case-insensitively (PORTAL.md's rule). */
function named(text) {
  return new RegExp(`^\\s*${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`, 'i');
}

/** Waits for a locator to be visible; on failure names what PORTAL.md promised. */
async function visible(locator, what, { timeoutMs = 5000 } = {}) {
  try {
    await locator.first().waitFor({ state: 'visible', timeout: timeoutMs });
  } catch (error) {
    throw new assert.AssertionError({
      message: `not found within ${timeoutMs} ms: ${what}\n(${error.message.split('\n')[0]})\n${await outline(locator.page())}`,
    });
  }
  return locator.first();
}

/** The page's accessibility tree (roles and names), shortened: what a failed wait saw. */
async function outline(page, maxChars = 2500) {
  try {
    const tree = await page.locator('body').ariaSnapshot({ timeout: 2000 });
    const cut = tree.length > maxChars ? `${tree.slice(0, maxChars)}\n  …` : tree;
    return `accessibility tree of ${page.url()}:\n${cut}`;
  } catch (error) {
    return `(no accessibility tree: ${error.message.split('\n')[0]})`;
  }
}

/** Waits until no element matches the locator. */
async function gone(locator, what, { timeoutMs = 5000 } = {}) {
  try {
    await locator.first().waitFor({ state: 'hidden', timeout: timeoutMs });
  } catch {
    throw new assert.AssertionError({ message: `still shown after ${timeoutMs} ms: ${what}` });
  }
}

module.exports = { launch, phone, desktop, shot, axe, named, visible, gone, outline, SCREENSHOTS, CHROMIUM };
