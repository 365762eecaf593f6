"""python-gitlab against the Users and Personal Access Tokens APIs, and authentication."""

import gitlab
import pytest
from support import PASSWORD, ROOT_TOKEN, unique


def new_user_attrs(name):
    return {
        "email": f"{name}@example.com",
        "username": name,
        "name": name.title(),
        "password": PASSWORD,
        "skip_confirmation": True,
    }


def test_auth_sets_gl_user_to_the_token_owner(url):
    client = gitlab.Gitlab(url, private_token=ROOT_TOKEN)
    client.auth()
    assert client.user.username == "root"
    assert client.user.is_admin is True
    assert isinstance(client.user.id, int)


def test_a_bearer_token_authenticates_like_private_token(url):
    client = gitlab.Gitlab(url, oauth_token=ROOT_TOKEN)
    client.auth()
    assert client.user.username == "root"


def test_auth_with_an_unknown_token_raises_authentication_error(url):
    client = gitlab.Gitlab(url, private_token="glpat-not-a-real-token-00000000")
    with pytest.raises(gitlab.GitlabAuthenticationError) as e:
        client.auth()
    assert e.value.response_code == 401
    assert e.value.error_message == "401 Unauthorized"


def test_anonymous_users_list_is_401(url):
    with pytest.raises(gitlab.GitlabAuthenticationError) as e:
        gitlab.Gitlab(url).users.list()
    assert e.value.response_code == 401


def test_create_get_and_list_users(gl):
    name = unique("alice")
    user = gl.users.create(new_user_attrs(name))
    assert user.username == name
    assert user.state == "active"
    assert user.email == f"{name}@example.com"

    fetched = gl.users.get(user.id)
    assert fetched.id == user.id
    assert fetched.name == name.title()

    found = gl.users.list(username=name)
    assert [u.id for u in found] == [user.id]
    everyone = gl.users.list(get_all=True)
    assert {"root", name} <= {u.username for u in everyone}
    # Walk every page with the Link header (no warning allowed: UserWarning is an error here).
    paged = list(gl.users.list(iterator=True, per_page=1))
    assert [u.id for u in paged] == [u.id for u in everyone]
    assert len(gl.users.list(search=name)) == 1


def test_block_and_unblock_a_user(gl, make_user):
    person = make_user("blocky")
    user = gl.users.get(person.user.id)
    assert user.block() is True
    assert user.state == "blocked"
    assert gl.users.get(user.id).state == "blocked"
    assert person.user.id in [u.id for u in gl.users.list(blocked=True, get_all=True)]
    # A blocked user's token stops working.
    with pytest.raises(gitlab.GitlabAuthenticationError):
        person.gl.auth()
    assert user.unblock() is True
    assert user.state == "active"
    person.gl.auth()
    assert person.gl.user.username == person.user.username


def test_delete_a_user(gl):
    user = gl.users.create(new_user_attrs(unique("gone")))
    user.delete()
    with pytest.raises(gitlab.GitlabGetError) as e:
        gl.users.get(user.id)
    assert e.value.response_code == 404
    assert e.value.error_message == "404 User Not Found"


def test_deleting_through_the_manager_works_too(gl):
    user = gl.users.create(new_user_attrs(unique("gone")))
    gl.users.delete(user.id)
    with pytest.raises(gitlab.GitlabDeleteError) as e:
        gl.users.delete(user.id)
    assert e.value.response_code == 404


def test_a_non_admin_cannot_create_users(make_user):
    person = make_user("plain")
    with pytest.raises(gitlab.GitlabCreateError) as e:
        person.gl.users.create(new_user_attrs(unique("nope")))
    assert e.value.response_code == 403
    assert e.value.error_message == "403 Forbidden"


def test_a_taken_username_is_409(gl):
    name = unique("dup")
    gl.users.create(new_user_attrs(name))
    attrs = new_user_attrs(name)
    attrs["email"] = f"other-{name}@example.com"
    with pytest.raises(gitlab.GitlabCreateError) as e:
        gl.users.create(attrs)
    assert e.value.response_code == 409
    assert e.value.error_message == "Username has already been taken"


def test_an_invalid_user_is_400_with_field_errors(gl):
    attrs = new_user_attrs(unique("short"))
    attrs["password"] = "short"
    with pytest.raises(gitlab.GitlabCreateError) as e:
        gl.users.create(attrs)
    assert e.value.response_code == 400
    assert e.value.error_message == {"password": ["is too short (minimum is 8 characters)"]}


def test_personal_access_token_create_list_get_and_revoke(gl, url):
    user = gl.users.create(new_user_attrs(unique("pat")))
    pat = user.personal_access_tokens.create({"name": "deploy", "scopes": ["api", "read_api"]})
    assert pat.token.startswith("glpat-")
    assert pat.scopes == ["api", "read_api"]
    assert pat.active is True and pat.revoked is False
    assert pat.user_id == user.id

    listed = gl.personal_access_tokens.list(user_id=user.id, get_all=True)
    assert [t.id for t in listed] == [pat.id]
    assert not hasattr(listed[0], "token")  # the secret is shown only once
    got = gl.personal_access_tokens.get(pat.id)
    assert got.name == "deploy"

    client = gitlab.Gitlab(url, private_token=pat.token)
    client.auth()
    assert client.user.id == user.id
    assert client.personal_access_tokens.get("self").id == pat.id
    # The owner sees only their own tokens.
    assert [t.id for t in client.personal_access_tokens.list(get_all=True)] == [pat.id]

    got.delete()  # revoke
    assert gl.personal_access_tokens.get(pat.id).revoked is True
    with pytest.raises(gitlab.GitlabAuthenticationError) as e:
        client.auth()
    assert e.value.response_code == 401


def test_revoking_through_the_manager(gl, make_user):
    person = make_user("rev")
    mine = person.gl.personal_access_tokens.list(get_all=True)
    person.gl.personal_access_tokens.delete(mine[0].id)
    with pytest.raises(gitlab.GitlabAuthenticationError):
        person.gl.auth()


def test_personal_access_token_with_an_unknown_scope_is_400(gl):
    user = gl.users.create(new_user_attrs(unique("scope")))
    with pytest.raises(gitlab.GitlabCreateError) as e:
        user.personal_access_tokens.create({"name": "x", "scopes": ["sudo"]})
    assert e.value.response_code == 400
    assert e.value.error_message == "scopes does not have a valid value"


def test_personal_access_token_create_needs_name_and_scopes_client_side(gl):
    user = gl.users.create(new_user_attrs(unique("req")))
    with pytest.raises(AttributeError, match="Missing attributes: name, scopes"):
        user.personal_access_tokens.create({})


def test_someone_elses_token_is_404(gl, make_user):
    a, b = make_user("tokA"), make_user("tokB")
    b_tokens = gl.personal_access_tokens.list(user_id=b.user.id, get_all=True)
    with pytest.raises(gitlab.GitlabGetError) as e:
        a.gl.personal_access_tokens.get(b_tokens[0].id)
    assert e.value.response_code == 404
    with pytest.raises(gitlab.GitlabDeleteError) as e:
        a.gl.personal_access_tokens.delete(b_tokens[0].id)
    assert e.value.response_code == 404


def test_a_read_api_token_cannot_write(make_user):
    person = make_user("reader", scopes=("read_api",))
    person.gl.auth()
    with pytest.raises(gitlab.GitlabCreateError) as e:
        person.gl.projects.create({"name": unique("ro")})
    assert e.value.response_code == 403
    assert e.value.error_message == "insufficient_scope"
