"""python-gitlab and CI/CD job tokens: the job token scope (`project.job_token_scope` and its
`allowlist`), and a running job's token triggering another project (`trigger_pipeline` with the
job token as its token), with the upstream link on the downstream pipeline."""

import gitlab
import pytest
from support import Runner, unique


def add_ci(project, content="deploy:\n  script: ./deploy\n"):
    project.files.create(
        {"file_path": ".gitlab-ci.yml", "branch": "main", "content": content, "commit_message": "add CI"}
    )


@pytest.fixture
def downstream(gl):
    """A second project of root's with a `main` branch and a one-job CI file."""
    project = gl.projects.create({"name": unique("down"), "initialize_with_readme": True})
    add_ci(project, "build:\n  script: make\n")
    return project


def test_the_job_token_scope_is_on_for_a_new_project_and_saved_off_and_on(downstream):
    scope = downstream.job_token_scope.get()
    assert scope.inbound_enabled is True
    assert scope.outbound_enabled is False
    scope.enabled = False
    scope.save()
    scope.refresh()
    assert scope.inbound_enabled is False
    scope.enabled = True
    scope.save()
    assert downstream.job_token_scope.get().inbound_enabled is True


def test_the_allowlist_adds_lists_and_deletes_projects(project, downstream):
    scope = downstream.job_token_scope.get()
    added = scope.allowlist.create({"target_project_id": project.id})
    assert (added.source_project_id, added.target_project_id) == (downstream.id, project.id)
    listed = scope.allowlist.list(get_all=True)
    assert [p.id for p in listed] == [project.id]
    assert listed[0].path_with_namespace == project.path_with_namespace
    with pytest.raises(gitlab.GitlabCreateError) as err:
        scope.allowlist.create({"target_project_id": project.id})
    assert err.value.response_code == 400
    scope.allowlist.delete(project.id)
    assert scope.allowlist.list(get_all=True) == []
    with pytest.raises(gitlab.GitlabCreateError) as err:
        scope.allowlist.create({"target_project_id": 987654321})
    assert err.value.response_code == 404


def test_a_running_jobs_token_triggers_an_allowlisted_project(gl, url, server, project, trigger, downstream):
    add_ci(project)
    upstream = project.trigger_pipeline("main", trigger.token)
    runner = Runner.for_project(gl, url, project)
    job = runner.request_job()
    assert job is not None and job["token"].startswith("glcbt-")

    # Limited by default: the job's project must be on the downstream project's allowlist.
    with pytest.raises(gitlab.GitlabCreateError) as err:
        downstream.trigger_pipeline("main", job["token"], variables={"FROM": "upstream"})
    assert err.value.response_code == 404
    downstream.job_token_scope.get().allowlist.create({"target_project_id": project.id})

    created = downstream.trigger_pipeline("main", job["token"], variables={"FROM": "upstream"})
    assert created.source == "pipeline"
    shown = downstream.pipelines.get(created.id)
    assert shown.upstream_pipeline["id"] == upstream.id
    assert shown.upstream_pipeline["job_id"] == job["id"]
    assert [p["id"] for p in project.pipelines.get(upstream.id).downstream_pipelines] == [created.id]
    variables = {v.key: v.value for v in shown.variables.list(get_all=True)}
    assert variables["FROM"] == "upstream"

    # Once the job ends its token is dead: GitLab's 401 `Job is not running`.
    assert runner.finish(job).status_code == 200
    with pytest.raises(gitlab.GitlabAuthenticationError) as err:
        downstream.trigger_pipeline("main", job["token"])
    assert err.value.response_code == 401
    assert "Job is not running" in str(err.value)
    # The job token never reaches the server's log.
    assert job["token"] not in server.log()
