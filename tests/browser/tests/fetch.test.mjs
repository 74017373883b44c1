// A script on the same origin calls the endpoint with `fetch()` (SPEC §5): the session
// cookie goes along by itself, the XSRF token is read from the `XSRF-TOKEN` cookie and sent
// as `X-XSRF-TOKEN`, and `Accept: application/json` gets `true` or `false`.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ENDPOINT, Server, launch, logIn, newPage, shoot } from '../lib/harness.mjs';

const OLD = 'Tranquil-Otter-Harbor-71';
const NEW = 'Velvet-Comet-Quarry-38';

/** @type {Server} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;

before(async () => {
  server = await Server.start();
  browser = await launch();
  await server.addUser('judy', OLD);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** Runs `fetch()` in the page, as a script of the page would. */
function call(page, body, { token = true, contentType = 'application/json' } = {}) {
  return page.evaluate(async ({ endpoint, body, token, contentType }) => {
    const headers = { Accept: 'application/json', 'Content-Type': contentType };
    if (token) {
      const m = document.cookie.match(/(?:^|;\s*)XSRF-TOKEN=([^;]*)/);
      if (!m) throw new Error(`no XSRF-TOKEN in document.cookie: ${document.cookie}`);
      headers['X-XSRF-TOKEN'] = decodeURIComponent(m[1]);
    }
    const r = await fetch(endpoint, { method: 'POST', credentials: 'same-origin', headers, body });
    return {
      status: r.status,
      type: r.headers.get('content-type'),
      reason: r.headers.get('x-reason'),
      body: await r.text(),
    };
  }, { endpoint: ENDPOINT, body, token, contentType });
}

test('fetch() with X-XSRF-TOKEN from the cookie gets true or false', async () => {
  const { context, page } = await newPage(browser, server);
  try {
    await logIn(page, 'judy', OLD);
    // The session cookie is HttpOnly: a script sees the XSRF token and nothing else.
    const visible = await page.evaluate(() => document.cookie);
    assert.match(visible, /XSRF-TOKEN=/);
    assert.doesNotMatch(visible, /agentgate_session/);

    const wrong = await call(page, JSON.stringify({ OldPassword: 'Not-The-Password-99', NewPassword: NEW }));
    assert.deepEqual(wrong, {
      status: 200, type: 'application/json; charset=utf-8', reason: 'old-password-mismatch', body: 'false',
    });

    const noToken = await call(page, JSON.stringify({ OldPassword: OLD, NewPassword: NEW }), { token: false });
    assert.equal(noToken.status, 401);
    assert.equal(JSON.parse(noToken.body).ErrorType, 'Unauthorized');

    const right = await call(page, JSON.stringify({ OldPassword: OLD, NewPassword: NEW }));
    assert.deepEqual(right, {
      status: 200, type: 'application/json; charset=utf-8', reason: null, body: 'true',
    });

    // The session that made the change stays open, and the form still works with the
    // urlencoded body a script might send too.
    const back = await call(
      page,
      new URLSearchParams({ OldPassword: NEW, NewPassword: OLD }).toString(),
      { contentType: 'application/x-www-form-urlencoded' },
    );
    assert.deepEqual(back, {
      status: 200, type: 'application/json; charset=utf-8', reason: null, body: 'true',
    });

    await page.reload();
    assert.equal(new URL(page.url()).pathname, '/password');
    await shoot(page, 'fetch-json', { both: false });
  } finally {
    await context.close();
  }
});

test('a signed-in browser opening /login keeps the token its scripts use', async () => {
  const { context, page } = await newPage(browser, server);
  try {
    await logIn(page, 'judy', OLD);
    const before = await page.evaluate(() => document.cookie);
    // Signed in already: /login sends the browser on to the form, the cookie unchanged.
    const response = await page.goto('/login');
    assert.equal(new URL(page.url()).pathname, '/password');
    assert.equal(response.request().redirectedFrom()?.url(), server.url('/login'));
    assert.equal(await page.evaluate(() => document.cookie), before);
    const wrong = await call(page, JSON.stringify({ OldPassword: 'Not-The-Password-99', NewPassword: NEW }));
    assert.equal(wrong.status, 200);
    assert.equal(wrong.body, 'false');
  } finally {
    await context.close();
  }
});
