"""python-gitlab against `.gitlab-ci.yml` pipelines: `project.pipelines.create()`, the jobs it makes,
`pipeline.jobs`, `project.jobs` (`trace`, `cancel`, `retry`, `play`) and `runner.jobs`, with a runner
made of plain HTTP calls (support.Runner) moving the jobs through their states."""

import gitlab
import pytest
from gitlab.const import AccessLevel
from support import Runner, unique

# Two stages; `lint` may fail; `deploy` is manual (and so, as in GitLab, allowed to fail).
CI = """\
stages: [build, deploy]
variables:
  GREETING: hello
build:
  stage: build
  script: echo building $K
lint:
  stage: build
  script: echo linting
  allow_failure: true
deploy:
  stage: deploy
  script: echo deploying $TARGET
  when: manual
"""

JOB_KEYS = {
    "id", "status", "stage", "name", "ref", "tag", "coverage", "allow_failure", "created_at", "started_at",
    "finished_at", "duration", "queued_duration", "user", "commit", "pipeline", "web_url", "artifacts", "runner",
    "tag_list",
}  # fmt: skip


def add_ci(project, content=CI):
    project.files.create(
        {"file_path": ".gitlab-ci.yml", "branch": "main", "content": content, "commit_message": "add CI"}
    )


def by_name(jobs):
    return {j.name: j for j in jobs}


@pytest.fixture
def ci_project(project):
    add_ci(project)
    return project


@pytest.fixture
def pipeline(ci_project):
    variables = [{"key": "K", "value": "v"}, {"key": "CFG", "value": "a=1", "variable_type": "file"}]
    return ci_project.pipelines.create({"ref": "main", "variables": variables})


@pytest.fixture
def runner(gl, url, ci_project):
    return Runner.for_project(gl, url, ci_project, description="pytest runner")


def test_pipelines_create_makes_the_jobs_of_the_ci_file(ci_project, pipeline):
    assert pipeline.source == "api"
    assert pipeline.status == "pending"
    assert pipeline.ref == "main"
    assert pipeline.yaml_errors is None
    assert [(v.key, v.value, v.variable_type) for v in pipeline.variables.list()] == [
        ("K", "v", "env_var"),
        ("CFG", "a=1", "file"),
    ]

    jobs = by_name(pipeline.jobs.list())
    assert set(jobs) == {"build", "lint", "deploy"}
    assert {n: (j.stage, j.status, j.allow_failure) for n, j in jobs.items()} == {
        "build": ("build", "pending", False),
        "lint": ("build", "pending", True),
        "deploy": ("deploy", "created", True),
    }
    build = jobs["build"]
    assert set(build.attributes) >= JOB_KEYS
    assert build.runner is None  # no runner took it yet
    assert build.pipeline["id"] == pipeline.id
    assert build.pipeline["status"] == "pending"
    assert build.ref == "main"
    assert build.started_at is None and build.finished_at is None
    assert build.user["username"] == "root"
    assert build.commit["id"] == pipeline.sha
    assert build.web_url.endswith(f"/{ci_project.path_with_namespace}/-/jobs/{build.id}")
    assert build.artifacts == []


def test_rules_that_leave_no_job_are_a_400_and_keep_nothing(project):
    add_ci(project, 'only_triggered:\n  script: echo hi\n  rules:\n    - if: $CI_PIPELINE_SOURCE == "trigger"\n')
    with pytest.raises(gitlab.GitlabCreateError) as e:
        project.pipelines.create({"ref": "main"})
    assert e.value.response_code == 400
    assert e.value.error_message == {
        "base": [
            "Pipeline will not run for the selected trigger. The rules configuration prevented any jobs from being"
            " added to the pipeline."
        ]
    }
    assert project.pipelines.list() == []


def test_an_invalid_ci_file_is_a_400_for_pipelines_create_and_a_failed_pipeline_for_a_trigger(project):
    add_ci(project, "build:\n  stage: nope\n  script: echo hi\n")
    with pytest.raises(gitlab.GitlabCreateError) as e:
        project.pipelines.create({"ref": "main"})
    assert e.value.response_code == 400
    stage_error = "build job: chosen stage nope does not exist; available stages are .pre, build, test, deploy, .post"
    assert e.value.error_message == {"base": [stage_error]}
    assert project.pipelines.list() == []

    # The trigger call keeps the failed pipeline and answers 422, as GitLab does.
    trigger = project.triggers.create({"description": "ci"})
    with pytest.raises(gitlab.GitlabCreateError) as e:
        project.trigger_pipeline("main", trigger.token)
    assert e.value.response_code == 422
    [failed] = project.pipelines.list()
    assert failed.status == "failed"
    assert failed.source == "trigger"
    assert e.value.error_message == {"base": [stage_error]}
    assert project.pipelines.get(failed.id).yaml_errors == stage_error
    assert failed.jobs.list() == []


def test_a_runner_runs_the_jobs_and_the_job_log_is_the_trace(ci_project, pipeline, runner):
    job = runner.request_job()
    assert job["job_info"]["name"] == "build"
    variables = {v["key"]: v for v in job["variables"]}
    assert variables["K"]["value"] == "v" and variables["GREETING"]["value"] == "hello"
    assert variables["CFG"]["value"] == "a=1" and variables["CFG"]["file"] is True
    assert variables["CI_PIPELINE_SOURCE"]["value"] == "api"

    running = ci_project.jobs.get(job["id"])
    assert running.status == "running"
    assert running.started_at is not None
    assert running.runner["id"] == runner.id
    assert running.runner["description"] == "pytest runner"
    assert running.trace() == b""
    runner.append_log(job, "building v\n")
    runner.append_log(job, "done\n")
    assert running.trace() == b"building v\ndone\n"
    assert runner.finish(job).status_code == 200

    running.refresh()
    assert running.status == "success"
    assert running.finished_at is not None
    assert isinstance(running.duration, float)
    assert running.trace() == b"building v\ndone\n"
    chunks = []
    running.trace(streamed=True, action=chunks.append, chunk_size=4)
    assert b"".join(chunks) == b"building v\ndone\n"

    # lint fails, but it may: the deploy stage opens, its manual job waits for a person.
    lint = runner.run("lint says no\n", state="failed")
    assert lint["job_info"]["name"] == "lint"
    assert by_name(pipeline.jobs.list())["deploy"].status == "manual"
    pipeline.refresh()
    assert pipeline.status == "success"
    assert runner.request_job() is None


def test_runner_jobs_lists_what_the_runner_took(gl, ci_project, pipeline, runner, make_user):
    build = runner.run("ok\n")
    lint = runner.run("no\n", state="failed")
    taken = gl.runners.get(runner.id).jobs.list()
    assert [j.id for j in taken] == [lint["id"], build["id"]]
    assert {j.project["path_with_namespace"] for j in taken} == {ci_project.path_with_namespace}
    assert taken[0].pipeline["id"] == pipeline.id
    assert [j.name for j in gl.runners.get(runner.id, lazy=True).jobs.list(status="failed")] == ["lint"]
    assert [j.name for j in gl.runners.get(runner.id, lazy=True).jobs.list(sort="asc")] == ["build", "lint"]

    dev = make_user("dev")
    ci_project.members.create({"user_id": dev.user.id, "access_level": AccessLevel.DEVELOPER})
    with pytest.raises(gitlab.GitlabListError) as e:
        dev.gl.runners.get(runner.id, lazy=True).jobs.list()
    assert e.value.response_code == 403
    assert e.value.error_message == "403 Forbidden - No access granted"


def test_pipeline_jobs_and_project_jobs_filter_by_scope(ci_project, pipeline, runner):
    runner.run("ok\n")  # build
    assert [j.name for j in pipeline.jobs.list(scope="success")] == ["build"]
    assert sorted(j.name for j in pipeline.jobs.list(scope=["pending", "success"])) == ["build", "lint"]
    assert pipeline.jobs.list(scope="failed") == []
    with pytest.raises(gitlab.GitlabListError) as e:
        pipeline.jobs.list(scope="bogus")
    assert e.value.response_code == 400
    assert e.value.error_message == "scope does not have a valid value"

    second = ci_project.pipelines.create({"ref": "main"})
    listed = ci_project.jobs.list(get_all=True)
    assert len(listed) == 6
    assert [j.id for j in listed] == sorted((j.id for j in listed), reverse=True)  # newest first
    assert {j.pipeline["id"] for j in listed} == {pipeline.id, second.id}
    assert [j.name for j in ci_project.jobs.list(scope="success")] == ["build"]
    assert len(ci_project.jobs.list(scope=["pending"])) == 3
    assert [j.id for j in ci_project.jobs.list(iterator=True, per_page=2)] == [j.id for j in listed]
    with pytest.raises(gitlab.GitlabGetError) as e:
        ci_project.jobs.get(999999)
    assert e.value.response_code == 404


def test_cancel_a_pending_job(ci_project, pipeline):
    build = by_name(pipeline.jobs.list())["build"]
    job = ci_project.jobs.get(build.id)
    out = job.cancel()
    assert out["status"] == "canceled" and out["id"] == job.id
    assert job.status == "pending"  # cancel() returns the JSON; refresh() reads it back
    job.refresh()
    assert job.status == "canceled"
    assert job.finished_at is not None
    # A finished job comes back unchanged.
    assert job.cancel()["status"] == "canceled"


def test_cancel_a_running_job_stops_its_runner(ci_project, pipeline, runner):
    job = runner.request_job()
    assert ci_project.jobs.get(job["id"], lazy=True).cancel()["status"] == "canceled"
    resp = runner.finish(job, "running")
    assert resp.status_code == 403
    assert resp.headers["Job-Status"] == "canceled"


def test_retry_a_failed_job(ci_project, pipeline, runner):
    failed = runner.run("boom\n", state="failed")
    assert failed["job_info"]["name"] == "build"
    job = ci_project.jobs.get(failed["id"])
    assert job.status == "failed"
    assert job.failure_reason == "script_failure"
    pipeline.refresh()
    assert pipeline.status == "running"  # lint is still pending

    new = job.retry()
    assert new["id"] != job.id
    assert (new["name"], new["stage"], new["status"]) == ("build", "build", "pending")
    assert new["pipeline"]["id"] == pipeline.id
    assert ci_project.jobs.get(job.id).status == "failed"
    # The old job is hidden from the pipeline's list unless asked for.
    assert sorted(j.id for j in pipeline.jobs.list() if j.name == "build") == [new["id"]]
    builds = [j for j in pipeline.jobs.list(include_retried=True) if j.name == "build"]
    assert sorted(j.id for j in builds) == [job.id, new["id"]]

    # Only the latest run is retryable.
    with pytest.raises(gitlab.GitlabJobRetryError) as e:
        job.retry()
    assert e.value.response_code == 403
    assert e.value.error_message == "403 Forbidden - Job is not retryable"
    runner.run()  # lint
    retried = runner.run("works now\n")
    assert retried["id"] == new["id"]
    assert ci_project.jobs.get(new["id"]).trace() == b"works now\n"


def test_a_pending_job_is_not_retryable(ci_project, pipeline):
    job = ci_project.jobs.get(by_name(pipeline.jobs.list())["build"].id, lazy=True)
    with pytest.raises(gitlab.GitlabJobRetryError) as e:
        job.retry()
    assert e.value.response_code == 403


def test_play_a_manual_job_with_variables(ci_project, pipeline, runner):
    deploy = ci_project.jobs.get(by_name(pipeline.jobs.list())["deploy"].id)
    with pytest.raises(gitlab.GitlabJobPlayError) as e:
        deploy.play()  # still `created`: its stage has not started
    assert e.value.response_code == 400
    assert e.value.error_message == "400 Bad request - Unplayable Job"

    runner.run()  # build
    runner.run()  # lint
    deploy.refresh()
    assert deploy.status == "manual"
    # python-gitlab's play() takes no variables of its own; post_data goes through to the body.
    deploy.play(post_data={"job_variables_attributes": [{"key": "TARGET", "value": "prod"}]})
    assert deploy.status == "pending"  # play() updates the object from the answer
    assert deploy.user["username"] == "root"

    job = runner.request_job()
    assert job["id"] == deploy.id
    assert {v["key"]: v["value"] for v in job["variables"]}["TARGET"] == "prod"
    runner.append_log(job, "deploying prod\n")
    runner.finish(job)
    deploy.refresh()
    assert deploy.status == "success"
    assert deploy.trace() == b"deploying prod\n"
    # A finished manual job is played again as a new job, as GitLab does.
    old_id = deploy.id
    deploy.play()
    assert deploy.id != old_id
    assert deploy.status == "pending"
    assert ci_project.jobs.get(old_id).status == "success"
    assert [j.id for j in pipeline.jobs.list() if j.name == "deploy"] == [deploy.id]


def test_a_reporter_reads_jobs_and_a_developer_changes_them(ci_project, pipeline, runner, make_user):
    runner.run("log line\n", state="failed")  # build
    build = by_name(pipeline.jobs.list())["build"]
    guest, reporter, dev = make_user("guest"), make_user("rep"), make_user("dev")
    for person, level in ((guest, AccessLevel.GUEST), (reporter, AccessLevel.REPORTER), (dev, AccessLevel.DEVELOPER)):
        ci_project.members.create({"user_id": person.user.id, "access_level": level})

    as_guest = guest.gl.projects.get(ci_project.id, lazy=True)
    with pytest.raises(gitlab.GitlabListError) as e:
        as_guest.jobs.list()
    assert e.value.response_code == 403

    as_rep = reporter.gl.projects.get(ci_project.id, lazy=True)
    assert {j.name for j in as_rep.pipelines.get(pipeline.id, lazy=True).jobs.list()} == {"build", "lint", "deploy"}
    job = as_rep.jobs.get(build.id)
    assert job.status == "failed"
    assert job.trace() == b"log line\n"
    for action, error in ((job.retry, gitlab.GitlabJobRetryError), (job.cancel, gitlab.GitlabJobCancelError)):
        with pytest.raises(error) as e:
            action()
        assert e.value.response_code == 403
        assert e.value.error_message == "403 Forbidden"
    # The role is checked before the job is looked up, as in GitLab.
    with pytest.raises(gitlab.GitlabJobPlayError) as e:
        as_rep.jobs.get(999999, lazy=True).play()
    assert e.value.response_code == 403

    as_dev = dev.gl.projects.get(ci_project.id, lazy=True)
    new = as_dev.jobs.get(build.id, lazy=True).retry()
    assert new["status"] == "pending"
    assert new["user"]["username"] == dev.user.username


def test_jobs_of_a_private_project_are_hidden_from_strangers(url, ci_project, pipeline):
    anon = gitlab.Gitlab(url).projects.get(ci_project.id, lazy=True)
    with pytest.raises(gitlab.GitlabListError) as e:
        anon.jobs.list()
    assert e.value.response_code == 404
    assert e.value.error_message == "404 Project Not Found"


def test_jobs_of_a_public_project_are_readable_anonymously(gl, url):
    public = gl.projects.create({"name": unique("pubci"), "visibility": "public", "initialize_with_readme": True})
    add_ci(public)
    made = public.pipelines.create({"ref": "main"})
    anon = gitlab.Gitlab(url).projects.get(public.id, lazy=True)
    assert {j.name for j in anon.pipelines.get(made.id, lazy=True).jobs.list()} == {"build", "lint", "deploy"}
    build = by_name(anon.jobs.list(scope="pending"))["build"]
    job = anon.jobs.get(build.id)
    assert job.trace() == b""
    with pytest.raises(gitlab.GitlabAuthenticationError) as e:  # python-gitlab's class for any 401
        job.cancel()
    assert e.value.response_code == 401


def test_a_job_of_another_project_is_not_found(ci_project, pipeline):
    other = ci_project.manager.create({"name": unique("other"), "initialize_with_readme": True})
    job_id = pipeline.jobs.list()[0].id
    with pytest.raises(gitlab.GitlabGetError) as e:
        other.jobs.get(job_id)
    assert e.value.response_code == 404
    assert e.value.error_message == "404 Not found"
    with pytest.raises(gitlab.GitlabListError) as e:
        other.pipelines.get(pipeline.id, lazy=True).jobs.list()
    assert e.value.response_code == 404
