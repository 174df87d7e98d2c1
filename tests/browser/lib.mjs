// tests/browser/lib.mjs: shared helpers of the browser tests — launching
// Debian's Chromium through playwright-core, logging in as the demo users,
// and running axe-core in a page.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);

export const BASE = process.env.SKARBNICA_BASE_URL || 'http://127.0.0.1:8080';
export const COORDINATOR = {
  email: 'koordynator@lista.example',
  password: 'skarbnica-demo',
};
export const READER = {
  email: 'a.kowalczyk@brzozowka.example',
  password: 'skarbnica-demo',
};

// The flags this machine needs (see the machine notes): no sandbox as root,
// no GPU, and no background connections (the network is closed).
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function launch() {
  // playwright-core gives every launch a fresh temporary --user-data-dir.
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
  });
}

export function url(path) {
  return BASE + path;
}

// Log in through the form of /zaloguj in page; returns the response of the
// page landed on.
export async function login(page, who = COORDINATOR, next = '/') {
  await page.goto(url('/zaloguj?dalej=' + encodeURIComponent(next)));
  await page.fill('#email', who.email);
  await page.fill('#password', who.password);
  const [resp] = await Promise.all([
    page.waitForNavigation(),
    page.click('form.login button[type=submit]'),
  ]);
  return resp;
}

// A logged-in context's storage state, made once per test file (the login
// throttle counts attempts per address, so tests do not log in per page).
export async function loggedInState(browser, who = COORDINATOR) {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await login(page, who);
  if (new URL(page.url()).pathname === '/zaloguj') {
    throw new Error('login as ' + who.email + ' failed: still on /zaloguj');
  }
  const state = await ctx.storageState();
  await ctx.close();
  return state;
}

const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

// Run axe-core (WCAG 2.0/2.1 A and AA rules and best practices) in page.
// The page's context needs bypassCSP: true, since the site's CSP forbids
// every script (as it should).
export async function axe(page) {
  await page.addScriptTag({ content: AXE_SOURCE });
  return page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await window.axe.run(document, {
      runOnly: {
        type: 'tag',
        values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'],
      },
      resultTypes: ['violations'],
    });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      helpUrl: v.helpUrl,
      nodes: v.nodes.map((n) => ({
        target: n.target.join(' '),
        html: n.html.slice(0, 200),
        summary: n.failureSummary,
      })),
    }));
  });
}

export function formatViolations(name, violations) {
  const lines = [];
  for (const v of violations) {
    lines.push(`${name}: [${v.impact}] ${v.id}: ${v.help} (${v.nodes.length} node(s)) ${v.helpUrl}`);
    for (const n of v.nodes.slice(0, 10)) {
      lines.push(`    ${n.target}  ${n.html}`);
      if (n.summary) lines.push('      ' + n.summary.replace(/\n/g, '\n      '));
    }
  }
  return lines.join('\n');
}

// Horizontal overflow of the page in CSS pixels (0 = no horizontal scroll).
export async function horizontalOverflow(page) {
  return page.evaluate(() => {
    const d = document.documentElement;
    return Math.max(d.scrollWidth, document.body.scrollWidth) - d.clientWidth;
  });
}
