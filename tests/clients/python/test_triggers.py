"""python-gitlab against the pipeline trigger token API — every call in
captures/python-gitlab-requests.txt that manages triggers."""

import re

import gitlab
import pytest
import requests
from support import ROOT_TOKEN
from gitlab.const import AccessLevel

TRIGGER_KEYS = {"id", "token", "description", "created_at", "updated_at", "last_used", "expires_at", "owner"}
USER_BASIC_KEYS = {"id", "username", "name", "state", "locked", "avatar_url", "web_url"}
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


@pytest.fixture
def three(project):
    """Three triggers, oldest first."""
    return [project.triggers.create({"description": d}) for d in ("my trigger", "second", "third")]


def ids(objs):
    return [o.id for o in objs]


def test_create_returns_the_full_token_once(project):
    t = project.triggers.create({"description": "my trigger"})
    assert set(t.attributes) >= TRIGGER_KEYS | {"project_id"}  # project_id is python-gitlab's parent attr
    assert re.fullmatch(r"glptt-[0-9a-f]{40}", t.token)
    assert t.description == "my trigger"
    assert TIMESTAMP.match(t.created_at) and TIMESTAMP.match(t.updated_at)
    assert t.last_used is None and t.expires_at is None
    assert set(t.owner) == USER_BASIC_KEYS
    assert t.owner["username"] == "root"
    # Every later read shows the 4-character short token.
    again = project.triggers.get(t.id)
    assert again.token == t.token[6:10]


def test_create_with_expires_at(project):
    t = project.triggers.create({"description": "temp", "expires_at": "2020-01-01T00:00:00Z"})
    assert t.expires_at == "2020-01-01T00:00:00.000Z"


def test_list_returns_every_trigger_in_id_order(project, three):
    listed = project.triggers.list()
    assert ids(listed) == ids(three)
    assert all(isinstance(t, gitlab.v4.objects.ProjectTrigger) for t in listed)
    assert three[0] in listed  # equality compares `id`
    assert set(listed[0].attributes) >= TRIGGER_KEYS


def test_list_get_all_follows_the_link_header_across_pages(project, three):
    # UserWarning is an error in this suite: a Link base that differed from the client's URL
    # would fail here.
    assert ids(project.triggers.list(get_all=True, per_page=2)) == ids(three)
    assert ids(project.triggers.list(get_all=True, per_page=1)) == ids(three)


def test_list_iterator_is_lazy_and_complete(project, three):
    it = project.triggers.list(iterator=True, per_page=2)
    assert it.total == 3
    assert it.total_pages == 2
    assert it.per_page == 2
    assert it.current_page == 1
    assert it.next_page == 2
    assert [t.id for t in it] == ids(three)


def test_list_of_one_page_warns_that_more_exist(project, three):
    with pytest.warns(UserWarning, match=r"Your query returned 2 of 3 items"):
        first = project.triggers.list(per_page=2)
    assert ids(first) == ids(three)[:2]


def test_list_page_two_directly(project, three):
    assert ids(project.triggers.list(page=2, per_page=2)) == ids(three)[2:]


def test_link_header_uses_the_clients_base_url(url, project, three):
    r = requests.get(
        f"{url}/api/v4/projects/{project.id}/triggers", params={"per_page": 2}, headers={"PRIVATE-TOKEN": ROOT_TOKEN}
    )
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.headers["X-Total"] == "3" and r.headers["X-Next-Page"] == "2" and r.headers["X-Prev-Page"] == ""
    links = requests.utils.parse_header_links(r.headers["Link"])
    rels = {link["rel"]: link["url"] for link in links}
    assert set(rels) == {"next", "first", "last"}
    assert all(u.startswith(f"{url}/api/v4/projects/{project.id}/triggers?") for u in rels.values())
    assert "page=2" in rels["next"] and "per_page=2" in rels["next"]


def test_get_one_trigger(project, trigger):
    t = project.triggers.get(trigger.id)
    assert t.id == trigger.id
    assert t.description == "ci"
    assert t.owner["id"] == trigger.owner["id"]


def test_get_through_a_lazy_project_named_by_path(gl, trigger, project):
    lazy = gl.projects.get(project.path_with_namespace, lazy=True)
    assert lazy.triggers.get(trigger.id).id == trigger.id


def test_get_with_a_bearer_token(url, project, trigger):
    client = gitlab.Gitlab(url, oauth_token=ROOT_TOKEN)
    assert client.projects.get(project.id, lazy=True).triggers.get(trigger.id).id == trigger.id


def test_save_changes_the_description(project, trigger):
    t = project.triggers.get(trigger.id)
    t.description = "renamed"
    t.save()
    assert t.description == "renamed"
    assert t.id == trigger.id
    assert project.triggers.get(trigger.id).description == "renamed"


def test_save_without_changes_still_answers_200_with_the_object(project, trigger):
    t = project.triggers.get(trigger.id)
    before = dict(t.attributes)
    t.save()  # python-gitlab PUTs the required `description` anyway
    assert t.description == "ci"
    assert t.id == before["id"]


def test_update_through_the_manager(project, trigger):
    out = project.triggers.update(trigger.id, {"description": "via manager"})
    assert out["description"] == "via manager"


def test_delete_an_object_after_get(project, trigger):
    t = project.triggers.get(trigger.id)
    t.delete()
    assert trigger.id not in ids(project.triggers.list(get_all=True))


def test_delete_through_the_manager_without_a_get(project, three):
    project.triggers.delete(three[2].id)
    assert ids(project.triggers.list(get_all=True)) == ids(three[:2])


def test_get_of_a_missing_trigger_is_404(project):
    with pytest.raises(gitlab.GitlabGetError) as e:
        project.triggers.get(999999)
    assert e.value.response_code == 404
    assert e.value.error_message == "404 Not found"


def test_delete_of_a_missing_trigger_is_404(project):
    with pytest.raises(gitlab.GitlabDeleteError) as e:
        project.triggers.delete(999999)
    assert e.value.response_code == 404


def test_list_with_a_bad_token_is_401(url, project):
    bad = gitlab.Gitlab(url, private_token="bad")
    with pytest.raises(gitlab.GitlabAuthenticationError) as e:
        bad.projects.get(project.id, lazy=True).triggers.list()
    assert e.value.response_code == 401
    assert e.value.error_message == "401 Unauthorized"


def test_anonymous_list_is_401(url, project):
    with pytest.raises(gitlab.GitlabAuthenticationError) as e:
        gitlab.Gitlab(url).projects.get(project.id, lazy=True).triggers.list()
    assert e.value.response_code == 401


def test_create_without_description_fails_in_the_client(project):
    with pytest.raises(AttributeError, match="Missing attributes: description"):
        project.triggers.create({})


def test_create_with_an_empty_description_is_accepted_like_gitlab(project):
    # The capture's stand-in answered 400 here; GitLab has no `allow_blank: false` on description
    # (gitlab-reference.md §2), so an empty description is created.
    t = project.triggers.create({"description": ""})
    assert t.description == ""
    assert project.triggers.get(t.id).description == ""


def test_create_with_a_null_description_is_400(url, project):
    r = requests.post(
        f"{url}/api/v4/projects/{project.id}/triggers", json={"description": None}, headers={"PRIVATE-TOKEN": ROOT_TOKEN}
    )
    assert (r.status_code, r.json()) == (400, {"error": "description is missing"})


def test_a_bad_expires_at_is_400(project):
    with pytest.raises(gitlab.GitlabCreateError) as e:
        project.triggers.create({"description": "x", "expires_at": "soon"})
    assert e.value.response_code == 400
    assert e.value.error_message == "expires_at is invalid"


def test_keyset_pagination_is_refused_like_gitlab(url, project, trigger):
    client = gitlab.Gitlab(url, private_token=ROOT_TOKEN, per_page=50, pagination="keyset", order_by="id")
    with pytest.raises(gitlab.GitlabListError) as e:
        client.projects.get(project.id, lazy=True).triggers.list(get_all=True)
    assert e.value.response_code == 405
    assert e.value.error_message == "Keyset pagination is not yet available for this type of request"


def test_client_wide_per_page_is_honoured(url, project, three):
    client = gitlab.Gitlab(url, private_token=ROOT_TOKEN, per_page=1)
    assert ids(client.projects.get(project.id, lazy=True).triggers.list(get_all=True)) == ids(three)


def test_roles_on_trigger_management(project, make_user, trigger):
    dev, maint = make_user("dev"), make_user("maint")
    project.members.create({"user_id": dev.user.id, "access_level": AccessLevel.DEVELOPER})
    project.members.create({"user_id": maint.user.id, "access_level": AccessLevel.MAINTAINER})

    as_dev = dev.gl.projects.get(project.id, lazy=True)
    with pytest.raises(gitlab.GitlabListError) as e:
        as_dev.triggers.list()
    assert e.value.response_code == 403
    with pytest.raises(gitlab.GitlabCreateError) as e:
        as_dev.triggers.create({"description": "nope"})
    assert e.value.response_code == 403
    assert e.value.error_message == "403 Forbidden"

    as_maint = maint.gl.projects.get(project.id, lazy=True)
    mine = as_maint.triggers.create({"description": "maintainer's"})
    assert mine.owner["id"] == maint.user.id
    # A maintainer sees every trigger but may update only their own.
    assert ids(as_maint.triggers.list(get_all=True)) == [trigger.id, mine.id]
    roots = as_maint.triggers.get(trigger.id)
    roots.description = "hijack"
    with pytest.raises(gitlab.GitlabUpdateError) as e:
        roots.save()
    assert e.value.response_code == 403
    assert e.value.error_message == "403 Forbidden - The current user is not authorized to update the pipeline trigger token"
    # ... but may delete any.
    as_maint.triggers.delete(trigger.id)
    assert ids(project.triggers.list(get_all=True)) == [mine.id]


def test_a_non_member_gets_404_project_not_found(project, make_user):
    stranger = make_user("stranger")
    with pytest.raises(gitlab.GitlabListError) as e:
        stranger.gl.projects.get(project.id, lazy=True).triggers.list()
    assert e.value.response_code == 404
    assert e.value.error_message == "404 Project Not Found"


def test_a_client_that_says_localhost_gets_localhost_links(url, project, three):
    # Without the fix the Link base was the bound 127.0.0.1 address and python-gitlab raised a
    # UserWarning (an error in this suite) on every page.
    client = gitlab.Gitlab(url.replace("127.0.0.1", "localhost"), private_token=ROOT_TOKEN)
    lazy = client.projects.get(project.id, lazy=True)
    assert ids(lazy.triggers.list(get_all=True, per_page=1)) == ids(three)
    assert client.projects.get(project.id).web_url.startswith(client.url + "/")
