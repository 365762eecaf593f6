"""The curl command lines from GitLab's docs (clients.md §6, captures/curl-requests.txt and the
Pipeline triggers / Pipelines API pages), run verbatim against triggerd with the URL, tokens and
ids substituted. Only `--silent --show-error --write-out …` is appended to read the status."""

import http.server
import json
import shlex
import subprocess
import threading
import time
from dataclasses import dataclass

import pytest
from support import ROOT_TOKEN, unique

CURL_TIMEOUT_SECS = 60


@dataclass
class Reply:
    status: int
    content_type: str
    body: str

    def json(self):
        return json.loads(self.body)


def curl(command: str, **values) -> Reply:
    """Runs a docs command line after substituting `{NAME}` placeholders."""
    argv = shlex.split(command.format(**values))
    assert argv[0] == "curl"
    argv += ["--silent", "--show-error", "--write-out", "\n%{http_code} %{content_type}"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=CURL_TIMEOUT_SECS)
    assert done.returncode == 0, done.stderr
    body, _, tail = done.stdout.rpartition("\n")
    status, _, content_type = tail.partition(" ")
    return Reply(int(status), content_type, body)


def created_pipeline(reply: Reply) -> dict:
    assert reply.status == 201, reply.body
    assert reply.content_type.startswith("application/json")
    p = reply.json()
    assert p["status"] == "created" and p["source"] == "trigger"
    return p


@dataclass
class Setup:
    URL: str
    TOKEN: str  # trigger token
    PAT: str  # root's personal access token
    ID: int  # project id
    PATH: str  # project full path, URL-encoded
    TRIGGER_ID: int
    gl_project: object

    def __getitem__(self, key):  # so `**setup` works with str.format
        return getattr(self, key)

    def keys(self):
        return ["URL", "TOKEN", "PAT", "ID", "PATH", "TRIGGER_ID"]

    def variables(self, pipeline_id: int) -> dict:
        vars_ = self.gl_project.pipelines.get(pipeline_id, lazy=True).variables.list()
        return {v.key: v.value for v in vars_}


@pytest.fixture
def s(url, gl) -> Setup:
    project = gl.projects.create({"name": unique("curl"), "initialize_with_readme": True})
    project.branches.create({"branch": "release/1.0", "ref": "main"})
    trigger = project.triggers.create({"description": "curl"})
    return Setup(
        URL=url,
        TOKEN=trigger.token,
        PAT=ROOT_TOKEN,
        ID=project.id,
        PATH=project.path_with_namespace.replace("/", "%2F"),
        TRIGGER_ID=trigger.id,
        gl_project=project,
    )


# --- the trigger call -------------------------------------------------------------------------


def test_multipart_form_token_and_ref(s):
    r = curl("curl --request POST --form token={TOKEN} --form ref=main {URL}/api/v4/projects/{ID}/trigger/pipeline", **s)
    p = created_pipeline(r)
    assert p["ref"] == "main" and p["project_id"] == s.ID
    assert set(s.variables(p["id"])) == {"TRIGGER_PAYLOAD"}


def test_multipart_form_with_variables_and_inputs(s):
    r = curl(
        "curl --request POST --form token={TOKEN} --form ref=main --form 'variables[UPLOAD_TO_S3]=true' "
        "--form 'inputs[environment]=production' {URL}/api/v4/projects/{ID}/trigger/pipeline",
        **s,
    )
    p = created_pipeline(r)
    v = s.variables(p["id"])
    assert v["UPLOAD_TO_S3"] == "true"
    assert json.loads(v["TRIGGER_PAYLOAD"])["inputs"] == {"environment": "production"}


def test_token_and_ref_in_the_query_string_without_a_body(s):
    r = curl("curl --request POST '{URL}/api/v4/projects/{ID}/trigger/pipeline?token={TOKEN}&ref=main'", **s)
    assert created_pipeline(r)["ref"] == "main"


def test_api_page_example_query_token_and_multipart_variables(s):
    r = curl(
        "curl --request POST --form \"variables[VAR1]=value1\" --form \"variables[VAR2]=value2\" "
        "\"{URL}/api/v4/projects/{ID}/trigger/pipeline?token={TOKEN}&ref=main\"",
        **s,
    )
    v = s.variables(created_pipeline(r)["id"])
    assert (v["VAR1"], v["VAR2"]) == ("value1", "value2")


def test_json_body(s):
    r = curl(
        "curl --request POST --header 'Content-Type: application/json' --data "
        "'{{\"ref\": \"main\", \"token\": \"{TOKEN}\", \"variables\": {{\"UPLOAD_TO_S3\": \"true\", \"TEST\": \"test\"}}}}' "
        "{URL}/api/v4/projects/{ID}/trigger/pipeline",
        **s,
    )
    v = s.variables(created_pipeline(r)["id"])
    assert (v["UPLOAD_TO_S3"], v["TEST"]) == ("true", "test")


def test_urlencoded_body_with_raw_brackets(s):
    r = curl(
        "curl --request POST -d 'token={TOKEN}&ref=main&variables[UPLOAD_TO_S3]=true' "
        "{URL}/api/v4/projects/{ID}/trigger/pipeline",
        **s,
    )
    assert s.variables(created_pipeline(r)["id"])["UPLOAD_TO_S3"] == "true"


def test_urlencoded_body_with_percent_encoded_brackets_and_plus(s):
    r = curl(
        "curl --request POST -d 'token={TOKEN}&ref=main&variables%5BUPLOAD_TO_S3%5D=true&variables%5BMSG%5D=a+b' "
        "{URL}/api/v4/projects/{ID}/trigger/pipeline",
        **s,
    )
    v = s.variables(created_pipeline(r)["id"])
    assert (v["UPLOAD_TO_S3"], v["MSG"]) == ("true", "a b")


def test_variables_in_the_query_string(s):
    r = curl(
        "curl --request POST "
        "'{URL}/api/v4/projects/{ID}/trigger/pipeline?token={TOKEN}&ref=main&variables%5BUPLOAD_TO_S3%5D=true'",
        **s,
    )
    assert s.variables(created_pipeline(r)["id"])["UPLOAD_TO_S3"] == "true"


def test_project_by_url_encoded_path(s):
    r = curl(
        "curl --request POST --form token={TOKEN} --form ref=main {URL}/api/v4/projects/{PATH}/trigger/pipeline", **s
    )
    assert created_pipeline(r)["project_id"] == s.ID


def test_webhook_form_path_ref_wins_over_the_push_payload(s):
    r = curl(
        "curl --request POST --header 'Content-Type: application/json' --header 'X-Gitlab-Event: Push Hook' "
        "--header 'X-Gitlab-Token: hook-secret' --data '{{\"object_kind\": \"push\", \"event_name\": \"push\", "
        "\"ref\": \"refs/heads/feature\", \"checkout_sha\": \"da1560886d4f094c3e6c9ef40349f7d38b5d27d7\", "
        "\"project\": {{\"id\": 15, \"path_with_namespace\": \"mike/diaspora\"}}}}' "
        "'{URL}/api/v4/projects/{ID}/ref/release%2F1.0/trigger/pipeline?token={TOKEN}'",
        **s,
    )
    p = created_pipeline(r)
    assert p["ref"] == "release/1.0"
    payload = json.loads(s.variables(p["id"])["TRIGGER_PAYLOAD"])
    assert payload["object_kind"] == "push"
    assert payload["project"] == {"id": 15, "path_with_namespace": "mike/diaspora"}
    assert payload["ref"] == "release/1.0"
    assert "token" not in payload


def test_webhook_form_from_a_pipeline_hook_is_403(s):
    r = curl(
        "curl --request POST --header 'Content-Type: application/json' --header 'X-Gitlab-Event: Pipeline Hook' "
        "--data '{{\"object_kind\": \"pipeline\"}}' '{URL}/api/v4/projects/{ID}/ref/main/trigger/pipeline?token={TOKEN}'",
        **s,
    )
    assert (r.status, r.json()) == (403, {"message": "403 Forbidden"})
    assert s.gl_project.pipelines.list() == []


def test_an_invalid_token_is_404(s):
    r = curl("curl --request POST --form token=invalid --form ref=main {URL}/api/v4/projects/{ID}/trigger/pipeline", **s)
    assert (r.status, r.json()) == (404, {"message": "404 Not Found"})
    assert r.content_type.startswith("application/json")


def test_a_missing_ref_is_400(s):
    r = curl("curl --request POST --form token={TOKEN} {URL}/api/v4/projects/{ID}/trigger/pipeline", **s)
    assert (r.status, r.json()) == (400, {"error": "ref is missing"})


def test_an_unknown_ref_is_400_reference_not_found(s):
    r = curl("curl --request POST --form token={TOKEN} --form ref=nope {URL}/api/v4/projects/{ID}/trigger/pipeline", **s)
    assert (r.status, r.json()) == (400, {"message": {"base": ["Reference not found"]}})
    assert s.gl_project.pipelines.list() == []


def test_a_private_token_header_is_not_a_trigger_token(s):
    r = curl(
        "curl --request POST --header 'PRIVATE-TOKEN: {PAT}' --form ref=main {URL}/api/v4/projects/{ID}/trigger/pipeline",
        **s,
    )
    assert (r.status, r.json()) == (400, {"error": "token is missing"})


# --- trigger token management (Pipeline trigger tokens API page) --------------------------------


def test_list_triggers(s):
    r = curl('curl --header "PRIVATE-TOKEN: {PAT}" "{URL}/api/v4/projects/{ID}/triggers"', **s)
    assert r.status == 200 and r.content_type.startswith("application/json")
    [t] = r.json()
    assert t["id"] == s.TRIGGER_ID and t["token"] == s.TOKEN[6:10]


def test_get_a_trigger(s):
    r = curl('curl --header "PRIVATE-TOKEN: {PAT}" "{URL}/api/v4/projects/{ID}/triggers/{TRIGGER_ID}"', **s)
    assert r.status == 200
    assert r.json()["description"] == "curl"


def test_create_a_trigger_with_a_form(s):
    r = curl(
        'curl --request POST --header "PRIVATE-TOKEN: {PAT}" --form description="my description" '
        '"{URL}/api/v4/projects/{ID}/triggers"',
        **s,
    )
    assert r.status == 201
    t = r.json()
    assert t["description"] == "my description"
    assert t["token"].startswith("glptt-") and len(t["token"]) == 46
    assert t["owner"]["username"] == "root"


def test_update_a_trigger_with_a_form(s):
    r = curl(
        'curl --request PUT --header "PRIVATE-TOKEN: {PAT}" --form description="my description" '
        '"{URL}/api/v4/projects/{ID}/triggers/{TRIGGER_ID}"',
        **s,
    )
    assert r.status == 200
    assert r.json()["description"] == "my description"


def test_delete_a_trigger(s):
    r = curl(
        'curl --request DELETE --header "PRIVATE-TOKEN: {PAT}" "{URL}/api/v4/projects/{ID}/triggers/{TRIGGER_ID}"', **s
    )
    assert (r.status, r.body) == (204, "")
    r = curl('curl --header "PRIVATE-TOKEN: {PAT}" "{URL}/api/v4/projects/{ID}/triggers/{TRIGGER_ID}"', **s)
    assert (r.status, r.json()) == (404, {"message": "404 Not found"})


def test_management_without_a_token_is_401(s):
    r = curl('curl "{URL}/api/v4/projects/{ID}/triggers"', **s)
    assert (r.status, r.json()) == (401, {"message": "401 Unauthorized"})


# --- pipelines (Pipelines API page) ------------------------------------------------------------


def test_pipelines_list_get_variables_cancel_retry_delete(s):
    made = created_pipeline(
        curl("curl --request POST '{URL}/api/v4/projects/{ID}/trigger/pipeline?token={TOKEN}&ref=main'", **s)
    )
    pid = made["id"]
    r = curl('curl --header "PRIVATE-TOKEN: {PAT}" "{URL}/api/v4/projects/{ID}/pipelines"', **s)
    assert r.status == 200 and [p["id"] for p in r.json()] == [pid]
    r = curl('curl --header "PRIVATE-TOKEN: {PAT}" "{URL}/api/v4/projects/{ID}/pipelines?ref=main&status=created"', **s)
    assert [p["id"] for p in r.json()] == [pid]
    r = curl(f'curl --header "PRIVATE-TOKEN: {{PAT}}" "{{URL}}/api/v4/projects/{{ID}}/pipelines/{pid}"', **s)
    assert r.status == 200 and r.json()["id"] == pid and r.json()["finished_at"] is None
    r = curl(f'curl --header "PRIVATE-TOKEN: {{PAT}}" "{{URL}}/api/v4/projects/{{ID}}/pipelines/{pid}/variables"', **s)
    assert r.status == 200 and [v["key"] for v in r.json()] == ["TRIGGER_PAYLOAD"]
    r = curl(
        f'curl --request POST --header "PRIVATE-TOKEN: {{PAT}}" "{{URL}}/api/v4/projects/{{ID}}/pipelines/{pid}/cancel"',
        **s,
    )
    assert r.status == 200 and r.json()["status"] == "canceled"
    r = curl(
        f'curl --request POST --header "PRIVATE-TOKEN: {{PAT}}" "{{URL}}/api/v4/projects/{{ID}}/pipelines/{pid}/retry"',
        **s,
    )
    assert r.status == 201 and r.json()["status"] == "pending"
    r = curl(
        f'curl --header "PRIVATE-TOKEN: {{PAT}}" --request "DELETE" "{{URL}}/api/v4/projects/{{ID}}/pipelines/{pid}"',
        **s,
    )
    assert (r.status, r.body) == (204, "")
    r = curl(f'curl --header "PRIVATE-TOKEN: {{PAT}}" "{{URL}}/api/v4/projects/{{ID}}/pipelines/{pid}"', **s)
    assert (r.status, r.json()) == (404, {"message": "404 Not found"})


def test_an_unknown_route_is_a_json_404(s):
    r = curl('curl --header "PRIVATE-TOKEN: {PAT}" "{URL}/api/v4/nothing/here"', **s)
    assert (r.status, r.json()) == (404, {"error": "404 Not Found"})


# --- an external CI drives a triggered pipeline while a webhook follows it ---------------------


class _Receiver(http.server.BaseHTTPRequestHandler):
    events: list = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        _Receiver.events.append((self.headers.get("X-Gitlab-Event"), json.loads(body)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_an_external_ci_moves_a_triggered_pipeline_and_a_webhook_reports_every_status(s):
    receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    _Receiver.events = []
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    try:
        hook = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
        r = curl(
            f'curl --request POST --header "PRIVATE-TOKEN: {{PAT}}" '
            f'--data "url={hook}&pipeline_events=true&token=s3cret" "{{URL}}/api/v4/projects/{{ID}}/hooks"',
            **s,
        )
        assert r.status == 201, r.body
        made = created_pipeline(
            curl("curl --request POST --form token={TOKEN} --form ref=main '{URL}/api/v4/projects/{ID}/trigger/pipeline'", **s)
        )
        pid, sha = made["id"], made["sha"]
        for state in ["pending", "running", "success"]:
            r = curl(
                f'curl --request POST --header "PRIVATE-TOKEN: {{PAT}}" '
                f'"{{URL}}/api/v4/projects/{{ID}}/statuses/{sha}?state={state}&name=jenkins&pipeline_id={pid}"',
                **s,
            )
            assert r.status == 201 and r.json()["status"] == state, r.body
        r = curl(f'curl --header "PRIVATE-TOKEN: {{PAT}}" "{{URL}}/api/v4/projects/{{ID}}/pipelines/{pid}"', **s)
        assert r.json()["status"] == "success" and r.json()["finished_at"] is not None

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(_Receiver.events) < 4:
            time.sleep(0.1)
        kinds = {kind for kind, _ in _Receiver.events}
        statuses = [e["object_attributes"]["status"] for _, e in _Receiver.events]
        assert kinds == {"Pipeline Hook"}
        assert statuses == ["created", "pending", "running", "success"], statuses
        assert all(e["object_attributes"]["id"] == pid for _, e in _Receiver.events)
    finally:
        receiver.shutdown()
