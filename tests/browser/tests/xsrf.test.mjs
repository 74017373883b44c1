// Signed double-submit (SPEC §5, §6): a post carrying the session cookie but no valid XSRF
// token changes nothing, at the endpoint, at /logout and at /login.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  ENDPOINT, Server, assertPageHeaders, changePassword, cookie, launch, logIn, logOut, newPage,
  shoot,
} from '../lib/harness.mjs';

const OLD = 'Tranquil-Otter-Harbor-71';
const NEW = 'Velvet-Comet-Quarry-38';
const XSRF_INVALID = 'The request is missing a valid XSRF token.';
const FORM = `form[action="${ENDPOINT}"]`;

/** @type {Server} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;

before(async () => {
  server = await Server.start();
  browser = await launch();
  for (const name of ['dave', 'erin', 'frank', 'grace']) await server.addUser(name, OLD);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** Asserts a refused browser post: 401, the error page, no Basic challenge. */
async function assertRefused(page, response) {
  assert.equal(response.status(), 401);
  assert.equal(response.headers()['x-reason'], undefined);
  await assertPageHeaders(response);
  const challenges = await response.headerValues('www-authenticate');
  assert.ok(challenges.length > 0, 'a 401 carries challenges');
  assert.ok(!challenges.some((c) => /^basic/i.test(c)), `no Basic dialog for a browser: ${challenges}`);
  assert.equal((await page.textContent('.message.error')).trim(), XSRF_INVALID);
  assert.equal(await page.textContent('h1'), 'Password change');
  assert.equal((await page.textContent('.status')).trim(), '401 Unauthorized');
  // The session still holds: the way on is a fresh form, not the login page.
  assert.equal(await page.getAttribute('a.button', 'href'), '/password');
}

test('a form posted without the XSRF token is refused', async () => {
  const { page } = await newPage(browser, server);
  try {
    await logIn(page, 'dave', OLD);
    await page.evaluate((form) => document.querySelector(`${form} input[name="XSRF_TOKEN"]`).remove(), FORM);
    assert.equal(await page.locator(`${FORM} input[name="XSRF_TOKEN"]`).count(), 0);
    const response = await changePassword(page, OLD, NEW);
    await assertRefused(page, response);
    await shoot(page, 'xsrf-missing');
    await page.click('a.button');
    await page.waitForURL('**/password');

    // Nothing changed: the same old password still works with the token in place.
    const ok = await changePassword(page, OLD, NEW);
    assert.equal(ok.status(), 200);
    assert.ok(await page.isVisible('.message.success'));
  } finally {
    await page.context().close();
  }
});

test('a form posted with a wrong XSRF token is refused', async () => {
  const { page } = await newPage(browser, server);
  const intruder = await newPage(browser, server);
  try {
    await logIn(page, 'erin', OLD);
    await logIn(intruder.page, 'frank', OLD);
    const token = await page.inputValue(`${FORM} input[name="XSRF_TOKEN"]`);
    const foreign = await intruder.page.inputValue(`${FORM} input[name="XSRF_TOKEN"]`);
    assert.notEqual(token, foreign);

    // A token of the right shape with one character flipped.
    const flipped = token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A');
    // A real token, but bound to another session (signed double-submit).
    for (const [name, value] of [['xsrf-altered', flipped], ['xsrf-foreign', foreign], ['xsrf-empty', '']]) {
      await page.goto('/password');
      await page.evaluate(([form, v]) => {
        document.querySelector(`${form} input[name="XSRF_TOKEN"]`).value = v;
      }, [FORM, value]);
      const response = await changePassword(page, OLD, NEW);
      await assertRefused(page, response);
      await shoot(page, name, { both: name === 'xsrf-altered' });
    }

    // Nothing changed for either user.
    await page.goto('/password');
    assert.equal((await changePassword(page, OLD, NEW)).headers()['x-reason'], undefined);
    assert.ok(await page.isVisible('.message.success'));
  } finally {
    await page.context().close();
    await intruder.context.close();
  }
});

test('a post with the session cookie but no token is 401; with the header it works', async () => {
  const { context, page } = await newPage(browser, server);
  try {
    await logIn(page, 'grace', OLD);
    // context.request shares the browser's cookies, so it carries the session.
    const bare = await context.request.post(ENDPOINT, {
      form: { OldPassword: OLD, NewPassword: NEW },
      headers: { Accept: 'application/json' },
      maxRedirects: 0,
    });
    assert.equal(bare.status(), 401);
    const body = await bare.json();
    assert.equal(body.ErrorType, 'Unauthorized');
    assert.equal(body.Message, XSRF_INVALID);
    assert.ok(!bare.headersArray().some((h) => /www-authenticate/i.test(h.name) && /^basic/i.test(h.value)),
      'no Basic challenge when the request carried a session cookie');

    // The token from the cookie, in the header: the same request now changes the password.
    const xsrf = (await cookie(context, 'XSRF-TOKEN')).value;
    const withHeader = await context.request.post(ENDPOINT, {
      form: { OldPassword: OLD, NewPassword: NEW },
      headers: { Accept: 'application/json', 'X-XSRF-TOKEN': xsrf },
    });
    assert.equal(withHeader.status(), 200);
    assert.equal(await withHeader.text(), 'true');

    await page.goto('/password');
    await shoot(page, 'xsrf-request-api', { both: false });
  } finally {
    await context.close();
  }
});

test('logging out needs the XSRF token', async () => {
  const { context, page } = await newPage(browser, server);
  try {
    await logIn(page, 'dave', NEW);
    await page.evaluate(() => document.querySelector('form[action="/logout"] input[name="XSRF_TOKEN"]').remove());
    const response = await logOut(page);
    assert.equal(response.status(), 401);
    await assertPageHeaders(response);
    await shoot(page, 'logout-without-xsrf', { both: false });
    // Still signed in.
    assert.ok(await cookie(context, 'agentgate_session'));
    await page.goto('/password');
    assert.equal(new URL(page.url()).pathname, '/password');
  } finally {
    await context.close();
  }
});

test('the login form needs its own XSRF token, so no foreign site can log a browser in', async () => {
  const { context, page } = await newPage(browser, server);
  try {
    await page.goto('/login');
    await page.evaluate(() => document.querySelector('form[action="/login"] input[name="XSRF_TOKEN"]').remove());
    const response = await logIn(page, 'dave', NEW);
    assert.notEqual(response.status(), 303, 'no session without the login token');
    await assertPageHeaders(response);
    assert.equal(await cookie(context, 'agentgate_session'), undefined);
    assert.equal((await page.textContent('.message.error')).trim(), XSRF_INVALID);
    await shoot(page, 'login-without-xsrf', { both: false });

    // The form it shows again carries a fresh token that works.
    const again = await logIn(page, 'dave', NEW);
    assert.equal(again.status(), 303);
    assert.ok(await cookie(context, 'agentgate_session'));
  } finally {
    await context.close();
  }
});
