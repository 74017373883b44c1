// The login page (SPEC §6): what password managers need, one message for an unknown user
// and a wrong password, and no way to the change form without a session.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  ENDPOINT, Server, assertCleanMarkup, assertPageHeaders, cookie, launch, logIn, newPage, shoot,
} from '../lib/harness.mjs';

const PASSWORD = 'Tranquil-Otter-Harbor-71';
const LOGIN_FAILED = 'The user name or password is not correct.';

/** @type {Server} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;

before(async () => {
  server = await Server.start();
  browser = await launch();
  await server.addUser('heidi', PASSWORD);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** The page's markup with the per-request token and the echoed user name taken out. */
async function normalized(page, username) {
  const html = await page.content();
  const token = await page.inputValue('input[name="XSRF_TOKEN"]');
  assert.ok(token.length >= 16, 'a login XSRF token');
  return html.replaceAll(token, 'TOKEN').replaceAll(username, 'USER');
}

test('an unknown user and a wrong password read the same', async () => {
  const { context, page } = await newPage(browser, server);
  try {
    const wrong = await logIn(page, 'heidi', 'Wrong-Password-Entirely-1');
    assert.equal(wrong.status(), 200);
    await assertPageHeaders(wrong);
    assert.equal((await page.textContent('.message.error')).trim(), LOGIN_FAILED);
    assert.equal(await page.getAttribute('.message.error', 'role'), 'alert');
    assert.equal(await page.inputValue('#username'), 'heidi', 'the user name is kept');
    assert.equal(await page.inputValue('#password'), '');
    assert.equal(await cookie(context, 'agentgate_session'), undefined, 'no session');
    const wrongPage = await normalized(page, 'heidi');
    await shoot(page, 'login-failed');

    const unknown = await logIn(page, 'mallory', 'Wrong-Password-Entirely-1');
    assert.equal(unknown.status(), 200);
    assert.equal((await page.textContent('.message.error')).trim(), LOGIN_FAILED);
    assert.equal(await cookie(context, 'agentgate_session'), undefined, 'no session');
    assert.equal(await normalized(page, 'mallory'), wrongPage, 'the two pages differ');
    assert.deepEqual(
      Object.keys(await unknown.allHeaders()).sort(),
      Object.keys(await wrong.allHeaders()).sort(),
    );
  } finally {
    await context.close();
  }
});

test('the login page carries what password managers and people need', async () => {
  const { page } = await newPage(browser, server);
  try {
    const response = await page.goto('/login');
    await assertPageHeaders(response);
    await assertCleanMarkup(page);
    assert.equal(await page.getAttribute('#username', 'autocomplete'), 'username');
    assert.equal(await page.getAttribute('#password', 'autocomplete'), 'current-password');
    assert.equal(await page.getAttribute('#password', 'type'), 'password');
    assert.equal(await page.getAttribute('form[action="/login"]', 'method'), 'post');
    // Every field has a label that names it.
    for (const id of ['username', 'password']) {
      assert.equal(await page.locator(`label[for="${id}"]`).count(), 1, `label for ${id}`);
    }
    assert.equal(await page.getByLabel('User name').getAttribute('id'), 'username');
    assert.equal(await page.getByLabel('Password').getAttribute('id'), 'password');
    // The XSRF cookie set at GET /login is the one in the form.
    const token = await page.inputValue('form[action="/login"] input[name="XSRF_TOKEN"]');
    assert.equal((await cookie(page.context(), 'XSRF-TOKEN')).value, token);

    await logIn(page, 'heidi', PASSWORD);
    assert.equal(await page.getAttribute('#OldPassword', 'autocomplete'), 'current-password');
    assert.equal(await page.getAttribute('#NewPassword', 'autocomplete'), 'new-password');
    assert.equal(await page.getAttribute('#OldPassword', 'type'), 'password');
    assert.equal(await page.getAttribute('#NewPassword', 'type'), 'password');
    assert.equal(await page.getByLabel('Current password').getAttribute('id'), 'OldPassword');
    assert.equal(await page.getByLabel('New password').getAttribute('id'), 'NewPassword');
    // The form posts urlencoded to the endpoint, with the user name for password managers.
    const form = page.locator(`form[action="${ENDPOINT}"]`);
    assert.equal(await form.getAttribute('method'), 'post');
    assert.equal(await form.getAttribute('enctype'), null, 'the default: application/x-www-form-urlencoded');
    const username = form.locator('input[autocomplete="username"]');
    assert.equal(await username.inputValue(), 'heidi');
    assert.equal(await username.isVisible(), false, 'the user name for password managers is hidden');
    await shoot(page, 'login-autocomplete', { both: false });
  } finally {
    await page.context().close();
  }
});

test('the change form and the GET of the endpoint send a browser without a session to /login', async () => {
  const { page } = await newPage(browser, server);
  try {
    const [redirect] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/password')),
      page.goto('/password'),
    ]);
    assert.equal(redirect.status(), 303);
    assert.equal(new URL(page.url()).pathname, '/login');

    // GET of the endpoint: a browser is sent to the form (and from there to /login).
    await page.goto(ENDPOINT);
    assert.equal(new URL(page.url()).pathname, '/login');
    await page.goto('/');
    assert.equal(new URL(page.url()).pathname, '/login');
    assert.equal(await page.textContent('h1'), 'Sign in');
    await shoot(page, 'no-session-redirect', { both: false });
  } finally {
    await page.context().close();
  }
});

test('the pages follow a dark colour scheme', async () => {
  const light = await newPage(browser, server);
  const dark = await newPage(browser, server, { colorScheme: 'dark' });
  try {
    const background = (page) => page.$eval('body', (b) => getComputedStyle(b).backgroundColor);
    await light.page.goto('/login');
    await dark.page.goto('/login');
    assert.equal(await background(light.page), 'rgb(243, 245, 248)');
    assert.equal(await background(dark.page), 'rgb(18, 22, 28)');
    await logIn(dark.page, 'heidi', 'Not-Her-Password-4');
    assert.ok(await dark.page.isVisible('.message.error'));
    await shoot(dark.page, 'dark-login-failed');
    await logIn(dark.page, 'heidi', PASSWORD);
    await shoot(dark.page, 'dark-change-form', { both: false });
  } finally {
    await light.context.close();
    await dark.context.close();
  }
});

test('what a user typed comes back as text, never as markup', async () => {
  const { context, page } = await newPage(browser, server);
  const dialogs = [];
  page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss(); });
  try {
    const typed = `"><img src=x id=injected onerror=alert(1)>&amp;'<b>`;
    const response = await logIn(page, typed, 'Wrong-Password-Entirely-1');
    assert.equal(response.status(), 200);
    assert.equal(await page.inputValue('#username'), typed);
    assert.equal(await page.locator('#injected, main b').count(), 0);

    // A user name with markup in it, signed in: shown and carried as text.
    const odd = 'ö<b>&"x\'';
    await server.addUser(odd, PASSWORD);
    await logIn(page, odd, PASSWORD);
    assert.equal(new URL(page.url()).pathname, '/password');
    assert.equal((await page.textContent('.who')).trim(), `Signed in as ${odd}`);
    assert.equal(await page.inputValue('input[autocomplete="username"]'), odd);
    assert.equal(await page.locator('main b').count(), 0);
    assert.deepEqual(dialogs, []);
  } finally {
    await context.close();
  }
});
