// The server reached over plain http by a LAN name, as a small team without TLS would: chromium
// maps `triggerd.lan` to 127.0.0.1 (--host-resolver-rules), so the page's origin is
// http://triggerd.lan:<port>, not a loopback address. Sign-in must give a cookie without `Secure`
// (browsers drop those on http), the Origin check must accept the server's own origin, and the
// copy button must fall back when navigator.clipboard is missing (no secure context).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PASSWORD, browser, newContext, server, setup, useSuite } from './support.mjs';

const LAN_NAME = 'triggerd.lan';

// Chromium would try https first for a non-loopback name; the test is about plain http.
useSuite({ browserArgs: [`--host-resolver-rules=MAP ${LAN_NAME} 127.0.0.1`, '--disable-features=HttpsUpgrades'] });

test('over plain http by a LAN name, sign-in and a form post work and the cookie is not Secure', async () => {
  assert.ok(browser);
  const { owner, path } = await setup();
  const base = server.url.replace('127.0.0.1', LAN_NAME);
  assert.ok(base.startsWith(`http://${LAN_NAME}:`), base);
  const ctx = await newContext();
  const page = await ctx.newPage();
  await page.goto(`${base}/users/sign_in`);
  assert.equal(await page.evaluate(() => window.isSecureContext), false);
  await page.getByLabel('Username or primary email').fill(owner.username);
  await page.getByLabel('Password').fill(PASSWORD);
  await Promise.all([page.waitForURL(`${base}/dashboard/projects`), page.getByRole('button', { name: 'Sign in' }).click()]);
  const [cookie] = (await ctx.cookies(base)).filter((c) => c.name === 'triggerd_session');
  assert.ok(cookie, 'the session cookie was kept');
  assert.equal(cookie.secure, false);
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.sameSite, 'Lax');

  await page.goto(`${base}/${path}/-/settings/ci_cd`);
  await page.getByLabel('Description').fill('from the LAN');
  const [resp] = await Promise.all([
    page.waitForResponse((r) => r.url() === `${base}/${path}/-/triggers` && r.request().method() === 'POST'),
    page.getByRole('button', { name: 'Create pipeline trigger token' }).click(),
  ]);
  assert.equal(resp.status(), 201, 'the Origin check accepts the server\'s own origin');
  assert.equal(await resp.request().headerValue('origin'), base);
  const token = await page.getByRole('textbox', { name: 'Pipeline trigger token' }).inputValue();
  assert.match(token, /^glptt-[0-9a-f]{40}$/);
  await page.getByRole('button', { name: 'Copy token' }).click();
  await page.getByRole('button', { name: 'Copied' }).waitFor();
  assert.equal(await page.evaluate(() => window.__cspViolations), 0);
  await ctx.close();
});
