// The change form end to end (SPEC §4, §6): sign in, change the password, see the result,
// sign out, sign in again; a wrong current password and a refused new one show the reason.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  ENDPOINT, Server, assertCleanMarkup, assertPageHeaders, changePassword, cookie, launch,
  logIn, logOut, newPage, shoot,
} from '../lib/harness.mjs';

const OLD = 'Tranquil-Otter-Harbor-71';
const NEW = 'Velvet-Comet-Quarry-38';
const LOGIN_FAILED = 'The user name or password is not correct.';

/** @type {Server} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;

before(async () => {
  server = await Server.start();
  browser = await launch();
  await server.addUser('alice', OLD);
  await server.addUser('bob', OLD);
  await server.addUser('carol', OLD);
  await server.addUser('olga', OLD);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('log in, change the password, log out, log in with the new one', async () => {
  const { context, page } = await newPage(browser, server);
  // A second browser of the same user: its session must not survive the change.
  const other = await newPage(browser, server);
  try {
    const loginPage = await page.goto('/login');
    assert.equal(loginPage.status(), 200);
    await assertPageHeaders(loginPage);
    await assertCleanMarkup(page);
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    assert.equal(await page.textContent('h1'), 'Sign in');
    await shoot(page, 'login');

    await logIn(other.page, 'alice', OLD);
    assert.equal(new URL(other.page.url()).pathname, '/password');

    const loginResponse = await logIn(page, 'ALICE', OLD); // user names are case-insensitive
    assert.equal(loginResponse.status(), 303);
    assert.equal(loginResponse.headers().location, '/password');
    assert.equal(new URL(page.url()).pathname, '/password');

    const session = await cookie(context, 'agentgate_session');
    assert.ok(session, 'the session cookie is set');
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, 'Lax');
    assert.equal(session.path, '/');
    const xsrf = await cookie(context, 'XSRF-TOKEN');
    assert.ok(xsrf, 'the XSRF cookie is set');
    assert.equal(xsrf.httpOnly, false, 'scripts must be able to read the XSRF cookie');
    assert.notEqual(xsrf.value, session.value);

    const form = await page.goto('/password');
    assert.equal(form.status(), 200);
    await assertPageHeaders(form);
    await assertCleanMarkup(page);
    assert.equal(await page.textContent('h1'), 'Change password');
    assert.match(await page.textContent('.who'), /alice/i);
    const hidden = await page.inputValue(`form[action="${ENDPOINT}"] input[name="XSRF_TOKEN"]`);
    assert.equal(hidden, (await cookie(context, 'XSRF-TOKEN')).value, 'hidden token = cookie');
    assert.ok(await page.isVisible('form[action="/logout"] button[type="submit"]'), 'a visible logout button');
    await shoot(page, 'change-form');

    const response = await changePassword(page, OLD, NEW);
    assert.equal(response.status(), 200);
    assert.equal(response.headers()['x-reason'], undefined);
    await assertPageHeaders(response);
    await assertCleanMarkup(page);
    assert.equal((await page.textContent('.message')).trim(), 'Your password has been changed.');
    assert.ok(await page.isVisible('.message.success'));
    // The result page keeps who is signed in and the way out.
    assert.match(await page.textContent('.who'), /alice/i);
    assert.ok(await page.isVisible('form[action="/logout"] button[type="submit"]'), 'sign out on the result page');
    await shoot(page, 'change-success');

    // The session that made the change stays open under a new id (SPEC §6), and the result
    // page's sign-out form carries the new session's token; the other session is revoked.
    const renewed = await cookie(context, 'agentgate_session');
    assert.notEqual(renewed.value, session.value, 'the session has a new id');
    assert.equal(
      await page.inputValue('form[action="/logout"] input[name="XSRF_TOKEN"]'),
      (await cookie(context, 'XSRF-TOKEN')).value,
    );
    await page.goto('/password');
    assert.equal(new URL(page.url()).pathname, '/password');
    // The other browser still shows the form it loaded before; its post is refused
    // (no Basic dialog) and leads to the login page.
    const stale = await changePassword(other.page, NEW, 'Another-Fresh-Secret-55');
    assert.equal(stale.status(), 401);
    await assertPageHeaders(stale);
    assert.ok(!(await stale.headerValues('www-authenticate')).some((c) => /^basic/i.test(c)));
    assert.equal((await other.page.textContent('.message.error')).trim(), 'Authorization has been denied for this request.');
    await shoot(other.page, 'change-session-revoked', { both: false });
    await other.page.click('a.button');
    await other.page.waitForURL('**/login');
    await other.page.goto('/password');
    assert.equal(new URL(other.page.url()).pathname, '/login', 'the other session is revoked');

    // Sign out: both cookies cleared, back at the login page, the form is gone.
    const logout = await logOut(page);
    assert.equal(logout.status(), 303);
    assert.equal(logout.headers().location, '/login');
    assert.equal(new URL(page.url()).pathname, '/login');
    assert.equal(await cookie(context, 'agentgate_session'), undefined);
    assert.notEqual((await cookie(context, 'XSRF-TOKEN'))?.value, xsrf.value, 'the XSRF cookie is cleared');
    await page.goto('/password');
    assert.equal(new URL(page.url()).pathname, '/login', 'no session after logout');

    // The old password fails with the generic message; the new one works.
    const refused = await logIn(page, 'alice', OLD);
    assert.equal(refused.status(), 200);
    assert.equal(new URL(page.url()).pathname, '/login');
    assert.equal((await page.textContent('.message.error')).trim(), LOGIN_FAILED);
    assert.equal(await cookie(context, 'agentgate_session'), undefined);
    assert.equal(await page.inputValue('#password'), '', 'the password is not echoed back');
    await shoot(page, 'login-old-password-refused');

    await logIn(page, 'alice', NEW);
    assert.equal(new URL(page.url()).pathname, '/password');
    assert.match(await page.textContent('.who'), /alice/i);

    // Nothing secret is ever logged (SPEC §5).
    for (const secret of [OLD, NEW, session.value, xsrf.value]) {
      assert.ok(!server.output.includes(secret), 'a secret appears in the server log');
    }
  } finally {
    await context.close();
    await other.context.close();
  }
});

test('a wrong current password shows the reason', async () => {
  const { context, page } = await newPage(browser, server);
  try {
    await logIn(page, 'bob', OLD);
    const response = await changePassword(page, 'Not-The-Password-99', NEW);
    assert.equal(response.status(), 200);
    assert.equal(response.headers()['x-reason'], 'old-password-mismatch');
    await assertPageHeaders(response);
    assert.equal((await page.textContent('.message.error')).trim(), 'The current password is not correct.');
    assert.equal(await page.getAttribute('a.button', 'href'), '/password');
    await shoot(page, 'change-wrong-current-password');

    // The password did not change and the session still works: try again, rightly.
    await page.click('a.button');
    await page.waitForURL('**/password');
    const retry = await changePassword(page, OLD, NEW);
    assert.equal(retry.status(), 200);
    assert.equal(retry.headers()['x-reason'], undefined);
    assert.ok(await page.isVisible('.message.success'));
  } finally {
    await context.close();
  }
});

test('a new password the policy refuses shows why', async () => {
  const { context, page } = await newPage(browser, server);
  try {
    await logIn(page, 'carol', OLD);
    // States the policy next to the field it governs.
    const policy = await page.textContent('#policy');
    assert.match(policy, /\b8\b/);
    assert.match(policy, /\b128\b/);
    assert.equal(await page.getAttribute('#NewPassword', 'aria-describedby'), 'policy');

    const weak = await changePassword(page, OLD, 'aaaaaaaaaa');
    assert.equal(weak.status(), 200);
    assert.equal(weak.headers()['x-reason'], 'password-too-weak');
    assert.ok(await page.isVisible('.message.error'));
    await shoot(page, 'change-too-weak', { both: false });

    await page.goto('/password');
    const same = await changePassword(page, OLD, OLD);
    assert.equal(same.status(), 200);
    assert.equal(same.headers()['x-reason'], 'password-unchanged');
    assert.ok(await page.isVisible('.message.error'));
    await shoot(page, 'change-unchanged', { both: false });
  } finally {
    await context.close();
  }
});

test('too many wrong current passwords lock changes for a while, said in a page', async () => {
  const { context, page } = await newPage(browser, server);
  try {
    await logIn(page, 'olga', OLD);
    for (let i = 1; i <= 5; i++) {
      await page.goto('/password');
      const wrong = await changePassword(page, `Wrong-Guess-Number-${i}0`, NEW);
      assert.equal(wrong.status(), 200, `attempt ${i}`);
      assert.equal(wrong.headers()['x-reason'], 'old-password-mismatch', `attempt ${i}`);
    }
    // Now even the right password waits (SPEC §4).
    await page.goto('/password');
    const locked = await changePassword(page, OLD, NEW);
    assert.equal(locked.status(), 429);
    await assertPageHeaders(locked);
    const retryAfter = Number(locked.headers()['retry-after']);
    assert.ok(retryAfter > 0 && retryAfter <= 60, `Retry-After ${locked.headers()['retry-after']}`);
    assert.ok(await page.isVisible('.message.error'));
    // A browser names no time zone: the time of the next try carries its UTC offset, so it
    // cannot be read as local time.
    const until = await page.textContent('.message.error');
    assert.match(until, /(GMT|UTC)[+-]\d\d:\d\d/, until);
    assert.equal(await page.textContent('h1'), 'Password change');
    assert.equal((await page.textContent('.status')).trim(), '429 Too Many Requests');
    assert.equal(await page.getAttribute('a.button', 'href'), '/password');
    await shoot(page, 'change-throttled');
  } finally {
    await context.close();
  }
});
