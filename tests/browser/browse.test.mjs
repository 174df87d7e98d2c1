// Start page, topic browsing, thread and message pages, partner and
// meetings pages, with JavaScript enabled, as the demo coordinator.
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

test('start page: topics with counts, latest threads, search box', async () => {
  const resp = await page.goto(url('/'));
  assert.equal(resp.status(), 200);
  assert.equal(await page.getAttribute('html', 'lang'), 'pl');
  assert.match(await page.title(), /Skarbnica/);
  const topics = page.locator('section[aria-labelledby=tematy] ul.topics > li');
  assert.ok((await topics.count()) >= 10, 'at least 10 topics listed');
  for (const text of await topics.allInnerTexts()) {
    // "Zamówienia publiczne (11 wątków)": every topic carries a Polish count
    assert.match(text, /\(\d+\swąt(ek|ki|ków)\)/, `topic count in "${text}"`);
  }
  const procurement = page.locator('ul.topics a[href="/temat/zamowienia"]');
  assert.equal(await procurement.innerText(), 'Zamówienia publiczne');
  const latest = page.locator('section[aria-labelledby=najnowsze] ul.threads > li');
  assert.ok((await latest.count()) >= 5, 'latest threads listed');
  const first = await latest.first().locator('a[href^="/watek/"]').first().getAttribute('href');
  assert.match(first, /^\/watek\/\d+$/);
  // dates are Polish and machine-readable
  const when = latest.first().locator('time').first();
  assert.match(await when.getAttribute('datetime'), /^\d{4}-\d\d-\d\dT/);
  assert.match(await when.innerText(), /(stycznia|lutego|marca|kwietnia|maja|czerwca|lipca|sierpnia|września|października|listopada|grudnia) \d{4}/);
  assert.equal(await page.locator('form[role=search] input[name=q]').count(), 1);
});

test('topic page lists threads; clicking one opens the thread', async () => {
  const resp = await page.goto(url('/temat/zamowienia'));
  assert.equal(resp.status(), 200);
  assert.match(await page.locator('h1').innerText(), /Zamówienia publiczne/);
  const links = page.locator('main ul.threads > li h3 a[href^="/watek/"]');
  assert.ok((await links.count()) >= 5, 'procurement threads listed');
  const subject = (await links.first().innerText()).trim();
  await Promise.all([page.waitForNavigation(), links.first().click()]);
  assert.match(new URL(page.url()).pathname, /^\/watek\/\d+$/);
  assert.equal((await page.locator('h1').innerText()).trim(), subject);
});

test('unknown topic is a Polish 404', async () => {
  const resp = await page.goto(url('/temat/nie-ma-takiego'));
  assert.equal(resp.status(), 404);
  assert.match(await page.locator('main').innerText(), /nie (ma|istnieje)|Nie znaleziono/i);
});

test('thread page: nested replies, quotes folded, attachments listed', async () => {
  const resp = await page.goto(url('/watek/2'));
  assert.equal(resp.status(), 200);
  const msgs = page.locator('article.msg');
  assert.ok((await msgs.count()) >= 3, 'several messages');
  // nested view: replies are indented by depth
  assert.ok((await page.locator('article.msg.d0').count()) >= 1);
  assert.ok((await page.locator('article.msg.d1').count()) >= 1, 'a reply at depth 1');
  // quoted text folded in a closed <details>
  const quote = page.locator('details.quote').first();
  assert.equal(await quote.getAttribute('open'), null, 'quote folded');
  assert.equal(await quote.locator('div.text').isVisible(), false);
  await quote.locator('summary').click();
  assert.equal(await quote.locator('div.text').isVisible(), true, 'quote unfolds on click');
  assert.match(await quote.locator('div.text').innerText(), /^>|\n>/m);
  // attachments: name, type and size, downloadable
  const att = page.locator('ul.attachments > li').first();
  assert.match(await att.innerText(), /\.docx.*\(.*\d+\s[kM]?B\)/s);
  const a = att.locator('a');
  assert.notEqual(await a.getAttribute('download'), null);
  const href = await a.getAttribute('href');
  const dl = await ctx.request.get(url(href));
  assert.equal(dl.status(), 200);
  assert.match(dl.headers()['content-disposition'] || '', /^attachment/);
  // flat view and mbox export
  const flat = await page.goto(url('/watek/2?widok=plaski'));
  assert.equal(flat.status(), 200);
  assert.equal(await page.locator('article.msg.d1').count(), 0, 'flat view is not nested');
  const mbox = await ctx.request.get(url('/watek/2.mbox'));
  assert.equal(mbox.status(), 200);
  assert.match(await mbox.text(), /^From /);
});

test('message permalink and raw source', async () => {
  await page.goto(url('/watek/2'));
  const perma = await page.locator('ul.msg-links a').first().getAttribute('href');
  assert.match(perma, /^\/m\/.+\/$/);
  const resp = await page.goto(url(perma));
  assert.equal(resp.status(), 200);
  assert.ok((await page.locator('h1').innerText()).length > 0);
  const raw = await ctx.request.get(url(perma + 'raw'));
  assert.equal(raw.status(), 200);
  assert.match(await raw.text(), /Message-ID:/i);
});

test('partner page lists its threads', async () => {
  const resp = await page.goto(url('/gmina/brzozowka'));
  assert.equal(resp.status(), 200);
  assert.match(await page.locator('h1').innerText(), /Gmina Brzozówka/);
  assert.ok((await page.locator('main ul.threads > li').count()) >= 5);
});

test('meetings page lists quarterly notes', async () => {
  const resp = await page.goto(url('/spotkania'));
  assert.equal(resp.status(), 200);
  const notes = page.locator('main ul.threads > li h3 a');
  assert.ok((await notes.count()) >= 4);
  assert.match(await notes.first().innerText(), /Notatka ze spotkania/);
});
