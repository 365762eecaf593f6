// What the browser test files share: one triggerd release binary, the attacker's site and a
// headless chromium per file (useSuite), REST calls as root, users and a project with a
// two-stage CI configuration, sign-in, and the axe-core check.

import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';
import { ROOT_TOKEN, startAttacker, startServer } from './server.mjs';

export { ROOT_TOKEN };

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
export const PASSWORD = 'correct horse battery staple';
const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';

export let server;
export let attacker;
export let browser;
let seq = 0;

/** Starts the server, the attacker's site and chromium (`browserArgs` added to its flags). */
export async function startSuite({ browserArgs = [] } = {}) {
  server = await startServer();
  attacker = await startAttacker();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--no-first-run', '--disable-sync', '--disable-quic', ...browserArgs],
  });
  return { server, attacker, browser };
}

export async function stopSuite() {
  await browser?.close();
  await attacker?.stop();
  await server?.stop();
}

/** Starts the suite for a test file's tests and stops it after them (call at top level). */
export function useSuite(options = {}) {
  before(() => startSuite(options));
  after(stopSuite);
}

/** A call to the REST API as root; returns [status, json]. */
export async function api(method, path, form, token = ROOT_TOKEN) {
  const init = { method, headers: { 'PRIVATE-TOKEN': token } };
  if (form) init.body = new URLSearchParams(form);
  const resp = await fetch(`${server.url}/api/v4${path}`, init);
  const text = await resp.text();
  return [resp.status, text ? JSON.parse(text) : null];
}

export async function createUser(prefix) {
  const username = `${prefix}${process.pid}x${++seq}`;
  const [status, user] = await api('POST', '/users', {
    username, name: username, email: `${username}@example.com`, password: PASSWORD,
  });
  assert.equal(status, 201, JSON.stringify(user));
  return user;
}

/** A project of a new maintainer (its owner) with a Reporter and a two-stage CI configuration. */
export async function setup() {
  const owner = await createUser('maint');
  const reporter = await createUser('rep');
  const [status, project] = await api('POST', `/projects/user/${owner.id}`, { name: 'demo' });
  assert.equal(status, 201, JSON.stringify(project));
  assert.equal((await api('POST', `/projects/${project.id}/members`, { user_id: reporter.id, access_level: 20 }))[0], 201);
  const ci = 'build:\n  stage: build\n  script: [make]\ntest:\n  stage: test\n  script: [make test]\n';
  const [fileStatus] = await api('POST', `/projects/${project.id}/repository/files/.gitlab-ci.yml`,
    { branch: 'main', commit_message: 'ci', content: ci });
  assert.equal(fileStatus, 201);
  return { owner, reporter, project, path: project.path_with_namespace };
}

export async function trigger(projectId, token) {
  const resp = await fetch(`${server.url}/api/v4/projects/${projectId}/trigger/pipeline`, {
    method: 'POST', body: new URLSearchParams({ token, ref: 'main', 'variables[DEPLOY_ENV]': 'staging' }),
  });
  return [resp.status, await resp.json()];
}

/** A new browser context counting CSP violations (`ctx.violations()`). */
export async function newContext(options = {}) {
  const ctx = await browser.newContext(options);
  if (options.javaScriptEnabled !== false) {
    await ctx.addInitScript(() => {
      window.__cspViolations = 0;
      document.addEventListener('securitypolicyviolation', () => { window.__cspViolations += 1; });
    });
  }
  return ctx;
}

export async function cspViolations(page) {
  return page.evaluate(() => window.__cspViolations);
}

export async function signIn(page, user) {
  await page.goto(`${server.url}/users/sign_in`);
  await page.getByLabel('Username or primary email').fill(user.username);
  await page.getByLabel('Password').fill(PASSWORD);
  await Promise.all([page.waitForURL(/\/dashboard\/projects$/), page.getByRole('button', { name: 'Sign in' }).click()]);
}

/** Fills the create form and submits it; returns the token read from the page and the response. */
export async function createToken(page, path, description) {
  await page.goto(`${server.url}/${path}/-/settings/ci_cd`);
  await page.getByLabel('Description').fill(description);
  const [resp] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith(`/${path}/-/triggers`) && r.request().method() === 'POST'),
    page.getByRole('button', { name: 'Create pipeline trigger token' }).click(),
  ]);
  await page.waitForLoadState();
  const token = await page.getByRole('textbox', { name: 'Pipeline trigger token' }).inputValue();
  return { token, resp };
}

export async function axeViolations(page) {
  await page.addScriptTag({ content: AXE_SOURCE });
  const result = await page.evaluate(() =>
    window.axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] }));
  return result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

