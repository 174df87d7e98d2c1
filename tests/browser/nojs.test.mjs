// The whole path with JavaScript disabled: login, start page, search,
// facet, paging, topic, thread (quotes unfold with <details>), logout.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, url, COORDINATOR } from './lib.mjs';

let browser;

before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test('everything works with JavaScript disabled', async () => {
  const ctx = await browser.newContext({ javaScriptEnabled: false });
  const page = await ctx.newPage();
  const click = (loc) => Promise.all([page.waitForNavigation(), loc.click()]);

  // login
  await page.goto(url('/'));
  assert.equal(new URL(page.url()).pathname, '/zaloguj');
  await page.fill('#email', COORDINATOR.email);
  await page.fill('#password', COORDINATOR.password);
  await click(page.locator('form.login button[type=submit]'));
  assert.equal(new URL(page.url()).pathname, '/');
  assert.ok((await page.locator('ul.topics > li').count()) >= 10);

  // search from the start page, facet, next page
  await page.fill('form[role=search] input[name=q]', 'zamowienie publiczne');
  await click(page.locator('form[role=search] button[type=submit]'));
  assert.equal(new URL(page.url()).pathname, '/szukaj');
  assert.ok((await page.locator('ol.results mark').count()) > 0);
  await click(page.locator('nav.pager a[rel=next]'));
  assert.match(page.url(), /strona=2/);
  await click(page.locator('aside.facets a').filter({ hasText: 'Zamówienia publiczne' }).first());
  assert.match(decodeURIComponent(page.url()), /topic:zamowienia/);
  assert.ok((await page.locator('ol.results > li').count()) > 0);

  // sort select submits with the button (no onchange needed)
  await page.selectOption('select#sort', 'data');
  await click(page.locator('form[role=search] button[type=submit]'));
  assert.match(page.url(), /sort=data/);

  // topic -> thread
  await page.goto(url('/'));
  await click(page.locator('ul.topics a[href="/temat/zamowienia"]'));
  await click(page.locator('main ul.threads > li h3 a').first());
  assert.match(new URL(page.url()).pathname, /^\/watek\/\d+$/);

  // quoted text unfolds without script
  await page.goto(url('/watek/2'));
  const quote = page.locator('details.quote').first();
  assert.equal(await quote.locator('div.text').isVisible(), false);
  await quote.locator('summary').click();
  assert.equal(await quote.locator('div.text').isVisible(), true);

  // flat view link
  await click(page.locator('.view-switch a', { hasText: 'według daty' }));
  assert.match(page.url(), /widok=plaski/);

  // logout
  await click(page.locator('form.logout button'));
  await page.goto(url('/'));
  assert.equal(new URL(page.url()).pathname, '/zaloguj');
  await ctx.close();
});
