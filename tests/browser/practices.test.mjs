// The newcomers' path and the good-practice records on the demo: open
// /dla-nowych, follow a pinned ("Zacznij tutaj") thread, open a practice
// record, check who sees the contact person, and reach it all with the
// keyboard alone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, loggedInState, url, READER } from './lib.mjs';

let browser, ctx, page;

before(async () => {
  browser = await launch();
  ctx = await browser.newContext({ storageState: await loggedInState(browser, READER) });
  page = await ctx.newPage();
});
after(async () => {
  await browser?.close();
});

test('/dla-nowych: a table of contents, pinned threads and practices per topic', async () => {
  const resp = await page.goto(url('/dla-nowych'));
  assert.equal(resp.status(), 200);
  assert.equal((await page.locator('h1').innerText()).trim(), 'Dla nowych pracowników');
  assert.equal(await page.locator('header nav a[aria-current=page]').innerText(), 'Dla nowych');
  const toc = page.locator('nav.toc ol > li a');
  assert.ok((await toc.count()) >= 15, 'most topics have something to read');
  // every entry of the table of contents leads to a heading on the page
  for (const href of await toc.evaluateAll((as) => as.map((a) => a.getAttribute('href')))) {
    assert.match(href, /^#t-[a-z0-9-]+$/);
    assert.equal(await page.locator(href).count(), 1, `anchor ${href}`);
  }
  const procurement = page.locator('section[aria-labelledby=t-zamowienia]');
  assert.match(await procurement.locator('h3').first().innerText(), /Zacznij tutaj/);
  assert.ok((await procurement.locator('ul.pins > li').count()) >= 1, 'pinned threads');
  assert.ok((await procurement.locator('ul.practices a[href^="/praktyka/"]').count()) >= 1,
    'a practice record');
  assert.ok((await page.locator('ul.practices a[href^="/praktyka/"]').count()) >= 5,
    'the demo comes with several validated practices');
});

test('following a pinned thread opens it', async () => {
  await page.goto(url('/dla-nowych'));
  const pin = page.locator('section[aria-labelledby=t-zamowienia] ul.pins a[href^="/watek/"]').first();
  const subject = (await pin.innerText()).trim();
  await Promise.all([page.waitForNavigation(), pin.click()]);
  assert.match(new URL(page.url()).pathname, /^\/watek\/\d+$/);
  assert.equal((await page.locator('h1').innerText()).trim(), subject);
});

test('a practice record: fields, contact for a logged-in reader, source thread', async () => {
  await page.goto(url('/praktyki'));
  assert.match(await page.locator('main p[role=status]').innerText(), /Znaleziono \d+\spraktyk/);
  const first = page.locator('ul.practices h3 a').first();
  const title = (await first.innerText()).trim();
  await Promise.all([page.waitForNavigation(), first.click()]);
  assert.match(new URL(page.url()).pathname, /^\/praktyka\/\d+$/);
  assert.equal((await page.locator('h1').innerText()).trim(), title);
  for (const h of ['Problem', 'Rozwiązanie', 'Osoba do kontaktu', 'Dyskusja na liście']) {
    assert.equal(await page.locator('main h2', { hasText: h }).count(), 1, `section ${h}`);
  }
  assert.ok((await page.locator('section[aria-labelledby=kontakt] a[href^="mailto:"]').count()) === 1,
    'the contact person is shown to a logged-in reader');
  // readers get no coordinator actions
  assert.equal(await page.locator('section.curate').count(), 0);
  const source = page.locator('section[aria-labelledby=zrodlo] a');
  await Promise.all([page.waitForNavigation(), source.click()]);
  assert.match(new URL(page.url()).pathname, /^\/watek\/\d+$/);
});

test('anonymous visitors are sent to the login form (private demo)', async () => {
  const anon = await browser.newContext();
  const p = await anon.newPage();
  await p.goto(url('/praktyka/1'));
  assert.equal(new URL(p.url()).pathname, '/zaloguj');
  await anon.close();
});

test('keyboard only: from the menu to a practice record', async () => {
  await page.goto(url('/'));
  // Tab through the page until the "Dobre praktyki" menu link has focus.
  let found = false;
  for (let i = 0; i < 30 && !found; i++) {
    await page.keyboard.press('Tab');
    found = await page.evaluate(() => document.activeElement?.getAttribute('href') === '/praktyki');
  }
  assert.ok(found, '"Dobre praktyki" is reachable with Tab');
  await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
  assert.equal(new URL(page.url()).pathname, '/praktyki');
  // then on to the first record, still with Tab and Enter
  found = false;
  for (let i = 0; i < 60 && !found; i++) {
    await page.keyboard.press('Tab');
    found = await page.evaluate(() => /^\/praktyka\/\d+$/.test(document.activeElement?.getAttribute('href') || ''));
  }
  assert.ok(found, 'a practice link is reachable with Tab');
  await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
  assert.match(new URL(page.url()).pathname, /^\/praktyka\/\d+$/);
  // the focused link is visibly marked
  await page.goto(url('/dla-nowych'));
  await page.keyboard.press('Tab');
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  assert.notEqual(outline, 'none');
});

test('/slownik and /kwartaly', async () => {
  let resp = await page.goto(url('/slownik'));
  assert.equal(resp.status(), 200);
  assert.ok((await page.locator('dl.glossary > dt').count()) >= 10, 'acronyms listed');
  assert.match(await page.locator('dl.glossary').innerText(), /BIP/);
  resp = await page.goto(url('/kwartaly'));
  assert.equal(resp.status(), 200);
  const q = page.locator('table.quarters tbody a[href="/kwartal/2024-1"]');
  assert.equal((await q.innerText()).trim(), 'I kwartał 2024');
  await Promise.all([page.waitForNavigation(), q.click()]);
  assert.match(await page.locator('main').innerText(), /\d+\swąt(ek|ki|ków) rozpoczęt/);
  assert.ok((await page.locator('main ul.threads > li').count()) >= 5);
});
