"""triggerd's trigger-token extensions (issue 14) through python-gitlab's generic calls
(`gl.http_post`, `gl.http_get`, `gl.http_put`, `gl.http_request`): ref allowlists, variable
policies, dry runs, rotation, idempotency keys, the audit log and lifetimes."""

import datetime

import gitlab
import pytest
from support import unique


def call_path(project):
    return f"/projects/{project.id}/trigger/pipeline"


def trigger_path(project, trigger):
    return f"/projects/{project.id}/triggers/{trigger.id}"


def fire(gl, project, token, ref="main", **extra):
    return gl.http_post(call_path(project), post_data={"ref": ref, "token": token, **extra})


def refused(call):
    with pytest.raises(gitlab.GitlabHttpError) as e:
        call()
    return e.value


def test_allowed_refs_and_the_variable_policy(gl, project, trigger):
    project.branches.create({"branch": "release/1.0", "ref": "main"})
    updated = gl.http_put(
        trigger_path(project, trigger),
        post_data={"allowed_refs": ["release/*"], "allowed_variables": ["VERSION"], "required_variables": ["VERSION"]},
    )
    assert updated["allowed_refs"] == ["release/*"]
    assert updated["required_variables"] == ["VERSION"]
    e = refused(lambda: fire(gl, project, trigger.token, "main", variables={"VERSION": "1"}))
    assert e.response_code == 403 and "does not allow the ref" in e.error_message
    e = refused(lambda: fire(gl, project, trigger.token, "release/1.0", variables={"OTHER": "x", "VERSION": "1"}))
    assert e.response_code == 400 and "OTHER" in e.error_message
    e = refused(lambda: fire(gl, project, trigger.token, "release/1.0"))
    assert e.response_code == 400 and "VERSION" in e.error_message
    p = fire(gl, project, trigger.token, "release/1.0", variables={"VERSION": "1.0.1"})
    assert p["ref"] == "release/1.0"
    assert len(project.pipelines.list(get_all=True)) == 1


def test_a_dry_run_creates_nothing(gl, project, trigger):
    would = fire(gl, project, trigger.token, dry_run=True)
    assert would["dry_run"] is True and "id" not in would
    assert would["ref"] == "main"
    assert project.pipelines.list(get_all=True) == []
    assert gl.http_get(trigger_path(project, trigger))["last_used"] is None


def test_rotation_keeps_the_old_secret_for_its_grace_period(gl, project, trigger):
    rotated = gl.http_post(trigger_path(project, trigger) + "/rotate", post_data={"grace_period": 3600})
    assert rotated["token"].startswith("glptt-") and rotated["token"] != trigger.token
    assert rotated["previous_tokens"][0]["token"] == trigger.token[6:10]
    assert fire(gl, project, trigger.token)["status"] == "created"
    assert fire(gl, project, rotated["token"])["status"] == "created"
    gl.http_post(trigger_path(project, trigger) + "/rotate", post_data={"grace_period": 0})
    assert refused(lambda: fire(gl, project, rotated["token"])).response_code == 404


def test_an_idempotency_key_replays_the_first_pipeline(gl, project, trigger):
    key = unique("deploy-")
    headers = {"Idempotency-Key": key}
    first = gl.http_post(call_path(project), post_data={"ref": "main", "token": trigger.token}, extra_headers=headers)
    again = gl.http_request(
        "post", call_path(project), post_data={"ref": "main", "token": trigger.token}, extra_headers=headers
    )
    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first
    assert len(project.pipelines.list(get_all=True)) == 1
    e = refused(
        lambda: gl.http_post(
            call_path(project),
            post_data={"ref": "main", "token": trigger.token, "variables": {"X": "1"}},
            extra_headers=headers,
        )
    )
    assert e.response_code == 422 and "Idempotency-Key" in e.error_message
    e = refused(
        lambda: gl.http_post(
            call_path(project), post_data={"ref": "main", "token": trigger.token}, extra_headers={"Idempotency-Key": "k" * 256}
        )
    )
    assert e.response_code == 400


def test_the_audit_log_records_every_call_of_the_token(gl, project, trigger):
    created = fire(gl, project, trigger.token)
    refused(lambda: fire(gl, project, trigger.token, "nowhere"))
    refused(lambda: fire(gl, project, "glptt-" + "0" * 40))
    events = gl.http_get(trigger_path(project, trigger) + "/events")
    assert [(e["outcome"], e["status"]) for e in events] == [("rejected", 400), ("accepted", 201)]
    assert events[1]["pipeline_id"] == created["id"]
    assert events[0]["ref"] == "nowhere" and "Reference not found" in events[0]["reason"]
    assert events[0]["client_address"] == "127.0.0.1"
    assert gl.http_get(trigger_path(project, trigger))["last_used_ip"] == "127.0.0.1"
    # Paginated like every list: python-gitlab's generic list follows the Link header.
    assert len(gl.http_list(trigger_path(project, trigger) + "/events", per_page=1, get_all=True)) == 2
    unknown = gl.http_get(f"/projects/{project.id}/triggers/unknown_attempts")
    assert unknown[0]["attempts"] == 1 and unknown[0]["last_client_address"] == "127.0.0.1"


def test_lifetimes_bound_expires_at_and_flag_tokens_that_expire_soon(gl, project):
    soon = (datetime.date.today() + datetime.timedelta(days=3)).isoformat()
    t = gl.http_post(f"/projects/{project.id}/triggers", post_data={"description": "soon", "expires_at": soon})
    assert t["expires_soon"] is True
    later = gl.http_post(f"/projects/{project.id}/triggers", post_data={"description": "later"})
    assert later["expires_soon"] is False and later["expires_at"] is None
    too_late = (datetime.date.today() + datetime.timedelta(days=400)).isoformat()
    e = refused(lambda: gl.http_post(f"/projects/{project.id}/triggers", post_data={"description": "x", "expires_at": too_late}))
    assert e.response_code == 400 and "must be before" in e.error_message
