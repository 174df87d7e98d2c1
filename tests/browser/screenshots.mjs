// tests/browser/screenshots.mjs: screenshots of the main pages for
// docs/screenshots/ (run by hand, not by make check):
//
//   (cd tests/browser && npm ci --no-audit --no-fund)   # once
//   node tests/browser/screenshots.mjs
//
// Starts `skarbnica demo` on a free 127.0.0.1 port in a temporary data
// directory (or uses $SKARBNICA_BASE_URL when set), logs in as the demo
// coordinator, and writes NAME-1280.png and NAME-375.png: the first screen
// of each page (viewport, not the full page) so every file stays small.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, mkdirSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const out = join(root, 'docs/screenshots');

function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.on('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

async function waitHealthy(base, server) {
  for (let i = 0; i < 300; i++) {
    if (server && server.exitCode !== null) throw new Error('skarbnica exited');
    try {
      if ((await fetch(base + '/healthz')).ok) return;
    } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('no /healthz at ' + base);
}

let server, tmp;
let base = process.env.SKARBNICA_BASE_URL;
if (!base) {
  const bin = resolve(root, process.env.SKARBNICA_BIN || './skarbnica');
  const port = await freePort();
  tmp = mkdtempSync(join(tmpdir(), 'skarbnica-shots.'));
  base = `http://127.0.0.1:${port}`;
  server = spawn(bin, ['-d', join(tmp, 'data'), 'demo', '--listen', `127.0.0.1:${port}`],
    { stdio: ['ignore', 'ignore', 'inherit'] });
}
process.env.SKARBNICA_BASE_URL = base;
const { launch, loggedInState, url } = await import('./lib.mjs');

const PAGES = [
  ['start', '/'],
  ['search', '/szukaj?q=zamowienie+publiczne'],
  ['topic', '/temat/zamowienia'],
  ['thread', '/watek/2'],
  ['message', null], // the permalink of the second message of /watek/2
  ['partner', '/gmina/brzozowka'],
  ['meetings', '/spotkania'],
  ['login', '/zaloguj'],
  ['note-form', '/spotkania/nowa'], // coordinators only; skipped when 404
  ['practices', '/praktyki'],
  ['practice', '/praktyka/1'],
  ['onboarding', '/dla-nowych'],
  ['glossary', '/slownik'],
  ['curate', '/watek/2/porzadkuj'], // coordinators only
  ['audit', '/dziennik'], // coordinators only
];
const SIZES = [
  [1280, 900],
  [375, 812],
];

let browser;
try {
  await waitHealthy(base, server);
  mkdirSync(out, { recursive: true });
  browser = await launch();
  const state = await loggedInState(browser);
  for (const [w, h] of SIZES) {
    const opts = { viewport: { width: w, height: h }, deviceScaleFactor: 1, isMobile: w < 500 };
    const ctx = await browser.newContext({ ...opts, storageState: state });
    const anon = await browser.newContext(opts);
    for (const [name, path0] of PAGES) {
      const page = await (name === 'login' ? anon : ctx).newPage();
      let path = path0;
      if (!path) {
        await page.goto(url('/watek/2'));
        path = await page.locator('ul.msg-links a:not([href$="/raw"])').nth(1).getAttribute('href');
      }
      const resp = await page.goto(url(path));
      if (resp.status() === 404) {
        console.log(`SKIP: ${path} answers 404: no ${name} screenshot`);
        await page.close();
        continue;
      }
      if (name === 'thread') {
        // show one unfolded quote
        await page.locator('details.quote summary').first().click();
        await page.locator('article.msg').nth(1).scrollIntoViewIfNeeded();
        await page.evaluate(() => window.scrollTo(0, 0));
      }
      const file = join(out, `${name}-${w}.png`);
      await page.screenshot({ path: file, fullPage: false });
      console.log(`${file}: ${Math.round(statSync(file).size / 1024)} KB (${path})`);
      await page.close();
    }
    await ctx.close();
    await anon.close();
  }
} finally {
  await browser?.close();
  if (server) {
    server.kill('SIGTERM');
    await new Promise((r) => server.exitCode !== null ? r() : server.on('exit', r));
  }
  if (tmp) rmSync(tmp, { recursive: true, force: true });
}
