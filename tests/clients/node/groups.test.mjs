// Groups with the unmodified @gitbeaker/rest client: a group and a subgroup, a project created
// in it with namespaceId, a member at group level whose inherited Maintainer role manages the
// project's trigger tokens, the trigger call by `org/team/app`, namespaces, Users.edit.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { Gitlab } from '@gitbeaker/rest';

import { ROOT_TOKEN, startServer } from './server.mjs';

describe('@gitbeaker/rest groups against triggerd', () => {
  let server;
  let root;
  const api = (token) => new Gitlab({ host: server.url, token });

  before(async () => {
    server = await startServer();
    root = api(ROOT_TOKEN);
  });

  after(async () => {
    if (server) await server.stop();
  });

  async function newUser(name) {
    const user = await root.Users.create({
      email: `${name}@example.com`,
      name: `User ${name}`,
      username: name,
      password: 'correct-horse-battery',
      skipConfirmation: true,
    });
    const pat = await root.Users.createPersonalAccessToken(user.id, 'ci', ['api']);
    return { user, api: api(pat.token) };
  }

  it('builds org/team/app, lets a group Maintainer manage its triggers and triggers it by path', async () => {
    const boss = await newUser('nboss');
    const maint = await newUser('nmaint');
    const guest = await newUser('nguest');
    const org = await boss.api.Groups.create('Node Org', 'norg');
    const team = await boss.api.Groups.create('Team', 'team', { parentId: org.id });
    assert.equal(team.full_path, 'norg/team');
    assert.equal(team.parent_id, org.id);
    const project = await boss.api.Projects.create({ name: 'app', namespaceId: team.id, initializeWithReadme: true });
    assert.equal(project.path_with_namespace, 'norg/team/app');
    assert.equal(project.namespace.kind, 'group');
    const inTeam = await boss.api.Groups.allProjects(team.id);
    assert.deepEqual(inTeam.map((p) => p.id), [project.id]);

    await boss.api.GroupMembers.add(org.id, 40, { userId: maint.user.id });
    await boss.api.GroupMembers.add(team.id, 10, { userId: guest.user.id });
    const all = await boss.api.GroupMembers.all(team.id, { includeInherited: true });
    assert.ok(all.some((m) => m.id === maint.user.id && m.access_level === 40));

    const trigger = await maint.api.PipelineTriggerTokens.create('norg/team/app', 'from the group');
    assert.match(trigger.token, /^glptt-/);
    let refused;
    try {
      await guest.api.PipelineTriggerTokens.create('norg/team/app', 'no');
    } catch (e) {
      refused = e;
    }
    assert.equal(refused?.cause?.response?.status, 403);
    const pipeline = await root.PipelineTriggerTokens.trigger('norg/team/app', 'main', trigger.token);
    assert.equal(pipeline.project_id, project.id);
    assert.equal(pipeline.source, 'trigger');

    const ns = await boss.api.Namespaces.show('norg/team');
    assert.equal(ns.id, team.id);
    assert.equal(ns.kind, 'group');
    const mine = await maint.api.Namespaces.show(maint.user.id);
    assert.equal(mine.kind, 'user');

    const edited = await root.Users.edit(guest.user.id, { name: 'Renamed Guest' });
    assert.equal(edited.name, 'Renamed Guest');

    await boss.api.Groups.remove(org.id);
    let gone;
    try {
      await root.Projects.show(project.id);
    } catch (e) {
      gone = e;
    }
    assert.equal(gone?.cause?.response?.status, 404);
  });
});
