// Search: Polish inflection and diacritics, highlighting, facets, paging,
// "did you mean", and a bad query.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, loggedInState, url } from './lib.mjs';

let browser, ctx, page;

before(async () => {
  browser = await launch();
  ctx = await browser.newContext({ storageState: await loggedInState(browser) });
  page = await ctx.newPage();
});
after(async () => {
  await browser?.close();
});

function found(text) {
  const m = /Znaleziono ([\d\s]+?)\s+wiadomo/.exec(text);
  assert.ok(m, `result count in "${text}"`);
  return Number(m[1].replace(/[\s\u00a0]/g, ''));
}

test('"zamowienie publiczne" from the start page finds highlighted results', async () => {
  await page.goto(url('/'));
  await page.fill('form[role=search] input[name=q]', 'zamowienie publiczne');
  await Promise.all([page.waitForNavigation(), page.press('form[role=search] input[name=q]', 'Enter')]);
  assert.equal(new URL(page.url()).pathname, '/szukaj');
  const n = found(await page.locator('[role=status]').innerText());
  assert.ok(n >= 10, `many results (${n})`);
  const results = page.locator('ol.results > li');
  assert.ok((await results.count()) >= 10);
  // without diacritics in the query, inflected forms with them are marked
  const marks = await page.locator('ol.results mark').allInnerTexts();
  assert.ok(marks.length >= 10, 'highlights');
  assert.ok(marks.some((m) => /zamówie/i.test(m)), `"zamówień/zamówienia" marked: ${marks.slice(0, 8)}`);
  assert.ok(marks.some((m) => /publiczn/i.test(m)));
  // the query stays in the box
  assert.equal(await page.inputValue('form[role=search] input[name=q]'), 'zamowienie publiczne');
});

test('facets narrow the results', async () => {
  await page.goto(url('/szukaj?q=zamowienie+publiczne'));
  const all = found(await page.locator('[role=status]').innerText());
  const facet = page.locator('aside.facets a').filter({ hasText: 'Edukacja' }).first();
  const facetCount = Number((await facet.locator('xpath=..').innerText()).match(/\((\d+)\)/)[1]);
  await Promise.all([page.waitForNavigation(), facet.click()]);
  const narrowed = found(await page.locator('[role=status]').innerText());
  assert.ok(narrowed < all, `${narrowed} < ${all}`);
  assert.equal(narrowed, facetCount, 'the facet count is the count after narrowing');
  for (const text of await page.locator('ol.results > li').allInnerTexts()) {
    assert.match(text, /Edukacja/);
  }
  // year facet
  await page.goto(url('/szukaj?q=zamowienie+publiczne'));
  const year = page.locator('aside.facets a').filter({ hasText: /^2025$/ });
  await Promise.all([page.waitForNavigation(), year.click()]);
  const in2025 = found(await page.locator('[role=status]').innerText());
  assert.ok(in2025 < all);
  for (const dt of await page.locator('ol.results time').evaluateAll((ts) => ts.map((t) => t.getAttribute('datetime')))) {
    assert.match(dt, /^2025-/);
  }
});

test('paging: next page continues the numbering', async () => {
  await page.goto(url('/szukaj?q=zamowienie+publiczne'));
  const firstPage = await page.locator('ol.results > li h3 a').allInnerTexts();
  const next = page.locator('nav.pager a[rel=next]');
  await Promise.all([page.waitForNavigation(), next.click()]);
  assert.match(page.url(), /strona=2/);
  assert.equal(await page.getAttribute('ol.results', 'start'), String(firstPage.length + 1));
  const second = await page.locator('ol.results > li h3 a').allInnerTexts();
  assert.ok(second.length > 0);
  assert.equal(await page.locator('nav.pager a[aria-current=page]').innerText(), '2');
  const hrefsA = await page.locator('ol.results > li h3 a').evaluateAll((as) => as.map((a) => a.href));
  await page.goto(url('/szukaj?q=zamowienie+publiczne'));
  const hrefsB = await page.locator('ol.results > li h3 a').evaluateAll((as) => as.map((a) => a.href));
  assert.equal(hrefsA.filter((h) => hrefsB.includes(h)).length, 0, 'pages do not overlap');
});

test('"did you mean" for a typo', async () => {
  await page.goto(url('/szukaj?q=zamowinie'));
  const suggest = page.locator('.suggest a');
  assert.equal(await suggest.count(), 1, 'a suggestion');
  assert.match(await page.locator('.suggest').innerText(), /Czy chodziło Ci o/);
  assert.match(await suggest.innerText(), /zamowienie/);
  await Promise.all([page.waitForNavigation(), suggest.click()]);
  assert.ok(found(await page.locator('[role=status]').innerText()) > 0);
});

test('a bad query: Polish message, HTTP 400', async () => {
  const resp = await page.goto(url('/szukaj?q=' + encodeURIComponent('(zamowienie publiczne')));
  assert.equal(resp.status(), 400);
  const alert = page.locator('[role=alert]');
  assert.equal(await alert.count(), 1);
  assert.match(await alert.innerText(), /Nie rozumiemy tego zapytania/);
  assert.match(await alert.innerText(), /nawias/);
  // the form is still there, with the query, to correct it
  assert.equal(await page.inputValue('form[role=search] input[name=q]'), '(zamowienie publiczne');
});

test('a query without results says so in Polish', async () => {
  const resp = await page.goto(url('/szukaj?q=xqzwvkj'));
  assert.equal(resp.status(), 200);
  assert.match(await page.locator('main').innerText(), /(Nic nie znaleziono|Nie znaleziono|Brak wyników)/);
});
