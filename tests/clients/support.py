"""Shared constants and helpers for the real-client tests (imported by conftest.py and tests)."""

import itertools
import os
import pathlib
import subprocess
from dataclasses import dataclass

import gitlab
import requests

REPO = pathlib.Path(__file__).resolve().parents[2]
ROOT_TOKEN = "glpat-clients-suite-root-token-0123456789"
PASSWORD = "correct-horse-battery"

_counter = itertools.count(1)


def unique(prefix: str) -> str:
    """A name no other test in this session uses."""
    return f"{prefix}{os.getpid()}x{next(_counter)}"


@dataclass
class Server:
    url: str
    log_path: pathlib.Path
    process: subprocess.Popen

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@dataclass
class Person:
    user: object  # gitlab.v4.objects.User, as root sees it
    token: str
    gl: gitlab.Gitlab


class Runner:
    """A runner that speaks GitLab's runner protocol with plain `requests`, as gitlab-runner does:
    ask for a job with the runner token, append to the job's log and report its state with the
    job token. `job` below is the payload `request_job()` returned."""

    def __init__(self, url: str, token: str, runner_id: int | None = None):
        self.api = f"{url}/api/v4"
        self.token = token
        self.id = runner_id
        self._log_sizes: dict[int, int] = {}

    @classmethod
    def for_project(cls, gl: gitlab.Gitlab, url: str, project, **attrs) -> "Runner":
        """Registers a project runner the way GitLab 16+ does (`POST /user/runners`)."""
        made = gl.user.runners.create({"runner_type": "project_type", "project_id": project.id, **attrs})
        assert made.token.startswith("glrt-")
        return cls(url, made.token, made.id)

    def request_job(self) -> dict | None:
        """`POST /jobs/request`: the job payload (201), or None when there is none (204)."""
        resp = requests.post(f"{self.api}/jobs/request", json={"token": self.token}, timeout=120)
        if resp.status_code == 204:
            return None
        assert resp.status_code == 201, (resp.status_code, resp.text)
        return resp.json()

    def append_log(self, job: dict, text: str) -> requests.Response:
        """`PATCH /jobs/:id/trace` with the next `Content-Range` and the job token as `JOB-TOKEN`."""
        data = text.encode()
        start = self._log_sizes.get(job["id"], 0)
        resp = requests.patch(
            f"{self.api}/jobs/{job['id']}/trace",
            data=data,
            headers={
                "JOB-TOKEN": job["token"],
                "Content-Range": f"{start}-{start + len(data) - 1}",
                "Content-Type": "text/plain",
            },
            timeout=30,
        )
        assert resp.status_code == 202, (resp.status_code, resp.text)
        self._log_sizes[job["id"]] = start + len(data)
        return resp

    def finish(self, job: dict, state: str = "success", **extra) -> requests.Response:
        """`PUT /jobs/:id` with `state` (`success` / `failed`, or `running` as a keep-alive); a
        failure is a `script_failure` unless `failure_reason` says otherwise, as gitlab-runner
        reports a failing script."""
        if state == "failed":
            extra.setdefault("failure_reason", "script_failure")
        return requests.put(
            f"{self.api}/jobs/{job['id']}", json={"token": job["token"], "state": state, **extra}, timeout=30
        )

    def run(self, log: str = "", state: str = "success") -> dict:
        """Takes the next job, logs `log`, finishes it with `state`; returns the payload."""
        job = self.request_job()
        assert job is not None, "no job for the runner"
        if log:
            self.append_log(job, log)
        resp = self.finish(job, state)
        assert resp.status_code == 200, (resp.status_code, resp.text)
        return job
