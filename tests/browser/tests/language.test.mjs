// The pages in the browser's language (SPEC §6, §7): a Swedish browser sends
// `Accept-Language: sv-SE,sv` and gets Swedish pages, `lang="sv"` and `Content-Language: sv`.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  Server, assertCleanMarkup, assertPageHeaders, changePassword, launch, logIn, newPage, shoot,
} from '../lib/harness.mjs';

const OLD = 'Tranquil-Otter-Harbor-71';
const NEW = 'Velvet-Comet-Quarry-38';

/** @type {Server} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;

before(async () => {
  server = await Server.start();
  browser = await launch();
  await server.addUser('ivan', OLD);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('the pages in Swedish when the browser asks for it', async () => {
  const { context, page } = await newPage(browser, server, { locale: 'sv-SE' });
  try {
    const [login] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/login')),
      page.goto('/login'),
    ]);
    assert.match(await login.request().headerValue('accept-language'), /^sv/);
    await assertPageHeaders(login, 'sv');
    await assertCleanMarkup(page);
    assert.equal(await page.getAttribute('html', 'lang'), 'sv');
    assert.equal(await page.textContent('h1'), 'Logga in');
    assert.equal(await page.textContent('label[for="username"]'), 'Användarnamn');
    assert.equal(await page.textContent('label[for="password"]'), 'Lösenord');
    assert.equal((await page.textContent('form[action="/login"] button')).trim(), 'Logga in');
    assert.match(await page.title(), /^Logga in/);
    await shoot(page, 'sv-login');

    const failed = await logIn(page, 'ivan', 'Fel-Losenord-Helt-22');
    await assertPageHeaders(failed, 'sv');
    assert.equal((await page.textContent('.message.error')).trim(), 'Användarnamnet eller lösenordet stämmer inte.');

    await logIn(page, 'ivan', OLD);
    assert.equal(await page.getAttribute('html', 'lang'), 'sv');
    assert.equal(await page.textContent('h1'), 'Byt lösenord');
    assert.equal(await page.textContent('label[for="OldPassword"]'), 'Nuvarande lösenord');
    assert.equal(await page.textContent('label[for="NewPassword"]'), 'Nytt lösenord');
    assert.match(await page.textContent('.who'), /^Inloggad som ivan/);
    assert.equal((await page.textContent('form[action="/logout"] button')).trim(), 'Logga ut');
    assert.match(await page.textContent('#policy'), /^Använd 8 till 128 tecken/);
    await shoot(page, 'sv-change-form');

    const mismatch = await changePassword(page, 'Fel-Losenord-Helt-22', NEW);
    assert.equal(mismatch.headers()['x-reason'], 'old-password-mismatch');
    await assertPageHeaders(mismatch, 'sv');
    assert.equal(await page.getAttribute('html', 'lang'), 'sv');
    assert.equal((await page.textContent('.message.error')).trim(), 'Det nuvarande lösenordet stämmer inte.');
    assert.equal((await page.textContent('a.button')).trim(), 'Försök igen');
    await shoot(page, 'sv-change-refused');

    await page.goto('/password');
    const changed = await changePassword(page, OLD, NEW);
    await assertPageHeaders(changed, 'sv');
    assert.equal((await page.textContent('.message.success')).trim(), 'Ditt lösenord har ändrats.');
    await shoot(page, 'sv-change-success');
  } finally {
    await context.close();
  }
});

test('German and Norwegian browsers get their languages, an unknown one English', async () => {
  for (const [locale, lang, title] of [['de-DE', 'de', 'Anmelden'], ['nb-NO', 'no', 'Logg inn'], ['fi-FI', 'en', 'Sign in']]) {
    const { context, page } = await newPage(browser, server, { locale });
    try {
      const response = await page.goto('/login');
      await assertPageHeaders(response, lang);
      assert.equal(await page.getAttribute('html', 'lang'), lang, locale);
      assert.equal(await page.textContent('h1'), title, locale);
      if (locale === 'de-DE') await shoot(page, 'de-login', { both: false });
    } finally {
      await context.close();
    }
  }
});
