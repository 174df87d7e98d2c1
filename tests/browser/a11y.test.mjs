// Accessibility: axe-core on the main pages (zero serious or critical
// violations), keyboard navigation (skip link first, focus visible), and a
// 375-px phone viewport without horizontal scroll.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, loggedInState, url, axe, formatViolations, horizontalOverflow } from './lib.mjs';

let browser, state;
const pages = {};

before(async () => {
  browser = await launch();
  state = await loggedInState(browser);
  // the main pages; the message permalink is taken from a thread
  const ctx = await browser.newContext({ storageState: state });
  const page = await ctx.newPage();
  await page.goto(url('/watek/2'));
  const perma = await page.locator('ul.msg-links a').first().getAttribute('href');
  // the coordinators' notes form, once web/ has it
  const noteForm = (await page.goto(url('/spotkania/nowa'))).status() === 200;
  await ctx.close();
  Object.assign(pages, {
    start: '/',
    search: '/szukaj?q=zamowienie+publiczne',
    topic: '/temat/zamowienia',
    thread: '/watek/2',
    message: perma,
    partner: '/gmina/brzozowka',
    meetings: '/spotkania',
    login: '/zaloguj',
    'search-error': '/szukaj?q=%28zamowienie',
    practices: '/praktyki',
    practice: '/praktyka/1',
    onboarding: '/dla-nowych',
    glossary: '/slownik',
    quarters: '/kwartaly',
    quarter: '/kwartal/2024-1',
  });
  if (noteForm) pages['note-form'] = '/spotkania/nowa';
  else console.log('SKIP: /spotkania/nowa answers 404: the notes form is not checked');
});
after(async () => {
  await browser?.close();
});

// Violations already reported to web/ (page, rule, selector): printed as
// KNOWN, not failed, so that the suite stays green until they are fixed.
const KNOWN = [
  // e.g. { page: 'note-form', id: 'label', target: '#tresc' },
];
const isKnown = (page, v, n) => KNOWN.some((k) => k.page === page && k.id === v.id && n.target === k.target);

test('axe-core: no serious or critical violations on the main pages', async () => {
  const ctx = await browser.newContext({ storageState: state, bypassCSP: true });
  const anon = await browser.newContext({ bypassCSP: true });
  const bad = [];
  const summary = [];
  for (const [name, path] of Object.entries(pages)) {
    const page = await (name === 'login' ? anon : ctx).newPage();
    await page.goto(url(path));
    const v = await axe(page);
    const counts = {};
    for (const x of v) counts[x.impact] = (counts[x.impact] || 0) + 1;
    summary.push(`${name.padEnd(13)} ${path}: ${v.length} violation(s) ${JSON.stringify(counts)}`);
    if (v.length) console.log(formatViolations(name, v));
    for (const x of v.filter((y) => y.impact === 'serious' || y.impact === 'critical')) {
      for (const n of x.nodes) {
        const what = `${name}: ${x.id} (${x.impact}) at ${n.target}`;
        if (isKnown(name, x, n)) console.log('KNOWN (reported to web/): ' + what);
        else bad.push(what);
      }
    }
    await page.close();
  }
  console.log('axe-core ' + (await import('axe-core')).default.version + ' results:\n' + summary.join('\n'));
  await ctx.close();
  await anon.close();
  assert.deepEqual(bad, [], 'serious/critical axe violations');
});

test('keyboard: Tab reaches the skip link first; focus is visible', async () => {
  const ctx = await browser.newContext({ storageState: state });
  const page = await ctx.newPage();
  for (const path of ['/', '/szukaj?q=zamowienie+publiczne', '/watek/2']) {
    await page.goto(url(path));
    await page.keyboard.press('Tab');
    const first = await page.evaluate(() => {
      const e = document.activeElement;
      const r = e.getBoundingClientRect();
      const s = getComputedStyle(e);
      return {
        tag: e.tagName, cls: e.className, href: e.getAttribute('href'), text: e.textContent.trim(),
        visible: r.width > 0 && r.height > 0 && r.top >= 0 && r.left >= 0 && r.top < innerHeight,
        outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0,
        shadow: s.boxShadow !== 'none',
      };
    });
    assert.equal(first.tag, 'A', `${path}: first Tab stop is a link`);
    assert.equal(first.href, '#tresc', `${path}: first Tab stop is the skip link`);
    assert.match(first.text, /Przejdź do treści/);
    assert.ok(first.visible, `${path}: the skip link shows when focused`);
    assert.ok(first.outline || first.shadow, `${path}: focus indicator on the skip link`);
    // Enter moves to the main content
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'tresc');
    // the next Tab stops are visibly focused too
    for (let i = 0; i < 5; i++) {
      await page.keyboard.press('Tab');
      const f = await page.evaluate(() => {
        const e = document.activeElement;
        const s = getComputedStyle(e);
        return {
          what: e.tagName + ' ' + (e.getAttribute('href') || e.name || e.id),
          ok: (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== 'none',
        };
      });
      assert.ok(f.ok, `${path}: focus visible on ${f.what}`);
    }
  }
  await ctx.close();
});

test('phone, 375 px wide: no horizontal scroll on the main pages', async () => {
  const ctx = await browser.newContext({
    storageState: state, viewport: { width: 375, height: 740 }, deviceScaleFactor: 1, isMobile: true, hasTouch: true,
  });
  const anon = await browser.newContext({ viewport: { width: 375, height: 740 }, isMobile: true });
  const wide = [];
  for (const [name, path] of Object.entries(pages)) {
    const page = await (name === 'login' ? anon : ctx).newPage();
    await page.goto(url(path));
    const over = await horizontalOverflow(page);
    if (over > 0) {
      const culprits = await page.evaluate(() => {
        const w = document.documentElement.clientWidth;
        return [...document.querySelectorAll('body *')]
          .filter((e) => e.getBoundingClientRect().right > w + 0.5)
          .slice(0, 5)
          .map((e) => e.tagName.toLowerCase() + (e.className ? '.' + String(e.className).replace(/ /g, '.') : '') +
            ' right=' + Math.round(e.getBoundingClientRect().right));
      });
      wide.push(`${name} (${path}): ${over}px too wide: ${culprits.join('; ')}`);
    }
    await page.close();
  }
  await ctx.close();
  await anon.close();
  assert.deepEqual(wide, []);
});
