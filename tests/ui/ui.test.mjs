// Browser tests of the web UI against the release binary: playwright-core drives Debian's
// chromium headless; axe-core checks accessibility. Each test makes its own users and project
// through the API, so tests share one server without sharing state.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ROOT_TOKEN, api, attacker, axeViolations, createToken, cspViolations, newContext, server, setup, signIn, trigger,
  useSuite,
} from './support.mjs';

useSuite();

test('a maintainer creates a token, reads it once, triggers with it, opens, cancels and revokes', async () => {
  const { owner, project, path } = await setup();
  const ctx = await newContext();
  await ctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
  const page = await ctx.newPage();
  await signIn(page, owner);
  await assert.doesNotReject(page.getByRole('link', { name: path }).waitFor());

  const { token, resp } = await createToken(page, path, 'nightly build');
  assert.match(token, /^glptt-[0-9a-f]{40}$/);
  assert.equal(resp.status(), 201);
  assert.equal(resp.headers()['cache-control'], 'no-store');
  assert.ok(await page.getByText('will not be shown again').isVisible());
  await page.getByRole('button', { name: 'Copy token' }).click();
  await page.getByRole('button', { name: 'Copied' }).waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), token);
  await page.getByRole('button', { name: 'Copy command (cURL)', exact: true }).click();
  const command = await page.evaluate(() => navigator.clipboard.readText());
  assert.ok(command.includes(token) && command.includes(`/api/v4/projects/${project.id}/trigger/pipeline`), command);

  await page.getByRole('link', { name: 'Done, back to tokens' }).click();
  assert.ok(!(await page.content()).includes(token), 'the list shows only the short token');
  await page.getByText(`${token.slice(6, 10)}…`).waitFor();

  const [status, pipeline] = await trigger(project.id, token);
  assert.equal(status, 201, JSON.stringify(pipeline));
  await page.goto(`${server.url}/${path}/-/pipelines`);
  await page.getByRole('link', { name: `#${pipeline.id}` }).waitFor();
  assert.ok(await page.getByText(`trigger token ${token.slice(6, 10)} (nightly build)`).isVisible());

  await page.goto(pipeline.web_url);
  await page.getByRole('heading', { name: `Pipeline #${pipeline.id}` }).waitFor();
  assert.ok(await page.getByRole('link', { name: 'build' }).isVisible());
  await page.getByRole('button', { name: 'Cancel pipeline' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.waitFor();
  await Promise.all([page.waitForURL(/flash=pipeline_canceled/), dialog.getByRole('button', { name: 'Stop pipeline' }).click()]);
  await page.getByRole('status').filter({ hasText: 'Pipeline canceled.' }).waitFor();
  assert.ok(await page.getByLabel('Status: canceled').first().isVisible());
  const [, after] = await api('GET', `/projects/${project.id}/pipelines/${pipeline.id}`);
  assert.equal(after.status, 'canceled');

  await page.goto(`${server.url}/${path}/-/settings/ci_cd`);
  await page.getByRole('button', { name: /^Revoke trigger/ }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Revoke trigger' }).click();
  await page.getByRole('status').filter({ hasText: 'Trigger removed.' }).waitFor();
  assert.ok(await page.getByText('No trigger tokens have been created yet.').isVisible());
  assert.equal((await trigger(project.id, token))[0], 404);
  assert.equal(await cspViolations(page), 0);
  await ctx.close();
});

test('a reporter sees the pipeline but no variables and no settings', async () => {
  const { owner, reporter, project, path } = await setup();
  const [, created] = await api('POST', `/projects/${project.id}/triggers`, { description: 'ci' }, ROOT_TOKEN);
  const [, pipeline] = await trigger(project.id, created.token);
  const ctx = await newContext();
  const page = await ctx.newPage();
  await signIn(page, reporter);
  await page.goto(pipeline.web_url);
  await page.getByRole('heading', { name: `Pipeline #${pipeline.id}` }).waitFor();
  assert.equal(await page.getByRole('heading', { name: 'Variables' }).count(), 0);
  assert.ok(!(await page.content()).includes('DEPLOY_ENV'));
  assert.equal(await page.getByRole('button', { name: 'Cancel pipeline' }).count(), 0);
  const settings = await page.goto(`${server.url}/${path}/-/settings/ci_cd`);
  assert.equal(settings.status(), 404);
  await ctx.close();

  const maintainer = await newContext();
  const mpage = await maintainer.newPage();
  await signIn(mpage, owner);
  await mpage.goto(pipeline.web_url);
  await mpage.getByRole('heading', { name: 'Variables' }).waitFor();
  assert.ok(!(await mpage.getByText('staging', { exact: true }).isVisible()), 'values are masked until revealed');
  await mpage.getByText('Reveal values').click();
  assert.ok(await mpage.getByText('staging', { exact: true }).isVisible());
  await maintainer.close();
});

test('a cross-origin form post is refused and creates nothing', async () => {
  const { owner, project, path } = await setup();
  const ctx = await newContext();
  const page = await ctx.newPage();
  await signIn(page, owner);
  const target = `${server.url}/${path}/-/triggers`;
  const [resp] = await Promise.all([
    page.waitForResponse((r) => r.url() === target && r.request().method() === 'POST'),
    page.goto(`${attacker.url}/attack?target=${encodeURIComponent(target)}`),
  ]);
  assert.equal(resp.status(), 403);
  const [, triggers] = await api('GET', `/projects/${project.id}/triggers`);
  assert.deepEqual(triggers, []);
  await ctx.close();
});

test('the pages work with JavaScript turned off', async () => {
  const { owner, project, path } = await setup();
  const ctx = await newContext({ javaScriptEnabled: false });
  const page = await ctx.newPage();
  await signIn(page, owner);
  const { token } = await createToken(page, path, 'no js');
  assert.match(token, /^glptt-[0-9a-f]{40}$/);
  const [, pipeline] = await trigger(project.id, token);

  await page.goto(`${server.url}/${path}/-/pipelines`);
  await page.getByLabel('Status', { exact: true }).selectOption('pending');
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.waitForURL(/status=pending/);
  await page.getByRole('button', { name: `Cancel pipeline #${pipeline.id}` }).click();
  await page.getByRole('heading', { name: `Stop pipeline #${pipeline.id}?` }).waitFor();
  await page.getByRole('button', { name: 'Stop pipeline' }).click();
  await page.getByRole('status').filter({ hasText: 'Pipeline canceled.' }).waitFor();
  assert.match(page.url(), /status=pending/, 'back to the filtered list');

  await page.goto(`${server.url}/${path}/-/settings/ci_cd`);
  await page.getByRole('button', { name: /^Revoke trigger/ }).click();
  await page.getByRole('heading', { name: /^Revoke trigger token/ }).waitFor();
  await page.getByRole('button', { name: 'Revoke trigger' }).click();
  await page.getByRole('status').filter({ hasText: 'Trigger removed.' }).waitFor();
  assert.equal((await trigger(project.id, token))[0], 404);
  await ctx.close();
});

test("a running job's page follows its log until the job ends", async () => {
  const { owner, project } = await setup();
  const [, reg] = await api('POST', `/projects/${project.id}/runners/reset_registration_token`);
  const runnerResp = await fetch(`${server.url}/api/v4/runners`, {
    method: 'POST', body: new URLSearchParams({ token: reg.token, description: 'ui', run_untagged: 'true' }),
  });
  const runner = await runnerResp.json();
  const [, created] = await api('POST', `/projects/${project.id}/triggers`, { description: 'ci' });
  const [, pipeline] = await trigger(project.id, created.token);
  const claim = await fetch(`${server.url}/api/v4/jobs/request`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: runner.token }),
  });
  assert.equal(claim.status, 201);
  const job = await claim.json();
  const [, jobs] = await api('GET', `/projects/${project.id}/pipelines/${pipeline.id}/jobs`);
  const running = jobs.find((j) => j.id === job.id);

  const ctx = await newContext();
  const page = await ctx.newPage();
  await signIn(page, owner);
  await page.goto(running.web_url);
  await page.getByText('No log yet.').waitFor();
  const line = 'hello from the runner\n';
  const patch = await fetch(`${server.url}/api/v4/jobs/${job.id}/trace`, {
    method: 'PATCH', headers: { 'JOB-TOKEN': job.token, 'Content-Range': `0-${line.length - 1}` }, body: line,
  });
  assert.equal(patch.status, 202);
  await page.getByLabel('Job log').filter({ hasText: 'hello from the runner' }).waitFor({ timeout: 15000 });
  const put = await fetch(`${server.url}/api/v4/jobs/${job.id}`, {
    method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: job.token, state: 'success' }),
  });
  assert.equal(put.status, 200);
  await page.getByLabel('Status: success').waitFor({ timeout: 15000 });
  assert.equal(await page.locator('#job-live[data-follow]').count(), 0, 'following stops with the job');
  assert.equal(await cspViolations(page), 0);
  await ctx.close();
});

test('axe-core finds no accessibility violations on any page', async () => {
  const { owner, project, path } = await setup();
  const ctx = await newContext({ bypassCSP: true }); // axe is injected as a script
  const page = await ctx.newPage();
  const report = {};
  const check = async (name) => {
    report[name] = await axeViolations(page);
  };
  await page.goto(`${server.url}/users/sign_in`);
  await check('sign in');
  await signIn(page, owner);
  await check('dashboard');
  await page.goto(`${server.url}/${path}/-/settings/ci_cd`);
  await check('settings (empty)');
  const { token } = await createToken(page, path, 'axe');
  await check('token created');
  await page.goto(`${server.url}/${path}/-/settings/ci_cd`);
  await check('settings (one token)');
  await page.getByRole('link', { name: /^Edit trigger/ }).click();
  await page.getByRole('heading', { name: 'Update trigger' }).waitFor();
  await check('edit token');
  const [, pipeline] = await trigger(project.id, token);
  await page.goto(`${server.url}/${path}`);
  await check('project');
  await page.goto(`${server.url}/${path}/-/pipelines`);
  await check('pipelines');
  await page.goto(pipeline.web_url);
  await check('pipeline');
  const [, jobs] = await api('GET', `/projects/${project.id}/pipelines/${pipeline.id}/jobs`);
  await page.goto(jobs[0].web_url);
  await check('job');
  const [, commit] = await api('GET', `/projects/${project.id}/repository/commits/main`);
  await page.goto(commit.web_url);
  await check('commit');
  await page.goto(owner.web_url);
  await check('user');
  await page.goto(`${server.url}/${path}/-/pipelines/999999`);
  await check('not found');
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.goto(`${server.url}/${path}/-/pipelines`);
  await check('pipelines (dark)');
  await ctx.close();
  for (const [name, violations] of Object.entries(report)) {
    assert.deepEqual(violations, [], `${name}: ${violations.join('; ')}`);
  }
});
