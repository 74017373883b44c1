// The pages work without JavaScript (SPEC §6): the whole flow with scripts turned off.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  Server, assertCleanMarkup, assertPageHeaders, changePassword, cookie, launch, logIn, logOut,
  newPage, shoot,
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
  await server.addUser('kim', OLD);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('log in, change the password and log out with JavaScript disabled', async () => {
  const { context, page } = await newPage(browser, server, { javaScriptEnabled: false });
  try {
    const response = await page.goto('/login');
    await assertPageHeaders(response);
    await assertCleanMarkup(page);

    await logIn(page, 'kim', OLD);
    assert.equal(new URL(page.url()).pathname, '/password');
    await shoot(page, 'nojs-change-form', { both: false });

    const refused = await changePassword(page, 'Not-The-Password-99', NEW);
    assert.equal(refused.headers()['x-reason'], 'old-password-mismatch');
    assert.equal((await page.textContent('.message.error')).trim(), 'The current password is not correct.');

    await page.goto('/password');
    const changed = await changePassword(page, OLD, NEW);
    assert.equal(changed.status(), 200);
    await assertPageHeaders(changed);
    assert.equal((await page.textContent('.message.success')).trim(), 'Your password has been changed.');
    await shoot(page, 'nojs-change-success', { both: false });

    await page.click('a.button');
    await page.waitForURL('**/password');
    const logout = await logOut(page);
    assert.equal(logout.status(), 303);
    assert.equal(new URL(page.url()).pathname, '/login');
    assert.equal(await cookie(context, 'agentgate_session'), undefined);

    await logIn(page, 'kim', NEW);
    assert.equal(new URL(page.url()).pathname, '/password');
  } finally {
    await context.close();
  }
});
