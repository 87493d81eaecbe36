"""A real OpenSSH sshd on a loopback port for the SSH layer's integration tests.

Under CI=true a missing sshd fails the tests (it must be installed there); elsewhere they skip.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cockpit.lab.ssh_sshd import OpenSshServer, sshd_path
from tests.support import isolated_home, require

home = pytest.fixture(autouse=True, name="home")(isolated_home)


@pytest.fixture
def sshd(tmp_path: Path) -> Iterator[OpenSshServer]:
    server = OpenSshServer(tmp_path / "sshd", require(sshd_path(), "OpenSSH sshd"))
    server.start()
    try:
        yield server
    finally:
        server.stop()
