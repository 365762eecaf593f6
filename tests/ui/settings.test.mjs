// Browser tests of the second slice of the web UI: personal access tokens, the project's runners
// with registration, trigger-token policies and rotation, pipeline Delete for Owners and the
// pipelines list that refreshes itself, with JavaScript on and off, and axe-core on the new pages.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api, axeViolations, createToken, cspViolations, newContext, server, setup, signIn, trigger, useSuite } from './support.mjs';

useSuite();

const PATS = '/-/user_settings/personal_access_tokens';

/** A trigger call on main with these variables; returns the status. */
async function triggerWith(projectId, token, variables) {
  const body = new URLSearchParams({ token, ref: 'main' });
  for (const [k, v] of Object.entries(variables)) body.set(`variables[${k}]`, v);
  const resp = await fetch(`${server.url}/api/v4/projects/${projectId}/trigger/pipeline`, { method: 'POST', body });
  await resp.arrayBuffer();
  return resp.status;
}

async function whoAmI(token) {
  const resp = await fetch(`${server.url}/api/v4/user`, { headers: { 'PRIVATE-TOKEN': token } });
  await resp.arrayBuffer();
  return resp.status;
}

/** Makes the next confirmation a page of the server's own (as without JavaScript). */
async function withoutDialogs(page) {
  await page.evaluate(() => document.querySelectorAll('form[data-confirm]').forEach((f) => f.removeAttribute('data-confirm')));
}

test('a user creates a personal access token, reads it once, uses it and revokes it', async () => {
  const { owner } = await setup();
  const ctx = await newContext();
  const page = await ctx.newPage();
  await signIn(page, owner);
  await page.getByRole('link', { name: 'Access tokens' }).click();
  await page.getByRole('heading', { name: 'Personal access tokens', exact: true }).waitFor();
  await page.getByLabel('Token name').fill('laptop');
  await page.getByLabel('read_api').check();
  const [resp] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith(PATS) && r.request().method() === 'POST'),
    page.getByRole('button', { name: 'Create personal access token' }).click(),
  ]);
  assert.equal(resp.status(), 201);
  assert.equal(resp.headers()['cache-control'], 'no-store');
  const token = await page.getByRole('textbox', { name: 'Personal access token' }).inputValue();
  assert.match(token, /^glpat-[A-Za-z0-9_-]{32}$/);
  assert.equal(await whoAmI(token), 200);

  await page.getByRole('link', { name: 'Done, back to personal access tokens' }).click();
  assert.ok(!(await page.content()).includes(token), 'the list never shows the token');
  await page.getByRole('heading', { name: 'Active personal access tokens (1)' }).waitFor();
  await page.getByRole('button', { name: 'Revoke laptop' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Revoke' }).click();
  await page.getByRole('status').filter({ hasText: 'The personal access token was revoked.' }).waitFor();
  await page.getByRole('heading', { name: 'Inactive personal access tokens (1)' }).waitFor();
  assert.equal(await whoAmI(token), 401);
  assert.equal(await cspViolations(page), 0);
  await ctx.close();
});

test('a maintainer registers a runner with a new registration token, then pauses and resumes it', async () => {
  const { owner, path } = await setup();
  const ctx = await newContext();
  const page = await ctx.newPage();
  await signIn(page, owner);
  await page.goto(`${server.url}/${path}/-/settings/ci_cd#js-runners-settings`);
  await page.getByText('This project does not have any project runners yet.').waitFor();
  await page.getByRole('button', { name: 'Reset registration token' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Reset registration token' }).click();
  const registration = await page.getByRole('textbox', { name: 'Registration token' }).inputValue();
  assert.match(registration, /^GR1348941/);
  assert.ok((await page.locator('#cmd-register').textContent()).includes(`--registration-token "${registration}"`));
  const reg = await fetch(`${server.url}/api/v4/runners`, {
    method: 'POST', body: new URLSearchParams({ token: registration, description: 'ui box', tag_list: 'linux' }),
  });
  assert.equal(reg.status, 201);
  const runner = await reg.json();

  await page.getByRole('link', { name: 'Done, back to runners' }).click();
  await page.getByRole('heading', { name: 'Project runners (1)' }).waitFor();
  assert.ok(await page.getByText('ui box').isVisible());
  await page.getByRole('button', { name: `Pause runner #${runner.id}` }).click();
  await page.getByRole('status').filter({ hasText: 'Runner was paused.' }).waitFor();
  assert.equal((await api('GET', `/runners/${runner.id}`))[1].paused, true);
  await page.getByRole('button', { name: `Resume runner #${runner.id}` }).click();
  await page.getByRole('status').filter({ hasText: 'Runner was resumed.' }).waitFor();
  assert.equal((await api('GET', `/runners/${runner.id}`))[1].paused, false);
  assert.equal(await cspViolations(page), 0);
  await ctx.close();
});

test("a trigger token's owner sets its policy, sees a refused one explained, and rotates it", async () => {
  const { owner, project, path } = await setup();
  const ctx = await newContext();
  const page = await ctx.newPage();
  await signIn(page, owner);
  const { token } = await createToken(page, path, 'deploys');
  await page.goto(`${server.url}/${path}/-/settings/ci_cd`);
  await page.getByRole('link', { name: /^Edit trigger/ }).click();
  await page.getByLabel('Allowed refs').fill('main\nrelease/*');
  await page.getByLabel('Allowed variables').fill('VERSION\nDEPLOY_*');
  await page.getByLabel('Required variables').fill('OTHER');
  await page.getByRole('button', { name: 'Update' }).click();
  await page.getByRole('alert').filter({ hasText: 'OTHER is not matched by allowed_variables' }).waitFor();
  assert.equal(await page.getByLabel('Allowed refs').inputValue(), 'main\nrelease/*', 'the form keeps what was typed');
  await page.getByLabel('Required variables').fill('VERSION');
  await page.getByRole('button', { name: 'Update' }).click();
  await page.getByRole('status').filter({ hasText: 'Trigger was successfully updated.' }).waitFor();
  assert.equal(await triggerWith(project.id, token, { DEPLOY_ENV: 'x' }), 400, 'VERSION is required');
  assert.equal(await triggerWith(project.id, token, { VERSION: '1', OTHER: 'x' }), 400, 'OTHER is not allowed');
  assert.equal(await triggerWith(project.id, token, { VERSION: '1' }), 201);

  await page.getByRole('link', { name: /^Edit trigger/ }).click();
  await page.getByLabel('Grace period for the current token').selectOption({ label: '1 hour' });
  await page.getByRole('button', { name: 'Rotate token' }).click();
  const [resp] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/rotate') && r.request().method() === 'POST'),
    page.getByRole('dialog').getByRole('button', { name: 'Rotate token' }).click(),
  ]);
  assert.equal(resp.status(), 201);
  await page.getByText('The previous token keeps working for 1 hour.').waitFor();
  const rotated = await page.getByRole('textbox', { name: 'Pipeline trigger token' }).inputValue();
  assert.notEqual(rotated, token);
  assert.equal(await triggerWith(project.id, rotated, { VERSION: '2' }), 201, 'the policy stays with the trigger');
  assert.equal(await triggerWith(project.id, token, { VERSION: '3' }), 201, 'the old token in its grace period');
  assert.equal(await cspViolations(page), 0);
  await ctx.close();
});

test('an owner deletes a pipeline and the list follows a running pipeline without a reload', async () => {
  const { owner, reporter, project, path } = await setup();
  const [, created] = await api('POST', `/projects/${project.id}/triggers`, { description: 'ci' });
  const [, first] = await trigger(project.id, created.token);
  const [, second] = await trigger(project.id, created.token);

  const rctx = await newContext();
  const rpage = await rctx.newPage();
  await signIn(rpage, reporter);
  await rpage.goto(`${server.url}/${path}/-/pipelines`);
  await rpage.locator('#pipelines-live[data-follow]').waitFor();
  await rpage.evaluate(() => { window.__samePage = true; });
  assert.equal((await api('POST', `/projects/${project.id}/pipelines/${second.id}/cancel`))[0], 200);
  assert.equal((await api('POST', `/projects/${project.id}/pipelines/${first.id}/cancel`))[0], 200);
  await rpage.locator('#pipelines-live:not([data-follow])').waitFor({ timeout: 20000 });
  assert.equal(await rpage.getByLabel('Status: canceled').count(), 2);
  assert.equal(await rpage.evaluate(() => window.__samePage), true, 'refreshed in place, not reloaded');
  assert.equal(await cspViolations(rpage), 0);
  await rpage.goto(first.web_url);
  assert.equal(await rpage.getByRole('button', { name: 'Delete' }).count(), 0, 'Delete is for Owners');
  await rctx.close();

  const ctx = await newContext();
  const page = await ctx.newPage();
  await signIn(page, owner);
  await page.goto(first.web_url);
  await page.getByRole('button', { name: 'Delete' }).click();
  await Promise.all([
    page.waitForURL(/flash=pipeline_deleted/),
    page.getByRole('dialog').getByRole('button', { name: 'Delete pipeline' }).click(),
  ]);
  await page.getByRole('status').filter({ hasText: 'The pipeline has been deleted.' }).waitFor();
  assert.equal((await api('GET', `/projects/${project.id}/pipelines/${first.id}`))[0], 404);
  assert.equal(await page.getByRole('link', { name: `#${first.id}`, exact: true }).count(), 0);
  await ctx.close();
});

test('tokens and pipeline delete work with JavaScript turned off', async () => {
  const { owner, project, path } = await setup();
  const ctx = await newContext({ javaScriptEnabled: false });
  const page = await ctx.newPage();
  await signIn(page, owner);
  await page.goto(`${server.url}${PATS}`);
  await page.getByLabel('Token name').fill('no js');
  await page.getByLabel('api', { exact: true }).check();
  await page.getByRole('button', { name: 'Create personal access token' }).click();
  const token = await page.getByRole('textbox', { name: 'Personal access token' }).inputValue();
  assert.equal(await whoAmI(token), 200);
  await page.goto(`${server.url}${PATS}`);
  await page.getByRole('button', { name: 'Revoke no js' }).click();
  await page.getByRole('heading', { name: 'Revoke personal access token no js?' }).waitFor();
  await page.getByRole('button', { name: 'Revoke' }).click();
  await page.getByRole('status').filter({ hasText: 'The personal access token was revoked.' }).waitFor();
  assert.equal(await whoAmI(token), 401);

  const [, created] = await api('POST', `/projects/${project.id}/triggers`, { description: 'ci' });
  const [, pipeline] = await trigger(project.id, created.token);
  await page.goto(pipeline.web_url);
  await page.getByRole('button', { name: 'Delete' }).click();
  await page.getByRole('heading', { name: `Delete pipeline #${pipeline.id}?` }).waitFor();
  await page.getByRole('button', { name: 'Delete pipeline' }).click();
  await page.getByRole('status').filter({ hasText: 'The pipeline has been deleted.' }).waitFor();
  assert.equal((await api('GET', `/projects/${project.id}/pipelines/${pipeline.id}`))[0], 404);
  await ctx.close();
});

test('axe-core finds no accessibility violations on the new pages', async () => {
  const { owner, project, path } = await setup();
  const ctx = await newContext({ bypassCSP: true }); // axe is injected as a script
  const page = await ctx.newPage();
  const report = {};
  const check = async (name) => {
    report[name] = await axeViolations(page);
  };
  await signIn(page, owner);
  await page.goto(`${server.url}${PATS}`);
  await check('personal access tokens (empty)');
  await page.getByLabel('Token name').fill('axe');
  // No scope ticked: the form comes back with its error beside the scopes.
  await page.getByRole('button', { name: 'Create personal access token' }).click();
  await page.getByText('Select at least one scope.').waitFor();
  await check('personal access tokens (form error)');
  await page.goto(`${server.url}${PATS}`);
  await page.getByLabel('Token name').fill('axe');
  await page.getByLabel('read_api').check();
  await page.getByRole('button', { name: 'Create personal access token' }).click();
  await page.getByRole('textbox', { name: 'Personal access token' }).waitFor();
  await check('personal access token created');
  await page.goto(`${server.url}${PATS}`);
  await check('personal access tokens (one)');
  await withoutDialogs(page);
  await page.getByRole('button', { name: 'Revoke axe' }).click();
  await check('revoke personal access token');

  await page.goto(`${server.url}/${path}/-/settings/ci_cd`);
  await withoutDialogs(page);
  await page.getByRole('button', { name: 'Reset registration token' }).click();
  await check('reset registration token');
  await page.getByRole('button', { name: 'Reset registration token' }).click();
  const registration = await page.getByRole('textbox', { name: 'Registration token' }).inputValue();
  await check('registration token');
  const reg = await fetch(`${server.url}/api/v4/runners`, {
    method: 'POST', body: new URLSearchParams({ token: registration, description: 'axe box' }),
  });
  assert.equal(reg.status, 201);
  await api('POST', '/user/runners', { runner_type: 'instance_type', description: 'shared' });
  await createToken(page, path, 'axe');
  await page.goto(`${server.url}/${path}/-/settings/ci_cd`);
  await check('settings with runners');
  await page.getByRole('link', { name: /^Edit trigger/ }).click();
  await page.getByLabel('Required variables').fill('NOT_ALLOWED');
  await page.getByLabel('Allowed variables').fill('OTHER');
  await page.getByRole('button', { name: 'Update' }).click();
  await page.getByRole('alert').waitFor();
  await check('edit trigger with a refused policy');
  await withoutDialogs(page);
  await page.getByRole('button', { name: 'Rotate token' }).click();
  await check('rotate trigger token');
  await page.getByRole('button', { name: 'Rotate token' }).click();
  await page.getByRole('textbox', { name: 'Pipeline trigger token' }).waitFor();
  await check('rotated trigger token');

  const [, created] = await api('POST', `/projects/${project.id}/triggers`, { description: 'ci' });
  const [, pipeline] = await trigger(project.id, created.token);
  await page.goto(pipeline.web_url);
  await check('pipeline with Delete');
  await withoutDialogs(page);
  await page.getByRole('button', { name: 'Delete' }).click();
  await check('delete pipeline');
  await ctx.close();
  for (const [name, violations] of Object.entries(report)) {
    assert.deepEqual(violations, [], `${name}: ${violations.join('; ')}`);
  }
});
