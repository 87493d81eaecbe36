"""A real OpenSSH sshd on a loopback port for the SSH layer's integration tests.

Under CI=true a missing sshd fails the tests (it must be installed there); elsewhere they skip.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cockpit.lab.ssh_sshd import OpenSshServer, sshd_path
from tests.support import Waits, isolated_home, require


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return isolated_home(tmp_path, monkeypatch)


@pytest.fixture
def sshd(tmp_path: Path) -> Iterator[OpenSshServer]:
    server = OpenSshServer(tmp_path / "sshd", require(sshd_path(), "OpenSSH sshd"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def waits() -> Waits:
    return Waits()
