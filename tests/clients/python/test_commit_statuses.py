"""python-gitlab against the commit status API: an external CI reports to a commit's pipeline
through `project.commits.get(sha).statuses`."""

import gitlab
import pytest
from gitlab.const import AccessLevel

STATUS_KEYS = {
    "id", "sha", "ref", "status", "name", "target_url", "description", "created_at", "started_at",
    "finished_at", "allow_failure", "coverage", "pipeline_id", "author",
}  # fmt: skip


@pytest.fixture
def commit(project):
    """The commit `main` points at (the README's)."""
    return project.commits.get("main")


def test_an_external_ci_drives_a_new_pipeline_from_pending_to_success(project, commit):
    s = commit.statuses.create({"state": "pending", "ref": "main", "name": "jenkins"})
    assert set(s.attributes) >= STATUS_KEYS
    assert (s.status, s.name, s.sha, s.ref) == ("pending", "jenkins", commit.id, "main")
    pipeline = project.pipelines.get(s.pipeline_id)
    assert (pipeline.source, pipeline.status, pipeline.started_at) == ("external", "pending", None)

    s = commit.statuses.create(
        {"state": "running", "name": "jenkins", "pipeline_id": pipeline.id, "target_url": "https://ci.example.com/7"}
    )
    pipeline.refresh()
    assert pipeline.status == "running"
    assert pipeline.started_at is not None

    done = commit.statuses.create({"state": "success", "name": "jenkins", "pipeline_id": pipeline.id, "coverage": 91.5})
    assert done.id == s.id
    assert done.target_url == "https://ci.example.com/7"
    assert done.coverage == 91.5
    pipeline.refresh()
    assert pipeline.status == "success"
    assert pipeline.finished_at is not None
    assert pipeline.duration == 0  # GitLab counts CI builds only
    assert pipeline.coverage == "91.50"
    assert project.commits.get("main").last_pipeline["id"] == pipeline.id


def test_statuses_list_with_filters(project, commit):
    commit.statuses.create({"state": "success", "context": "lint"})
    commit.statuses.create({"state": "failed", "name": "unit"})
    commit.statuses.create({"state": "success", "name": "unit"})
    assert [s.name for s in commit.statuses.list()] == ["lint", "unit"]
    # python-gitlab takes `all=` as "every page", so GitLab's `all` goes in query_parameters (and
    # then every other filter too: python-gitlab sends only those).
    retired = commit.statuses.list(query_parameters={"all": True, "name": "unit"})
    assert [s.status for s in retired] == ["failed", "success"]
    assert [s.name for s in commit.statuses.list(sort="desc", stage="external", get_all=True)] == ["unit", "lint"]
    assert commit.statuses.list(ref="other") == []


def test_refused_transitions_and_bad_input_raise_with_gitlabs_messages(project, commit):
    commit.statuses.create({"state": "running", "name": "deploy"})
    with pytest.raises(gitlab.GitlabCreateError) as e:
        commit.statuses.create({"state": "running", "name": "deploy"})
    assert e.value.response_code == 400
    assert "Cannot transition status via :run from :running" in e.value.error_message
    with pytest.raises(gitlab.GitlabCreateError) as e:
        commit.statuses.create({"state": "created"})
    assert e.value.response_code == 400
    with pytest.raises(gitlab.GitlabCreateError) as e:
        commit.statuses.create({"state": "success", "target_url": "ftp://example.com"})
    assert e.value.response_code == 400
    with pytest.raises(gitlab.GitlabCreateError) as e:
        commit.statuses.create({"state": "success", "description": "x" * 256})
    assert e.value.response_code == 400
    assert [s.name for s in commit.statuses.list()] == ["deploy"]


def test_roles(project, make_user):
    reporter, developer = make_user("reporter"), make_user("developer")
    project.members.create({"user_id": reporter.user.id, "access_level": AccessLevel.REPORTER})
    project.members.create({"user_id": developer.user.id, "access_level": AccessLevel.DEVELOPER})
    sha = project.commits.get("main").id
    as_reporter = reporter.gl.projects.get(project.id, lazy=True).commits.get(sha, lazy=True)
    as_developer = developer.gl.projects.get(project.id, lazy=True).commits.get(sha, lazy=True)
    with pytest.raises(gitlab.GitlabCreateError) as e:
        as_reporter.statuses.create({"state": "success"})
    assert e.value.response_code == 403
    s = as_developer.statuses.create({"state": "success"})
    assert s.author["username"] == developer.user.username
    assert [x.id for x in as_reporter.statuses.list()] == [s.id]
