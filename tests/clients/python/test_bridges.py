"""python-gitlab and `trigger:` jobs (bridges): `pipeline.bridges.list()` with the downstream
pipeline a bridge created, `strategy: depend` making the upstream pipeline follow the downstream
one, and a bridge that may not trigger its project."""

import time

from support import Runner, unique


def add_ci(project, content):
    project.files.create(
        {"file_path": ".gitlab-ci.yml", "branch": "main", "content": content, "commit_message": "add CI"}
    )


def settled_bridges(pipeline, timeout=10.0):
    """The pipeline's bridges once none is pending any more."""
    deadline = time.monotonic() + timeout
    while True:
        bridges = pipeline.bridges.list(get_all=True)
        if all(b.status != "pending" for b in bridges) or time.monotonic() > deadline:
            return bridges
        time.sleep(0.05)


def downstream_project(gl, upstream):
    """A project of root's with a one-job CI file that lets `upstream`'s jobs in."""
    project = gl.projects.create({"name": unique("down"), "initialize_with_readme": True})
    add_ci(project, "build:\n  script: make\n")
    project.job_token_scope.get().allowlist.create({"target_project_id": upstream.id})
    return project


def test_a_trigger_job_lists_its_downstream_pipeline_and_depend_follows_it(gl, url, project):
    downstream = downstream_project(gl, project)
    add_ci(
        project,
        "deploy:\n"
        "  variables:\n    TARGET: production\n"
        "  trigger:\n"
        f"    project: {downstream.path_with_namespace}\n"
        "    strategy: depend\n",
    )
    pipeline = project.pipelines.create({"ref": "main"})
    [bridge] = settled_bridges(pipeline)
    assert (bridge.name, bridge.status) == ("deploy", "running")
    down = bridge.downstream_pipeline
    assert down["project_id"] == downstream.id
    assert down["source"] == "pipeline"
    shown = downstream.pipelines.get(down["id"])
    assert {v.key: v.value for v in shown.variables.list(get_all=True)} == {"TARGET": "production"}
    # The bridge never reaches a runner and is not a job of the Jobs API.
    assert pipeline.jobs.list(get_all=True) == []

    runner = Runner.for_project(gl, url, downstream)
    job = runner.request_job()
    assert job is not None and job["job_info"]["name"] == "build"
    assert runner.finish(job, state="failed").status_code == 200
    [bridge] = pipeline.bridges.list(get_all=True)
    assert bridge.status == "failed"
    assert project.pipelines.get(pipeline.id).status == "failed"


def test_a_trigger_job_without_the_allowlist_fails_with_insufficient_bridge_permissions(gl, project):
    closed = gl.projects.create({"name": unique("closed"), "initialize_with_readme": True})
    add_ci(closed, "build:\n  script: make\n")
    add_ci(project, f"notify:\n  trigger: {closed.path_with_namespace}\n")
    pipeline = project.pipelines.create({"ref": "main"})
    [bridge] = settled_bridges(pipeline)
    assert bridge.status == "failed"
    assert bridge.failure_reason == "insufficient_bridge_permissions"
    assert bridge.downstream_pipeline is None
    assert pipeline.bridges.list(scope="success") == []
