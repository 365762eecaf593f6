"""Drives gitlab-python-runner 14.3.20 (a real GitLab runner from PyPI) as a subprocess.

The runner always runs `git clone <repo_url>` and `git checkout <CI_COMMIT_SHA>` before a job.
triggerd stores files but serves no git repository, so the runner gets a stub `git` first on its
PATH that creates the build directory and succeeds; with nothing cloned, the runner builds the job
from the payload's `steps` (the `.gitlab-ci.yml` triggerd compiled), which is what we test.
"""

import os
import pathlib
import subprocess
import sys

import yaml

RUNNER_PYTHON = os.environ.get("RUNNER_PYTHON") or sys.executable
# Bounds a runner run that should end by itself; never asserted as a duration.
RUN_GUARD_SECS = 180

STUB_GIT = """#!/bin/sh
# Stands in for git inside the runner: `git clone URL DIR` creates DIR, everything else succeeds.
if [ "$1" = clone ]; then mkdir -p "$3"; fi
exit 0
"""


class RealRunner:
    """One registered runner with its own working directory."""

    def __init__(self, workdir: pathlib.Path, url: str):
        self.workdir = workdir
        self.url = url
        bin_dir = workdir / "bin"
        bin_dir.mkdir(parents=True, exist_ok=True)
        git = bin_dir / "git"
        git.write_text(STUB_GIT)
        git.chmod(0o755)
        self.env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
        # The runner prefers a CI_JOB_TOKEN from its own environment; there must be none.
        self.env.pop("CI_JOB_TOKEN", None)

    def _command(self, *args: str) -> list:
        return [RUNNER_PYTHON, "-m", "GitlabPyRunner", *args]

    def register(self, registration_token: str, tag: str) -> dict:
        """`--register`: POST /api/v4/runners with the registration token; returns the saved config."""
        done = subprocess.run(
            self._command(
                "--register", self.url, "--regtoken", registration_token,
                "--tag", tag, "--desc", f"python runner {tag}", "--shell", "/bin/bash",
            ),
            cwd=self.workdir, env=self.env, capture_output=True, text=True, timeout=RUN_GUARD_SECS,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return self.config()

    def config(self) -> dict:
        return yaml.safe_load((self.workdir / "gitlab-runner.yml").read_text())

    def start_once(self) -> subprocess.Popen:
        """`--start --once` in the background: polls, runs one job, reports it and exits."""
        log = open(self.workdir / "runner.log", "ab")
        return subprocess.Popen(
            self._command("--start", "gitlab-runner.yml", "--once"),
            cwd=self.workdir, env=self.env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )

    def run_once(self) -> int:
        """Runs exactly one job to its end; returns the runner's exit status (0 = job succeeded)."""
        process = self.start_once()
        try:
            return process.wait(timeout=RUN_GUARD_SECS)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()

    def log(self) -> str:
        path = self.workdir / "runner.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def unregister(self) -> None:
        done = subprocess.run(
            self._command("--unregister"),
            cwd=self.workdir, env=self.env, capture_output=True, text=True, timeout=RUN_GUARD_SECS,
        )
        assert done.returncode == 0, done.stdout + done.stderr
