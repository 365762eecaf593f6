"""python-gitlab against the Runners API: `gl.user.runners`, `project.runners`, `gl.runners` (list,
all, get, save, delete, verify, the legacy registration with a project registration token)."""

import gitlab
import pytest
from gitlab.const import AccessLevel
from support import Runner


def ids(objs):
    return [o.id for o in objs]


def reset_registration_token(gl, project) -> str:
    """python-gitlab has no method for it (GitLab: `POST /projects/:id/runners/reset_registration_token`)."""
    out = gl.http_post(f"/projects/{project.id}/runners/reset_registration_token")
    assert out["token_expires_at"] is None
    return out["token"]


@pytest.fixture
def created(gl, project):
    return gl.user.runners.create(
        {
            "runner_type": "project_type",
            "project_id": project.id,
            "description": "builder",
            "tag_list": ["linux", "docker"],
            "run_untagged": False,
        }
    )


def test_user_runners_create_shows_the_token_once(gl, project, created):
    assert created.token.startswith("glrt-")
    assert created.token_expires_at is None
    runner = gl.runners.get(created.id)
    assert "token" not in runner.attributes
    assert runner.description == "builder"
    assert runner.runner_type == "project_type"
    assert runner.is_shared is False
    assert sorted(runner.tag_list) == ["docker", "linux"]
    assert runner.run_untagged is False
    assert runner.paused is False and runner.active is True
    assert runner.status == "never_contacted"
    assert runner.online is False
    assert runner.contacted_at is None
    assert [p["id"] for p in runner.projects] == [project.id]


def test_project_runners_and_gl_runners_list_it(gl, project, created):
    assert ids(project.runners.list()) == [created.id]
    assert created.id in ids(gl.runners.list(get_all=True))
    assert created.id in ids(gl.runners.list(type="project_type", get_all=True))
    assert created.id not in ids(gl.runners.list(type="instance_type", get_all=True))
    assert created.id in ids(gl.runners.list(tag_list=["linux"], get_all=True))
    assert created.id not in ids(gl.runners.list(tag_list=["windows"], get_all=True))
    assert created.id in ids(gl.runners.all(get_all=True))
    assert created.id in ids(gl.runners.all(scope="never_contacted", get_all=True))
    assert created.id not in ids(gl.runners.all(scope="online", get_all=True))


def test_a_runner_is_online_once_it_asks_for_jobs(gl, url, project, created):
    gl.runners.verify(created.token)
    Runner(url, created.token).request_job()  # nothing to do: 204 after the long poll
    runner = gl.runners.get(created.id)
    assert runner.status == "online" and runner.online is True
    assert runner.contacted_at is not None
    assert created.id in ids(gl.runners.all(scope="online", get_all=True))
    runner.paused = True
    runner.save()
    assert gl.runners.get(created.id).status == "paused"
    with pytest.raises(gitlab.GitlabVerifyError) as e:
        gl.runners.verify("glrt-not-a-runner-token")
    assert e.value.response_code == 403


def test_save_updates_description_tags_and_paused(gl, created):
    runner = gl.runners.get(created.id)
    runner.description = "renamed"
    runner.tag_list = ["arm64"]
    runner.paused = True
    runner.maximum_timeout = 3600
    runner.save()
    assert runner.description == "renamed"  # save() takes the answer
    again = gl.runners.get(created.id)
    assert again.description == "renamed"
    assert again.tag_list == ["arm64"]
    assert again.paused is True and again.active is False
    assert again.status == "never_contacted"  # GitLab's REST status: never contacted before paused
    assert again.maximum_timeout == 3600
    assert created.id in ids(gl.runners.list(paused=True, get_all=True))

    gl.runners.update(created.id, {"paused": False, "tag_list": ["a", "b"]})  # a comma list on the wire
    again = gl.runners.get(created.id)
    assert again.paused is False
    assert sorted(again.tag_list) == ["a", "b"]

    with pytest.raises(gitlab.GitlabUpdateError) as e:
        gl.runners.update(created.id, {"maximum_timeout": 10})
    assert e.value.response_code == 400


def test_delete_a_runner(gl, url, project, created):
    gl.runners.get(created.id).delete()
    with pytest.raises(gitlab.GitlabGetError) as e:
        gl.runners.get(created.id)
    assert e.value.response_code == 404
    assert project.runners.list() == []
    with pytest.raises(gitlab.GitlabVerifyError):
        gl.runners.verify(created.token)
    with pytest.raises(gitlab.GitlabDeleteError) as e:
        gl.runners.delete(created.id)
    assert e.value.response_code == 404


def test_register_with_a_registration_token(gl, project):
    token = reset_registration_token(gl, project)
    assert token.startswith("GR1348941")
    registered = gl.runners.create({"token": token, "description": "legacy", "tag_list": ["x"], "locked": True})
    assert registered.token.startswith("glrt-")
    runner = gl.runners.get(registered.id)
    assert (runner.description, runner.tag_list, runner.locked) == ("legacy", ["x"], True)
    assert ids(project.runners.list()) == [registered.id]

    # A reset voids the old registration token.
    reset_registration_token(gl, project)
    with pytest.raises(gitlab.GitlabCreateError) as e:
        gl.runners.create({"token": token})
    assert e.value.response_code == 403


def test_instance_runners_are_for_admins(gl, project, make_user):
    instance = gl.user.runners.create({"runner_type": "instance_type", "description": "shared"})
    try:
        assert gl.runners.get(instance.id).is_shared is True
        assert instance.id in ids(project.runners.list(get_all=True))  # every project sees them
        assert instance.id in ids(gl.runners.all(type="instance_type", get_all=True))

        alice = make_user("alice")
        alice.gl.auth()  # gl.user
        seen = alice.gl.runners.get(instance.id)  # any signed-in user may read an instance runner
        assert seen.description == "shared"
        with pytest.raises(gitlab.GitlabUpdateError) as e:
            alice.gl.runners.update(instance.id, {"description": "mine"})
        assert e.value.response_code == 403
        with pytest.raises(gitlab.GitlabCreateError) as e:
            alice.gl.user.runners.create({"runner_type": "instance_type"})
        assert e.value.response_code == 403
        assert e.value.error_message == "403 Forbidden - Insufficient permissions"
        with pytest.raises(gitlab.GitlabListError) as e:
            alice.gl.runners.all()
        assert e.value.response_code == 403
    finally:
        gl.runners.delete(instance.id)


def test_a_maintainer_manages_project_runners_and_a_developer_cannot(gl, project, created, make_user):
    dev, maintainer = make_user("dev"), make_user("maint")
    dev.gl.auth()
    maintainer.gl.auth()
    project.members.create({"user_id": dev.user.id, "access_level": AccessLevel.DEVELOPER})
    project.members.create({"user_id": maintainer.user.id, "access_level": AccessLevel.MAINTAINER})

    as_dev = dev.gl.projects.get(project.id, lazy=True)
    with pytest.raises(gitlab.GitlabListError) as e:
        as_dev.runners.list()
    assert e.value.response_code == 403
    with pytest.raises(gitlab.GitlabGetError) as e:
        dev.gl.runners.get(created.id)
    assert e.value.response_code == 403
    assert e.value.error_message == "403 Forbidden - No access granted"
    with pytest.raises(gitlab.GitlabCreateError) as e:
        dev.gl.user.runners.create({"runner_type": "project_type", "project_id": project.id})
    assert e.value.response_code == 403
    assert dev.gl.runners.list() == []

    as_maint = maintainer.gl.projects.get(project.id, lazy=True)
    assert created.id in ids(as_maint.runners.list(get_all=True))
    assert ids(maintainer.gl.runners.list()) == [created.id]
    own = maintainer.gl.user.runners.create({"runner_type": "project_type", "project_id": project.id})
    runner = maintainer.gl.runners.get(own.id)
    runner.description = "the maintainer's"
    runner.save()
    runner.delete()
    assert ids(as_maint.runners.list(get_all=True)) == [created.id]
