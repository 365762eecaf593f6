"""python-gitlab's `project.trigger_pipeline()` — authenticated, anonymous, with a job token
client and by project path — and its error cases."""

import json

import gitlab
import pytest
from support import unique
from gitlab.const import AccessLevel

PIPELINE_KEYS = {
    "id", "iid", "project_id", "sha", "ref", "status", "source", "created_at", "updated_at", "web_url",
    "before_sha", "tag", "yaml_errors", "user", "started_at", "finished_at", "committed_at", "duration",
    "queued_duration", "coverage", "detailed_status", "name",
}  # fmt: skip


def test_trigger_with_variables(gl, project, trigger):
    p = project.trigger_pipeline("main", trigger.token, variables={"DEPLOY_ZONE": "us-west1", "MSG": "a b"})
    assert isinstance(p, gitlab.v4.objects.ProjectPipeline)
    assert set(p.attributes) >= PIPELINE_KEYS
    assert isinstance(p.id, int) and isinstance(p.iid, int)
    assert p.project_id == project.id
    assert p.ref == "main"
    assert p.sha == project.branches.get("main").commit["id"]
    assert p.status == "created"
    assert p.source == "trigger"
    assert p.before_sha == "0" * 40
    assert p.tag is False
    assert p.finished_at is None  # the docs' polling loop reads it
    assert p.user["username"] == "root"
    assert p.detailed_status["group"] == "created"
    assert p.web_url == f"{gl.url}/{project.path_with_namespace}/-/pipelines/{p.id}"

    variables = {v.key: v for v in project.pipelines.get(p.id).variables.list()}
    assert variables["DEPLOY_ZONE"].value == "us-west1"
    assert variables["DEPLOY_ZONE"].variable_type == "env_var"
    assert variables["MSG"].value == "a b"
    assert variables["TRIGGER_PAYLOAD"].variable_type == "file"
    payload = json.loads(variables["TRIGGER_PAYLOAD"].value)
    assert "token" not in payload
    assert payload["variables"] == {"DEPLOY_ZONE": "us-west1", "MSG": "a b"}
    assert payload["ref"] == "main"


def test_trigger_without_variables(project, trigger):
    p = project.trigger_pipeline("main", trigger.token)
    assert p.status == "created"
    keys = [v.key for v in project.pipelines.get(p.id, lazy=True).variables.list(get_all=True)]
    assert keys == ["TRIGGER_PAYLOAD"]


def test_trigger_with_inputs(project, trigger):
    p = project.trigger_pipeline(
        "main", trigger.token, inputs={"environment": "production", "replicas": 3, "debug": False}
    )
    assert p.ref == "main"
    payload = json.loads(project.pipelines.get(p.id).variables.list()[-1].value)
    assert payload["inputs"] == {"environment": "production", "replicas": 3, "debug": False}


def test_trigger_a_tag_and_refs_by_full_name(project, trigger):
    project.tags.create({"tag_name": "v1.0", "ref": "main"})
    project.branches.create({"branch": "release/1.0", "ref": "main"})
    tag = project.trigger_pipeline("v1.0", trigger.token)
    assert tag.tag is True and tag.ref == "v1.0"
    assert project.trigger_pipeline("refs/tags/v1.0", trigger.token).ref == "v1.0"
    assert project.trigger_pipeline("refs/heads/main", trigger.token).ref == "main"
    assert project.trigger_pipeline("release/1.0", trigger.token).ref == "release/1.0"


def test_anonymous_client_triggers_with_a_lazy_project(url, project, trigger):
    anon = gitlab.Gitlab(url)
    p = anon.projects.get(project.id, lazy=True).trigger_pipeline("main", trigger.token, variables={"K": "v"})
    assert p.id > 0 and p.status == "created"
    assert p.user["username"] == "root"  # the trigger's owner


def test_anonymous_client_triggers_a_project_named_by_path(url, project, trigger):
    anon = gitlab.Gitlab(url)
    p = anon.projects.get(project.path_with_namespace, lazy=True).trigger_pipeline("main", trigger.token)
    assert p.project_id == project.id


def test_a_job_token_header_is_ignored_by_the_trigger_call(url, project, trigger):
    # Gitlab(url, job_token=...) sends JOB-TOKEN; the trigger call authenticates by `token` only.
    client = gitlab.Gitlab(url, job_token="job-token-value")
    p = client.projects.get(project.id, lazy=True).trigger_pipeline("main", trigger.token)
    assert p.status == "created"
    with pytest.raises(gitlab.GitlabCreateError) as e:
        client.projects.get(project.id, lazy=True).trigger_pipeline("main", "job-token-value")
    assert e.value.response_code == 404


def test_a_private_token_header_does_not_replace_the_trigger_token(gl, project):
    # `gl` sends root's PRIVATE-TOKEN; the trigger call ignores it and finds no trigger for "".
    with pytest.raises(gitlab.GitlabCreateError) as e:
        project.trigger_pipeline("main", "")
    assert e.value.response_code == 404
    assert e.value.error_message == "404 Not Found"
    assert project.pipelines.list() == []


def test_an_invalid_token_is_404(project):
    with pytest.raises(gitlab.GitlabCreateError) as e:
        project.trigger_pipeline("main", "invalid")
    assert e.value.response_code == 404
    assert e.value.error_message == "404 Not Found"


def test_another_projects_token_is_404(gl, project):
    other = gl.projects.create({"name": unique("other"), "initialize_with_readme": True})
    foreign = other.triggers.create({"description": "x"})
    with pytest.raises(gitlab.GitlabCreateError) as e:
        project.trigger_pipeline("main", foreign.token)
    assert e.value.response_code == 404


def test_an_expired_token_is_404(project):
    old = project.triggers.create({"description": "old", "expires_at": "2020-01-01"})
    with pytest.raises(gitlab.GitlabCreateError) as e:
        project.trigger_pipeline("main", old.token)
    assert e.value.response_code == 404


def test_a_deleted_trigger_token_is_404(project, trigger):
    project.triggers.delete(trigger.id)
    with pytest.raises(gitlab.GitlabCreateError) as e:
        project.trigger_pipeline("main", trigger.token)
    assert e.value.response_code == 404


def test_an_unknown_ref_is_400_reference_not_found(project, trigger):
    with pytest.raises(gitlab.GitlabCreateError) as e:
        project.trigger_pipeline("nope", trigger.token)
    assert e.value.response_code == 400
    assert e.value.error_message == {"base": ["Reference not found"]}
    assert project.pipelines.list() == []


def test_an_unknown_project_is_404(url, trigger):
    with pytest.raises(gitlab.GitlabCreateError) as e:
        gitlab.Gitlab(url).projects.get(999999, lazy=True).trigger_pipeline("main", trigger.token)
    assert e.value.response_code == 404


def test_a_non_string_variable_is_400_like_gitlab(project, trigger):
    # python-gitlab passes values through unconverted: {"NUM": 3} arrives as a JSON number.
    with pytest.raises(gitlab.GitlabCreateError) as e:
        project.trigger_pipeline("main", trigger.token, variables={"DEPLOY_ZONE": "us-west1", "NUM": 3})
    assert e.value.response_code == 400
    assert e.value.error_message == "variables needs to be a map of key-valued strings"


def test_an_empty_ref_is_400(project, trigger):
    with pytest.raises(gitlab.GitlabCreateError) as e:
        project.trigger_pipeline("", trigger.token)
    assert e.value.response_code == 400
    assert e.value.error_message == "ref is empty"


def test_the_owner_losing_developer_rights_stops_the_trigger(gl, project, make_user):
    maint = make_user("maint")
    project.members.create({"user_id": maint.user.id, "access_level": AccessLevel.MAINTAINER})
    t = maint.gl.projects.get(project.id, lazy=True).triggers.create({"description": "mine"})
    assert project.trigger_pipeline("main", t.token).user["id"] == maint.user.id
    m = project.members.get(maint.user.id)
    m.access_level = AccessLevel.REPORTER
    m.save()
    with pytest.raises(gitlab.GitlabCreateError) as e:
        project.trigger_pipeline("main", t.token)
    assert e.value.response_code == 400
    assert e.value.error_message == {"base": ["Insufficient permissions to create a new pipeline"]}


def test_last_used_is_set_after_a_trigger_call(project, trigger):
    assert project.triggers.get(trigger.id).last_used is None
    project.trigger_pipeline("main", trigger.token)
    assert project.triggers.get(trigger.id).last_used is not None
