// The browser harness: starts the real `agentgate` binary on a free port with its own SQLite
// file, adds users through its command line, and drives Debian's Chromium with playwright-core.
//
// The binary is `$AGENTGATE_BIN`, else `$CARGO_TARGET_DIR/debug/agentgate`, else
// `target/debug/agentgate` in the workspace: build it first (`cargo build --workspace`).
// Chromium is `/usr/bin/chromium` (Debian's package); playwright-core never downloads one.

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
/** The browser test package, `tests/browser`. */
export const packageDir = resolve(here, '..');
/** The workspace root. */
export const repoRoot = resolve(packageDir, '../..');
/** Where screenshots go (gitignored). */
export const outputDir = join(repoRoot, 'test-output', 'browser');

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** The endpoint as the published page writes it. */
export const ENDPOINT = '/api/v1/Agents/User/ChangeOwnPassword';

export const PHONE = { width: 390, height: 844 };
export const DESKTOP = { width: 1280, height: 800 };

/** The path of the built binary. */
export function binary() {
  if (process.env.AGENTGATE_BIN) return resolve(process.env.AGENTGATE_BIN);
  const target = process.env.CARGO_TARGET_DIR
    ? (isAbsolute(process.env.CARGO_TARGET_DIR)
      ? process.env.CARGO_TARGET_DIR
      : resolve(repoRoot, process.env.CARGO_TARGET_DIR))
    : join(repoRoot, 'target');
  const bin = join(target, 'debug', 'agentgate');
  if (!existsSync(bin)) {
    throw new Error(`${bin} is missing: run \`cargo build --workspace\` before the browser tests`);
  }
  return bin;
}

/** The environment the binary runs in: no config file from the caller's shell. */
function childEnv() {
  const env = { ...process.env, AGENTGATE_LOG: 'info' };
  delete env.AGENTGATE_CONFIG;
  delete env.AGENTGATE_DATABASE;
  return env;
}

/**
 * Runs an `agentgate` subcommand; resolves with `{ code, stdout, stderr }`.
 * @param {string[]} args
 * @param {string | undefined} stdin
 */
export function cli(args, stdin) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(binary(), args, { env: childEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
    child.stdin.end(stdin === undefined ? '' : `${stdin}\n`);
  });
}

/**
 * A running `agentgate serve` on its own SQLite file with fast hashing.
 */
export class Server {
  /** @param {string[]} extra more `serve` flags */
  static async start(extra = []) {
    const scratch = mkdtempSync(join(tmpdir(), 'agentgate-browser-'));
    const database = `sqlite://${join(scratch, 'b.db')}`;
    const child = spawn(binary(), [
      'serve', '--bind', '127.0.0.1:0', '--database', database,
      '--argon2-memory-kib', '1024', '--argon2-iterations', '1', ...extra,
    ], { env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    const server = new Server(child, database, scratch);
    child.stdout.setEncoding('utf8').on('data', (d) => { server.output += d; });
    server.base = await new Promise((resolvePromise, reject) => {
      let pending = '';
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`agentgate did not start within 60 s:\n${server.output}`));
      }, 60_000);
      child.stderr.setEncoding('utf8').on('data', (d) => {
        server.output += d;
        pending += d;
        // Only a whole line: a chunk may end in the middle of the address.
        const m = /agentgate listening on (https?:\/\/\S+)\r?\n/.exec(pending);
        if (m) {
          clearTimeout(timer);
          pending = '';
          resolvePromise(m[1]);
        }
      });
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`agentgate exited (${code ?? signal}) before listening:\n${server.output}`));
      });
      child.on('error', (e) => { clearTimeout(timer); reject(e); });
    });
    return server;
  }

  constructor(child, database, scratch) {
    this.child = child;
    this.database = database;
    this.scratch = scratch;
    /** Everything the server wrote (its log). */
    this.output = '';
    this.base = '';
  }

  /** The full URL of a path. */
  url(path) {
    return `${this.base}${path}`;
  }

  /** Adds a user through `agentgate user add NAME --password-stdin`. */
  async addUser(username, password) {
    const out = await cli(['user', 'add', username, '--password-stdin', '--database', this.database], password);
    if (out.code !== 0) throw new Error(`user add ${username} failed (${out.code}): ${out.stderr}`);
  }

  /** Stops the server (SIGTERM, then SIGKILL) and removes its store. */
  async stop() {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((r) => this.child.once('exit', r));
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.scratch, { recursive: true, force: true });
  }
}

/** Starts headless Debian Chromium with a fresh profile (playwright's own temp dir). */
export function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: 60_000,
  });
}

/**
 * A fresh browser context (own cookies) against the server, at desktop size.
 * @param {import('playwright-core').Browser} browser
 * @param {Server} server
 * @param {import('playwright-core').BrowserContextOptions} options
 */
export async function newPage(browser, server, options = {}) {
  const context = await browser.newContext({
    baseURL: server.base,
    viewport: DESKTOP,
    locale: 'en-US',
    colorScheme: 'light',
    ...options,
  });
  context.setDefaultTimeout(20_000);
  const page = await context.newPage();
  return { context, page };
}

/**
 * Saves a full-page screenshot as `test-output/browser/NAME.png`; with `both`, at the phone
 * width (`NAME-phone.png`) and the desktop width (`NAME-desktop.png`), leaving the page at
 * the size it had.
 * @param {import('playwright-core').Page} page
 * @param {string} name
 */
export async function shoot(page, name, { both = true } = {}) {
  mkdirSync(outputDir, { recursive: true });
  if (!both) {
    await page.screenshot({ path: join(outputDir, `${name}.png`), fullPage: true });
    return;
  }
  const before = page.viewportSize();
  for (const [suffix, size] of [['phone', PHONE], ['desktop', DESKTOP]]) {
    await page.setViewportSize(size);
    await page.screenshot({ path: join(outputDir, `${name}-${suffix}.png`), fullPage: true });
  }
  if (before) await page.setViewportSize(before);
}

/**
 * Clicks a submit button and waits for the response to the post it makes and for the
 * document that results (after any redirect) to have loaded, so that what a test reads next
 * is never the page it left.
 * @param {import('playwright-core').Page} page
 * @param {string} button a selector
 * @param {(r: import('playwright-core').Response) => boolean} isPost
 */
export async function submit(page, button, isPost) {
  const loaded = page.waitForEvent('load');
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && isPost(r)),
    page.click(button),
  ]);
  await loaded;
  return response;
}

/** Fills the login form and submits it; resolves with the response to the post. */
export async function logIn(page, username, password) {
  if (new URL(page.url(), 'http://x').pathname !== '/login') await page.goto('/login');
  await page.fill('#username', username);
  await page.fill('#password', password);
  return submit(page, 'form[action="/login"] button[type="submit"]', (r) => new URL(r.url()).pathname === '/login');
}

/** Fills the change form and submits it; resolves with the endpoint's response. */
export async function changePassword(page, oldPassword, newPassword) {
  await page.fill('#OldPassword', oldPassword);
  await page.fill('#NewPassword', newPassword);
  return submit(page, `form[action="${ENDPOINT}"] button[type="submit"]`, (r) => new URL(r.url()).pathname === ENDPOINT);
}

/** Clicks the logout button; resolves with the response to the post. */
export function logOut(page) {
  return submit(page, 'form[action="/logout"] button[type="submit"]', (r) => new URL(r.url()).pathname === '/logout');
}

/** The value of a cookie in the context, or undefined. */
export async function cookie(context, name) {
  const all = await context.cookies();
  return all.find((c) => c.name === name);
}

/** Removes a scratch directory (best effort). */
export function cleanup(dir) {
  rmSync(dir, { recursive: true, force: true });
}

/**
 * The headers every page carries (SPEC §6): a CSP that forbids framing and foreign form
 * targets, nosniff, no referrer, no caching, and the language it is written in.
 * @param {import('playwright-core').Response} response
 */
export async function pageHeaders(response) {
  const h = await response.allHeaders();
  const csp = h['content-security-policy'] ?? '';
  const directives = Object.fromEntries(
    csp.split(';').map((d) => d.trim()).filter(Boolean).map((d) => {
      const [name, ...values] = d.split(/\s+/);
      return [name.toLowerCase(), values.join(' ')];
    }),
  );
  return { headers: h, csp: directives };
}

/**
 * Asserts the security headers of a page (SPEC §6) and its `Content-Language`.
 * @param {import('playwright-core').Response} response
 * @param {string} language the expected `Content-Language`
 */
export async function assertPageHeaders(response, language = 'en') {
  const { headers, csp } = await pageHeaders(response);
  const where = `${response.request().method()} ${new URL(response.url()).pathname} (${response.status()})`;
  assert.match(headers['content-type'] ?? '', /^text\/html;\s*charset=utf-8$/i, where);
  assert.equal(csp['frame-ancestors'], "'none'", `${where}: CSP ${headers['content-security-policy']}`);
  assert.equal(csp['form-action'], "'self'", `${where}: CSP ${headers['content-security-policy']}`);
  assert.ok(!/unsafe-inline|unsafe-eval/.test(headers['content-security-policy']), where);
  assert.equal(headers['x-content-type-options'], 'nosniff', where);
  assert.equal(headers['referrer-policy'], 'no-referrer', where);
  assert.match(headers['cache-control'] ?? '', /(^|,\s*)no-store(\s*,|$)/, where);
  assert.equal(headers['content-language'], language, where);
}

/**
 * Asserts what the CSP demands of the markup (no inline script or style) and that the
 * stylesheet applied, so a page cannot silently render unstyled.
 * @param {import('playwright-core').Page} page
 */
export async function assertCleanMarkup(page) {
  const inline = await page.$$eval('script, style, [style], [onclick], [onsubmit], [onpaste]', (els) => els.map((e) => e.outerHTML));
  assert.deepEqual(inline, [], 'no inline scripts, styles or handlers');
  const styled = await page.$eval('main', (m) => getComputedStyle(m).borderTopStyle);
  assert.equal(styled, 'solid', 'the stylesheet applied (the card has its border)');
}
