"""Shared constants and helpers for the real-client tests (imported by conftest.py and tests)."""

import itertools
import os
import pathlib
import subprocess
from dataclasses import dataclass

import gitlab

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
