// Upstream mode's browser form (SPEC §10) in Chromium: a gateway in front of an origin (a
// second agentgate in local mode, its own store). One form asks for the user name with the
// passwords; the gateway sends it upstream as Basic; a wrong password shows the form again.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  ENDPOINT, Server, assertCleanMarkup, assertPageHeaders, cookie, launch, newPage, shoot, submit,
} from '../lib/harness.mjs';

const OLD = 'Tranquil-Otter-Harbor-71';
const NEW = 'Velvet-Comet-Quarry-38';
const FAILED = 'The user name or password is not correct.';

/** @type {Server} */
let origin;
/** @type {Server} */
let gateway;
/** @type {import('playwright-core').Browser} */
let browser;

before(async () => {
  origin = await Server.start();
  gateway = await Server.start(['--upstream', origin.base]);
  browser = await launch();
  await origin.addUser('uma', OLD);
  await origin.addUser('ulf', OLD);
});

after(async () => {
  await browser?.close();
  await gateway?.stop();
  await origin?.stop();
});

/** Whether `password` is the user's password at the origin (a change to itself is refused
 * by the policy once the credentials hold; a wrong password is 401). */
async function holdsAtOrigin(username, password) {
  const response = await fetch(origin.url(ENDPOINT), {
    method: 'POST',
    headers: {
      Authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`,
      'Content-Type': 'application/json',
    },
    body: JSON.stringify({ OldPassword: password, NewPassword: password }),
  });
  if (response.status === 401) return false;
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('x-reason'), 'password-unchanged');
  return true;
}

/** Fills the upstream form and submits it; resolves with the endpoint's response. */
async function changeAt(page, username, oldPassword, newPassword) {
  await page.fill('#username', username);
  await page.fill('#OldPassword', oldPassword);
  await page.fill('#NewPassword', newPassword);
  return submit(page, `form[action="${ENDPOINT}"] button[type="submit"]`, (r) => new URL(r.url()).pathname === ENDPOINT);
}

test('the one form changes the password at the origin; a wrong one shows it again', async () => {
  const { context, page } = await newPage(browser, gateway);
  try {
    // No sessions upstream: /login goes to the form.
    const login = await page.goto('/login');
    assert.equal(new URL(page.url()).pathname, '/password');
    assert.equal(login.status(), 200);
    await assertPageHeaders(login);
    await assertCleanMarkup(page);
    assert.equal(await page.textContent('h1'), 'Change password');
    assert.equal(await page.getAttribute('#username', 'autocomplete'), 'username');
    assert.equal(await page.getAttribute('#OldPassword', 'autocomplete'), 'current-password');
    assert.equal(await page.getAttribute('#NewPassword', 'autocomplete'), 'new-password');
    assert.equal(await page.isVisible('form[action="/logout"]'), false, 'no session, no sign-out');
    const hidden = await page.inputValue(`form[action="${ENDPOINT}"] input[name="XSRF_TOKEN"]`);
    assert.equal(hidden, (await cookie(context, 'XSRF-TOKEN')).value, 'hidden token = cookie');
    await shoot(page, 'upstream-form');

    const wrong = await changeAt(page, 'uma', 'Not-The-Password-99', NEW);
    assert.equal(wrong.status(), 200);
    assert.equal(wrong.headers()['x-reason'], 'old-password-mismatch');
    await assertPageHeaders(wrong);
    assert.equal((await page.textContent('.message.error')).trim(), FAILED);
    assert.equal(await page.inputValue('#username'), 'uma', 'the user name is kept');
    await shoot(page, 'upstream-form-failed');

    const unknown = await changeAt(page, 'nobody-at-all', OLD, NEW);
    assert.equal(unknown.headers()['x-reason'], 'old-password-mismatch');
    assert.equal((await page.textContent('.message.error')).trim(), FAILED, 'one message for both');

    const changed = await changeAt(page, 'uma', OLD, NEW);
    assert.equal(changed.status(), 200);
    assert.equal(changed.headers()['x-reason'], undefined);
    await assertPageHeaders(changed);
    await assertCleanMarkup(page);
    assert.equal((await page.textContent('.message.success')).trim(), 'Your password has been changed.');
    await shoot(page, 'upstream-changed');
    assert.equal(await holdsAtOrigin('uma', NEW), true);
    assert.equal(await holdsAtOrigin('uma', OLD), false);

    await page.click('a.button');
    await page.waitForURL('**/password');
    assert.equal(await page.inputValue('#username'), '');
  } finally {
    await context.close();
  }
});

test('without JavaScript, in Swedish, the upstream refusal reads as such', async () => {
  const { context, page } = await newPage(browser, gateway, { javaScriptEnabled: false, locale: 'sv-SE' });
  try {
    const form = await page.goto('/password');
    await assertPageHeaders(form, 'sv');
    // A new password the origin's policy refuses: NetServer gives no reason.
    const refused = await changeAt(page, 'ulf', OLD, 'abc12345');
    assert.equal(refused.status(), 200);
    assert.equal(refused.headers()['x-reason'], 'upstream-refused');
    await assertPageHeaders(refused, 'sv');
    assert.match(await page.textContent('.message.error'), /^Lösenordet ändrades inte\./);
    await shoot(page, 'upstream-refused-sv', { both: false });
    assert.equal(await holdsAtOrigin('ulf', OLD), true);
  } finally {
    await context.close();
  }
});
