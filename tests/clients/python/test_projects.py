"""python-gitlab against the Projects API."""

import gitlab
import pytest
from support import unique


def test_create_a_project(gl):
    name = unique("Demo")
    p = gl.projects.create({"name": name, "description": "first", "visibility": "internal"})
    assert isinstance(p.id, int)
    assert p.name == name
    assert p.path == name
    assert p.path_with_namespace == f"root/{name}"
    assert p.visibility == "internal"
    assert p.description == "first"
    assert p.default_branch == "main"
    assert p.owner["username"] == "root"
    assert p.namespace["full_path"] == "root"
    assert p.empty_repo is True
    assert p.permissions["project_access"]["access_level"] == 50


def test_get_a_project_by_id_and_by_full_path(gl):
    p = gl.projects.create({"path": unique("dot.ted")})
    by_id = gl.projects.get(p.id)
    assert by_id.path_with_namespace == p.path_with_namespace
    # python-gitlab sends `root%2Fdot.ted…` (dots stay literal).
    by_path = gl.projects.get(p.path_with_namespace)
    assert by_path.id == p.id


def test_initialize_with_readme_creates_the_default_branch(gl):
    p = gl.projects.create({"name": unique("readme"), "initialize_with_readme": True, "default_branch": "trunk"})
    assert p.empty_repo is False
    assert [b.name for b in p.branches.list()] == ["trunk"]


def test_list_projects_with_filters(gl, make_user):
    person = make_user("lister")
    mine = person.gl.projects.create({"name": unique("mine")})
    other = gl.projects.create({"name": unique("secret")})  # private, root's
    owned = person.gl.projects.list(owned=True, get_all=True)
    assert [p.id for p in owned] == [mine.id]
    visible = {p.id for p in person.gl.projects.list(get_all=True)}
    assert mine.id in visible and other.id not in visible
    assert [p.id for p in gl.projects.list(search=other.name)] == [other.id]
    # root (admin) sees everything; iterate with Link pagination.
    every = [p.id for p in gl.projects.list(iterator=True, per_page=2, order_by="id", sort="asc")]
    assert every == sorted(every)
    assert {mine.id, other.id} <= set(every)


def test_update_a_project_with_save(gl, project):
    project.description = "changed"
    project.visibility = "public"
    project.save()
    assert project.description == "changed"
    again = gl.projects.get(project.id)
    assert again.description == "changed"
    assert again.visibility == "public"


def test_rename_the_path_with_save(gl, project):
    new_path = unique("renamed")
    project.path = new_path
    project.save()
    assert gl.projects.get(f"root/{new_path}").id == project.id
    with pytest.raises(gitlab.GitlabGetError) as e:
        gl.projects.get(project.path_with_namespace.replace(new_path, "nope"))
    assert e.value.response_code == 404


def test_save_with_an_invalid_field_is_400(project):
    project.path = "-bad"
    with pytest.raises(gitlab.GitlabUpdateError) as e:
        project.save()
    assert e.value.response_code == 400
    assert "path" in e.value.error_message


def test_delete_a_project(gl):
    p = gl.projects.create({"name": unique("doomed")})
    p.delete()
    with pytest.raises(gitlab.GitlabGetError) as e:
        gl.projects.get(p.id)
    assert e.value.response_code == 404
    assert e.value.error_message == "404 Project Not Found"


def test_a_taken_name_is_400(gl, project):
    with pytest.raises(gitlab.GitlabCreateError) as e:
        gl.projects.create({"name": project.name})
    assert e.value.response_code == 400
    assert e.value.error_message["name"] == ["has already been taken"]


def test_create_needs_name_or_path(gl):
    with pytest.raises(gitlab.GitlabCreateError) as e:
        gl.projects.create({"description": "no name"})
    assert e.value.response_code == 400
    assert e.value.error_message == "name, path are missing, at least one parameter must be provided"


def test_a_private_project_is_404_for_a_non_member_and_anonymous(url, project, make_user):
    stranger = make_user("stranger")
    with pytest.raises(gitlab.GitlabGetError) as e:
        stranger.gl.projects.get(project.id)
    assert e.value.response_code == 404
    assert e.value.error_message == "404 Project Not Found"
    with pytest.raises(gitlab.GitlabGetError) as e:
        gitlab.Gitlab(url).projects.get(project.id)
    assert e.value.response_code == 404


def test_a_public_project_is_readable_anonymously(url, gl):
    p = gl.projects.create({"name": unique("open"), "visibility": "public"})
    anon = gitlab.Gitlab(url)
    assert anon.projects.get(p.id).name == p.name
    assert p.id in [x.id for x in anon.projects.list(get_all=True)]


def test_a_developer_cannot_update_or_delete_the_project(gl, project, make_user):
    dev = make_user("dev")
    project.members.create({"user_id": dev.user.id, "access_level": gitlab.const.AccessLevel.DEVELOPER})
    mine = dev.gl.projects.get(project.id)
    mine.description = "nope"
    with pytest.raises(gitlab.GitlabUpdateError) as e:
        mine.save()
    assert e.value.response_code == 403
    with pytest.raises(gitlab.GitlabDeleteError) as e:
        mine.delete()
    assert e.value.response_code == 403
    assert gl.projects.get(project.id).description is None
