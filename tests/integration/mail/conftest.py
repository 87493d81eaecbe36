"""Two real OpenSSH sshd on loopback, `old` and `new`, for the mail layer's integration tests.

Under CI=true a missing sshd fails the tests (it must be installed there); elsewhere they skip. Both servers
run commands as the current user on this machine, so the stores are plain folders under the test's tmp_path.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from cockpit.lab.ssh_sshd import OpenSshServer, sshd_path
from cockpit.plan import Host
from cockpit.ssh import HostConnections
from tests.support import isolated_home, require

home = pytest.fixture(autouse=True, name="home")(isolated_home)


def _server(root: Path) -> Iterator[OpenSshServer]:
    server = OpenSshServer(root, require(sshd_path(), "OpenSSH sshd"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def old_sshd(tmp_path: Path) -> Iterator[OpenSshServer]:
    yield from _server(tmp_path / "sshd-old")


@pytest.fixture
def new_sshd(tmp_path: Path) -> Iterator[OpenSshServer]:
    yield from _server(tmp_path / "sshd-new")


def plan_hosts(old: OpenSshServer, new: OpenSshServer) -> dict[str, Host]:
    return {"old": Host.model_validate(old.plan_host()), "new": Host.model_validate(new.plan_host())}


@pytest.fixture
async def hosts(tmp_path: Path, old_sshd: OpenSshServer, new_sshd: OpenSshServer) -> AsyncIterator[HostConnections]:
    async with HostConnections(plan_hosts(old_sshd, new_sshd), base_dir=tmp_path) as pool:
        yield pool
