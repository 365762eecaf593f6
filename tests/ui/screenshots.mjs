// Takes the README's screenshots from a fresh server: docs/screenshots/trigger-tokens.png (the
// Settings › CI/CD trigger-token table) and docs/screenshots/pipeline.png (a triggered pipeline
// with its jobs in two stages, the first one finished by a runner). Run with
// `node tests/ui/screenshots.mjs` after `cargo build --release` (tests/ui/run.sh --screenshots
// does both). Not a test: it fails loudly if a step does.

import assert from 'node:assert/strict';
import { mkdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PASSWORD, api, browser, server, startSuite, stopSuite } from './support.mjs';

const out = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs', 'screenshots');
/** The README's limit for each picture. */
const MAX_BYTES = 150 * 1024;

async function post(path, body, headers = {}) {
  const resp = await fetch(`${server.url}/api/v4${path}`, { method: 'POST', headers, body });
  const text = await resp.text();
  assert.ok(resp.ok, `${path}: ${resp.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

function inDays(n) {
  return new Date(Date.now() + n * 86_400_000).toISOString().slice(0, 10);
}

async function seed() {
  const [, alice] = await api('POST', '/users', {
    username: 'alice', name: 'Alice', email: 'alice@example.com', password: PASSWORD,
  });
  const [, pat] = await api('POST', `/users/${alice.id}/personal_access_tokens`, { name: 'setup', scopes: 'api' });
  const as = { 'PRIVATE-TOKEN': pat.token };
  const project = await post('/projects', new URLSearchParams({ name: 'demo' }), as);
  const ci = 'build:\n  stage: build\n  script: [make]\ntest:\n  stage: test\n  script: [make test]\n';
  await post(`/projects/${project.id}/repository/files/.gitlab-ci.yml`,
    new URLSearchParams({ branch: 'main', commit_message: 'Add CI', content: ci }), as);
  const nightly = await post(`/projects/${project.id}/triggers`, new URLSearchParams({ description: 'nightly build' }), as);
  await post(`/projects/${project.id}/triggers`,
    new URLSearchParams({ description: 'deploy from chat', expires_at: inDays(3) }), as);
  await post(`/projects/${project.id}/triggers`, new URLSearchParams({ description: 'release tooling' }), as);

  // A pipeline started by the nightly token, its first stage run by a runner.
  const pipeline = await post(`/projects/${project.id}/trigger/pipeline`,
    new URLSearchParams({ token: nightly.token, ref: 'main', 'variables[DEPLOY_ENV]': 'staging' }));
  const reg = await post(`/projects/${project.id}/runners/reset_registration_token`, new URLSearchParams(), as);
  const runner = await post('/runners', new URLSearchParams({ token: reg.token, description: 'build box' }));
  const job = await post('/jobs/request', JSON.stringify({ token: runner.token }), { 'content-type': 'application/json' });
  const log = '$ make\ncc -O2 -o app main.c\nBuild finished.\n';
  await fetch(`${server.url}/api/v4/jobs/${job.id}/trace`, {
    method: 'PATCH', headers: { 'JOB-TOKEN': job.token, 'Content-Range': `0-${log.length - 1}` }, body: log,
  });
  const done = await fetch(`${server.url}/api/v4/jobs/${job.id}`, {
    method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: job.token, state: 'success' }),
  });
  assert.equal(done.status, 200);
  return { alice, project, pipeline };
}

async function main() {
  await startSuite();
  try {
    const { alice, project, pipeline } = await seed();
    const ctx = await browser.newContext({ viewport: { width: 1000, height: 900 }, deviceScaleFactor: 1, colorScheme: 'light' });
    const page = await ctx.newPage();
    await page.goto(`${server.url}/users/sign_in`);
    await page.getByLabel('Username or primary email').fill(alice.username);
    await page.getByLabel('Password').fill(PASSWORD);
    await Promise.all([page.waitForURL(/\/dashboard\/projects$/), page.getByRole('button', { name: 'Sign in' }).click()]);
    mkdirSync(out, { recursive: true });

    await page.goto(`${server.url}/${project.path_with_namespace}/-/settings/ci_cd`);
    const tokens = join(out, 'trigger-tokens.png');
    await page.locator('#js-pipeline-triggers').screenshot({ path: tokens });

    await page.goto(pipeline.web_url);
    await page.getByRole('link', { name: 'test' }).waitFor();
    const shot = join(out, 'pipeline.png');
    await page.locator('main').screenshot({ path: shot });
    await ctx.close();

    for (const file of [tokens, shot]) {
      const { size } = statSync(file);
      assert.ok(size < MAX_BYTES, `${file} is ${size} bytes`);
      console.log(`${file}: ${size} bytes`);
    }
  } finally {
    await stopSuite();
  }
}

await main();
