"""A real OpenSSH sshd on a loopback port for the SSH layer's integration tests.

Under CI=true a missing sshd fails the tests (it must be installed there); elsewhere they skip.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from cockpit.lab.ssh_host import process_alive
from cockpit.lab.ssh_sshd import OpenSshServer, sshd_path


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    return home


@pytest.fixture
def sshd(tmp_path: Path) -> Iterator[OpenSshServer]:
    program = sshd_path()
    if program is None:
        message = "OpenSSH sshd is not installed (make servers installs it)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    server = OpenSshServer(tmp_path / "sshd", program)
    server.start()
    try:
        yield server
    finally:
        server.stop()


class Waits:
    """Bounded polling for effects on the host side; the guards are generous and no timing is asserted."""

    async def until(self, check: Callable[[], bool], seconds: float = 20.0) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while not check():
            if loop.time() > deadline:
                return False
            await asyncio.sleep(0.02)
        return True

    async def pid_in(self, path: Path) -> int:
        assert await self.until(lambda: path.exists() and path.read_text().strip() != ""), f"{path} never written"
        return int(path.read_text().strip())

    async def gone(self, pid: int) -> bool:
        return await self.until(lambda: not process_alive(pid))


@pytest.fixture
def waits() -> Waits:
    return Waits()
