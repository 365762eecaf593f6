"""python-gitlab's `project.hooks` against triggerd's project webhooks: CRUD with GitLab's
entity, the write-only token, the test call, and real deliveries to a loopback receiver."""

import http.server
import json
import threading
import time

import gitlab
import pytest
import requests
from support import ROOT_TOKEN

HOOK_KEYS = {
    "id", "url", "name", "description", "created_at", "push_events", "tag_push_events",
    "merge_requests_events", "repository_update_events", "enable_ssl_verification", "alert_status",
    "disabled_until", "push_events_branch_filter", "branch_filter_strategy", "custom_webhook_template",
    "project_id", "issues_events", "confidential_issues_events", "note_events", "confidential_note_events",
    "pipeline_events", "wiki_page_events", "deployment_events", "feature_flag_events", "job_events",
    "releases_events", "milestone_events", "emoji_events", "resource_access_token_events",
    "resource_deploy_token_events", "vulnerability_events", "token_present", "signing_token_present",
}


@pytest.fixture
def receiver():
    """An HTTP server on 127.0.0.1 recording (headers, JSON body) of every POST."""
    got = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            # Header names are case-insensitive; keep them lower-cased.
            got.append(({k.lower(): v for k, v in self.headers.items()}, json.loads(body)))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}/hook", got
    srv.shutdown()


def wait_for(pred, secs=60):
    deadline = time.monotonic() + secs
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.1)
    return pred()


def test_create_get_list_update_delete(project):
    hook = project.hooks.create(
        {"url": "https://hooks.example.com/in", "token": "secret", "pipeline_events": True, "push_events": False}
    )
    assert set(hook.attributes) >= HOOK_KEYS
    assert "token" not in hook.attributes
    assert hook.pipeline_events is True and hook.push_events is False and hook.job_events is False
    assert hook.token_present is True
    assert hook.alert_status == "executable"
    got = project.hooks.get(hook.id)
    assert got.url == "https://hooks.example.com/in"
    assert [h.id for h in project.hooks.list()] == [hook.id]
    got.job_events = True
    got.save()
    assert project.hooks.get(hook.id).job_events is True
    project.hooks.delete(hook.id)
    with pytest.raises(gitlab.exceptions.GitlabGetError) as e:
        project.hooks.get(hook.id)
    assert e.value.response_code == 404


def test_an_invalid_url_is_a_422(project):
    with pytest.raises(gitlab.exceptions.GitlabCreateError) as e:
        project.hooks.create({"url": "ftp://example.com/"})
    assert e.value.response_code == 422


def test_a_triggered_pipeline_is_delivered_and_the_test_call_works(gl, url, project, trigger, receiver):
    hook_url, got = receiver
    hook = project.hooks.create({"url": hook_url, "pipeline_events": True, "token": "tok"})
    pipeline = project.trigger_pipeline("main", trigger.token)
    assert wait_for(lambda: any(b["object_attributes"]["id"] == pipeline.id for _, b in got))
    headers, body = next((h, b) for h, b in got if b["object_attributes"]["id"] == pipeline.id)
    assert headers["x-gitlab-event"] == "Pipeline Hook"
    assert headers["x-gitlab-token"] == "tok"
    assert headers["user-agent"] == "GitLab/17.11.0"
    assert body["object_attributes"]["status"] == "created"
    assert body["object_attributes"]["source"] == "trigger"
    # python-gitlab has no wrapper for the test call; it is a plain POST.
    resp = requests.post(
        f"{url}/api/v4/projects/{project.id}/hooks/{hook.id}/test/pipeline_events",
        headers={"PRIVATE-TOKEN": ROOT_TOKEN},
        timeout=60,
    )
    assert resp.status_code == 201, resp.text
    assert resp.json() == {"message": "201 Created"}
    events = requests.get(
        f"{url}/api/v4/projects/{project.id}/hooks/{hook.id}/events",
        headers={"PRIVATE-TOKEN": ROOT_TOKEN},
        timeout=60,
    ).json()
    assert events[0]["trigger"] == "test" and events[0]["response_status"] == "200"
