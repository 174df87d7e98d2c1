// Login and logout as the demo coordinator; a wrong password; posting the
// quarterly meeting notes when /spotkania/nowa exists.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, login, loggedInState, url, COORDINATOR } from './lib.mjs';

let browser;

before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test('private by default: the start page asks to log in', async () => {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(url('/watek/2'));
  assert.equal(new URL(page.url()).pathname, '/zaloguj');
  assert.match(await page.locator('h1').innerText(), /Zaloguj się/);
  assert.equal(await page.locator('label[for=email]').count(), 1);
  assert.equal(await page.locator('label[for=password]').count(), 1);
  await ctx.close();
});

test('a wrong password is refused with a Polish message', async () => {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await login(page, { email: COORDINATOR.email, password: 'zle-haslo' });
  assert.equal(new URL(page.url()).pathname, '/zaloguj');
  assert.match(await page.locator('main').innerText(), /(nieprawidłow|błędn|niepoprawn)/i);
  await ctx.close();
});

test('login as the coordinator, back to the page asked for, then logout', async () => {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(url('/watek/2'));
  await page.fill('#email', COORDINATOR.email);
  await page.fill('#password', COORDINATOR.password);
  await Promise.all([page.waitForNavigation(), page.click('form.login button[type=submit]')]);
  assert.equal(new URL(page.url()).pathname, '/watek/2', 'back where we were going');
  const cookies = await ctx.cookies();
  const session = cookies.find((c) => c.name === 'sk_session');
  assert.ok(session, 'session cookie');
  assert.equal(session.httpOnly, true);
  assert.notEqual(session.sameSite, 'None');
  const logout = page.locator('form.logout button');
  assert.match(await logout.innerText(), /Wyloguj się/);
  await Promise.all([page.waitForNavigation(), logout.click()]);
  await page.goto(url('/'));
  assert.equal(new URL(page.url()).pathname, '/zaloguj', 'logged out');
  await ctx.close();
});

test('coordinator posts the quarterly meeting notes (/spotkania/nowa)', async (t) => {
  const ctx = await browser.newContext({ storageState: await loggedInState(browser) });
  const page = await ctx.newPage();
  const resp = await page.goto(url('/spotkania/nowa'));
  if (resp.status() === 404) {
    const msg = 'SKIP: /spotkania/nowa answers 404 (the notes form is not there yet)';
    console.log(msg);
    t.skip(msg);
    await ctx.close();
    return;
  }
  assert.equal(resp.status(), 200);
  const form = page.locator('main form[method=post]').first();
  assert.equal(await form.count(), 1, 'a form');
  assert.ok((await form.locator('input[name=csrf]').count()) === 1, 'a CSRF token');
  // the form of web/notes.c: kwartal, tytul, miejsce, obecni, temat
  // (checkboxes), ustalenia, tresc, zalacznik (files)
  const title = 'Notatka testowa ' + Date.now();
  assert.match(await form.locator('[name=kwartal]').inputValue(), /^\d{4}-Q[1-4]$/, 'quarter prefilled');
  await form.locator('[name=kwartal]').fill('2026-Q4');
  await form.locator('[name=tytul]').fill(title);
  await form.locator('[name=miejsce]').fill('Brzozówka, sala narad');
  await form.locator('[name=obecni]').fill('Gmina Brzozówka, Gmina Jaśkowo');
  await form.locator('input[name=temat][value=zamowienia]').check();
  await form.locator('[name=ustalenia]').fill('- regulaminy zamówień wymieniamy do końca roku');
  await form.locator('textarea[name=tresc]').fill('## Przebieg\n\nTest przeglądarkowy: **notatka** z listą:\n\n- punkt pierwszy\n- punkt drugi');
  await form.locator('[name=zalacznik]').setInputFiles({
    name: 'lista-obecnosci.txt', mimeType: 'text/plain', buffer: Buffer.from('Lista obecności\n'),
  });
  const [nav] = await Promise.all([
    page.waitForNavigation(),
    form.locator('button[type=submit]').click(),
  ]);
  assert.equal(nav.status(), 200, `posted: landed on ${page.url()}`);
  assert.match(new URL(page.url()).pathname, /^\/(watek\/\d+|spotkania)$/);
  if (new URL(page.url()).pathname.startsWith('/watek/')) {
    // the subject sent to the list: "Notatka ze spotkania 2026-Q4: TITLE"
    assert.ok((await page.locator('h1').innerText()).includes(title), 'the thread of the note');
    assert.match(await page.locator('main').innerText(), /punkt pierwszy/);
    assert.match(await page.locator('main').innerText(), /lista-obecnosci\.txt/);
  }
  // the notes list shows it, queued for the list
  await page.goto(url('/spotkania'));
  const item = page.locator('ul.notes > li', { hasText: title });
  assert.equal(await item.count(), 1, 'the note is listed on /spotkania');
  assert.match(await item.innerText(), /2026-Q4/);
  // an empty form is refused with a Polish message, not a 500
  await page.goto(url('/spotkania/nowa'));
  await page.locator('form.note [name=tytul]').fill('');
  await page.locator('form.note textarea[name=tresc]').evaluate((e) => e.removeAttribute('required'));
  await page.locator('form.note [name=tytul]').evaluate((e) => e.removeAttribute('required'));
  const [bad] = await Promise.all([
    page.waitForNavigation(),
    page.locator('form.note button[type=submit]').click(),
  ]);
  assert.equal(bad.status(), 400);
  assert.equal(await page.locator('[role=alert]').count(), 1);
  await ctx.close();
});

// The notes form once had <textarea id="tresc">, the id of <main> (the skip
// link's target), so its label labelled <main>: ids must stay unique.
test('notes form: ids are unique and every field has its own label', async (t) => {
  const ctx = await browser.newContext({ storageState: await loggedInState(browser) });
  const page = await ctx.newPage();
  const resp = await page.goto(url('/spotkania/nowa'));
  if (resp.status() === 404) {
    t.skip('SKIP: /spotkania/nowa answers 404');
    await ctx.close();
    return;
  }
  const dups = await page.evaluate(() => {
    const seen = {};
    for (const e of document.querySelectorAll('[id]')) seen[e.id] = (seen[e.id] || 0) + 1;
    return Object.keys(seen).filter((k) => seen[k] > 1);
  });
  const unlabelled = await page.locator('form.note').locator('input:not([type=hidden]), textarea, select')
    .evaluateAll((els) => els.filter((e) => !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))
      .map((e) => e.name));
  await ctx.close();
  if (dups.length || unlabelled.length) {
    console.log(`notes form: duplicate ids ${JSON.stringify(dups)}, unlabelled fields ${JSON.stringify(unlabelled)}`);
  }
  assert.deepEqual(dups, [], 'duplicate ids');
  assert.deepEqual(unlabelled, [], 'fields without a label');
});
