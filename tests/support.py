"""What many test folders share: a real server that must be there under CI, bounded polling, an isolated HOME."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import pytest

from cockpit.lab.ssh_host import process_alive


def missing(what: str) -> NoReturn:
    """A real part the test needs is not here: under CI=true that fails the test (CI installs everything),
    elsewhere it skips it."""
    if os.environ.get("CI") == "true":
        pytest.fail(what)
    pytest.skip(what)


def require(program: str | None, what: str) -> str:
    """`program` (a path found with shutil.which), or `missing` with "WHAT is not installed"."""
    if program is None:
        missing(f"{what} is not installed (make servers installs it)")
    return program


def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """HOME in the test's folder with an empty ~/.ssh, and no ssh-agent: no real key or config is used."""
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True, exist_ok=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    return home


class Waits:
    """Bounded polling for effects on the host side; the guards are generous and no timing is asserted."""

    def __init__(self, seconds: float = 20.0) -> None:
        self.seconds = seconds

    async def until(self, check: Callable[[], bool], seconds: float | None = None) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (self.seconds if seconds is None else seconds)
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
