"""The host program run locally with python3 as a subprocess, on stores in the test's tmp_path."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

import pytest

from cockpit.mail.host_bundle import local_command


@dataclass
class HostRun:
    status: int
    values: list[Any]
    raw: bytes
    stderr: str

    @property
    def error(self) -> str:
        lines = [line for line in self.stderr.splitlines() if line.strip()]
        return lines[-1] if lines else ""


class HostProgram:
    """Calls the host program as the cockpit does over SSH: parameters on stdin's first line, then data."""

    def __init__(self, python: str) -> None:
        self.python = python

    def run(self, mode: str, params: dict[str, Any], data: bytes = b"", *, parse: bool = True) -> HostRun:
        stdin = json.dumps(params).encode() + b"\n" + data
        done = subprocess.run(local_command(self.python, mode), input=stdin, capture_output=True, timeout=120)
        values = [json.loads(line) for line in done.stdout.splitlines() if line.strip()] if parse else []
        return HostRun(done.returncode, values, done.stdout, done.stderr.decode("utf-8", "replace"))

    def inventory(self, params: dict[str, Any], known: list[dict[str, Any]] | None = None) -> HostRun:
        data = b"".join(json.dumps(k).encode() + b"\n" for k in known or [])
        return self.run("inventory", params, data)


def system_python() -> str:
    """A python3 as a host would have it (not the test's virtualenv); COCKPIT_HOST_PYTHON picks another one,
    e.g. a 3.6 to run every test here against the oldest python3 the host program supports."""
    return os.environ.get("COCKPIT_HOST_PYTHON") or shutil.which("python3") or sys.executable


@pytest.fixture
def host() -> HostProgram:
    return HostProgram(system_python())


def messages_of(run: HostRun) -> list[list[Any]]:
    """The message records of an inventory, in order."""
    return [v for v in run.values if isinstance(v, list)]
