// The coordinators' curation pages (web/curate.c) in a real browser, as
// the demo coordinator: add a topic to a thread, pin it as "start here",
// promote it to a good-practice draft and edit it, undo a change from the
// log; readers are refused. axe-core checks the new pages.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, loggedInState, url, axe, formatViolations, horizontalOverflow, READER } from './lib.mjs';

let browser, coordState;

before(async () => {
  browser = await launch();
  coordState = await loggedInState(browser);
});
after(async () => {
  await browser?.close();
});

async function submit(page, form) {
  await Promise.all([page.waitForNavigation(), form.locator('button[type=submit]').click()]);
}

test('topic, pin, promote and undo on a thread', async () => {
  const ctx = await browser.newContext({ storageState: coordState });
  const page = await ctx.newPage();
  const resp = await page.goto(url('/watek/2'));
  assert.equal(resp.status(), 200);
  const panel = page.locator('section.curate');
  assert.equal(await panel.count(), 1, 'the "Porządkowanie" panel');
  await Promise.all([page.waitForNavigation(), panel.locator('a[href$="/porzadkuj"]').click()]);
  assert.equal(new URL(page.url()).pathname, '/watek/2/porzadkuj');

  // Add a topic the thread does not have.
  const current = await page.locator('input[name=akcja][value=temat-usun] ~ input[name=temat]').evaluateAll(
    (els) => els.map((e) => e.value));
  const options = await page.locator('#temat-dodaj option').evaluateAll((els) => els.map((e) => e.value));
  const topic = options.find((v) => !current.includes(v));
  assert.ok(topic, 'a topic to add');
  await page.selectOption('#temat-dodaj', topic);
  await submit(page, page.locator('form:has(#temat-dodaj)'));
  assert.match(page.url(), /zrobione=temat-dodany/);
  assert.match(await page.locator('main').innerText(), /Dodano temat do wątku\./);
  assert.equal(await page.locator(`input[name=akcja][value=temat-usun] ~ input[name=temat][value="${topic}"]`).count(), 1);

  // Pin it for that topic with a note.
  await page.selectOption('#temat-przypnij', topic);
  await page.fill('#notatka', 'Dobry początek tematu');
  await page.fill('#pozycja', '1');
  await submit(page, page.locator('form:has(#temat-przypnij)'));
  assert.match(await page.locator('main').innerText(), /Przypięto wątek/);
  assert.match(await page.locator('main').innerText(), /\(pozycja 1\): Dobry początek tematu/);

  // Bad input: an error in Polish, the typed value kept.
  await page.fill('#cel', 'nie-numer');
  await submit(page, page.locator('form:has(#cel)'));
  assert.match(await page.locator('[role=alert]').innerText(), /Podaj numer wątku docelowego/);
  assert.equal(await page.inputValue('#cel'), 'nie-numer');

  // Promote to a draft record, then edit its title.
  await submit(page, page.locator('form[action="/praktyka/nowa"]').first());
  assert.match(new URL(page.url()).pathname, /^\/praktyka\/\d+\/edytuj$/);
  assert.match(await page.locator('main').innerText(), /Utworzono szkic praktyki/);
  assert.notEqual(await page.inputValue('#tytul'), '', 'title prefilled from the thread');
  await page.fill('#tytul', 'Praktyka z testu przeglądarki');
  await submit(page, page.locator('form:has(#tytul)'));
  assert.match(await page.locator('main').innerText(), /Zapisano praktykę\./);
  assert.equal(await page.inputValue('#tytul'), 'Praktyka z testu przeglądarki');

  // Undo the newest undoable change (the title edit) from the log.
  await page.goto(url('/dziennik'));
  const row = page.locator('ul.audit > li').filter({ has: page.locator('form[action="/dziennik/cofnij"]') }).first();
  assert.match(await row.innerText(), /Zmiana praktyki/);
  await submit(page, row.locator('form'));
  assert.match(await page.locator('main').innerText(), /Cofnięto zmianę nr \d+\./);
  await page.goBack();
  await ctx.close();
});

test('the curation pages pass axe', async () => {
  const ctx = await browser.newContext({ storageState: coordState, bypassCSP: true });
  const page = await ctx.newPage();
  const problems = [];
  for (const p of ['/watek/2/porzadkuj', '/dziennik', '/wstrzymane', '/tematy/edytuj', '/tematy/edytuj?temat=bip', '/praktyka/nowa']) {
    const resp = await page.goto(url(p));
    assert.equal(resp.status(), 200, p);
    const v = await axe(page);
    if (v.length) problems.push(formatViolations(p, v));
  }
  assert.equal(problems.join('\n'), '', 'no axe violations');
  await ctx.close();
});

test('phone, 375 px wide: no horizontal scroll on the curation pages', async () => {
  const ctx = await browser.newContext({ storageState: coordState, viewport: { width: 375, height: 800 } });
  const page = await ctx.newPage();
  const wide = [];
  for (const p of ['/watek/2/porzadkuj', '/dziennik', '/wstrzymane', '/tematy/edytuj', '/praktyka/nowa']) {
    await page.goto(url(p));
    const o = await horizontalOverflow(page);
    if (o > 0) wide.push(`${p}: ${o}px`);
  }
  assert.deepEqual(wide, []);
  await ctx.close();
});

test('a reader gets 403', async () => {
  const ctx = await browser.newContext({ storageState: await loggedInState(browser, READER) });
  const page = await ctx.newPage();
  for (const p of ['/dziennik', '/watek/2/porzadkuj', '/tematy/edytuj']) {
    const resp = await page.goto(url(p));
    assert.equal(resp.status(), 403, p);
  }
  const resp = await page.goto(url('/watek/2'));
  assert.equal(resp.status(), 200);
  assert.equal(await page.locator('section.curate').count(), 0);
  await ctx.close();
});
