"""Triggered pipelines run end to end on a real GitLab runner.

gitlab-python-runner 14.3.20 (PyPI, shell executor) registers with the project's registration
token, asks triggerd for jobs, runs their scripts in bash, streams the log and reports the result,
exactly as it does against GitLab. The tests create the pipeline before starting the runner: after
a poll without work it sleeps 40 s. See gpr.py for the stub `git`.
"""

import textwrap
import time

import gitlab
import pytest
from gpr import RealRunner
from support import unique

# Turns a hang into a failure; never asserted as a duration.
GUARD_SECS = 120


def wait_for(what, predicate, guard=GUARD_SECS):
    deadline = time.monotonic() + guard
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.1)


@pytest.fixture
def tag():
    return unique("t")


@pytest.fixture
def runner(gl, url, project, tag, tmp_path):
    """A real runner registered for `project` with the project's registration token and `tag`."""
    registration = gl.http_post(f"/projects/{project.id}/runners/reset_registration_token")
    real = RealRunner(tmp_path / "runner", url)
    real.register(registration["token"], tag)
    return real


def store_ci(project, tag: str, body: str) -> None:
    """Commits a .gitlab-ci.yml whose jobs all carry `tag` (the runner takes only tagged jobs)."""
    content = f"default:\n  tags: [{tag}]\n" + textwrap.dedent(body)
    project.files.create(
        {"file_path": ".gitlab-ci.yml", "branch": "main", "content": content, "commit_message": "CI"}
    )


def jobs_by_name(pipeline) -> dict:
    return {job.name: job for job in pipeline.jobs.list(all=True)}


def trace(project, job_id: int) -> str:
    return project.jobs.get(job_id).trace().decode()


def test_a_runner_registers_with_the_projects_registration_token(gl, project, runner, tag, server):
    config = runner.config()
    assert config["token"].startswith("glrt-")
    [listed] = project.runners.list()
    details = gl.runners.get(listed.id)
    assert details.tag_list == [tag]
    assert details.run_untagged is False
    assert details.runner_type == "project_type"
    # The runner token is shown once, to the runner, and never logged.
    assert config["token"] not in server.log()

    runner.unregister()
    with pytest.raises(gitlab.GitlabGetError) as err:
        gl.runners.get(listed.id)
    assert err.value.response_code == 404


def test_a_triggered_pipeline_runs_on_the_runner_and_succeeds(project, trigger, runner, tag, server):
    store_ci(project, tag, """
        greet:
          script:
            - echo "source=$CI_PIPELINE_SOURCE greeting=$GREETING pipeline=$CI_PIPELINE_ID"
            - echo "triggered=$CI_PIPELINE_TRIGGERED project=$CI_PROJECT_PATH"
    """)
    pipeline = project.trigger_pipeline("main", trigger.token, variables={"GREETING": "hello"})
    assert pipeline.source == "trigger"
    assert pipeline.status == "pending"

    assert runner.run_once() == 0, runner.log()

    pipeline = project.pipelines.get(pipeline.id)
    assert pipeline.status == "success"
    assert pipeline.started_at and pipeline.finished_at
    job = jobs_by_name(pipeline)["greet"]
    assert job.status == "success"
    assert job.started_at and job.finished_at and job.duration is not None
    assert job.runner["description"] == f"python runner {tag}"
    log = trace(project, job.id)
    assert f"source=trigger greeting=hello pipeline={pipeline.id}" in log
    assert f"triggered=true project={project.path_with_namespace}" in log
    assert "section_start:" in log and "section_end:" in log
    assert trigger.token not in server.log()
    assert "glcbt-" not in server.log()  # no job token either


def test_a_script_that_exits_non_zero_fails_the_job_and_the_pipeline(project, trigger, runner, tag):
    store_ci(project, tag, """
        broken:
          script:
            - echo "before the failure"
            - exit 3
            - echo "never printed"
    """)
    pipeline = project.trigger_pipeline("main", trigger.token)

    assert runner.run_once() != 0

    pipeline = project.pipelines.get(pipeline.id)
    assert pipeline.status == "failed"
    job = jobs_by_name(pipeline)["broken"]
    assert job.status == "failed"
    assert job.failure_reason  # the runner reports no reason; GitLab records unknown_failure
    log = trace(project, job.id)
    assert "before the failure" in log
    assert "never printed" not in log


def test_an_allowed_failure_leaves_the_pipeline_successful(project, trigger, runner, tag):
    store_ci(project, tag, """
        flaky:
          allow_failure: true
          script: ["exit 3"]
        solid:
          script: ["echo solid"]
    """)
    pipeline = project.trigger_pipeline("main", trigger.token)

    runner.run_once()
    runner.run_once()

    pipeline = project.pipelines.get(pipeline.id)
    jobs = jobs_by_name(pipeline)
    assert jobs["flaky"].status == "failed"
    assert jobs["flaky"].allow_failure is True
    assert jobs["solid"].status == "success"
    assert pipeline.status == "success"


def test_the_second_stage_is_handed_out_only_after_the_first_finishes(project, trigger, runner, tag):
    store_ci(project, tag, """
        stages: [build, deploy]
        compile:
          stage: build
          script: ["echo compiled"]
        ship:
          stage: deploy
          script: ["echo shipped to $CI_ENVIRONMENT_TARGET"]
          variables:
            CI_ENVIRONMENT_TARGET: staging
    """)
    pipeline = project.trigger_pipeline("main", trigger.token)
    jobs = jobs_by_name(pipeline)
    assert (jobs["compile"].status, jobs["ship"].status) == ("pending", "created")

    assert runner.run_once() == 0, runner.log()
    jobs = jobs_by_name(pipeline)
    assert (jobs["compile"].status, jobs["ship"].status) == ("success", "pending")
    assert project.pipelines.get(pipeline.id).status == "running"

    assert runner.run_once() == 0, runner.log()
    jobs = jobs_by_name(pipeline)
    assert jobs["ship"].status == "success"
    assert "shipped to staging" in trace(project, jobs["ship"].id)
    assert project.pipelines.get(pipeline.id).status == "success"


def test_rules_on_the_pipeline_source_pick_the_jobs_the_runner_gets(gl, project, trigger, runner, tag):
    store_ci(project, tag, """
        on-trigger:
          rules:
            - if: '$CI_PIPELINE_SOURCE == "trigger"'
          script: ["echo from a trigger"]
        on-api:
          rules:
            - if: '$CI_PIPELINE_SOURCE == "api"'
          script: ["echo from the api"]
    """)
    triggered = project.trigger_pipeline("main", trigger.token)
    assert list(jobs_by_name(triggered)) == ["on-trigger"]
    created = project.pipelines.create({"ref": "main"})
    assert created.source == "api"
    assert list(jobs_by_name(created)) == ["on-api"]

    assert runner.run_once() == 0, runner.log()
    assert runner.run_once() == 0, runner.log()

    assert project.pipelines.get(triggered.id).status == "success"
    assert project.pipelines.get(created.id).status == "success"
    assert "from a trigger" in trace(project, jobs_by_name(triggered)["on-trigger"].id)
    assert "from the api" in trace(project, jobs_by_name(created)["on-api"].id)


def test_a_manual_job_runs_once_it_is_played_with_its_variables(gl, project, trigger, runner, tag):
    store_ci(project, tag, """
        deploy:
          when: manual
          script: ["echo deploying $TARGET"]
    """)
    pipeline = project.trigger_pipeline("main", trigger.token)
    job = jobs_by_name(pipeline)["deploy"]
    assert job.status == "manual"
    # GitLab's composite status: an optional manual job is ignored, so the pipeline is skipped.
    assert project.pipelines.get(pipeline.id).status == "skipped"

    played = gl.http_post(
        f"/projects/{project.id}/jobs/{job.id}/play",
        post_data={"job_variables_attributes": [{"key": "TARGET", "value": "production"}]},
    )
    assert played["status"] == "pending"

    assert runner.run_once() == 0, runner.log()
    assert project.jobs.get(job.id).status == "success"
    assert "deploying production" in trace(project, job.id)
    assert project.pipelines.get(pipeline.id).status == "success"


def test_a_job_cancelled_while_it_runs_ends_canceled(project, trigger, runner, tag):
    store_ci(project, tag, """
        long:
          script:
            - for i in $(seq 1 40); do echo "tick $i"; sleep 0.5; done
            - echo "ran to the end"
    """)
    pipeline = project.trigger_pipeline("main", trigger.token)
    job_id = jobs_by_name(pipeline)["long"].id

    process = runner.start_once()
    try:
        wait_for("the job to start", lambda: "tick" in trace(project, job_id))
        project.jobs.get(job_id).cancel()
        # The runner's next log upload is refused (403, Job-Status: canceled), and it stops the job.
        process.wait(timeout=GUARD_SECS)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    job = project.jobs.get(job_id)
    assert job.status == "canceled"
    assert project.pipelines.get(pipeline.id).status == "canceled"
    assert "ran to the end" not in trace(project, job_id)
    assert "Job {} was cancelled".format(job_id) in runner.log() or "403" in runner.log()
