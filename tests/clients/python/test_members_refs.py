"""python-gitlab against the Members, Branches and Tags APIs."""

import gitlab
import pytest
from gitlab.const import AccessLevel


def test_add_list_get_update_and_remove_a_member(project, make_user):
    person = make_user("member")
    uid = person.user.id
    m = project.members.create({"user_id": uid, "access_level": AccessLevel.DEVELOPER})
    assert m.id == uid
    assert m.access_level == 30
    assert m.username == person.user.username

    assert uid in [x.id for x in project.members.list(get_all=True)]
    assert uid in [x.id for x in project.members_all.list(get_all=True)]
    got = project.members.get(uid)
    assert got.access_level == 30
    assert project.members_all.get(uid).id == uid

    got.access_level = AccessLevel.MAINTAINER
    got.save()
    assert got.access_level == 40
    assert project.members.get(uid).access_level == 40

    got.delete()
    with pytest.raises(gitlab.GitlabGetError) as e:
        project.members.get(uid)
    assert e.value.response_code == 404
    assert e.value.error_message == "404 Not found"


def test_add_a_member_by_username(project, make_user):
    person = make_user("byname")
    m = project.members.create({"username": person.user.username, "access_level": AccessLevel.REPORTER})
    assert m.id == person.user.id
    project.members.delete(person.user.id)
    assert person.user.id not in [x.id for x in project.members.list(get_all=True)]


def test_a_member_sees_the_project_and_a_duplicate_member_is_409(project, make_user):
    person = make_user("dupmember")
    project.members.create({"user_id": person.user.id, "access_level": AccessLevel.GUEST})
    assert person.gl.projects.get(project.id).id == project.id
    with pytest.raises(gitlab.GitlabCreateError) as e:
        project.members.create({"user_id": person.user.id, "access_level": AccessLevel.GUEST})
    assert e.value.response_code == 409
    assert e.value.error_message == "Member already exists"


def test_an_unknown_user_is_404_and_a_bad_level_is_400(project):
    with pytest.raises(gitlab.GitlabCreateError) as e:
        project.members.create({"user_id": 999999, "access_level": AccessLevel.DEVELOPER})
    assert e.value.response_code == 404
    assert e.value.error_message == "404 User Not Found"
    with pytest.raises(gitlab.GitlabCreateError) as e:
        project.members.create({"user_id": 1, "access_level": 33})
    assert e.value.response_code == 400


def test_a_developer_cannot_add_members(project, make_user):
    dev, other = make_user("dev"), make_user("other")
    project.members.create({"user_id": dev.user.id, "access_level": AccessLevel.DEVELOPER})
    theirs = dev.gl.projects.get(project.id, lazy=True)
    with pytest.raises(gitlab.GitlabCreateError) as e:
        theirs.members.create({"user_id": other.user.id, "access_level": AccessLevel.GUEST})
    assert e.value.response_code == 403


def test_branches_create_list_get_and_delete(project):
    main = project.branches.get("main")
    assert main.default is True
    assert len(main.commit["id"]) == 40

    b = project.branches.create({"branch": "feature", "ref": "main"})
    assert b.name == "feature"
    assert b.commit["id"] == main.commit["id"]
    names = [x.name for x in project.branches.list(get_all=True)]
    assert names == ["feature", "main"]

    # A name with a slash is sent %2F-encoded.
    project.branches.create({"branch": "release/1.0", "ref": "feature"})
    assert project.branches.get("release/1.0").name == "release/1.0"
    assert [x.name for x in project.branches.list(search="release")] == ["release/1.0"]

    project.branches.delete("feature")
    with pytest.raises(gitlab.GitlabGetError) as e:
        project.branches.get("feature")
    assert e.value.response_code == 404
    assert e.value.error_message == "404 Branch Not Found"


def test_a_branch_from_an_unknown_ref_is_400(project):
    with pytest.raises(gitlab.GitlabCreateError) as e:
        project.branches.create({"branch": "x", "ref": "nope"})
    assert e.value.response_code == 400
    assert e.value.error_message == "Invalid reference name: nope"


def test_a_branch_from_a_full_sha(project):
    sha = "0123456789abcdef0123456789abcdef01234567"
    b = project.branches.create({"branch": "at-sha", "ref": sha})
    assert b.commit["id"] == sha


def test_tags_create_list_get_and_delete(project):
    t = project.tags.create({"tag_name": "v1.0", "ref": "main", "message": "first release"})
    assert t.name == "v1.0"
    assert t.message == "first release"
    assert t.target == project.branches.get("main").commit["id"]
    assert [x.name for x in project.tags.list(get_all=True)] == ["v1.0"]
    assert project.tags.get("v1.0").name == "v1.0"
    with pytest.raises(gitlab.GitlabCreateError) as e:
        project.tags.create({"tag_name": "v1.0", "ref": "main"})
    assert e.value.response_code == 400
    t.delete()
    with pytest.raises(gitlab.GitlabGetError) as e:
        project.tags.get("v1.0")
    assert e.value.response_code == 404
    assert e.value.error_message == "404 Tag Not Found"


def test_a_guest_cannot_read_branches_of_a_private_project(project, make_user):
    guest = make_user("guest")
    project.members.create({"user_id": guest.user.id, "access_level": AccessLevel.GUEST})
    with pytest.raises(gitlab.GitlabListError) as e:
        guest.gl.projects.get(project.id, lazy=True).branches.list()
    assert e.value.response_code == 403
