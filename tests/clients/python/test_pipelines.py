"""python-gitlab against the Pipelines API, for pipelines made by trigger calls."""

import gitlab
import pytest
from support import unique
from gitlab.const import AccessLevel

BASIC_KEYS = {"id", "iid", "project_id", "sha", "ref", "status", "source", "created_at", "updated_at", "web_url"}


@pytest.fixture
def pipelines(project, trigger):
    """Three pipelines: main, feature, v1.0 (tag), oldest first."""
    project.branches.create({"branch": "feature", "ref": "main"})
    project.tags.create({"tag_name": "v1.0", "ref": "main"})
    return [project.trigger_pipeline(r, trigger.token, variables={"N": str(i)}) for i, r in
            enumerate(["main", "feature", "v1.0"])]  # fmt: skip


def ids(objs):
    return [o.id for o in objs]


def test_list_is_newest_first(project, pipelines):
    listed = project.pipelines.list()
    assert ids(listed) == ids(reversed(pipelines))
    assert set(listed[0].attributes) >= BASIC_KEYS
    assert [p.iid for p in reversed(listed)] == [1, 2, 3]


def test_list_with_filters(project, pipelines):
    assert ids(project.pipelines.list(ref="feature")) == [pipelines[1].id]
    assert ids(project.pipelines.list(ref="v1.0", scope="tags")) == [pipelines[2].id]
    assert ids(project.pipelines.list(scope="branches", sort="asc")) == ids(pipelines[:2])
    assert ids(project.pipelines.list(status="created", source="trigger", order_by="id", sort="asc")) == ids(
        pipelines
    )
    assert project.pipelines.list(status="success") == []
    assert ids(project.pipelines.list(username="root", get_all=True)) == ids(reversed(pipelines))
    assert ids(project.pipelines.list(sha=pipelines[0].sha, sort="asc")) == ids(pipelines)
    assert ids(project.pipelines.list(iterator=True, per_page=1)) == ids(reversed(pipelines))


def test_an_invalid_filter_value_is_400(project, pipelines):
    with pytest.raises(gitlab.GitlabListError) as e:
        project.pipelines.list(status="bogus")
    assert e.value.response_code == 400
    assert e.value.error_message == "status does not have a valid value"


def test_get_and_refresh(project, pipelines):
    p = project.pipelines.get(pipelines[0].id)
    assert p.ref == "main"
    assert p.finished_at is None
    p.cancel()
    assert p.status == "created"  # cancel() returns the JSON, the object keeps its attributes...
    p.refresh()  # ...until refresh() GETs it again
    assert p.status == "canceled"
    assert p.finished_at is not None


def test_variables_are_keyed_by_key(project, pipelines):
    vars_ = project.pipelines.get(pipelines[1].id).variables.list()
    assert [v.key for v in vars_] == ["N", "TRIGGER_PAYLOAD"]
    assert vars_[0].get_id() == "N"
    assert vars_[0].value == "1"


def test_cancel_and_retry(project, pipelines):
    p = project.pipelines.get(pipelines[0].id, lazy=True)
    out = p.cancel()
    assert out["status"] == "canceled" and out["id"] == pipelines[0].id
    out = p.retry()
    assert out["status"] == "pending"
    assert out["finished_at"] is None
    assert project.pipelines.get(pipelines[0].id).status == "pending"


def test_delete_a_pipeline(project, pipelines):
    project.pipelines.delete(pipelines[0].id)
    with pytest.raises(gitlab.GitlabGetError) as e:
        project.pipelines.get(pipelines[0].id)
    assert e.value.response_code == 404
    assert e.value.error_message == "404 Not found"
    p = project.pipelines.get(pipelines[1].id)
    p.delete()
    assert ids(project.pipelines.list()) == [pipelines[2].id]


def test_get_of_a_missing_pipeline_is_404(project):
    with pytest.raises(gitlab.GitlabGetError) as e:
        project.pipelines.get(999999)
    assert e.value.response_code == 404


def test_roles_on_pipelines(project, pipelines, make_user):
    reporter, dev = make_user("rep"), make_user("dev")
    project.members.create({"user_id": reporter.user.id, "access_level": AccessLevel.REPORTER})
    project.members.create({"user_id": dev.user.id, "access_level": AccessLevel.DEVELOPER})
    as_rep = reporter.gl.projects.get(project.id, lazy=True)
    assert ids(as_rep.pipelines.list()) == ids(reversed(pipelines))
    assert as_rep.pipelines.get(pipelines[0].id).id == pipelines[0].id
    with pytest.raises(gitlab.GitlabListError) as e:
        as_rep.pipelines.get(pipelines[0].id, lazy=True).variables.list()
    assert e.value.response_code == 403
    with pytest.raises(gitlab.GitlabPipelineCancelError) as e:
        as_rep.pipelines.get(pipelines[0].id, lazy=True).cancel()
    assert e.value.response_code == 403

    as_dev = dev.gl.projects.get(project.id, lazy=True)
    assert as_dev.pipelines.get(pipelines[0].id, lazy=True).cancel()["status"] == "canceled"
    with pytest.raises(gitlab.GitlabDeleteError) as e:
        as_dev.pipelines.delete(pipelines[0].id)
    assert e.value.response_code == 403
    assert e.value.error_message == "403 Forbidden"


def test_pipelines_of_a_private_project_are_hidden(url, project, pipelines, make_user):
    with pytest.raises(gitlab.GitlabListError) as e:
        gitlab.Gitlab(url).projects.get(project.id, lazy=True).pipelines.list()
    assert e.value.response_code == 404
    assert e.value.error_message == "404 Project Not Found"


def test_pipelines_of_a_public_project_are_readable_anonymously(url, gl):
    p = gl.projects.create({"name": unique("pub"), "visibility": "public", "initialize_with_readme": True})
    t = p.triggers.create({"description": "x"})
    made = p.trigger_pipeline("main", t.token)
    anon = gitlab.Gitlab(url).projects.get(p.id, lazy=True)
    assert ids(anon.pipelines.list()) == [made.id]
    assert anon.pipelines.get(made.id).status == "created"
    with pytest.raises(gitlab.GitlabAuthenticationError) as e:
        anon.pipelines.get(made.id, lazy=True).cancel()
    assert e.value.response_code == 401
