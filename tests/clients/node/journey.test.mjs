// A full user journey against triggerd with the unmodified @gitbeaker/rest client: users,
// projects, members, branches and tags, pipeline trigger tokens, the trigger call, the Pipelines
// API and the errors a client sees. The steps run in order and share state.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { Gitlab } from '@gitbeaker/rest';

import { ROOT_TOKEN, startServer } from './server.mjs';

const TS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const SHA = /^[0-9a-f]{40}$/;

/** Awaits a call that must fail and checks the HTTP status (and optionally the description). */
async function rejectsWith(promise, status, description) {
  let error;
  try {
    await promise;
  } catch (e) {
    error = e;
  }
  assert.ok(error, `expected a ${status} error, the call succeeded`);
  assert.equal(error.name, 'GitbeakerRequestError', String(error));
  assert.equal(error.cause?.response?.status, status, `${error.message}`);
  if (description !== undefined) assert.equal(error.cause.description, description);
  return error;
}

function assertUserBasic(u, username) {
  assert.equal(typeof u.id, 'number');
  assert.equal(u.username, username);
  for (const key of ['name', 'state', 'avatar_url', 'web_url']) assert.equal(typeof u[key], 'string', key);
  assert.equal(typeof u.locked, 'boolean');
}

function assertPipeline(p) {
  for (const key of ['id', 'iid', 'project_id']) assert.ok(Number.isInteger(p[key]), key);
  for (const key of ['sha', 'before_sha', 'ref', 'status', 'source', 'web_url']) {
    assert.equal(typeof p[key], 'string', key);
  }
  assert.match(p.sha, SHA);
  assert.match(p.created_at, TS);
  assert.match(p.updated_at, TS);
  assert.equal(typeof p.tag, 'boolean');
  for (const key of ['duration', 'queued_duration']) {
    assert.ok(p[key] === null || Number.isInteger(p[key]), `${key} is ${p[key]}`);
  }
  assert.ok(p.coverage === null || typeof p.coverage === 'string');
  for (const key of ['started_at', 'finished_at', 'committed_at']) {
    assert.ok(key in p, key);
    assert.ok(p[key] === null || TS.test(p[key]), key);
  }
  assert.equal(typeof p.detailed_status, 'object');
  assert.equal(typeof p.detailed_status.text, 'string');
}

describe('@gitbeaker/rest against triggerd', () => {
  let server;
  let root;
  const users = {}; // name -> { user, token, api }
  let project;
  let triggerToken;
  const triggers = [];
  const pipelines = {};

  const api = (token) => new Gitlab({ host: server.url, token });

  before(async () => {
    server = await startServer();
    root = api(ROOT_TOKEN);
  });

  after(async () => {
    if (server) await server.stop();
  });

  describe('users', () => {
    it('reads the current user', async () => {
      const me = await root.Users.showCurrentUser();
      assert.equal(me.username, 'root');
      assert.equal(me.is_admin, true);
      assert.ok(Number.isInteger(me.id));
      assert.match(me.created_at, TS);
      const viaBearer = await new Gitlab({ host: server.url, oauthToken: ROOT_TOKEN }).Users.showCurrentUser();
      assert.equal(viaBearer.id, me.id);
    });

    it('creates users and a personal access token for each', async () => {
      for (const name of ['alice', 'dev', 'rep', 'outsider']) {
        const user = await root.Users.create({
          email: `${name}@example.com`,
          name: `User ${name}`,
          username: name,
          password: 'correct-horse-battery',
          skipConfirmation: true,
        });
        assert.equal(user.username, name);
        assert.equal(user.email, `${name}@example.com`);
        assert.equal(user.state, 'active');
        const pat = await root.Users.createPersonalAccessToken(user.id, `${name}-ci`, ['api']);
        assert.match(pat.token, /^glpat-/);
        assert.deepEqual(pat.scopes, ['api']);
        users[name] = { user, token: pat.token, api: api(pat.token) };
      }
      const me = await users.alice.api.Users.showCurrentUser();
      assert.equal(me.id, users.alice.user.id);
    });

    it('shows a user: the detailed view to admins, UserBasic to others', async () => {
      const full = await root.Users.show(users.dev.user.id);
      assert.equal(full.email, 'dev@example.com');
      const basic = await users.alice.api.Users.show(users.dev.user.id);
      assertUserBasic(basic, 'dev');
      assert.equal(basic.email, undefined);
    });
  });

  describe('projects and members', () => {
    it('creates a project in the caller namespace', async () => {
      project = await users.alice.api.Projects.create({
        name: 'Demo Project',
        path: 'demo',
        visibility: 'private',
        initializeWithReadme: true,
      });
      assert.ok(Number.isInteger(project.id));
      assert.equal(project.path_with_namespace, 'alice/demo');
      assert.equal(project.default_branch, 'main');
      assert.equal(project.owner.username, 'alice');
    });

    it('shows the project by id and by URL-encoded path', async () => {
      const byId = await users.alice.api.Projects.show(project.id);
      assert.equal(byId.id, project.id);
      const byPath = await users.alice.api.Projects.show('alice/demo');
      assert.equal(byPath.id, project.id);
      assert.equal(byPath.name, 'Demo Project');
    });

    it('finds a project whose path has a dot by its encoded path', async () => {
      const dotted = await users.alice.api.Projects.create({ path: 'web.site' });
      const shown = await users.alice.api.Projects.show('alice/web.site');
      assert.equal(shown.id, dotted.id);
      assert.equal(shown.path_with_namespace, 'alice/web.site');
    });

    it('adds members by user id and by username', async () => {
      const dev = await users.alice.api.ProjectMembers.add(project.id, 30, { userId: users.dev.user.id });
      assert.equal(dev.username, 'dev');
      assert.equal(dev.access_level, 30);
      const rep = await users.alice.api.ProjectMembers.add(project.id, 10, { username: 'rep' });
      assert.equal(rep.access_level, 10);
      const outsider = await users.alice.api.ProjectMembers.add(project.id, 10, { userId: users.outsider.user.id });
      assert.equal(outsider.username, 'outsider');
    });

    it('edits, shows, lists and removes members', async () => {
      const edited = await users.alice.api.ProjectMembers.edit(project.id, users.rep.user.id, 20);
      assert.equal(edited.access_level, 20);
      const shown = await users.alice.api.ProjectMembers.show(project.id, users.rep.user.id);
      assert.equal(shown.access_level, 20);
      await users.alice.api.ProjectMembers.remove(project.id, users.outsider.user.id);
      const all = await users.alice.api.ProjectMembers.all(project.id);
      assert.deepEqual(all.map((m) => m.username).sort(), ['alice', 'dev', 'rep']);
      const inherited = await users.alice.api.ProjectMembers.all(project.id, { includeInherited: true });
      assert.equal(inherited.length, 3);
      await rejectsWith(users.alice.api.ProjectMembers.show(project.id, users.outsider.user.id), 404);
    });
  });

  describe('branches and tags', () => {
    it('creates, shows, lists and removes branches', async () => {
      const branch = await users.dev.api.Branches.create(project.id, 'feature/x', 'main');
      assert.equal(branch.name, 'feature/x');
      assert.match(branch.commit.id, SHA);
      const shown = await users.rep.api.Branches.show(project.id, 'feature/x');
      assert.equal(shown.commit.id, branch.commit.id);
      await users.dev.api.Branches.create(project.id, 'tmp', 'main');
      await users.dev.api.Branches.remove(project.id, 'tmp');
      const all = await users.rep.api.Branches.all(project.id);
      assert.deepEqual(all.map((b) => b.name), ['feature/x', 'main']);
      await rejectsWith(users.rep.api.Branches.show(project.id, 'tmp'), 404);
    });

    it('creates, shows and lists tags', async () => {
      const tag = await users.dev.api.Tags.create(project.id, 'v1.0.0', 'main', { message: 'first' });
      assert.equal(tag.name, 'v1.0.0');
      assert.match(tag.target, SHA);
      const shown = await users.rep.api.Tags.show(project.id, 'v1.0.0');
      assert.equal(shown.message, 'first');
      const all = await users.rep.api.Tags.all(project.id);
      assert.deepEqual(all.map((t) => t.name), ['v1.0.0']);
    });
  });

  describe('pipeline trigger tokens', () => {
    it('creates triggers; only the create answer carries the full token', async () => {
      for (let i = 1; i <= 5; i += 1) {
        const t = await users.alice.api.PipelineTriggerTokens.create(project.id, `trigger ${i}`);
        assert.ok(Number.isInteger(t.id));
        assert.match(t.token, /^glptt-/);
        assert.equal(t.description, `trigger ${i}`);
        assert.match(t.created_at, TS);
        assert.equal(t.last_used, null);
        assertUserBasic(t.owner, 'alice');
        triggers.push(t);
      }
      triggerToken = triggers[0].token;
      const shown = await users.alice.api.PipelineTriggerTokens.show(project.id, triggers[0].id);
      assert.equal(shown.id, triggers[0].id);
      // Hashed at rest: later reads show the first 4 characters after the `glptt-` prefix.
      assert.equal(shown.token, triggerToken.slice('glptt-'.length, 'glptt-'.length + 4));
    });

    it('lists triggers page by page, following Link rel="next"', async () => {
      const all = await users.alice.api.PipelineTriggerTokens.all(project.id, { perPage: 2 });
      assert.deepEqual(all.map((t) => t.id), triggers.map((t) => t.id));
      const capped = await users.alice.api.PipelineTriggerTokens.all(project.id, { perPage: 2, maxPages: 2 });
      assert.equal(capped.length, 4);
      const { data, paginationInfo } = await users.alice.api.PipelineTriggerTokens.all(project.id, {
        perPage: 2,
        page: 3,
        showExpanded: true,
      });
      assert.equal(data.length, 1);
      assert.deepEqual(paginationInfo, { total: 5, next: null, current: 3, previous: 2, perPage: 2, totalPages: 3 });
    });

    it('edits and removes a trigger', async () => {
      const edited = await users.alice.api.PipelineTriggerTokens.edit(project.id, triggers[1].id, {
        description: 'renamed',
      });
      assert.equal(edited.description, 'renamed');
      const unchanged = await users.alice.api.PipelineTriggerTokens.edit(project.id, triggers[1].id);
      assert.equal(unchanged.description, 'renamed');
      await users.alice.api.PipelineTriggerTokens.remove(project.id, triggers[4].id);
      await rejectsWith(users.alice.api.PipelineTriggerTokens.show(project.id, triggers[4].id), 404, '404 Not found');
      const all = await users.alice.api.PipelineTriggerTokens.all(project.id);
      assert.equal(all.length, 4);
    });
  });

  describe('the trigger call', () => {
    it('triggers a pipeline with variables (multipart body, token and ref in the query)', async () => {
      const p = await root.PipelineTriggerTokens.trigger(project.id, 'main', triggerToken, {
        variables: { DEPLOY_ENV: 'staging', GREETING: 'hello world' },
      });
      assertPipeline(p);
      assert.equal(p.ref, 'main');
      assert.equal(p.status, 'created');
      assert.equal(p.source, 'trigger');
      assert.equal(p.tag, false);
      assert.equal(p.project_id, project.id);
      assertUserBasic(p.user, 'alice');
      pipelines.main = p;
    });

    it('triggers pipelines on a tag and on a branch with a slash, by project path', async () => {
      const onTag = await root.PipelineTriggerTokens.trigger('alice/demo', 'v1.0.0', triggerToken);
      assert.equal(onTag.tag, true);
      assert.equal(onTag.ref, 'v1.0.0');
      pipelines.tag = onTag;
      const onBranch = await root.PipelineTriggerTokens.trigger(project.id, 'feature/x', triggers[1].token, {
        variables: { ONLY: 'one' },
      });
      assert.equal(onBranch.ref, 'feature/x');
      pipelines.branch = onBranch;
      assert.deepEqual(
        [pipelines.main.iid, onTag.iid, onBranch.iid],
        [pipelines.main.iid, pipelines.main.iid + 1, pipelines.main.iid + 2],
      );
      const used = await users.alice.api.PipelineTriggerTokens.show(project.id, triggers[0].id);
      assert.match(used.last_used, TS);
    });
  });

  describe('pipelines', () => {
    it('lists pipelines, newest first, with filters', async () => {
      const all = await users.rep.api.Pipelines.all(project.id);
      assert.deepEqual(all.map((p) => p.id), [pipelines.branch.id, pipelines.tag.id, pipelines.main.id]);
      for (const p of all) {
        assert.ok(Number.isInteger(p.id));
        assert.match(p.created_at, TS);
      }
      const onMain = await users.rep.api.Pipelines.all(project.id, { ref: 'main' });
      assert.deepEqual(onMain.map((p) => p.id), [pipelines.main.id]);
      const asc = await users.rep.api.Pipelines.all(project.id, { orderBy: 'id', sort: 'asc' });
      assert.deepEqual(asc.map((p) => p.id), [pipelines.main.id, pipelines.tag.id, pipelines.branch.id]);
      const created = await users.rep.api.Pipelines.all(project.id, { status: 'created', source: 'trigger' });
      assert.equal(created.length, 3);
      const byAlice = await users.rep.api.Pipelines.all(project.id, { username: 'alice' });
      assert.equal(byAlice.length, 3);
      const bySha = await users.rep.api.Pipelines.all(project.id, { sha: pipelines.tag.sha, ref: 'v1.0.0' });
      assert.deepEqual(bySha.map((p) => p.id), [pipelines.tag.id]);
      const later = await users.rep.api.Pipelines.all(project.id, { updatedAfter: '2999-01-01T00:00:00Z' });
      assert.deepEqual(later, []);
      const capped = await users.rep.api.Pipelines.all(project.id, { perPage: 1, maxPages: 2 });
      assert.equal(capped.length, 2);
      // Following Link rel="next" keeps the filters.
      const followed = await users.rep.api.Pipelines.all(project.id, { source: 'trigger', sort: 'asc', perPage: 1 });
      assert.deepEqual(followed.map((p) => p.id), [pipelines.main.id, pipelines.tag.id, pipelines.branch.id]);
    });

    it('shows a pipeline and its variables', async () => {
      const p = await users.rep.api.Pipelines.show(project.id, pipelines.main.id);
      assertPipeline(p);
      assert.equal(p.id, pipelines.main.id);
      assert.equal(p.duration, null);
      const latest = await users.rep.api.Pipelines.showLatest(project.id);
      assert.equal(latest.id, pipelines.main.id);
      const vars = await users.alice.api.Pipelines.allVariables(project.id, pipelines.main.id);
      const byKey = Object.fromEntries(vars.map((v) => [v.key, v]));
      assert.deepEqual(byKey.DEPLOY_ENV, { variable_type: 'env_var', key: 'DEPLOY_ENV', value: 'staging' });
      assert.equal(byKey.GREETING.value, 'hello world');
      assert.equal(byKey.TRIGGER_PAYLOAD.variable_type, 'file');
      assert.doesNotMatch(byKey.TRIGGER_PAYLOAD.value, /glptt-/);
    });

    it('cancels, retries and removes pipelines', async () => {
      const canceled = await users.dev.api.Pipelines.cancel(project.id, pipelines.main.id);
      assert.equal(canceled.status, 'canceled');
      assert.match(canceled.finished_at, TS);
      const retried = await users.dev.api.Pipelines.retry(project.id, pipelines.main.id);
      assert.equal(retried.status, 'pending');
      assert.equal(retried.finished_at, null);
      const pending = await users.rep.api.Pipelines.all(project.id, { status: 'pending' });
      assert.deepEqual(pending.map((p) => p.id), [pipelines.main.id]);
      await users.alice.api.Pipelines.remove(project.id, pipelines.tag.id);
      await rejectsWith(users.rep.api.Pipelines.show(project.id, pipelines.tag.id), 404, '404 Not found');
      const left = await users.rep.api.Pipelines.all(project.id);
      assert.equal(left.length, 2);
    });
  });

  describe('errors', () => {
    it('401 for a bad token', async () => {
      await rejectsWith(api('glpat-not-a-real-token-000000').Users.showCurrentUser(), 401, '401 Unauthorized');
      await rejectsWith(api('glpat-not-a-real-token-000000').PipelineTriggerTokens.all(project.id), 401);
    });

    it('403 for a role that is too low', async () => {
      await rejectsWith(users.rep.api.PipelineTriggerTokens.create(project.id, 'nope'), 403, '403 Forbidden');
      await rejectsWith(users.dev.api.PipelineTriggerTokens.all(project.id), 403);
      await rejectsWith(users.rep.api.Pipelines.cancel(project.id, pipelines.main.id), 403);
      await rejectsWith(users.dev.api.Pipelines.remove(project.id, pipelines.main.id), 403);
      await rejectsWith(users.dev.api.Users.create({ email: 'x@example.com', name: 'x', username: 'x', password: 'longenough' }), 403);
    });

    it('404 for what does not exist or cannot be seen', async () => {
      await rejectsWith(users.alice.api.Projects.show('alice/missing'), 404, '404 Project Not Found');
      await rejectsWith(users.outsider.api.Projects.show(project.id), 404, '404 Project Not Found');
      await rejectsWith(users.alice.api.PipelineTriggerTokens.show(project.id, 999999), 404);
      await rejectsWith(users.alice.api.Pipelines.show(project.id, 999999), 404);
      await rejectsWith(root.Users.show(999999), 404, '404 User Not Found');
      await rejectsWith(root.PipelineTriggerTokens.trigger(project.id, 'main', 'glptt-wrong'), 404, '404 Not Found');
    });

    it('400 for bad input', async () => {
      await rejectsWith(users.alice.api.PipelineTriggerTokens.create(project.id, undefined), 400, 'description is missing');
      await rejectsWith(
        root.PipelineTriggerTokens.trigger(project.id, 'no-such-ref', triggerToken),
        400,
        JSON.stringify({ base: ['Reference not found'] }),
      );
      await rejectsWith(users.rep.api.Pipelines.all(project.id, { status: 'bogus' }), 400, 'status does not have a valid value');
      await rejectsWith(users.alice.api.ProjectMembers.add(project.id, 42, { userId: users.outsider.user.id }), 400);
      await rejectsWith(users.alice.api.Projects.create({ name: 'Demo Project', path: 'demo' }), 400);
    });
  });
});
