"""python-gitlab against groups, subgroups, group members, namespaces and `user.save()`: a
`group/subgroup/project` layout where a group Maintainer manages the project's trigger tokens
and triggers it by its full path."""

import gitlab
import pytest
from gitlab.const import AccessLevel
from support import unique


@pytest.fixture
def layout(gl):
    """`<org>/team/app`, created by root; returns (org, team, project)."""
    org = gl.groups.create({"name": "Org", "path": unique("org")})
    team = gl.groups.create({"name": "Team", "path": "team", "parent_id": org.id})
    project = gl.projects.create({"name": "app", "namespace_id": team.id, "initialize_with_readme": True})
    return org, team, project


def test_a_group_a_subgroup_and_a_project_in_it(gl, layout):
    org, team, project = layout
    assert team.full_path == f"{org.path}/team"
    assert team.parent_id == org.id
    assert project.path_with_namespace == f"{org.path}/team/app"
    assert project.namespace["kind"] == "group"
    assert project.namespace["id"] == team.id
    assert gl.groups.get(team.full_path).id == team.id
    assert [g.id for g in org.subgroups.list(get_all=True)] == [team.id]
    assert [p.id for p in team.projects.list(get_all=True)] == [project.id]
    assert gl.projects.get(project.path_with_namespace).id == project.id


def test_a_group_maintainer_manages_trigger_tokens_and_triggers_by_full_path(gl, layout, make_user):
    org, team, project = layout
    person = make_user("groupmaint")
    guest = make_user("groupguest")
    org.members.create({"user_id": person.user.id, "access_level": AccessLevel.MAINTAINER})
    team.members.create({"user_id": guest.user.id, "access_level": AccessLevel.GUEST})
    assert person.user.id in [m.id for m in team.members_all.list(get_all=True)]
    assert project.members_all.get(person.user.id).access_level == 40

    theirs = person.gl.projects.get(project.path_with_namespace)
    trigger = theirs.triggers.create({"description": "from the group"})
    assert trigger.token.startswith("glptt-")
    with pytest.raises(gitlab.GitlabCreateError) as e:
        guest.gl.projects.get(project.path_with_namespace).triggers.create({"description": "no"})
    assert e.value.response_code == 403

    # Anonymous, by path, as a CI script of another GitLab would.
    anonymous = gitlab.Gitlab(gl.url)
    pipeline = anonymous.projects.get(project.path_with_namespace, lazy=True).trigger_pipeline("main", trigger.token)
    assert pipeline.project_id == project.id
    assert pipeline.source == "trigger"


def test_namespaces_get_by_id_and_path(gl, layout, make_user):
    org, team, _ = layout
    ns = gl.namespaces.get(team.id)
    assert ns.kind == "group"
    assert ns.full_path == team.full_path
    assert gl.namespaces.get(team.full_path).id == team.id
    person = make_user("nsuser")
    mine = person.gl.namespaces.get(person.user.id)
    assert mine.kind == "user"
    assert mine.path == person.user.username
    assert org.full_path in [n.full_path for n in gl.namespaces.list(search=org.path, get_all=True)]


def test_user_save_edits_a_user_as_an_admin(gl, make_user):
    person = make_user("editme")
    user = gl.users.get(person.user.id)
    user.name = "Edited Name"
    user.save()
    assert gl.users.get(person.user.id).name == "Edited Name"
    with pytest.raises(gitlab.GitlabUpdateError) as e:
        theirs = person.gl.users.get(person.user.id)
        theirs.name = "Self"
        theirs.save()
    assert e.value.response_code == 403


def test_version_and_deleting_a_group_with_its_projects(gl, layout):
    version, revision = gl.version()
    assert version.count(".") == 2
    assert revision.startswith("triggerd")
    org, _, project = layout
    org.delete()
    with pytest.raises(gitlab.GitlabGetError):
        gl.projects.get(project.id)
