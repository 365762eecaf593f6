// The Jobs API with the unmodified @gitbeaker/rest client: a `.gitlab-ci.yml` stored with
// RepositoryFiles, a pipeline made by Pipelines.create, its jobs moved through their states by a
// runner made of plain fetch calls (GitLab's runner protocol), then read back with Jobs.all (a
// pipeline's and a project's), Jobs.show and Jobs.showLog. The steps run in order and share state.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { Gitlab } from '@gitbeaker/rest';

import { ROOT_TOKEN, startServer } from './server.mjs';

const TS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const CI = `stages: [build, deploy]
build:
  stage: build
  script: echo building $K
deploy:
  stage: deploy
  script: echo deploying
`;

/** GitLab's runner protocol by hand: ask for a job, append to its log, report its state. */
class Runner {
  constructor(url, token) {
    this.api = `${url}/api/v4`;
    this.token = token;
  }

  async requestJob() {
    const resp = await fetch(`${this.api}/jobs/request`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ token: this.token }),
    });
    assert.equal(resp.status, 201, await resp.clone().text());
    return resp.json();
  }

  async appendLog(job, text) {
    const body = Buffer.from(text);
    const resp = await fetch(`${this.api}/jobs/${job.id}/trace`, {
      method: 'PATCH',
      headers: { 'JOB-TOKEN': job.token, 'Content-Range': `0-${body.length - 1}`, 'Content-Type': 'text/plain' },
      body,
    });
    assert.equal(resp.status, 202, await resp.text());
  }

  async finish(job, state) {
    const body = { token: job.token, state };
    if (state === 'failed') body.failure_reason = 'script_failure'; // as gitlab-runner reports a failing script
    const resp = await fetch(`${this.api}/jobs/${job.id}`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    assert.equal(resp.status, 200, await resp.text());
  }
}

function assertJob(j) {
  for (const key of ['id']) assert.ok(Number.isInteger(j[key]), key);
  for (const key of ['status', 'stage', 'name', 'ref', 'web_url']) assert.equal(typeof j[key], 'string', key);
  assert.equal(typeof j.allow_failure, 'boolean');
  assert.equal(typeof j.tag, 'boolean');
  assert.match(j.created_at, TS);
  for (const key of ['started_at', 'finished_at']) assert.ok(j[key] === null || TS.test(j[key]), key);
  assert.ok(j.duration === null || typeof j.duration === 'number');
  assert.ok(Number.isInteger(j.pipeline.id));
  assert.match(j.pipeline.sha, /^[0-9a-f]{40}$/);
  assert.equal(typeof j.commit.id, 'string');
  assert.ok(Array.isArray(j.tag_list));
}

describe('@gitbeaker/rest: the Jobs API', () => {
  let server;
  let root;
  let project;
  let pipeline;
  let runner;
  const jobs = {}; // name -> the runner's job payload

  before(async () => {
    server = await startServer();
    root = new Gitlab({ host: server.url, token: ROOT_TOKEN });
  });

  after(async () => {
    if (server) await server.stop();
  });

  it('creates a pipeline from a stored .gitlab-ci.yml', async () => {
    project = await root.Projects.create({ name: 'jobs', initializeWithReadme: true });
    await root.RepositoryFiles.create(project.id, '.gitlab-ci.yml', 'main', CI, 'add CI');
    pipeline = await root.Pipelines.create(project.id, 'main', { variables: [{ key: 'K', value: 'v' }] });
    assert.equal(pipeline.source, 'api');
    assert.equal(pipeline.status, 'pending');
  });

  it('runs the build job with a runner', async () => {
    const resp = await fetch(`${server.url}/api/v4/user/runners`, {
      method: 'POST',
      headers: { 'PRIVATE-TOKEN': ROOT_TOKEN, 'Content-Type': 'application/json' },
      body: JSON.stringify({ runner_type: 'project_type', project_id: project.id }),
    });
    assert.equal(resp.status, 201);
    const made = await resp.json();
    runner = new Runner(server.url, made.token);
    runner.id = made.id;
    jobs.build = await runner.requestJob();
    assert.equal(jobs.build.job_info.name, 'build');
    await runner.appendLog(jobs.build, 'building v\n');
    await runner.finish(jobs.build, 'success');
  });

  it("lists the pipeline's jobs", async () => {
    const listed = await root.Jobs.all(project.id, { pipelineId: pipeline.id });
    assert.deepEqual(listed.map((j) => [j.name, j.stage, j.status]).sort(), [
      ['build', 'build', 'success'],
      ['deploy', 'deploy', 'pending'],
    ]);
    listed.forEach(assertJob);
    const done = await root.Jobs.all(project.id, { pipelineId: pipeline.id, scope: 'success' });
    assert.deepEqual(done.map((j) => j.name), ['build']);
  });

  it("lists the project's jobs, newest first, across pages", async () => {
    jobs.deploy = await runner.requestJob();
    await runner.finish(jobs.deploy, 'failed');
    const listed = await root.Jobs.all(project.id);
    assert.deepEqual(listed.map((j) => j.name), ['deploy', 'build']);
    const failed = await root.Jobs.all(project.id, { scope: ['failed'] });
    assert.deepEqual(failed.map((j) => j.id), [jobs.deploy.id]);
    const paged = await root.Jobs.all(project.id, { perPage: 1 });
    assert.deepEqual(paged.map((j) => j.id), [jobs.deploy.id, jobs.build.id]);
  });

  it('shows one job', async () => {
    const j = await root.Jobs.show(project.id, jobs.build.id);
    assertJob(j);
    assert.equal(j.status, 'success');
    assert.equal(j.pipeline.id, pipeline.id);
    assert.match(j.started_at, TS);
    assert.match(j.finished_at, TS);
    assert.equal(typeof j.duration, 'number');
    assert.ok(j.web_url.endsWith(`/-/jobs/${jobs.build.id}`));
    assert.equal(j.runner.id, runner.id);
    assert.equal(j.runner.runner_type, 'project_type');
    const d = await root.Jobs.show(project.id, jobs.deploy.id);
    assert.equal(d.status, 'failed');
    assert.equal(d.failure_reason, 'script_failure');
  });

  it("shows a job's log", async () => {
    assert.equal(await root.Jobs.showLog(project.id, jobs.build.id), 'building v\n');
    assert.equal(await root.Jobs.showLog(project.id, jobs.deploy.id), '');
  });

  it('answers 404 for a job that does not exist', async () => {
    let error;
    try {
      await root.Jobs.show(project.id, 999999);
    } catch (e) {
      error = e;
    }
    assert.equal(error?.cause?.response?.status, 404);
  });
});
