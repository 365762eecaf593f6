"""Fixtures for the real-client tests: one release `triggerd` per session on a free loopback port
with a fresh database, python-gitlab clients for root and for freshly made users, and fresh
projects with a `main` branch.

TRIGGERD_BIN names the binary (default: <repo>/target/release/triggerd).
"""

import os
import pathlib
import re
import subprocess
import time

import gitlab
import pytest
from support import PASSWORD, REPO, ROOT_TOKEN, Person, Server, unique

STARTUP_TIMEOUT_SECS = 60


def _binary() -> pathlib.Path:
    path = pathlib.Path(os.environ.get("TRIGGERD_BIN") or REPO / "target" / "release" / "triggerd")
    if not path.is_file():
        pytest.exit(f"triggerd binary not found at {path} (set TRIGGERD_BIN or cargo build --release)", 2)
    return path


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> Server:
    """Starts the release binary on 127.0.0.1:0 and reads the bound URL from its log."""
    workdir = tmp_path_factory.mktemp("triggerd")
    log_path = workdir / "server.log"
    # Only our settings: no TRIGGERD_* or RUST_LOG from the outer environment.
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIGGERD_") and k != "RUST_LOG"}
    env.update(
        TRIGGERD_SERVER__LISTEN="127.0.0.1:0",
        TRIGGERD_DATABASE__PATH=str(workdir / "data" / "triggerd.db"),
        TRIGGERD_BOOTSTRAP__ROOT_TOKEN=ROOT_TOKEN,
        TRIGGERD_LOG__LEVEL="info",
        # A runner asking when no job is pending gets its 204 after 2 s instead of 50.
        TRIGGERD_RUNNERS__LONG_POLL_TIMEOUT_SECS="2",
        # One server and one address for every client test: refused trigger calls of many tests
        # would add up to the failed-attempt throttle's 429 (tested in tests/api/trigger_throttle.rs).
        TRIGGERD_TRIGGERS__MAX_FAILED_ATTEMPTS="0",
        # test_hooks.py delivers to a receiver on 127.0.0.1.
        TRIGGERD_WEBHOOKS__ALLOW_LOCAL_NETWORK="true",
        TRIGGERD_WEBHOOKS__POLL_INTERVAL_MS="100",
    )
    with open(log_path, "wb") as log:
        # cwd is the empty temp dir, so no config.toml is picked up.
        process = subprocess.Popen(
            [str(_binary())], cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    url = None
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECS
    while time.monotonic() < deadline:
        match = re.search(r"listening on (http://[0-9.:]+)", log_path.read_text(errors="replace"))
        if match:
            url = match.group(1)
            break
        if process.poll() is not None:
            break
        time.sleep(0.05)
    if url is None:
        process.kill()
        process.wait()
        pytest.exit(f"triggerd did not start; its log:\n{log_path.read_text(errors='replace')}", 2)
    srv = Server(url=url, log_path=log_path, process=process)
    yield srv
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def url(server) -> str:
    return server.url


@pytest.fixture(scope="session")
def gl(url) -> gitlab.Gitlab:
    """python-gitlab as the bootstrap admin `root`."""
    client = gitlab.Gitlab(url, private_token=ROOT_TOKEN)
    client.auth()
    return client


@pytest.fixture
def make_user(gl, url):
    """Creates a user with an `api` personal access token; returns a Person."""

    def make(prefix: str = "user", scopes=("api",), admin: bool = False) -> Person:
        name = unique(prefix)
        user = gl.users.create(
            {
                "email": f"{name}@example.com",
                "username": name,
                "name": name.title(),
                "password": PASSWORD,
                "admin": admin,
                "skip_confirmation": True,
            }
        )
        pat = user.personal_access_tokens.create({"name": "tests", "scopes": list(scopes)})
        return Person(user=user, token=pat.token, gl=gitlab.Gitlab(url, private_token=pat.token))

    return make


@pytest.fixture
def project(gl):
    """A fresh private project of root's with a `main` branch."""
    return gl.projects.create({"name": unique("proj"), "initialize_with_readme": True})


@pytest.fixture
def trigger(project):
    """A trigger of `project`; `.token` is the full token (only the create response has it)."""
    return project.triggers.create({"description": "ci"})
