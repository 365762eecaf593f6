// Browser tests of the third slice of the web UI: a trigger token's audit log (linked from the
// token row), the unknown-token counts on Settings › CI/CD and Settings › Webhooks, with axe-core on the new pages.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api, axeViolations, cspViolations, newContext, server, setup, signIn, trigger, useSuite } from './support.mjs';

useSuite();

test("a maintainer opens a trigger token's audit log from its row and follows a call to its pipeline", async () => {
  const { owner, project, path } = await setup();
  const [, created] = await api('POST', `/projects/${project.id}/triggers`, { description: 'audit' });
  const [status, pipeline] = await trigger(project.id, created.token);
  assert.equal(status, 201);
  const unknown = await fetch(`${server.url}/api/v4/projects/${project.id}/trigger/pipeline`, {
    method: 'POST', body: new URLSearchParams({ token: 'glptt-notatokenofthisproject0000000', ref: 'main' }),
  });
  await unknown.arrayBuffer();
  assert.equal(unknown.status, 404);

  const ctx = await newContext({ bypassCSP: true }); // axe is injected as a script
  const page = await ctx.newPage();
  await signIn(page, owner);
  await page.goto(`${server.url}/${path}/-/settings/ci_cd`);
  const unknownTable = page.getByRole('table', { name: 'Calls with unknown tokens' });
  await unknownTable.waitFor();
  assert.equal(await unknownTable.getByRole('row').count(), 2, 'a header and one day');
  const settingsViolations = await axeViolations(page);
  await page.getByRole('link', { name: /^Audit log of trigger/ }).click();
  await page.getByRole('heading', { name: 'Trigger token audit log' }).waitFor();
  const rows = page.getByRole('table', { name: /Recorded calls/ }).getByRole('row');
  assert.equal(await rows.count(), 2, 'a header and one call');
  assert.match(await rows.nth(1).innerText(), /accepted/);
  const eventsViolations = await axeViolations(page);
  await page.getByRole('link', { name: `#${pipeline.id}` }).click();
  await page.waitForURL(new RegExp(`/-/pipelines/${pipeline.id}$`));
  await ctx.close();
  assert.deepEqual(settingsViolations, [], settingsViolations.join('; '));
  assert.deepEqual(eventsViolations, [], eventsViolations.join('; '));
});

test('the audit log page keeps its Content-Security-Policy with JavaScript on', async () => {
  const { owner, project, path } = await setup();
  const [, created] = await api('POST', `/projects/${project.id}/triggers`, { description: 'csp' });
  const ctx = await newContext();
  const page = await ctx.newPage();
  await signIn(page, owner);
  await page.goto(`${server.url}/${path}/-/triggers/${created.id}/events`);
  await page.getByText('This token has not been used yet.').waitFor();
  assert.equal(await cspViolations(page), 0);
  await ctx.close();
});

test('a maintainer adds a signed webhook, reads its secret once and deletes it after confirming', async () => {
  const { owner, path } = await setup();
  const ctx = await newContext({ bypassCSP: true }); // axe is injected as a script
  const page = await ctx.newPage();
  const report = {};
  await signIn(page, owner);
  await page.goto(`${server.url}/${path}/-/settings/ci_cd`);
  await page.getByRole('link', { name: 'Settings › Webhooks' }).click();
  await page.getByText('No webhooks yet.').waitFor();
  report['webhooks (empty)'] = await axeViolations(page);
  await page.getByLabel('URL').fill('https://hooks.example.com/ui');
  await page.getByLabel('Secret token (optional)').fill('shh');
  await page.getByLabel(/^Sign deliveries/).check();
  await page.getByRole('button', { name: 'Add webhook' }).click();
  const secret = await page.getByRole('textbox', { name: 'Signing secret' }).inputValue();
  assert.match(secret, /^whsec_/);
  report['signing secret'] = await axeViolations(page);
  await page.getByRole('link', { name: 'Done, back to webhooks' }).click();
  await page.getByRole('heading', { name: 'https://hooks.example.com/ui' }).waitFor();
  assert.equal(await page.getByText(secret).count(), 0, 'the secret is shown once');
  report['webhooks (one)'] = await axeViolations(page);
  await page.evaluate(() => document.querySelectorAll('form[data-confirm]').forEach((f) => f.removeAttribute('data-confirm')));
  await page.getByRole('button', { name: 'Delete webhook https://hooks.example.com/ui' }).click();
  await page.getByRole('heading', { name: 'Delete webhook?' }).waitFor();
  report['delete webhook'] = await axeViolations(page);
  await page.getByRole('button', { name: 'Delete webhook' }).click();
  await page.getByText('Webhook was deleted.').waitFor();
  await ctx.close();
  for (const [name, violations] of Object.entries(report)) {
    assert.deepEqual(violations, [], `${name}: ${violations.join('; ')}`);
  }
});
